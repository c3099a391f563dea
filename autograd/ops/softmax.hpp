#pragma once

#include "autograd/ops/reduce.hpp"
#include "autograd/tape.hpp"

namespace xgrad {

/// softmax along `axis`: y_i = e^(x_i − max x) / Σ_j e^(x_j − max x) (max-shifted, so finite
/// for any finite x).
template <class T> Tensor<T> softmax(const Tensor<T>& x, std::ptrdiff_t axis = -1);
/// log softmax along `axis`: x_i − max x − log Σ_j e^(x_j − max x), stable for large |x|.
template <class T> Tensor<T> log_softmax(const Tensor<T>& x, std::ptrdiff_t axis = -1);
/// log Σ e^x over `axes` (all when empty), computed with the max shift.
template <class T> Tensor<T> logsumexp(const Tensor<T>& x, const Axes& axes = {},
                                       bool keepdims = false);

}  // namespace xgrad
