#pragma once

// Batch normalisation (docs/convolution.md) and layer normalisation
// (docs/embedding-and-layer-norm.md).

#include "autograd/tape.hpp"

namespace xgrad {

/// Batch normalisation over the channel axis 1 of x [n, c, ...] (rank ≥ 2: [n, c] for
/// BatchNorm1d, [n, c, h, w] for BatchNorm2d):
///   y = (x − μ_c) / √(σ²_c + eps) · weight_c + bias_c
/// - training: μ, σ² are the batch statistics of each channel over every axis but 1 (σ² biased);
///   running_mean/running_var, when given, are updated in place (not recorded) with
///   r ← (1 − momentum)·r + momentum·s, the variance term unbiased (·m/(m − 1), m = n·h·w);
///   this needs m > 1 (ValueError). The VJP is the closed form
///   dx = w·(g − mean(g) − x̂·mean(g·x̂))/√(σ² + eps), dw = Σ g·x̂, db = Σ g; written with xgrad
///   ops when create_graph is on (Note [batch_norm backward] in norm.cpp), so any order works.
/// - evaluation (training = false): μ, σ² are running_mean, running_var (required, ValueError
///   otherwise); y is an affine map of x, differentiable to any order.
/// weight, bias: [c] or undefined (no affine part); running_mean, running_var: [c] or both
/// undefined. Shapes that do not fit raise ShapeError naming all of them.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, const Tensor<T>& running_mean,
                     const Tensor<T>& running_var, const Tensor<T>& weight = Tensor<T>(),
                     const Tensor<T>& bias = Tensor<T>(), bool training = false,
                     T momentum = T(0.1), T eps = T(1e-5));

/// Layer normalisation over the last k axes of x, PyTorch's layer_norm: each slice
/// x[i..., :, ..., :] (k trailing axes, normalized_shape) is normalised on its own,
///   y = (x − μ) / √(σ² + eps) · weight + bias,
/// μ and σ² (biased) its mean and variance; the same in training and evaluation.
/// normalized_shape: the last k ≥ 1 axes of x; weight, bias: normalized_shape, or undefined
/// (no scale, no shift; each may be given alone). Shapes that do not fit raise ShapeError naming
/// all of them; eps > 0 (ValueError). The VJP is the closed form
/// dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/√(σ² + eps) with ĝ = g·weight, means over each slice,
/// dweight = Σ g·x̂, dbias = Σ g over the leading axes; one fused pass, or xgrad ops with
/// create_graph (Note [batch_norm backward] in norm.cpp), so any order works.
template <class T>
Tensor<T> layer_norm(const Tensor<T>& x, const Shape& normalized_shape,
                     const Tensor<T>& weight = Tensor<T>(), const Tensor<T>& bias = Tensor<T>(),
                     T eps = T(1e-5));

}  // namespace xgrad
