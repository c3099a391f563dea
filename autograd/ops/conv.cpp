#include "autograd/ops/conv.hpp"

#include "autograd/ops/conv_direct.hpp"
#include "autograd/ops/im2col.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <utility>
#include <vector>

namespace xgrad {

std::string size2_str(const Size2& s) {
    return fmt::format("[{}, {}]", s.h, s.w);
}

void check_conv_options(const char* op, const ConvOptions& opt, bool transposed) {
    if (opt.stride().h == 0 || opt.stride().w == 0 || opt.dilation().h == 0 ||
        opt.dilation().w == 0 || opt.groups() == 0) {
        throw ValueError(
            fmt::format("{}: stride, dilation and groups must be >= 1; got stride={}, "
                        "dilation={}, groups={}",
                        op, size2_str(opt.stride()), size2_str(opt.dilation()), opt.groups()));
    }
    const std::pair<const char*, Size2> sizes[] = {{"stride", opt.stride()},
                                                   {"padding", opt.padding()},
                                                   {"dilation", opt.dilation()},
                                                   {"output_padding", opt.output_padding()}};
    for (const auto& [what, size] : sizes) {
        check_size(op, what, size.h);  // Note [size limit]
        check_size(op, what, size.w);
    }
    check_size(op, "groups", opt.groups());
    const Size2 s = opt.stride(), d = opt.dilation(), op_pad = opt.output_padding();
    if (!transposed) {
        if (opt.padding_same() && s != Size2(1)) {
            throw ValueError(
                fmt::format("{}: padding 'same' needs stride 1; got stride={}", op, size2_str(s)));
        }
        return;
    }
    if (opt.padding_same()) {
        throw ValueError(
            fmt::format("{}: padding 'same' is not supported; give the padding as "
                        "numbers",
                        op));
    }
    if ((op_pad.h >= s.h && op_pad.h >= d.h) || (op_pad.w >= s.w && op_pad.w >= d.w)) {
        throw ValueError(
            fmt::format("{}: output_padding must be smaller than the stride or the "
                        "dilation; got output_padding={}, stride={}, dilation={}",
                        op, size2_str(op_pad), size2_str(s), size2_str(d)));
    }
}

namespace ops {
namespace {

// Note [conv family]: conv2d F(x, w), its input gradient Ft(g, w) (= conv_transpose2d) and its
// weight gradient Fw(x, g) (= conv2d_weight) are the three partial derivatives of one trilinear
// form B(x, w, g) = ⟨g, F(x, w)⟩. Each one's VJP is made of the other two:
//   F:  dx = Ft(g, w),   dw = Fw(x, g)
//   Ft: dg = F(gx, w),   dw = Fw(gx, g)
//   Fw: dx = Ft(g, gw),  dg = F(x, gw)
// so the family is closed under differentiation and create_graph works to any order. All three
// share one ConvGeometry: the shapes of the *convolution* (x → y), whichever op runs.
using detail::ConvGeometry;

// ---- the three products, on the direct kernels or the im2col path (Note [direct conv]) ----

// y = conv(x, w) + b: x [n, c, h, w], w [o, c/G, kh, kw], b [o] or null → [n, o, oh, ow].
template <class T>
xt::xarray<T> conv_forward(const xt::xarray<T>& x, const xt::xarray<T>& w, const T* b,
                           const ConvGeometry& g) {
    const std::size_t n = x.shape()[0];
    xt::xarray<T> y = xt::xarray<T>::from_shape(g.y_shape(n));
    const auto kernel =
        detail::direct_forward(g) ? detail::conv_forward_direct<T> : detail::conv_forward_im2col<T>;
    kernel(x.data(), w.data(), b, y.data(), n, g);
    return y;
}

// Ft(g, w) + b: the conv's input gradient, i.e. conv_transpose2d. g [n, o, oh, ow], w [o, c/G,
// kh, kw], b [c] or null → [n, c, h, w].
template <class T>
xt::xarray<T> conv_input_grad(const xt::xarray<T>& gy, const xt::xarray<T>& w, const T* b,
                              const ConvGeometry& g) {
    const std::size_t n = gy.shape()[0];
    xt::xarray<T> dx = xt::xarray<T>::from_shape(g.x_shape(n));
    const auto kernel = detail::direct_input_grad(g) ? detail::conv_input_grad_direct<T>
                                                     : detail::conv_input_grad_im2col<T>;
    kernel(gy.data(), w.data(), b, dx.data(), n, g);
    return dx;
}

// Fw(x, g): the conv's weight gradient. x [n, c, h, w], g [n, o, oh, ow] → [o, c/G, kh, kw].
template <class T>
xt::xarray<T> conv_weight_grad(const xt::xarray<T>& x, const xt::xarray<T>& gy,
                               const ConvGeometry& g) {
    const std::size_t n = x.shape()[0];
    xt::xarray<T> dw = xt::xarray<T>::from_shape(g.w_shape());
    const auto kernel = detail::direct_weight_grad(g) ? detail::conv_weight_grad_direct<T>
                                                      : detail::conv_weight_grad_im2col<T>;
    kernel(x.data(), gy.data(), dw.data(), n, g);
    return dw;
}

// ---- the three ops of the family (Note [conv family]) ----

template <class T>
Tensor<T> run_conv(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                   const ConvGeometry& g);
template <class T>
Tensor<T> run_conv_input(const Tensor<T>& gy, const Tensor<T>& w, const Tensor<T>& b,
                         const ConvGeometry& g);
template <class T>
Tensor<T> run_conv_weight(const Tensor<T>& x, const Tensor<T>& gy, const ConvGeometry& g);

template <class T>
Tensor<T> channel_sum(const Tensor<T>& t) {
    return sum(t, Axes{0, 2, 3});
}

template <class T>
struct Conv2d {
    static constexpr const char* name = "conv2d";
    ConvGeometry geo;
    Tensor<T> x, w;  // each gradient reads the other operand
    bool has_bias = false;
    bool bias_requires_grad = false;

    std::string attributes() const { return geo.attributes(); }
    xt::xarray<T> forward(const std::vector<Tensor<T>>& in) {
        x = in[0];
        w = in[1];
        has_bias = in.size() > 2;
        bias_requires_grad = has_bias && in[2].requires_grad();
        return conv_forward(x.value(), w.value(), has_bias ? in[2].value().data() : nullptr, geo);
    }
    // y = F(x, w) + b  ⇒  dx = Ft(g, w) (conv_transpose2d), dw = Fw(x, g) (conv2d_weight),
    // db = Σ_{n, i, j} g
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        std::vector<Tensor<T>> out(has_bias ? 3 : 2);
        if (x.requires_grad()) out[0] = run_conv_input(g, w, Tensor<T>(), geo);
        if (w.requires_grad()) out[1] = run_conv_weight(x, g, geo);
        if (bias_requires_grad) out[2] = channel_sum(g);
        return out;
    }
};

template <class T>
struct ConvTranspose2d {
    static constexpr const char* name = "conv_transpose2d";
    ConvGeometry geo;
    Tensor<T> gy, w;
    bool has_bias = false;
    bool bias_requires_grad = false;

    std::string attributes() const { return geo.attributes(); }
    xt::xarray<T> forward(const std::vector<Tensor<T>>& in) {
        gy = in[0];
        w = in[1];
        has_bias = in.size() > 2;
        bias_requires_grad = has_bias && in[2].requires_grad();
        return conv_input_grad(gy.value(), w.value(), has_bias ? in[2].value().data() : nullptr,
                               geo);
    }
    // z = Ft(u, w) + b  ⇒  du = F(g, w) (conv2d), dw = Fw(g, u) (conv2d_weight), db = Σ_{n, i, j} g
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        std::vector<Tensor<T>> out(has_bias ? 3 : 2);
        if (gy.requires_grad()) out[0] = run_conv(g, w, Tensor<T>(), geo);
        if (w.requires_grad()) out[1] = run_conv_weight(g, gy, geo);
        if (bias_requires_grad) out[2] = channel_sum(g);
        return out;
    }
};

template <class T>
struct Conv2dWeight {
    static constexpr const char* name = "conv2d_weight";
    ConvGeometry geo;
    Tensor<T> x, gy;

    std::string attributes() const { return geo.attributes(); }
    xt::xarray<T> forward(const Tensor<T>& x_in, const Tensor<T>& gy_in) {
        x = x_in;
        gy = gy_in;
        return conv_weight_grad(x.value(), gy.value(), geo);
    }
    // dw = Fw(x, u)  ⇒  dx = Ft(u, g) (conv_transpose2d), du = F(x, g) (conv2d)
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {x.requires_grad() ? run_conv_input(gy, g, Tensor<T>(), geo) : Tensor<T>(),
                gy.requires_grad() ? run_conv(x, g, Tensor<T>(), geo) : Tensor<T>()};
    }
};

template <class T>
std::vector<Tensor<T>> operands(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& bias) {
    std::vector<Tensor<T>> in{a, b};
    if (bias.defined()) in.push_back(bias);
    return in;
}

template <class T>
Tensor<T> run_conv(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                   const ConvGeometry& g) {
    return record_list(Conv2d<T>{g, {}, {}, false, false}, operands(x, w, b));
}

template <class T>
Tensor<T> run_conv_input(const Tensor<T>& gy, const Tensor<T>& w, const Tensor<T>& b,
                         const ConvGeometry& g) {
    return record_list(ConvTranspose2d<T>{g, {}, {}, false, false}, operands(gy, w, b));
}

template <class T>
Tensor<T> run_conv_weight(const Tensor<T>& x, const Tensor<T>& gy, const ConvGeometry& g) {
    return record(Conv2dWeight<T>{g, {}, {}}, x, gy);
}

// ---- shape checks: each public op builds its ConvGeometry here ----

// "x=[..], weight=[..]" plus the bias when there is one: every message names all operands.
std::string operand_list(const Shape& x, const Shape& w, const Shape* b, const char* x_name = "x",
                         const char* w_name = "weight") {
    std::string s = fmt::format("{}={}, {}={}", x_name, shape_str(x), w_name, shape_str(w));
    if (b) s += fmt::format(", bias={}", shape_str(*b));
    return s;
}

// Spatial output size of a conv along one axis, or throws when the (dilated) kernel does not
// fit the padded input. `pad_total` is before + after.
std::size_t conv_out(std::size_t in, std::size_t pad_total, std::size_t k, std::size_t s,
                     std::size_t d) {
    return (in + pad_total - d * (k - 1) - 1) / s + 1;
}

// conv2d's geometry for x [n, c, h, w] and w [o, c/G, kh, kw] (shapes already of rank 4);
// `op`, `x_user`, `w_user` are what the user called and passed (conv1d passes its 3-D shapes).
ConvGeometry conv2d_geometry(const char* op, const Shape& xs, const Shape& ws, const Shape* bs,
                             const ConvOptions& opt, const Shape& x_user, const Shape& w_user) {
    check_conv_options(op, opt);
    const std::string names = operand_list(x_user, w_user, bs);
    const std::size_t G = opt.groups();
    if (ws[0] % G != 0 || xs[1] % G != 0) {
        throw ShapeError(
            fmt::format("{}: input channels {} and output channels {} must both be "
                        "divisible by groups={}; got {}",
                        op, xs[1], ws[0], G, names));
    }
    if (xs[1] != ws[1] * G) {
        throw ShapeError(
            fmt::format("{}: input {} has {} channels but weight {} expects {} "
                        "(groups={})",
                        op, shape_str(x_user), xs[1], shape_str(w_user), ws[1] * G, G));
    }
    if (bs && (bs->size() != 1 || (*bs)[0] != ws[0])) {
        throw ShapeError(fmt::format("{}: bias must be [{}] (one per output channel); got {}", op,
                                     ws[0], names));
    }
    ConvGeometry g;
    g.n = xs[0];
    g.c = xs[1];
    g.h = xs[2];
    g.w = xs[3];
    g.o = ws[0];
    g.kh = ws[2];
    g.kw = ws[3];
    g.sh = opt.stride().h;
    g.sw = opt.stride().w;
    g.dh = opt.dilation().h;
    g.dw = opt.dilation().w;
    g.groups = G;
    if (g.kh == 0 || g.kw == 0) {
        throw ShapeError(fmt::format("{}: the kernel must not be empty; got {}", op, names));
    }
    std::size_t pad_h = 2 * opt.padding().h, pad_w = 2 * opt.padding().w;
    g.ph = opt.padding().h;
    g.pw = opt.padding().w;
    if (opt.padding_same()) {  // stride 1 (check_conv_options)
        pad_h = g.dh * (g.kh - 1);
        pad_w = g.dw * (g.kw - 1);
        g.ph = pad_h / 2;  // NOTE: an odd total puts the extra row/column after (bottom/right)
        g.pw = pad_w / 2;
    }
    const std::size_t eh = g.dh * (g.kh - 1) + 1, ew = g.dw * (g.kw - 1) + 1;  // dilated kernel
    if (g.h + pad_h < eh || g.w + pad_w < ew) {
        throw ShapeError(
            fmt::format("{}: kernel {}x{} (dilation {}, so {}x{}) is larger than the "
                        "padded input {}x{} (padding {}); got {}",
                        op, g.kh, g.kw, size2_str(opt.dilation()), eh, ew, g.h + pad_h, g.w + pad_w,
                        size2_str({g.ph, g.pw}), names));
    }
    g.oh = conv_out(g.h, pad_h, g.kh, g.sh, g.dh);
    g.ow = conv_out(g.w, pad_w, g.kw, g.sw, g.dw);
    checked_numel(op, "output", g.y_shape(g.n));  // a huge padding: Note [size limit]
    return g;
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                 const ConvOptions& options) {
    const Shape* bs = bias.defined() ? &bias.shape() : nullptr;
    if (x.dim() != 4 || weight.dim() != 4) {
        throw ShapeError(
            fmt::format("conv2d: expected x [n, c, h, w] and weight [o, c/groups, "
                        "kh, kw]; got {}",
                        ops::operand_list(x.shape(), weight.shape(), bs)));
    }
    const auto g = ops::conv2d_geometry("conv2d", x.shape(), weight.shape(), bs, options, x.shape(),
                                        weight.shape());
    return ops::run_conv(x, weight, bias, g);
}

template <class T>
Tensor<T> conv_transpose2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                           const ConvOptions& opt) {
    const char* op = "conv_transpose2d";
    const Shape* bs = bias.defined() ? &bias.shape() : nullptr;
    const std::string names = ops::operand_list(x.shape(), weight.shape(), bs);
    if (x.dim() != 4 || weight.dim() != 4) {
        throw ShapeError(
            fmt::format("{}: expected x [n, c_in, h, w] and weight [c_in, "
                        "c_out/groups, kh, kw]; got {}",
                        op, names));
    }
    check_conv_options(op, opt, true);
    const Size2 s = opt.stride(), p = opt.padding(), d = opt.dilation(),
                op_pad = opt.output_padding();
    const Shape& xs = x.shape();
    const Shape& ws = weight.shape();
    const std::size_t G = opt.groups();
    if (xs[1] != ws[0]) {
        throw ShapeError(
            fmt::format("{}: input {} has {} channels but weight {} expects {} "
                        "(weight is [c_in, c_out/groups, kh, kw])",
                        op, shape_str(xs), xs[1], shape_str(ws), ws[0]));
    }
    if (ws[0] % G != 0) {
        throw ShapeError(fmt::format("{}: input channels {} must be divisible by groups={}; got {}",
                                     op, ws[0], G, names));
    }
    const std::size_t c_out = ws[1] * G;
    if (bs && (bs->size() != 1 || (*bs)[0] != c_out)) {
        throw ShapeError(fmt::format("{}: bias must be [{}] (one per output channel); got {}", op,
                                     c_out, names));
    }
    if (ws[2] == 0 || ws[3] == 0) {
        throw ShapeError(fmt::format("{}: the kernel must not be empty; got {}", op, names));
    }
    // out = (in − 1)·s − 2p + d·(k − 1) + output_padding + 1, computed signed: it may be ≤ 0.
    auto out_size = [](std::size_t in, std::size_t s_, std::size_t p_, std::size_t d_,
                       std::size_t k, std::size_t op_) {
        return static_cast<std::ptrdiff_t>((in - 1) * s_ + d_ * (k - 1) + op_ + 1) -
               static_cast<std::ptrdiff_t>(2 * p_);
    };
    const std::ptrdiff_t oh = xs[2] == 0 ? 0 : out_size(xs[2], s.h, p.h, d.h, ws[2], op_pad.h);
    const std::ptrdiff_t ow = xs[3] == 0 ? 0 : out_size(xs[3], s.w, p.w, d.w, ws[3], op_pad.w);
    if (oh <= 0 || ow <= 0) {
        throw ShapeError(
            fmt::format("{}: the output would be {}x{} (padding {} is too large for "
                        "the input and kernel); got {}",
                        op, oh, ow, size2_str(p), names));
    }
    checked_numel(op, "output",
                  {xs[0], c_out, static_cast<std::size_t>(oh), static_cast<std::size_t>(ow)});
    // The geometry of the conv this op is the adjoint of: its input is our output.
    detail::ConvGeometry g;
    g.n = xs[0];
    g.c = c_out;
    g.h = static_cast<std::size_t>(oh);
    g.w = static_cast<std::size_t>(ow);
    g.o = ws[0];
    g.kh = ws[2];
    g.kw = ws[3];
    g.oh = xs[2];
    g.ow = xs[3];
    g.sh = s.h;
    g.sw = s.w;
    g.ph = p.h;
    g.pw = p.w;
    g.dh = d.h;
    g.dw = d.w;
    g.groups = G;
    return ops::run_conv_input(x, weight, bias, g);
}

template <class T>
Tensor<T> conv2d_weight(const Tensor<T>& x, const Tensor<T>& grad_out, Size2 kernel_size,
                        const ConvOptions& options) {
    const char* op = "conv2d_weight";
    const std::string names =
        ops::operand_list(x.shape(), grad_out.shape(), nullptr, "x", "grad_out");
    if (x.dim() != 4 || grad_out.dim() != 4 || x.shape()[0] != grad_out.shape()[0]) {
        throw ShapeError(
            fmt::format("{}: expected x [n, c, h, w] and grad_out [n, o, oh, ow]; "
                        "got {}",
                        op, names));
    }
    const std::size_t G = options.groups() == 0 ? 1 : options.groups();
    if (x.shape()[1] % G != 0) {
        throw ShapeError(fmt::format("{}: input channels {} must be divisible by groups={}; got {}",
                                     op, x.shape()[1], G, names));
    }
    const Shape ws{grad_out.shape()[1], x.shape()[1] / G, kernel_size.h, kernel_size.w};
    const auto g = ops::conv2d_geometry(op, x.shape(), ws, nullptr, options, x.shape(), ws);
    if (grad_out.shape() != g.y_shape(g.n)) {
        throw ShapeError(fmt::format("{}: grad_out must have the conv2d output shape {}; got {}",
                                     op, shape_str(g.y_shape(g.n)), names));
    }
    return ops::run_conv_weight(x, grad_out, g);
}

template <class T>
Tensor<T> conv1d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                 const ConvOptions& options) {
    const Shape* bs = bias.defined() ? &bias.shape() : nullptr;
    if (x.dim() != 3 || weight.dim() != 3) {
        throw ShapeError(
            fmt::format("conv1d: expected x [n, c, l] and weight [o, c/groups, k]; "
                        "got {}",
                        ops::operand_list(x.shape(), weight.shape(), bs)));
    }
    // A height-1 image: x [n, c, 1, l], weight [o, c/G, 1, k], only the width options.
    ConvOptions opt2;
    opt2.stride({1, options.stride().w})
        .dilation({1, options.dilation().w})
        .groups(options.groups());
    if (options.padding_same()) {
        opt2.padding(Padding::same);
    } else {
        opt2.padding({0, options.padding().w});
    }
    const Shape xs{x.shape()[0], x.shape()[1], 1, x.shape()[2]};
    const Shape ws{weight.shape()[0], weight.shape()[1], 1, weight.shape()[2]};
    const auto g = ops::conv2d_geometry("conv1d", xs, ws, bs, opt2, x.shape(), weight.shape());
    const Tensor<T> y = ops::run_conv(unsqueeze(x, 2), unsqueeze(weight, 2), bias, g);
    return squeeze(y, 2);  // [n, o, ol]
}

#define XGRAD_INSTANTIATE(T)                                                                  \
    template Tensor<T> conv2d(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,           \
                              const ConvOptions&);                                            \
    template Tensor<T> conv_transpose2d(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
                                        const ConvOptions&);                                  \
    template Tensor<T> conv2d_weight(const Tensor<T>&, const Tensor<T>&, Size2,               \
                                     const ConvOptions&);                                     \
    template Tensor<T> conv1d(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,           \
                              const ConvOptions&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
