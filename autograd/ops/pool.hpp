#pragma once

// Pooling over NCHW images: max_pool2d, avg_pool2d, adaptive_avg_pool2d, global_avg_pool2d.
// See docs/convolution.md.

#include "autograd/ops/conv.hpp"
#include "autograd/tape.hpp"

#include <cstddef>

namespace xgrad {

/// Attributes of max_pool2d and avg_pool2d, set fluently: `max_pool2d(x, 2)`,
/// `avg_pool2d(x, PoolOptions(3).stride(2).padding(1))`. Defaults: stride = kernel size,
/// padding 0, dilation 1, ceil_mode off, count_include_pad on (PyTorch's defaults).
class PoolOptions {
public:
    PoolOptions(std::size_t kernel_size) : kernel_(kernel_size) {}  // NOLINT: implicit on purpose
    PoolOptions(std::size_t kh, std::size_t kw) : kernel_(kh, kw) {}
    PoolOptions(Size2 kernel_size) : kernel_(kernel_size) {}  // NOLINT: implicit on purpose

    PoolOptions& stride(Size2 s) {
        stride_ = s;
        has_stride_ = true;
        return *this;
    }
    /// Implicit padding on each side (−∞ for max, 0 for avg); at most half the kernel size.
    PoolOptions& padding(Size2 p) {
        padding_ = p;
        return *this;
    }
    /// Spacing of the window's taps (max_pool2d only).
    PoolOptions& dilation(Size2 d) {
        dilation_ = d;
        return *this;
    }
    /// Rounds the output size up, so a partial window at the bottom/right edge is kept.
    PoolOptions& ceil_mode(bool on = true) {
        ceil_mode_ = on;
        return *this;
    }
    /// avg_pool2d: whether padded cells count in the divisor.
    PoolOptions& count_include_pad(bool on) {
        count_include_pad_ = on;
        return *this;
    }

    const Size2& kernel_size() const { return kernel_; }
    Size2 stride() const { return has_stride_ ? stride_ : kernel_; }
    const Size2& padding() const { return padding_; }
    const Size2& dilation() const { return dilation_; }
    bool ceil_mode() const { return ceil_mode_; }
    bool count_include_pad() const { return count_include_pad_; }

private:
    Size2 kernel_, stride_{1}, padding_{0}, dilation_{1};
    bool has_stride_ = false, ceil_mode_ = false, count_include_pad_ = true;
};

/// Checks the attributes alone, before any input is seen: kernel size, stride and dilation >= 1,
/// dilation 1 unless `is_max` (avg_pool2d has none), padding at most half the kernel size, every
/// number at most max_elements (Note [size limit]). ValueError naming `op`. The pooling ops run
/// it, and nn::MaxPool2d/AvgPool2d when they are built.
void check_pool_options(const char* op, const PoolOptions& options, bool is_max);

/// adaptive_avg_pool2d's output size: each side >= 1 and at most max_elements (ValueError naming
/// `op`).
void check_pool_output_size(const char* op, Size2 output_size);

/// Max pooling: y[n, c, i, j] = max over the window of x[n, c, ·, ·] at rows i·sh − ph + p·dh,
/// columns j·sw − pw + q·dw (p < kh, q < kw; padding never wins). x [n, c, h, w] →
/// [n, c, oh, ow], oh = ⌊(h + 2·ph − dh·(kh − 1) − 1)/sh⌋ + 1 (⌈·⌉ with ceil_mode).
/// The forward keeps the argmax of every window; the VJP routes each upstream gradient to its
/// argmax (summed where windows overlap) — the op max_unpool2d, itself differentiable in the
/// upstream gradient, so create_graph works. The derivative with respect to x of that routing
/// is zero (the argmax is piecewise constant): second order holds away from ties.
/// NOTE: ties pick the first maximum in row-major window order; a NaN wins (it propagates).
template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, const PoolOptions& options);

/// Average pooling: the mean of each window (dilation 1). With padding, count_include_pad
/// (default) divides by the window size clipped to the padded input, otherwise by the number of
/// real cells. Shapes as max_pool2d. The VJP spreads each upstream gradient evenly over its
/// window (avg_pool2d_backward, whose VJP is avg_pool2d again: linear, any order).
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, const PoolOptions& options);

/// Adaptive average pooling to a fixed output size: output row i averages input rows
/// ⌊i·h/oh⌋ … ⌈(i + 1)·h/oh⌉ − 1 (likewise columns), PyTorch's bins. x [n, c, h, w] →
/// [n, c, oh, ow]; oh, ow ≥ 1 (ValueError otherwise). Any order of derivatives.
template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& x, Size2 output_size);

/// Global average pooling, Keras' GlobalAveragePooling2D: the mean of each channel's plane,
/// x [n, c, h, w] → [n, c] (ready for a Linear layer). Built from mean over axes 2, 3.
template <class T>
Tensor<T> global_avg_pool2d(const Tensor<T>& x);

}  // namespace xgrad
