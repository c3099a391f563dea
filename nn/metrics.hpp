#pragma once

#include "autograd/tensor.hpp"

#include <cstddef>
#include <vector>

// Metrics: how good a model's outputs are, as numbers a person reads (not differentiable, not
// recorded). Scores have the batch on axis 0, as the losses' predictions.
namespace xgrad::nn {

/// The index of the largest score in each row of scores [n, classes] (the first on ties).
template <class T>
std::vector<std::size_t> argmax_rows(const Tensor<T>& scores);

/// Number of correct predictions (what accuracy() divides by n):
/// - scores [n, c] (c >= 2) with targets [n] of class indices: argmax of each row == target;
/// - scores [n, c] with targets [n, c] (one-hot or probabilities): the argmaxes agree;
/// - scores [n] or [n, 1] with targets of n elements (0/1): (score > threshold) == (target > 0.5).
/// ShapeError for other shapes.
template <class T>
std::size_t count_correct(const Tensor<T>& scores, const Tensor<T>& targets,
                          double threshold = 0.5);
/// count_correct / n (NaN for n = 0).
template <class T>
double accuracy(const Tensor<T>& scores, const Tensor<T>& targets, double threshold = 0.5);

}  // namespace xgrad::nn
