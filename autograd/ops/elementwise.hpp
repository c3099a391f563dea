#pragma once

#include "autograd/tape.hpp"

#include <string>
#include <type_traits>

namespace xgrad {

// Binary ops broadcast their inputs with NumPy rules; every VJP sums back to its input's shape.
// Shapes that do not broadcast raise ShapeError naming the op and both shapes.

/// y = a + b
template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
/// y = a − b
template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
/// y = a ⊙ b
template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
/// y = a / b
template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
/// y = −x
template <class T>
Tensor<T> neg(const Tensor<T>& x);
/// y = x^p for a constant exponent p
template <class T>
Tensor<T> pow(const Tensor<T>& x, T p);
/// y = a^b elementwise (a > 0 where b is differentiated: ∂y/∂b = y·log a)
template <class T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> exp(const Tensor<T>& x);
/// Natural logarithm (x > 0).
template <class T>
Tensor<T> log(const Tensor<T>& x);
template <class T>
Tensor<T> sqrt(const Tensor<T>& x);
/// |x|; NOTE: the gradient at 0 is 0 (sign(0) = 0), as in PyTorch.
template <class T>
Tensor<T> abs(const Tensor<T>& x);
template <class T>
Tensor<T> tanh(const Tensor<T>& x);
/// 1 / (1 + e^−x), computed without overflow.
template <class T>
Tensor<T> sigmoid(const Tensor<T>& x);
/// max(x, 0); NOTE: relu'(0) = 0.
template <class T>
Tensor<T> relu(const Tensor<T>& x);
/// x for x > 0, slope·x otherwise.
template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, T slope = T(0.01));
/// x for x > 0, alpha·(e^x − 1) otherwise.
template <class T>
Tensor<T> elu(const Tensor<T>& x, T alpha = T(1));
/// log(1 + e^x), computed without overflow.
template <class T>
Tensor<T> softplus(const Tensor<T>& x);
/// The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.
template <class T>
Tensor<T> erf(const Tensor<T>& x);
/// GELU, PyTorch's gelu: x·Φ(x) = ½x(1 + erf(x/√2)) with approximate = "none" (the default), or
/// ½x(1 + tanh(√(2/π)(x + 0.044715x³))) with approximate = "tanh"; anything else is a
/// ValueError. Composed of erf (or tanh) and arithmetic, so differentiable to any order.
template <class T>
Tensor<T> gelu(const Tensor<T>& x, const std::string& approximate = "none");
/// SiLU (swish): x·σ(x).
template <class T>
Tensor<T> silu(const Tensor<T>& x);
/// SELU: scale·elu(x, alpha) with PyTorch's constants scale ≈ 1.0507, alpha ≈ 1.6733.
template <class T>
Tensor<T> selu(const Tensor<T>& x);
/// PReLU: x for x > 0, w·x otherwise, with a learnable slope w: weight holds one slope (shape
/// [1] or []) or one per channel (shape [C], C = x.shape[1], broadcast along axis 1 as PyTorch).
/// ShapeError naming x and weight otherwise. Differentiable in x and weight.
template <class T>
Tensor<T> prelu(const Tensor<T>& x, const Tensor<T>& weight);
/// min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi. Requires lo ≤ hi.
template <class T>
Tensor<T> clamp(const Tensor<T>& x, T lo, T hi);
/// Elementwise max; NOTE: at ties each input gets half the gradient (as PyTorch).
template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b);
/// Elementwise min; ties split the gradient evenly.
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b);
/// cond ≠ 0 ? a : b, all three broadcast together; no gradient flows to cond.
template <class T>
Tensor<T> where(const Tensor<T>& cond, const Tensor<T>& a, const Tensor<T>& b);

// Not differentiable: these return constant tensors of 0/1 (or −1/0/1) and record nothing.
template <class T>
Tensor<T> sign(const Tensor<T>& x);
template <class T>
Tensor<T> eq(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> ne(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> lt(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> le(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> gt(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> ge(const Tensor<T>& a, const Tensor<T>& b);

// ---- operators: tensor ∘ tensor, tensor ∘ number, number ∘ tensor ----

namespace detail {
template <class S>
using if_number = std::enable_if_t<std::is_arithmetic_v<S>, int>;
}  // namespace detail

#define XGRAD_BINARY_OPERATOR(OP, FN)                               \
    template <class T>                                              \
    Tensor<T> operator OP(const Tensor<T>& a, const Tensor<T>& b) { \
        return FN(a, b);                                            \
    }                                                               \
    template <class T, class S, detail::if_number<S> = 0>           \
    Tensor<T> operator OP(const Tensor<T>& a, S s) {                \
        return FN(a, scalar<T>(static_cast<T>(s)));                 \
    }                                                               \
    template <class T, class S, detail::if_number<S> = 0>           \
    Tensor<T> operator OP(S s, const Tensor<T>& b) {                \
        return FN(scalar<T>(static_cast<T>(s)), b);                 \
    }
XGRAD_BINARY_OPERATOR(+, add)
XGRAD_BINARY_OPERATOR(-, sub)
XGRAD_BINARY_OPERATOR(*, mul)
XGRAD_BINARY_OPERATOR(/, div)
XGRAD_BINARY_OPERATOR(<, lt)
XGRAD_BINARY_OPERATOR(<=, le)
XGRAD_BINARY_OPERATOR(>, gt)
XGRAD_BINARY_OPERATOR(>=, ge)
#undef XGRAD_BINARY_OPERATOR

template <class T>
Tensor<T> operator-(const Tensor<T>& x) {
    return neg(x);
}

}  // namespace xgrad
