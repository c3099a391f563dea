#pragma once

#include "autograd/tape.hpp"

#include <cstddef>
#include <vector>

namespace xgrad {

/// The same values in a new shape with the same number of elements; one entry may be −1
/// (inferred). Its VJP reshapes the gradient back.
template <class T>
Tensor<T> reshape(const Tensor<T>& x, const std::vector<std::ptrdiff_t>& shape);
/// Reorders the axes: result axis i is input axis dims[i] (a copy; values stay contiguous).
template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<std::size_t>& dims);
/// Swaps two axes (negative axes count from the end).
template <class T>
Tensor<T> transpose(const Tensor<T>& x, std::ptrdiff_t dim0 = -2, std::ptrdiff_t dim1 = -1);
/// Merges axes start..end (inclusive, negative from the end) into one.
template <class T>
Tensor<T> flatten(const Tensor<T>& x, std::ptrdiff_t start = 0, std::ptrdiff_t end = -1);
/// Removes axis `dim`, which must have length 1.
template <class T>
Tensor<T> squeeze(const Tensor<T>& x, std::ptrdiff_t dim);
/// Removes every axis of length 1.
template <class T>
Tensor<T> squeeze(const Tensor<T>& x);
/// Inserts an axis of length 1 at `dim` (in [−rank−1, rank]).
template <class T>
Tensor<T> unsqueeze(const Tensor<T>& x, std::ptrdiff_t dim);

}  // namespace xgrad
