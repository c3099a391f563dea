#include "nn/linear.hpp"

#include "autograd/ops/blas.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "nn/init.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace xgrad::nn {
namespace {

// Note [fused linear]
// xgrad::linear is matmul followed by add: two ops, two [..., out] results, and in backward the
// add's VJP plus a reduction for the bias. For the small batches of the MLP lectures that
// overhead is a visible share of a training step (docs/performance.md, MLP training step), so
// Linear runs this op instead: the bias is copied into every row of the result and the gemm
// accumulates onto it (beta = 1). Its VJP has two paths: with grad mode off (the ordinary
// backward) raw gemms into fresh arrays and a column-sum loop; with grad mode on (create_graph)
// the same formulas as xgrad ops, so the gradient is itself differentiable. The op harness
// checks both (tests/nn/test_linear.cpp).
template <class T>
struct FusedLinear {
    static constexpr const char* name = "linear";
    Tensor<T> x, weight, bias;  // the VJP reads x and W; bias only for requires_grad()
    std::size_t rows = 0;       // x's leading axes folded: m

    xt::xarray<T> forward(const Tensor<T>& x_in, const Tensor<T>& w_in, const Tensor<T>& b_in) {
        x = x_in;
        weight = w_in;
        bias = b_in;
        const std::size_t in = weight.shape()[1], out = weight.shape()[0];
        rows = x.size() / in;
        Shape shape = x.shape();
        shape.back() = out;
        xt::xarray<T> y = xt::xarray<T>::from_shape(shape);  // [..., out]
        const T* b = bias.value().data();
        for (std::size_t i = 0; i < rows; ++i)
            std::copy_n(b, out, y.data() + i * out);
        xgrad::detail::gemm<T>(false, true, rows, out, in, T(1), x.value().data(), in,
                               weight.value().data(), in, T(1), y.data(), out);
        return y;
    }

    // G = ∂L/∂y as [m, out]:  ∂L/∂x = G·W,  ∂L/∂W = Gᵀ·x,  ∂L/∂b = Σ_rows G
    Grads<T, 3> vjp(const Tensor<T>& g, const Tensor<T>& /*y*/) const {
        if (grad_enabled()) return composed(g);
        const std::size_t in = weight.shape()[1], out = weight.shape()[0];
        const T* gp = g.value().data();
        Grads<T, 3> grads;
        if (x.requires_grad()) {
            xt::xarray<T> dx = xt::xarray<T>::from_shape(x.shape());  // [..., in]
            xgrad::detail::gemm<T>(false, false, rows, in, out, T(1), gp, out,
                                   weight.value().data(), in, T(0), dx.data(), in);
            grads[0] = Tensor<T>(std::move(dx));
        }
        if (weight.requires_grad()) {
            xt::xarray<T> dw = xt::xarray<T>::from_shape(weight.shape());  // [out, in]
            xgrad::detail::gemm<T>(true, false, out, in, rows, T(1), gp, out, x.value().data(), in,
                                   T(0), dw.data(), in);
            grads[1] = Tensor<T>(std::move(dw));
        }
        if (bias.requires_grad()) {
            xt::xarray<T> db = xt::zeros<T>({out});  // [out]
            T* d = db.data();
            for (std::size_t i = 0; i < rows; ++i) {
                const T* row = gp + i * out;
                for (std::size_t j = 0; j < out; ++j)
                    d[j] += row[j];
            }
            grads[2] = Tensor<T>(std::move(db));
        }
        return grads;
    }

    Grads<T, 3> composed(const Tensor<T>& g) const {
        const auto m = static_cast<std::ptrdiff_t>(rows);
        const auto in = static_cast<std::ptrdiff_t>(weight.shape()[1]);
        const auto out = static_cast<std::ptrdiff_t>(weight.shape()[0]);
        const Tensor<T> g2 = reshape(g, {m, out});  // [m, out]
        Grads<T, 3> grads;
        if (x.requires_grad()) grads[0] = matmul(g, weight);  // [..., in]
        if (weight.requires_grad()) grads[1] = matmul(g2, reshape(x, {m, in}), true, false);
        if (bias.requires_grad()) grads[2] = sum(g2, {0});  // [out]
        return grads;
    }
};

}  // namespace

template <class T>
Tensor<T> fused_linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias) {
    const bool fits = x.dim() >= 2 && weight.dim() == 2 && bias.defined() && bias.dim() == 1 &&
                      x.shape().back() == weight.shape()[1] && bias.shape()[0] == weight.shape()[0];
    // xgrad::linear has the 1-D and bias-free cases, and names the shapes when they do not fit.
    if (!fits) return linear(x, weight, bias);
    return record(FusedLinear<T>{}, x, weight, bias);
}

template <class T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, bool bias)
    : in_(in_features), out_(out_features) {
    if (in_features == 0 || out_features == 0) {
        throw ValueError(fmt::format("Linear: features must be positive; got in={}, out={}",
                                     in_features, out_features));
    }
    const T bound = T(1) / std::sqrt(static_cast<T>(in_features));
    weight_ = this->register_parameter("weight", zeros<T>({out_features, in_features}));
    init::uniform_(weight_, -bound, bound);
    if (bias) {
        bias_ = this->register_parameter("bias", zeros<T>({out_features}));
        init::uniform_(bias_, -bound, bound);
    }
}

template <class T>
Tensor<T> Linear<T>::forward(const Tensor<T>& x) {
    if (x.dim() == 0 || x.shape().back() != in_) {
        throw ShapeError(
            fmt::format("Linear: expected input [..., {}]; got x={}", in_, shape_str(x.shape())));
    }
    return fused_linear(x, weight_, bias_);
}

template <class T>
std::string Linear<T>::extra_repr() const {
    return fmt::format("in={}, out={}, bias={}", in_, out_, bias_.defined());
}

template class Linear<float>;
template class Linear<double>;
template Tensor<float> fused_linear(const Tensor<float>&, const Tensor<float>&,
                                    const Tensor<float>&);
template Tensor<double> fused_linear(const Tensor<double>&, const Tensor<double>&,
                                     const Tensor<double>&);

}  // namespace xgrad::nn
