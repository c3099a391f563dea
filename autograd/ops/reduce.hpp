#pragma once

#include "autograd/tape.hpp"

#include <cstddef>
#include <vector>

namespace xgrad {

/// Axes of a reduction; negative values count from the end, empty means every axis.
using Axes = std::vector<std::ptrdiff_t>;

/// Sum over `axes` (all when empty); keepdims keeps each reduced axis with length 1.
template <class T>
Tensor<T> sum(const Tensor<T>& x, const Axes& axes = {}, bool keepdims = false);
/// Mean over `axes` (all when empty): sum / number of reduced elements.
template <class T>
Tensor<T> mean(const Tensor<T>& x, const Axes& axes = {}, bool keepdims = false);
/// Largest value over `axes`; NOTE: tied maxima share the gradient evenly.
template <class T>
Tensor<T> max(const Tensor<T>& x, const Axes& axes = {}, bool keepdims = false);
/// Smallest value over `axes`; tied minima share the gradient evenly.
template <class T>
Tensor<T> min(const Tensor<T>& x, const Axes& axes = {}, bool keepdims = false);

/// Sums `x` down to `shape`, the inverse of broadcasting (leading axes and axes of length 1 in
/// `shape` are summed). Returns `x` itself when the shapes already agree.
template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape);
/// Broadcasts `x` to `shape` with NumPy rules (a copy; its VJP is sum_to).
template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape);

}  // namespace xgrad
