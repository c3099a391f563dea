#pragma once

#include "autograd/ops/index.hpp"
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

/// Product of every element (1 for an empty tensor): [] for any x. NOTE: the gradient is exact
/// with zeros in x (∂y/∂x_i is the product of the other entries, computed without dividing), and
/// prod is differentiable to any order (create_graph).
template <class T>
Tensor<T> prod(const Tensor<T>& x);
/// Product along `dim` (negative from the end); keepdim keeps that axis with length 1. An empty
/// axis gives ones.
template <class T>
Tensor<T> prod(const Tensor<T>& x, std::ptrdiff_t dim, bool keepdim = false);
/// Variance over `axes` (all when empty): Σ (x − mean)² / (n − 1) when `unbiased` (PyTorch's
/// default, Bessel's correction), / n otherwise. n − 1 = 0 gives NaN, as PyTorch; an empty axis
/// is a ShapeError.
template <class T>
Tensor<T> var(const Tensor<T>& x, const Axes& axes = {}, bool unbiased = true,
              bool keepdims = false);
/// Standard deviation: sqrt(var(x, axes, unbiased, keepdims)). Call it as xgrad::std (after
/// `using namespace xgrad`, a bare std(...) is ambiguous with namespace std), as torch::std.
template <class T>
Tensor<T> std(const Tensor<T>& x, const Axes& axes = {}, bool unbiased = true,
              bool keepdims = false);
/// Vector p-norm over `axes` (all when empty), PyTorch's norm / linalg.vector_norm: p = 2
/// (default) sqrt(Σ x²), p = 1 Σ |x|, p = inf max |x| (INFINITY), any other p > 0 (Σ |x|^p)^(1/p).
/// NOTE: for p = 2 the gradient where the norm is 0 is 0 (the subgradient PyTorch picks); for
/// p = 1 the gradient at x_i = 0 is 0; for inf, tied maxima of |x| share the gradient. p ≤ 0 or
/// NaN is a ValueError.
template <class T>
Tensor<T> norm(const Tensor<T>& x, double p = 2, const Axes& axes = {}, bool keepdims = false);
/// Running sum along `dim`: y_i = Σ_{j ≤ i} x_j. Its VJP is the reversed running sum. A 0-d x is
/// its own running sum (dim 0 or −1, as in PyTorch).
template <class T>
Tensor<T> cumsum(const Tensor<T>& x, std::ptrdiff_t dim);
/// Flat (row-major) index of the largest value of x, as a 0-d Index; ties give the first, NaN
/// counts as the largest (PyTorch). Not differentiable. An empty x is a ShapeError.
template <class T>
Index argmax(const Tensor<T>& x);
/// Index of the largest value along `dim` (the first of ties): x's shape without `dim`, or with
/// length 1 there when keepdim. An empty axis is a ShapeError.
template <class T>
Index argmax(const Tensor<T>& x, std::ptrdiff_t dim, bool keepdim = false);
/// As argmax, for the smallest value.
template <class T>
Index argmin(const Tensor<T>& x);
template <class T>
Index argmin(const Tensor<T>& x, std::ptrdiff_t dim, bool keepdim = false);

/// Sums `x` down to `shape`, the inverse of broadcasting (leading axes and axes of length 1 in
/// `shape` are summed). Returns `x` itself when the shapes already agree.
template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape);
/// Broadcasts `x` to `shape` with NumPy rules (a copy; its VJP is sum_to).
template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape);

}  // namespace xgrad
