#include "autograd/ops/softmax.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/simd_math.hpp"

#include <fmt/format.h>

#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xreducer.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace xgrad {
namespace ops {
namespace {

using kernels::AxisSplit;
using kernels::split_at;

// Writes x − max into y, the max taken along the axis of each slice.
// NOTE: the max shift makes every exponent ≤ 0, so exp never overflows (softmax of [1000, 0]
// is [1, e^−1000]); a slice holding +inf or only −inf gives NaN, as in PyTorch.
template <class T>
void shift_by_max(const T* x, T* y, const AxisSplit& s) {
    std::vector<T> m(s.inner);
    for (std::size_t o = 0; o < s.outer; ++o) {
        const T* xo = x + o * s.n * s.inner;
        T* yo = y + o * s.n * s.inner;
        std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
        for (std::size_t j = 0; j < s.n; ++j) {
            for (std::size_t i = 0; i < s.inner; ++i) {
                m[i] = std::max(m[i], xo[j * s.inner + i]);
            }
        }
        for (std::size_t j = 0; j < s.n; ++j) {
            for (std::size_t i = 0; i < s.inner; ++i) {
                yo[j * s.inner + i] = xo[j * s.inner + i] - m[i];
            }
        }
    }
}

// Sums e along the axis of each slice, maps the sum through `prep`, then rewrites each value v
// of that slice of y as apply(v, prep(sum)). e and y may be the same buffer.
template <class T, class Prep, class Apply>
void normalize_slices(const T* e, T* y, const AxisSplit& s, Prep prep, Apply apply) {
    std::vector<T> total(s.inner);
    for (std::size_t o = 0; o < s.outer; ++o) {
        const T* eo = e + o * s.n * s.inner;
        T* yo = y + o * s.n * s.inner;
        std::fill(total.begin(), total.end(), T(0));
        for (std::size_t j = 0; j < s.n; ++j) {
            for (std::size_t i = 0; i < s.inner; ++i) {
                total[i] += eo[j * s.inner + i];
            }
        }
        for (auto& t : total) {
            t = prep(t);
        }
        for (std::size_t j = 0; j < s.n; ++j) {
            for (std::size_t i = 0; i < s.inner; ++i) {
                yo[j * s.inner + i] = apply(yo[j * s.inner + i], total[i]);
            }
        }
    }
}

// e^x into e (may be x): each value by the batch function (Note [one formula per value]).
template <class T>
void exp_values(const xt::xarray<T>& x, xt::xarray<T>& e) {
    simd::map(x.data(), e.data(), x.size(), [](auto v) { return simd::exp(v); });
}

// x − max along the axis of each slice (see shift_by_max), as a new array.
template <class T>
xt::xarray<T> minus_max(const Tensor<T>& x, const AxisSplit& s) {
    xt::xarray<T> y = xt::xarray<T>::from_shape(x.shape());
    shift_by_max(x.value().data(), y.data(), s);
    return y;
}

template <class T>
struct Softmax {
    static constexpr const char* name = "softmax";
    std::size_t axis;

    std::string attributes() const { return fmt::format("axis={}", axis); }
    xt::xarray<T> forward(const Tensor<T>& x) {
        const AxisSplit s = split_at(x.shape(), axis);
        xt::xarray<T> y = minus_max(x, s);
        exp_values(y, y);
        normalize_slices(
            y.data(), y.data(), s, [](T t) { return T(1) / t; },
            [](T v, T inv) { return v * inv; });
        return y;
    }
    // y = softmax(x)  ⇒  ∂L/∂x = y ⊙ (g − Σ_axis(g ⊙ y))
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        const Axes ax{static_cast<std::ptrdiff_t>(axis)};
        return {mul(y, sub(g, sum(mul(g, y), ax, true)))};
    }
};

template <class T>
struct LogSoftmax {
    static constexpr const char* name = "log_softmax";
    std::size_t axis;

    std::string attributes() const { return fmt::format("axis={}", axis); }
    xt::xarray<T> forward(const Tensor<T>& x) {
        const AxisSplit s = split_at(x.shape(), axis);
        xt::xarray<T> y = minus_max(x, s);
        xt::xarray<T> e = xt::xarray<T>::from_shape(x.shape());
        exp_values(y, e);
        normalize_slices(
            e.data(), y.data(), s, [](T t) { return std::log(t); },
            [](T v, T log_total) { return v - log_total; });
        return y;
    }
    // y = log softmax(x)  ⇒  ∂L/∂x = g − e^y ⊙ Σ_axis g
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        const Axes ax{static_cast<std::ptrdiff_t>(axis)};
        return {sub(g, mul(exp(y), sum(g, ax, true)))};
    }
};

template <class T>
struct LogSumExp {
    static constexpr const char* name = "logsumexp";
    std::vector<std::size_t> axes;
    bool keepdims;
    Tensor<T> x;  // the VJP reads x (softmax = e^(x − y))
    Shape kept;   // x's shape with the reduced axes set to 1

    std::string attributes() const {
        return fmt::format("axes=[{}], keepdims={}", fmt::join(axes, ", "), keepdims);
    }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        kept = x.shape();
        for (auto a : axes) {
            kept[a] = 1;
        }
        Shape out;
        for (std::size_t i = 0; i < kept.size(); ++i) {
            if (keepdims || !std::binary_search(axes.begin(), axes.end(), i)) {
                out.push_back(kept[i]);
            }
        }
        if (axes.empty()) return x.value();  // a 0-d x: log e^x = x
        xt::xarray<T> y = xt::xarray<T>::from_shape(kept);
        if (x.size() == 0) {  // xtensor's reducers cannot take empty input; Σ over nothing = 0
            y.fill(-std::numeric_limits<T>::infinity());
            y.reshape(out);
            return y;
        }
        xt::xarray<T> m = xt::amax(x.value(), axes, xt::evaluation_strategy::immediate);
        m.reshape(kept);
        // NOTE: an infinite max is replaced by 0, so a slice of only −inf gives −inf (not NaN)
        // and one holding +inf gives +inf, as in PyTorch.
        for (auto& v : m) {
            v = std::isfinite(v) ? v : T(0);
        }
        xt::xarray<T> e = xt::xarray<T>::from_shape(x.shape());
        xt::noalias(e) = x.value() - m;
        exp_values(e, e);
        xt::xarray<T> total = xt::sum(e, axes, xt::evaluation_strategy::immediate);
        total.reshape(kept);
        simd::map(total.data(), total.data(), total.size(), [](auto v) { return simd::log(v); });
        xt::noalias(y) = total + m;
        y.reshape(out);
        return y;
    }
    // y = log Σ_axes e^x  ⇒  ∂L/∂x = g ⊙ e^(x − y) = g ⊙ softmax(x), g and y with the axes kept
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        const auto k = signed_shape(kept);
        return {mul(reshape(g, k), exp(sub(x, reshape(y, k))))};
    }
};

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> softmax(const Tensor<T>& x, std::ptrdiff_t axis) {
    return record(ops::Softmax<T>{normalize_axis("softmax", axis, x.shape())}, x);
}

template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, std::ptrdiff_t axis) {
    return record(ops::LogSoftmax<T>{normalize_axis("log_softmax", axis, x.shape())}, x);
}

template <class T>
Tensor<T> logsumexp(const Tensor<T>& x, const Axes& axes, bool keepdims) {
    return record(ops::LogSumExp<T>{normalize_axes("logsumexp", axes, x.shape()), keepdims, {}, {}},
                  x);
}

#define XGRAD_INSTANTIATE(T)                                          \
    template Tensor<T> softmax(const Tensor<T>&, std::ptrdiff_t);     \
    template Tensor<T> log_softmax(const Tensor<T>&, std::ptrdiff_t); \
    template Tensor<T> logsumexp(const Tensor<T>&, const Axes&, bool);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
