#include "autograd/ops/norm.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/random.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace xgrad {
namespace ops {
namespace {

// x [n, c, ...] read as [n, c, s]: s contiguous elements per (sample, channel).
struct ChannelLayout {
    std::size_t n, c, s;
    explicit ChannelLayout(const Shape& shape) : n(shape[0]), c(shape[1]), s(1) {
        for (std::size_t i = 2; i < shape.size(); ++i)
            s *= shape[i];
    }
    std::size_t per_channel() const { return n * s; }  // m, the count behind each statistic
};

// Every axis but the channel axis 1, and the shape [1, c, 1, ...] a [c] vector broadcasts as.
Axes reduce_axes(std::size_t rank) {
    Axes axes{0};
    for (std::size_t i = 2; i < rank; ++i)
        axes.push_back(static_cast<std::ptrdiff_t>(i));
    return axes;
}
std::vector<std::ptrdiff_t> channel_shape(std::size_t rank, std::size_t c) {
    std::vector<std::ptrdiff_t> s(rank, 1);
    s[1] = static_cast<std::ptrdiff_t>(c);
    return s;
}

// Sums over one contiguous run in double, 8 independent lanes: without -ffast-math the compiler
// may not reorder a single running sum, so one accumulator would run at the latency of an add.
template <class T>
double run_sum(const T* p, std::size_t n) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        for (std::size_t k = 0; k < 8; ++k)
            lane[k] += static_cast<double>(p[j + k]);
    }
    double acc = 0;
    for (; j < n; ++j)
        acc += static_cast<double>(p[j]);
    for (double v : lane)
        acc += v;
    return acc;
}

// Σ (p − mu)²
template <class T>
double run_sum_sq(const T* p, std::size_t n, double mu) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        for (std::size_t k = 0; k < 8; ++k) {
            const double d = static_cast<double>(p[j + k]) - mu;
            lane[k] += d * d;
        }
    }
    double acc = 0;
    for (; j < n; ++j) {
        const double d = static_cast<double>(p[j]) - mu;
        acc += d * d;
    }
    for (double v : lane)
        acc += v;
    return acc;
}

// Σ g and Σ g·(x − mu) over one run.
template <class T>
void run_sum_g(const T* g, const T* x, std::size_t n, double mu, double& sum_g, double& sum_gx) {
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        for (std::size_t k = 0; k < 8; ++k) {
            const double gv = static_cast<double>(g[j + k]);
            a[k] += gv;
            b[k] += gv * (static_cast<double>(x[j + k]) - mu);
        }
    }
    for (; j < n; ++j) {
        const double gv = static_cast<double>(g[j]);
        sum_g += gv;
        sum_gx += gv * (static_cast<double>(x[j]) - mu);
    }
    for (std::size_t k = 0; k < 8; ++k) {
        sum_g += a[k];
        sum_gx += b[k];
    }
}

// Runs body(c0, c1) over all channels, channel by channel (each channel's statistics are
// independent and its n runs stay in cache between passes). NOTE: one thread on purpose: these
// passes are memory-bound, and splitting them over the batch workers measured no faster, and
// slower while fresh output pages are being faulted in (docs/convolution.md, "Speed").
template <class F>
void for_channels(const ChannelLayout& L, F body) {
    body(std::size_t(0), L.c);
}

// Per-channel mean and biased variance (two passes, double accumulators).
template <class T>
void channel_stats(const xt::xarray<T>& x, const ChannelLayout& L, std::vector<double>& mean,
                   std::vector<double>& var) {
    mean.assign(L.c, 0.0);
    var.assign(L.c, 0.0);
    const T* xd = x.data();
    const double m = static_cast<double>(L.per_channel());
    for_channels(L, [&](std::size_t c0, std::size_t c1) {
        for (std::size_t ch = c0; ch < c1; ++ch) {
            double s = 0;
            for (std::size_t i = 0; i < L.n; ++i)
                s += run_sum(xd + (i * L.c + ch) * L.s, L.s);
            mean[ch] = s / m;
            double q = 0;
            for (std::size_t i = 0; i < L.n; ++i) {
                q += run_sum_sq(xd + (i * L.c + ch) * L.s, L.s, mean[ch]);
            }
            var[ch] = q / m;
        }
    });
}

// Note [batch_norm backward]: the training-mode VJP has two implementations of one formula
// (Note [fast VJP] in autograd/tape.hpp). fast_vjp, which every training step runs, is one fused
// pass over raw buffers. vjp, which backward runs with create_graph, rebuilds the formula from
// xgrad ops — mean, sub, mul, pow — from x itself, so the gradient is differentiable in x, weight
// and g (gradient penalties, Hessian-vector products).
template <class T>
struct BatchNorm {
    static constexpr const char* name = "batch_norm";
    T eps;
    std::vector<double> mu, inv_std;  // batch statistics, per channel: μ, 1/√(σ² + eps)
    Tensor<T> x, weight;              // weight undefined without the affine part
    bool affine = false;

    std::string attributes() const { return fmt::format("training=true, eps={}", eps); }

    xt::xarray<T> forward(const std::vector<Tensor<T>>& in) {
        x = in[0];
        affine = in.size() > 1;
        if (affine) weight = in[1];
        const ChannelLayout L(x.shape());
        const T* xd = x.value().data();
        const T* wd = affine ? in[1].value().data() : nullptr;
        const T* bd = affine ? in[2].value().data() : nullptr;
        xt::xarray<T> y = xt::xarray<T>::from_shape(x.shape());
        T* yd = y.data();
        for_channels(L, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t ch = c0; ch < c1; ++ch) {
                // y = (x − μ)·scale + b, scale = w/√(σ² + eps)
                const T sc = static_cast<T>(inv_std[ch] * (wd ? static_cast<double>(wd[ch]) : 1.0));
                const T m = static_cast<T>(mu[ch]), b = bd ? bd[ch] : T(0);
                for (std::size_t i = 0; i < L.n; ++i) {
                    const std::size_t off = (i * L.c + ch) * L.s;
                    for (std::size_t j = 0; j < L.s; ++j)
                        yd[off + j] = (xd[off + j] - m) * sc + b;
                }
            }
        });
        return y;
    }

    // x̂ = (x − μ)/σ, y = w·x̂ + b  ⇒  dx = w/σ · (g − mean(g) − x̂·mean(g·x̂)),
    // dw = Σ g·x̂, db = Σ g (sums and means over every axis but 1)
    std::vector<Tensor<T>> fast_vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const ChannelLayout L(x.shape());
        const double m = static_cast<double>(L.per_channel());
        const T* xd = x.value().data();
        const T* gd = g.value().data();
        std::vector<double> sum_g(L.c, 0.0), sum_gxc(L.c, 0.0);  // Σ g, Σ g·(x − μ)
        const bool want_dx = x.requires_grad();
        const T* wd = affine ? weight.value().data() : nullptr;
        xt::xarray<T> dx;
        if (want_dx) dx = xt::xarray<T>::from_shape(x.shape());
        T* dxd = want_dx ? dx.data() : nullptr;
        // Channel by channel: its sums, then its part of dx.
        for_channels(L, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t ch = c0; ch < c1; ++ch) {
                for (std::size_t i = 0; i < L.n; ++i) {
                    const std::size_t off = (i * L.c + ch) * L.s;
                    run_sum_g(gd + off, xd + off, L.s, mu[ch], sum_g[ch], sum_gxc[ch]);
                }
                if (!want_dx) continue;
                const double is = inv_std[ch];
                const double k = is * (wd ? static_cast<double>(wd[ch]) : 1.0);
                // dx = k·(g − Σg/m − (x − μ)·is²·Σ g(x − μ)/m) = ka·g + kb·(x − μ) + kc
                const T ka = static_cast<T>(k);
                const T kb = static_cast<T>(-k * is * is * sum_gxc[ch] / m);
                const T kc = static_cast<T>(-k * sum_g[ch] / m);
                const T mc = static_cast<T>(mu[ch]);
                for (std::size_t i = 0; i < L.n; ++i) {
                    const std::size_t off = (i * L.c + ch) * L.s;
                    for (std::size_t j = 0; j < L.s; ++j) {
                        dxd[off + j] = ka * gd[off + j] + kb * (xd[off + j] - mc) + kc;
                    }
                }
            }
        });
        std::vector<Tensor<T>> out(affine ? 3 : 1);
        if (want_dx) out[0] = Tensor<T>(std::move(dx));
        if (affine) {
            xt::xarray<T> dw = xt::xarray<T>::from_shape({L.c});
            xt::xarray<T> db = xt::xarray<T>::from_shape({L.c});
            for (std::size_t ch = 0; ch < L.c; ++ch) {
                dw(ch) = static_cast<T>(sum_gxc[ch] * inv_std[ch]);
                db(ch) = static_cast<T>(sum_g[ch]);
            }
            out[1] = Tensor<T>(std::move(dw));
            out[2] = Tensor<T>(std::move(db));
        }
        return out;
    }

    // The same formula in xgrad ops, from x (Note [batch_norm backward]).
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const std::size_t rank = x.dim();
        const Axes axes = reduce_axes(rank);
        const auto cshape = channel_shape(rank, x.shape()[1]);
        const Tensor<T> xc = sub(x, mean(x, axes, true));
        const Tensor<T> var = mean(mul(xc, xc), axes, true);
        const Tensor<T> inv = pow(add(var, scalar<T>(eps)), T(-0.5));  // [1, c, 1, ...]
        const Tensor<T> xhat = mul(xc, inv);
        const Tensor<T> gw = affine ? mul(g, reshape(weight, cshape)) : g;  // ∂L/∂x̂
        std::vector<Tensor<T>> out(affine ? 3 : 1);
        out[0] = mul(
            inv, sub(sub(gw, mean(gw, axes, true)), mul(xhat, mean(mul(gw, xhat), axes, true))));
        if (affine) {
            out[1] = sum(mul(g, xhat), axes);
            out[2] = sum(g, axes);
        }
        return out;
    }
};

template <class T>
std::string operand_shapes(const Tensor<T>& x, const Tensor<T>& rm, const Tensor<T>& rv,
                           const Tensor<T>& w, const Tensor<T>& b) {
    std::string s = "x=" + shape_str(x.shape());
    if (rm.defined()) s += ", running_mean=" + shape_str(rm.shape());
    if (rv.defined()) s += ", running_var=" + shape_str(rv.shape());
    if (w.defined()) s += ", weight=" + shape_str(w.shape());
    if (b.defined()) s += ", bias=" + shape_str(b.shape());
    return s;
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, const Tensor<T>& running_mean,
                     const Tensor<T>& running_var, const Tensor<T>& weight, const Tensor<T>& bias,
                     bool training, T momentum, T eps) {
    const char* op = "batch_norm";
    const std::string names = ops::operand_shapes(x, running_mean, running_var, weight, bias);
    if (x.dim() < 2) {
        throw ShapeError(fmt::format("{}: expected x [n, c, ...] (rank >= 2); got {}", op, names));
    }
    const std::size_t c = x.shape()[1];
    auto is_channel_vector = [&](const Tensor<T>& t) {
        return !t.defined() || (t.dim() == 1 && t.shape()[0] == c);
    };
    if (!is_channel_vector(running_mean) || !is_channel_vector(running_var) ||
        !is_channel_vector(weight) || !is_channel_vector(bias)) {
        throw ShapeError(
            fmt::format("{}: running statistics, weight and bias must be [{}] (one "
                        "per channel of x); got {}",
                        op, c, names));
    }
    if (running_mean.defined() != running_var.defined() || weight.defined() != bias.defined()) {
        throw ValueError(
            fmt::format("{}: give running_mean with running_var and weight with "
                        "bias (or neither); got {}",
                        op, names));
    }
    if (!(eps > T(0))) throw ValueError(fmt::format("{}: eps must be > 0; got eps={}", op, eps));
    const ops::ChannelLayout L(x.shape());
    const std::vector<std::ptrdiff_t> cshape = ops::channel_shape(x.dim(), c);

    if (!training) {
        if (!running_mean.defined()) {
            throw ValueError(
                fmt::format("{}: evaluation (training=false) needs running_mean and "
                            "running_var; got {}",
                            op, names));
        }
        // y = x·scale + shift, scale = w/√(r_var + eps), shift = b − r_mean·scale: an affine
        // map of x with the running statistics as constants.
        xt::xarray<T> inv = xt::xarray<T>::from_shape({c});
        for (std::size_t ch = 0; ch < c; ++ch) {
            inv(ch) = T(1) / std::sqrt(running_var.value()(ch) + eps);
        }
        const Tensor<T> rm(running_mean.value());
        Tensor<T> scale(std::move(inv));
        if (weight.defined()) scale = mul(weight, scale);
        Tensor<T> shift = neg(mul(rm, scale));
        if (bias.defined()) shift = add(bias, shift);
        return add(mul(x, reshape(scale, cshape)), reshape(shift, cshape));
    }

    if (L.per_channel() <= 1) {
        throw ValueError(
            fmt::format("{}: training needs more than one value per channel to "
                        "estimate a variance; got {}",
                        op, names));
    }
    ops::BatchNorm<T> bn{eps, {}, {}, {}, {}, false};
    std::vector<double> var;
    ops::channel_stats(x.value(), L, bn.mu, var);
    bn.inv_std.resize(c);
    for (std::size_t ch = 0; ch < c; ++ch)
        bn.inv_std[ch] = 1.0 / std::sqrt(var[ch] + double(eps));
    if (running_mean.defined()) {
        const double m = static_cast<double>(L.per_channel());
        auto& rm = running_mean.mutable_value();
        auto& rv = running_var.mutable_value();
        for (std::size_t ch = 0; ch < c; ++ch) {
            rm(ch) = static_cast<T>((1 - double(momentum)) * rm(ch) + double(momentum) * bn.mu[ch]);
            rv(ch) = static_cast<T>((1 - double(momentum)) * rv(ch) +
                                    double(momentum) * var[ch] * m / (m - 1));
        }
    }
    std::vector<Tensor<T>> inputs{x};
    if (weight.defined()) {
        inputs.push_back(weight);
        inputs.push_back(bias);
    }
    return record_list(std::move(bn), inputs);
}

#define XGRAD_INSTANTIATE(T)                                                            \
    template Tensor<T> batch_norm(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
                                  const Tensor<T>&, const Tensor<T>&, bool, T, T);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
