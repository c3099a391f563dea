#pragma once

#include "autograd/ops/reduce.hpp"
#include "autograd/tape.hpp"

namespace xgrad {

// An axis outside [−rank, rank) (any axis of a 0-d tensor) raises ShapeError naming the op and
// the shape.

/// softmax along `axis`: y_i = e^(x_i − max x) / Σ_j e^(x_j − max x) (max-shifted, so finite
/// for any finite x).
template <class T>
Tensor<T> softmax(const Tensor<T>& x, std::ptrdiff_t axis = -1);
/// log softmax along `axis`: x_i − max x − log Σ_j e^(x_j − max x), stable for large |x|.
template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, std::ptrdiff_t axis = -1);
/// log Σ e^x over `axes` (all when empty), computed with the max shift; a slice of only −inf
/// gives −inf. Its gradient is g·softmax(x).
template <class T>
Tensor<T> logsumexp(const Tensor<T>& x, const Axes& axes = {}, bool keepdims = false);

}  // namespace xgrad
