#pragma once

// Convolutions over NCHW images: conv2d, its adjoint conv_transpose2d, conv2d_weight (the
// weight gradient as an op of its own) and conv1d. See docs/convolution.md.

#include "autograd/tape.hpp"

#include <array>
#include <cstddef>
#include <string>

namespace xgrad {

/// Two sizes, one per spatial axis (height, width); a single number sets both:
/// `stride(2)` is `stride({2, 2})`.
struct Size2 {
    Size2(std::size_t both) : h(both), w(both) {}  // NOLINT: implicit on purpose
    Size2(std::size_t h_, std::size_t w_) : h(h_), w(w_) {}
    std::size_t h, w;
    bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
    bool operator!=(const Size2& o) const { return !(*this == o); }
};

/// "[h, w]" for the tape listing and error messages.
std::string size2_str(const Size2& s);

/// Padding given by name: `same` keeps the spatial size (stride 1 only; an odd total padding puts
/// the extra row/column at the bottom/right, as PyTorch and TensorFlow do); `valid` is padding 0.
enum class Padding { same, valid };

/// Attributes of the functional convolutions, set fluently:
/// `conv2d(x, w, b, ConvOptions().stride(2).padding(1))`. Defaults: stride 1, padding 0,
/// dilation 1, groups 1, output_padding 0 (conv_transpose2d only). Checked when the op runs and
/// when a layer is built (check_conv_options: ValueError for stride, dilation or groups 0, a
/// negative number turned size, ...).
class ConvOptions {
public:
    ConvOptions& stride(Size2 s) {
        stride_ = s;
        return *this;
    }
    ConvOptions& padding(Size2 p) {
        padding_ = p;
        same_ = false;
        return *this;
    }
    ConvOptions& padding(Padding p) {
        padding_ = {0, 0};
        same_ = p == Padding::same;
        return *this;
    }
    ConvOptions& dilation(Size2 d) {
        dilation_ = d;
        return *this;
    }
    ConvOptions& groups(std::size_t g) {
        groups_ = g;
        return *this;
    }
    /// conv_transpose2d: extra rows/columns at the bottom/right of the output (< stride or
    /// < dilation), to pick among the input sizes a strided conv maps to the same output size.
    ConvOptions& output_padding(Size2 p) {
        output_padding_ = p;
        return *this;
    }

    const Size2& stride() const { return stride_; }
    /// The explicit padding (top/bottom, left/right); {0, 0} with Padding::same.
    const Size2& padding() const { return padding_; }
    bool padding_same() const { return same_; }
    const Size2& dilation() const { return dilation_; }
    std::size_t groups() const { return groups_; }
    const Size2& output_padding() const { return output_padding_; }

private:
    Size2 stride_{1}, padding_{0}, dilation_{1}, output_padding_{0};
    std::size_t groups_ = 1;
    bool same_ = false;
};

/// Checks the attributes alone, before any input is seen: stride, dilation and groups >= 1, every
/// number at most max_elements (Note [size limit]: a padding of −1 is caught here), and for
/// conv2d Padding::same only with stride 1; for the transposed convolution (`transposed`) no
/// Padding::same and output_padding smaller than the stride or the dilation. ValueError naming
/// `op`. The convolution ops run it, and nn::Conv2d/ConvTranspose2d when they are built.
void check_conv_options(const char* op, const ConvOptions& options, bool transposed = false);

/// 2-D convolution (cross-correlation, as in every framework):
///   y[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q] · x[n, g·C/G + c, i·sh − ph + p·dh, j·sw − pw
///   + q·dw]
/// for o in group g. x [n, c, h, w]; weight [o, c/groups, kh, kw]; bias [o] (undefined Tensor for
/// none) → [n, o, oh, ow] with oh = (h + 2·ph − dh·(kh − 1) − 1)/sh + 1 (likewise ow).
/// c and o must be divisible by groups. Runs on direct register-blocked kernels, or as im2col +
/// one BLAS gemm per group over a chunk of the batch for 1×1 kernels and narrow layers
/// (docs/convolution.md, "Speed"). Its VJP is made of differentiable ops (conv_transpose2d for x,
/// conv2d_weight for the weight, sum for the bias), so second derivatives work (create_graph).
/// ShapeError names the op and the shapes when channels do not match or the kernel is larger
/// than the padded input; ValueError for bad attributes (Padding::same with stride > 1, ...).
template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                 const ConvOptions& options = {});

/// Transposed convolution, the adjoint of conv2d (its input gradient): x [n, c_in, h, w];
/// weight [c_in, c_out/groups, kh, kw] (PyTorch's layout); bias [c_out] → [n, c_out, oh, ow]
/// with oh = (h − 1)·sh − 2·ph + dh·(kh − 1) + output_padding_h + 1 (likewise ow).
/// Each input pixel scatters a weighted copy of the kernel into the output; stride > 1
/// upsamples (generators, decoders). Padding::same is not supported (ValueError).
/// Differentiable to any order, like conv2d.
template <class T>
Tensor<T> conv_transpose2d(const Tensor<T>& x, const Tensor<T>& weight,
                           const Tensor<T>& bias = Tensor<T>(), const ConvOptions& options = {});

/// The weight gradient of conv2d as an op (PyTorch's torch.nn.grad.conv2d_weight):
///   dw[o, c, p, q] = Σ_{n, i, j} g[n, o, i, j] · x[n, g·C/G + c, i·sh − ph + p·dh, j·sw − pw +
///   q·dw]
/// i.e. a correlation of the input with the upstream gradient. x [n, c, h, w]; grad_out
/// [n, o, oh, ow] (the conv2d output shape for this x, kernel and options) → [o, c/groups, kh, kw].
template <class T>
Tensor<T> conv2d_weight(const Tensor<T>& x, const Tensor<T>& grad_out, Size2 kernel_size,
                        const ConvOptions& options = {});

/// 1-D convolution: x [n, c, l], weight [o, c/groups, k], bias [o] → [n, o, ol]; conv2d on a
/// height-1 image. Reads the width entries of the options (stride(s) sets both, which is fine).
template <class T>
Tensor<T> conv1d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                 const ConvOptions& options = {});

}  // namespace xgrad
