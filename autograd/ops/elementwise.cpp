#include "autograd/ops/elementwise.hpp"

#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/simd_math.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

namespace xgrad {
namespace ops {
namespace {

// Evaluates the scalar function f(x, y) over the broadcast shape (Note [raw kernels]).
template <class T, class F>
xt::xarray<T> broadcast_binary(const char* name, const xt::xarray<T>& x, const xt::xarray<T>& y,
                               F f) {
    xt::xarray<T> out = xt::xarray<T>::from_shape(
        x.shape() == y.shape() ? x.shape() : broadcast_shapes(name, x.shape(), y.shape()));
    kernels::binary(out.shape(), x.data(), x.shape(), y.data(), y.shape(), out.data(), f);
    return out;
}

template <class T, class F>
xt::xarray<T> unary(const xt::xarray<T>& x, F f) {
    xt::xarray<T> out = xt::xarray<T>::from_shape(x.shape());
    xt::noalias(out) = f(x);
    return out;
}

// f on xsimd batches of x, so that each value gets the same bits wherever it sits: for the
// transcendental functions (Note [one formula per value] in simd_math.hpp).
template <class T, class F>
xt::xarray<T> unary_simd(const xt::xarray<T>& x, F f) {
    xt::xarray<T> out = xt::xarray<T>::from_shape(x.shape());
    simd::map(x.data(), out.data(), x.size(), f);
    return out;
}

// A constant 0/1 tensor (records nothing): masks in VJPs and the comparison ops.
template <class T, class E>
Tensor<T> constant(E&& expr) {
    return Tensor<T>(xt::xarray<T>(xt::cast<T>(std::forward<E>(expr))));
}

// The gradient for `input` if anything upstream wants it; an undefined tensor otherwise.
template <class T, class F>
Tensor<T> if_needed(const Tensor<T>& input, F f) {
    return input.requires_grad() ? f() : Tensor<T>();
}

// What the VJPs of add and sub read: no values, only each input's shape (to sum the gradient
// back to) and whether it wants a gradient.
struct InputShapes {
    Shape a_shape, b_shape;
    bool a_rg = false, b_rg = false;

    template <class T>
    void save(const Tensor<T>& a, const Tensor<T>& b) {
        a_shape = a.shape();
        b_shape = b.shape();
        a_rg = a.requires_grad();
        b_rg = b.requires_grad();
    }
};

template <class T>
struct Add : InputShapes {
    static constexpr const char* name = "add";

    xt::xarray<T> forward(const Tensor<T>& a, const Tensor<T>& b) {
        save(a, b);
        return broadcast_binary<T>(name, a.value(), b.value(),
                                   [](const auto& x, const auto& y) { return x + y; });
    }
    // y = a + b  ⇒  ∂L/∂a = sum_to(g, shape a),  ∂L/∂b = sum_to(g, shape b)
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {a_rg ? sum_to(g, a_shape) : Tensor<T>(), b_rg ? sum_to(g, b_shape) : Tensor<T>()};
    }
};

template <class T>
struct Sub : InputShapes {
    static constexpr const char* name = "sub";

    xt::xarray<T> forward(const Tensor<T>& a, const Tensor<T>& b) {
        save(a, b);
        return broadcast_binary<T>(name, a.value(), b.value(),
                                   [](const auto& x, const auto& y) { return x - y; });
    }
    // y = a − b  ⇒  ∂L/∂a = sum_to(g),  ∂L/∂b = sum_to(−g)
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {a_rg ? sum_to(g, a_shape) : Tensor<T>(),
                b_rg ? neg(sum_to(g, b_shape)) : Tensor<T>()};
    }
};

template <class T>
struct Mul {
    static constexpr const char* name = "mul";
    Tensor<T> a, b;  // the VJP reads both inputs

    xt::xarray<T> forward(const Tensor<T>& a_in, const Tensor<T>& b_in) {
        a = a_in;
        b = b_in;
        return broadcast_binary<T>(name, a.value(), b.value(),
                                   [](const auto& x, const auto& y) { return x * y; });
    }
    // y = a ⊙ b  ⇒  ∂L/∂a = sum_to(g ⊙ b),  ∂L/∂b = sum_to(g ⊙ a)
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {if_needed(a, [&] { return sum_to(mul(g, b), a.shape()); }),
                if_needed(b, [&] { return sum_to(mul(g, a), b.shape()); })};
    }
};

template <class T>
struct Div {
    static constexpr const char* name = "div";
    Tensor<T> a, b;

    xt::xarray<T> forward(const Tensor<T>& a_in, const Tensor<T>& b_in) {
        a = a_in;
        b = b_in;
        return broadcast_binary<T>(name, a.value(), b.value(),
                                   [](const auto& x, const auto& y) { return x / y; });
    }
    // y = a / b  ⇒  ∂L/∂a = sum_to(g / b),  ∂L/∂b = sum_to(−g ⊙ a / b²)
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {if_needed(a, [&] { return sum_to(div(g, b), a.shape()); }),
                if_needed(b, [&] { return sum_to(neg(div(mul(g, a), mul(b, b))), b.shape()); })};
    }
};

template <class T>
struct Neg {
    static constexpr const char* name = "neg";
    xt::xarray<T> forward(const Tensor<T>& x) {
        return unary(x.value(), [](const auto& v) { return -v; });
    }
    // y = −x  ⇒  ∂L/∂x = −g
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const { return {neg(g)}; }
};

template <class T>
struct PowScalar {
    static constexpr const char* name = "pow";
    T p;
    Tensor<T> x;

    std::string attributes() const { return fmt::format("p={}", p); }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        const T p_ = p;
        if (p_ == T(2)) return unary(x.value(), [](const auto& v) { return v * v; });
        return unary_simd(x.value(), [p_](auto v) { return simd::pow(v, p_); });
    }
    // y = x^p  ⇒  ∂L/∂x = g ⊙ p·x^(p−1)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        if (p == T(2)) return {mul(g, mul(x, scalar<T>(2)))};
        return {mul(g, mul(pow(x, p - T(1)), scalar<T>(p)))};
    }
};

template <class T>
struct Pow {
    static constexpr const char* name = "pow";
    Tensor<T> a, b;

    xt::xarray<T> forward(const Tensor<T>& a_in, const Tensor<T>& b_in) {
        a = a_in;
        b = b_in;
        return broadcast_binary<T>(name, a.value(), b.value(),
                                   [](T x, T y) { return std::pow(x, y); });
    }
    // y = a^b  ⇒  ∂L/∂a = sum_to(g ⊙ b ⊙ a^(b−1)),  ∂L/∂b = sum_to(g ⊙ y ⊙ log a)
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        return {
            if_needed(
                a, [&] { return sum_to(mul(g, mul(b, pow(a, sub(b, scalar<T>(1))))), a.shape()); }),
            if_needed(b, [&] { return sum_to(mul(g, mul(y, log(a))), b.shape()); })};
    }
};

template <class T>
struct Exp {
    static constexpr const char* name = "exp";
    xt::xarray<T> forward(const Tensor<T>& x) {
        return unary_simd(x.value(), [](auto v) { return simd::exp(v); });
    }
    // y = eˣ  ⇒  ∂L/∂x = g ⊙ y
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const { return {mul(g, y)}; }
};

template <class T>
struct Log {
    static constexpr const char* name = "log";
    Tensor<T> x;
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        return unary_simd(x.value(), [](auto v) { return simd::log(v); });
    }
    // y = log x  ⇒  ∂L/∂x = g / x
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const { return {div(g, x)}; }
};

template <class T>
struct Sqrt {
    static constexpr const char* name = "sqrt";
    xt::xarray<T> forward(const Tensor<T>& x) {
        return unary(x.value(), [](const auto& v) { return xt::sqrt(v); });
    }
    // y = √x  ⇒  ∂L/∂x = g / (2y)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        return {div(g, mul(y, scalar<T>(2)))};
    }
};

template <class T>
struct Abs {
    static constexpr const char* name = "abs";
    Tensor<T> x;
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        return unary(x.value(), [](const auto& v) { return xt::abs(v); });
    }
    // y = |x|  ⇒  ∂L/∂x = g ⊙ sign(x)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const { return {mul(g, sign(x))}; }
};

template <class T>
struct Tanh {
    static constexpr const char* name = "tanh";
    xt::xarray<T> forward(const Tensor<T>& x) {
        return unary_simd(x.value(), [](auto v) { return simd::tanh(v); });
    }
    // y = tanh x  ⇒  ∂L/∂x = g ⊙ (1 − y²)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        return {mul(g, sub(scalar<T>(1), mul(y, y)))};
    }
};

template <class T>
struct Sigmoid {
    static constexpr const char* name = "sigmoid";
    xt::xarray<T> forward(const Tensor<T>& x) {
        // NOTE: σ(x) = 1/(1+e^−x) for x ≥ 0 and e^x/(1+e^x) otherwise, so the exponential
        // never overflows and tiny outputs keep their precision (simd::stable_sigmoid).
        return unary_simd(x.value(), [](auto v) { return simd::stable_sigmoid(v); });
    }
    // y = σ(x)  ⇒  ∂L/∂x = g ⊙ y ⊙ (1 − y)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        return {mul(g, mul(y, sub(scalar<T>(1), y)))};
    }
};

template <class T>
struct Relu {
    static constexpr const char* name = "relu";
    Tensor<T> x;
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        return unary(x.value(), [](const auto& v) { return xt::maximum(v, T(0)); });
    }
    // y = max(x, 0)  ⇒  ∂L/∂x = g ⊙ [x > 0]
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        xt::xarray<T> mask = xt::xarray<T>::from_shape(x.shape());
        const T* xv = x.value().data();
        T* m = mask.data();
        for (std::size_t i = 0; i < mask.size(); ++i)
            m[i] = xv[i] > T(0) ? T(1) : T(0);
        return {mul(g, Tensor<T>(std::move(mask)))};
    }
    // The same in one pass, without the mask (Note [fast VJP]). NOTE: where x ≤ 0 the result is
    // 0 even for a NaN g, as PyTorch's threshold_backward.
    Grads<T, 1> fast_vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const T* xv = x.value().data();
        const T* gv = g.value().data();
        xt::xarray<T> d = xt::xarray<T>::from_shape(x.shape());
        T* dv = d.data();
        for (std::size_t i = 0; i < d.size(); ++i)
            dv[i] = xv[i] > T(0) ? gv[i] : T(0);
        return {Tensor<T>(std::move(d))};
    }
};

template <class T>
struct LeakyRelu {
    static constexpr const char* name = "leaky_relu";
    T slope;
    Tensor<T> x;
    std::string attributes() const { return fmt::format("slope={}", slope); }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        const T s = slope;
        return unary(x.value(), [s](const auto& v) { return xt::where(v > T(0), v, s * v); });
    }
    // y = x or slope·x  ⇒  ∂L/∂x = g ⊙ (x > 0 ? 1 : slope)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {mul(g, Tensor<T>(xt::xarray<T>(xt::where(x.value() > T(0), T(1), slope))))};
    }
};

template <class T>
struct Elu {
    static constexpr const char* name = "elu";
    T alpha;
    Tensor<T> x;
    std::string attributes() const { return fmt::format("alpha={}", alpha); }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        const T a = alpha;
        return unary_simd(x.value(), [a](auto v) {
            using B = decltype(v);
            return xsimd::select(v > B(0), v, B(a) * (simd::exp(v) - B(1)));
        });
    }
    // y = x or α(eˣ − 1)  ⇒  ∂L/∂x = g ⊙ (x > 0 ? 1 : y + α)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        auto pos = constant<T>(x.value() > T(0));
        auto negative = constant<T>(x.value() <= T(0));
        return {mul(g, add(pos, mul(negative, add(y, scalar<T>(alpha)))))};
    }
};

template <class T>
struct Softplus {
    static constexpr const char* name = "softplus";
    Tensor<T> x;
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        // NOTE: log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), finite for every x.
        return unary_simd(x.value(), [](auto v) {
            using B = decltype(v);
            return xsimd::max(v, B(0)) + simd::log1p(simd::exp(-xsimd::abs(v)));
        });
    }
    // y = log(1 + eˣ)  ⇒  ∂L/∂x = g ⊙ σ(x)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const { return {mul(g, sigmoid(x))}; }
};

template <class T>
struct Erf {
    static constexpr const char* name = "erf";
    Tensor<T> x;
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        xt::xarray<T> y = xt::xarray<T>::from_shape(x.shape());
        const T* xv = x.value().data();
        T* yv = y.data();
        for (std::size_t i = 0; i < y.size(); ++i)
            yv[i] = std::erf(xv[i]);
        return y;
    }
    // y = erf(x)  ⇒  ∂L/∂x = g ⊙ (2/√π)·e^(−x²)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const T two_over_sqrt_pi = T(1.1283791670955126);  // 2/√π
        return {mul(g, mul(exp(neg(mul(x, x))), scalar<T>(two_over_sqrt_pi)))};
    }
};

template <class T>
struct Clamp {
    static constexpr const char* name = "clamp";
    T lo, hi;
    Tensor<T> x;
    std::string attributes() const { return fmt::format("lo={}, hi={}", lo, hi); }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        if (!(lo <= hi)) {
            throw ValueError(fmt::format("clamp: expected lo <= hi; got lo={}, hi={}", lo, hi));
        }
        x = x_in;
        const T l = lo, h = hi;
        return unary(x.value(), [l, h](const auto& v) { return xt::clip(v, l, h); });
    }
    // y = clamp(x, lo, hi)  ⇒  ∂L/∂x = g ⊙ [lo ≤ x ≤ hi]
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {mul(g, constant<T>(x.value() >= lo && x.value() <= hi))};
    }
};

// maximum and minimum share one struct: `sense` is +1 for max, −1 for min.
template <class T, int sense>
struct Extremum {
    static constexpr const char* name = sense > 0 ? "maximum" : "minimum";
    Tensor<T> a, b;

    xt::xarray<T> forward(const Tensor<T>& a_in, const Tensor<T>& b_in) {
        a = a_in;
        b = b_in;
        return broadcast_binary<T>(name, a.value(), b.value(), [](T x, T y) {
            if constexpr (sense > 0) {
                return std::max(x, y);
            } else {
                return std::min(x, y);
            }
        });
    }
    // y = max(a, b)  ⇒  ∂L/∂a = sum_to(g ⊙ ([a > b] + ½[a = b])), b likewise
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const auto& x = a.value();
        const auto& y = b.value();
        auto wins = [&](const auto& p, const auto& q) {
            if constexpr (sense > 0) {
                return constant<T>(xt::cast<T>(p > q) + T(0.5) * xt::cast<T>(xt::equal(p, q)));
            } else {
                return constant<T>(xt::cast<T>(p < q) + T(0.5) * xt::cast<T>(xt::equal(p, q)));
            }
        };
        return {if_needed(a, [&] { return sum_to(mul(g, wins(x, y)), a.shape()); }),
                if_needed(b, [&] { return sum_to(mul(g, wins(y, x)), b.shape()); })};
    }
};

template <class T>
struct Where {
    static constexpr const char* name = "where";
    Tensor<T> cond, a, b;

    xt::xarray<T> forward(const Tensor<T>& c_in, const Tensor<T>& a_in, const Tensor<T>& b_in) {
        try {  // one message naming all three shapes, whichever pair fails
            broadcast_shapes(name, c_in.shape(),
                             broadcast_shapes(name, a_in.shape(), b_in.shape()));
        } catch (const ShapeError&) {
            throw ShapeError(fmt::format("where: shapes do not broadcast; got cond={}, a={}, b={}",
                                         shape_str(c_in.shape()), shape_str(a_in.shape()),
                                         shape_str(b_in.shape())));
        }
        cond = c_in;
        a = a_in;
        b = b_in;
        return xt::where(xt::not_equal(cond.value(), T(0)), a.value(), b.value());
    }
    // y = c ? a : b  ⇒  ∂L/∂a = sum_to(g ⊙ [c]),  ∂L/∂b = sum_to(g ⊙ [¬c]),  none for c
    Grads<T, 3> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const auto& c = cond.value();
        return {
            Tensor<T>(),
            if_needed(
                a, [&] { return sum_to(mul(g, constant<T>(xt::not_equal(c, T(0)))), a.shape()); }),
            if_needed(b,
                      [&] { return sum_to(mul(g, constant<T>(xt::equal(c, T(0)))), b.shape()); })};
    }
};

template <class T, class F>
Tensor<T> compare(const char* name, const Tensor<T>& a, const Tensor<T>& b, F f) {
    return Tensor<T>(broadcast_binary<T>(name, a.value(), b.value(),
                                         [&](T x, T y) { return static_cast<T>(f(x, y)); }));
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
    return record(ops::Add<T>{}, a, b);
}
template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
    return record(ops::Sub<T>{}, a, b);
}
template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
    return record(ops::Mul<T>{}, a, b);
}
template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
    return record(ops::Div<T>{}, a, b);
}
template <class T>
Tensor<T> neg(const Tensor<T>& x) {
    return record(ops::Neg<T>{}, x);
}
template <class T>
Tensor<T> pow(const Tensor<T>& x, T p) {
    return record(ops::PowScalar<T>{p, {}}, x);
}
template <class T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b) {
    return record(ops::Pow<T>{}, a, b);
}
template <class T>
Tensor<T> exp(const Tensor<T>& x) {
    return record(ops::Exp<T>{}, x);
}
template <class T>
Tensor<T> log(const Tensor<T>& x) {
    return record(ops::Log<T>{}, x);
}
template <class T>
Tensor<T> sqrt(const Tensor<T>& x) {
    return record(ops::Sqrt<T>{}, x);
}
template <class T>
Tensor<T> abs(const Tensor<T>& x) {
    return record(ops::Abs<T>{}, x);
}
template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
    return record(ops::Tanh<T>{}, x);
}
template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
    return record(ops::Sigmoid<T>{}, x);
}
template <class T>
Tensor<T> relu(const Tensor<T>& x) {
    return record(ops::Relu<T>{}, x);
}
template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, T slope) {
    return record(ops::LeakyRelu<T>{slope, {}}, x);
}
template <class T>
Tensor<T> elu(const Tensor<T>& x, T alpha) {
    return record(ops::Elu<T>{alpha, {}}, x);
}
template <class T>
Tensor<T> softplus(const Tensor<T>& x) {
    return record(ops::Softplus<T>{}, x);
}
template <class T>
Tensor<T> erf(const Tensor<T>& x) {
    return record(ops::Erf<T>{}, x);
}
template <class T>
Tensor<T> gelu(const Tensor<T>& x, const std::string& approximate) {
    if (approximate == "none") {
        const T inv_sqrt2 = T(0.70710678118654752);  // 1/√2
        return mul(mul(x, scalar<T>(T(0.5))), add(scalar<T>(1), erf(mul(x, scalar(inv_sqrt2)))));
    }
    if (approximate == "tanh") {
        const T sqrt_2_over_pi = T(0.79788456080286536);  // √(2/π)
        const Tensor<T> inner =
            mul(add(x, mul(pow(x, T(3)), scalar<T>(T(0.044715)))), scalar(sqrt_2_over_pi));
        return mul(mul(x, scalar<T>(T(0.5))), add(scalar<T>(1), tanh(inner)));
    }
    throw ValueError(
        fmt::format("gelu: approximate must be \"none\" or \"tanh\"; got \"{}\"", approximate));
}
template <class T>
Tensor<T> silu(const Tensor<T>& x) {
    return mul(x, sigmoid(x));
}
template <class T>
Tensor<T> selu(const Tensor<T>& x) {
    const T alpha = T(1.6732632423543772848170429916717);
    const T scale = T(1.0507009873554804934193349852946);
    return mul(elu(x, alpha), scalar(scale));
}
template <class T>
Tensor<T> prelu(const Tensor<T>& x, const Tensor<T>& weight) {
    const bool single = weight.size() == 1 && weight.dim() <= 1;
    const bool per_channel = weight.dim() == 1 && x.dim() >= 2 && weight.shape()[0] == x.shape()[1];
    if (!single && !per_channel) {
        throw ShapeError(fmt::format(
            "prelu: weight must hold one slope or one per channel (x.shape[1]); got x={}, "
            "weight={}",
            shape_str(x.shape()), shape_str(weight.shape())));
    }
    // [C, 1, ..., 1]: the slopes along axis 1 of x; a single slope as a scalar
    std::vector<std::ptrdiff_t> w_shape;
    if (!single) {
        w_shape.assign(x.dim() - 1, 1);
        w_shape[0] = static_cast<std::ptrdiff_t>(weight.shape()[0]);
    }
    const Tensor<T> w = reshape(weight, w_shape);
    return sub(relu(x), mul(w, relu(neg(x))));  // max(x, 0) + w·min(x, 0)
}
template <class T>
Tensor<T> clamp(const Tensor<T>& x, T lo, T hi) {
    return record(ops::Clamp<T>{lo, hi, {}}, x);
}
template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
    return record(ops::Extremum<T, 1>{}, a, b);
}
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
    return record(ops::Extremum<T, -1>{}, a, b);
}
template <class T>
Tensor<T> where(const Tensor<T>& c, const Tensor<T>& a, const Tensor<T>& b) {
    return record(ops::Where<T>{}, c, a, b);
}

template <class T>
Tensor<T> sign(const Tensor<T>& x) {
    return Tensor<T>(xt::xarray<T>(xt::sign(x.value())));
}
template <class T>
Tensor<T> eq(const Tensor<T>& a, const Tensor<T>& b) {
    return ops::compare("eq", a, b, [](T x, T y) { return x == y; });
}
template <class T>
Tensor<T> ne(const Tensor<T>& a, const Tensor<T>& b) {
    return ops::compare("ne", a, b, [](T x, T y) { return x != y; });
}
template <class T>
Tensor<T> lt(const Tensor<T>& a, const Tensor<T>& b) {
    return ops::compare("lt", a, b, [](const auto& x, const auto& y) { return x < y; });
}
template <class T>
Tensor<T> le(const Tensor<T>& a, const Tensor<T>& b) {
    return ops::compare("le", a, b, [](const auto& x, const auto& y) { return x <= y; });
}
template <class T>
Tensor<T> gt(const Tensor<T>& a, const Tensor<T>& b) {
    return ops::compare("gt", a, b, [](const auto& x, const auto& y) { return x > y; });
}
template <class T>
Tensor<T> ge(const Tensor<T>& a, const Tensor<T>& b) {
    return ops::compare("ge", a, b, [](const auto& x, const auto& y) { return x >= y; });
}

#define XGRAD_INSTANTIATE(T)                                                        \
    template Tensor<T> add(const Tensor<T>&, const Tensor<T>&);                     \
    template Tensor<T> sub(const Tensor<T>&, const Tensor<T>&);                     \
    template Tensor<T> mul(const Tensor<T>&, const Tensor<T>&);                     \
    template Tensor<T> div(const Tensor<T>&, const Tensor<T>&);                     \
    template Tensor<T> neg(const Tensor<T>&);                                       \
    template Tensor<T> pow(const Tensor<T>&, T);                                    \
    template Tensor<T> pow(const Tensor<T>&, const Tensor<T>&);                     \
    template Tensor<T> exp(const Tensor<T>&);                                       \
    template Tensor<T> log(const Tensor<T>&);                                       \
    template Tensor<T> sqrt(const Tensor<T>&);                                      \
    template Tensor<T> abs(const Tensor<T>&);                                       \
    template Tensor<T> tanh(const Tensor<T>&);                                      \
    template Tensor<T> sigmoid(const Tensor<T>&);                                   \
    template Tensor<T> relu(const Tensor<T>&);                                      \
    template Tensor<T> leaky_relu(const Tensor<T>&, T);                             \
    template Tensor<T> elu(const Tensor<T>&, T);                                    \
    template Tensor<T> softplus(const Tensor<T>&);                                  \
    template Tensor<T> clamp(const Tensor<T>&, T, T);                               \
    template Tensor<T> erf(const Tensor<T>&);                                       \
    template Tensor<T> gelu(const Tensor<T>&, const std::string&);                  \
    template Tensor<T> silu(const Tensor<T>&);                                      \
    template Tensor<T> selu(const Tensor<T>&);                                      \
    template Tensor<T> prelu(const Tensor<T>&, const Tensor<T>&);                   \
    template Tensor<T> maximum(const Tensor<T>&, const Tensor<T>&);                 \
    template Tensor<T> minimum(const Tensor<T>&, const Tensor<T>&);                 \
    template Tensor<T> where(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&); \
    template Tensor<T> sign(const Tensor<T>&);                                      \
    template Tensor<T> eq(const Tensor<T>&, const Tensor<T>&);                      \
    template Tensor<T> ne(const Tensor<T>&, const Tensor<T>&);                      \
    template Tensor<T> lt(const Tensor<T>&, const Tensor<T>&);                      \
    template Tensor<T> le(const Tensor<T>&, const Tensor<T>&);                      \
    template Tensor<T> gt(const Tensor<T>&, const Tensor<T>&);                      \
    template Tensor<T> ge(const Tensor<T>&, const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
