#pragma once

// The direct convolution kernels (Note [direct conv] in conv_direct.cpp) and the rule that picks
// them. Internal: the public API is conv.hpp; the shapes are autograd/ops/window.hpp.

#include "autograd/ops/window.hpp"

#include <cstddef>

namespace xgrad::detail {

/// Whether the direct kernel runs y = conv(x, w) / dx = conv_transpose(g, w) / dw for this shape
/// (Note [direct conv]; tuning::conv_path forces one path).
bool direct_forward(const ConvGeometry& g);
bool direct_input_grad(const ConvGeometry& g);
bool direct_weight_grad(const ConvGeometry& g);

/// The direct kernels over raw NCHW / OIHW buffers of a batch of n; b (per output channel of
/// the op) may be null. `dw` is overwritten.
template <class T>
void conv_forward_direct(const T* x, const T* w, const T* b, T* y, std::size_t n,
                         const ConvGeometry& g);
template <class T>
void conv_input_grad_direct(const T* gy, const T* w, const T* b, T* dx, std::size_t n,
                            const ConvGeometry& g);
template <class T>
void conv_weight_grad_direct(const T* x, const T* gy, T* dw, std::size_t n, const ConvGeometry& g);

}  // namespace xgrad::detail
