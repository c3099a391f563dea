#include "autograd/ops/norm.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/random.hpp"

#include <fmt/format.h>

#include <algorithm>
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

// Σ ĝ and Σ ĝ·(x − mu) over one run, ĝ_j = ghat(j) (g, or g·w for layer_norm's weight).
template <class T, class G>
void run_sum_ghat(G ghat, const T* x, std::size_t n, double mu, double& sum_g, double& sum_gx) {
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        for (std::size_t k = 0; k < 8; ++k) {
            const double gv = ghat(j + k);
            a[k] += gv;
            b[k] += gv * (static_cast<double>(x[j + k]) - mu);
        }
    }
    for (; j < n; ++j) {
        const double gv = ghat(j);
        sum_g += gv;
        sum_gx += gv * (static_cast<double>(x[j]) - mu);
    }
    for (std::size_t k = 0; k < 8; ++k) {
        sum_g += a[k];
        sum_gx += b[k];
    }
}

// Σ g and Σ g·(x − mu) over one run.
template <class T>
void run_sum_g(const T* g, const T* x, std::size_t n, double mu, double& sum_g, double& sum_gx) {
    run_sum_ghat([g](std::size_t j) { return static_cast<double>(g[j]); }, x, n, mu, sum_g, sum_gx);
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

// x̂ = (x − mean(x))/√(var(x) + eps) over `axes` (kept, σ² biased) as xgrad ops, with
// inv = 1/√(σ² + eps): the composed VJPs of batch_norm and layer_norm rebuild it from x.
template <class T>
struct Standardized {
    Tensor<T> inv, xhat;
};
template <class T>
Standardized<T> standardize(const Tensor<T>& x, const Axes& axes, T eps) {
    const Tensor<T> xc = sub(x, mean(x, axes, true));
    const Tensor<T> var = mean(mul(xc, xc), axes, true);
    const Tensor<T> inv = pow(add(var, scalar<T>(eps)), T(-0.5));
    return {inv, mul(xc, inv)};
}
// ∂L/∂x = inv·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) from ĝ = ∂L/∂x̂, means over `axes`.
template <class T>
Tensor<T> standardize_vjp(const Tensor<T>& ghat, const Standardized<T>& s, const Axes& axes) {
    return mul(s.inv, sub(sub(ghat, mean(ghat, axes, true)),
                          mul(s.xhat, mean(mul(ghat, s.xhat), axes, true))));
}

// Note [batch_norm backward]: the training-mode VJP has two implementations of one formula
// (Note [fast VJP] in autograd/tape.hpp). fast_vjp, which every training step runs, is one fused
// pass over raw buffers. vjp, which backward runs with create_graph, rebuilds the formula from
// xgrad ops — mean, sub, mul, pow — from x itself, so the gradient is differentiable in x, weight
// and g (gradient penalties, Hessian-vector products). layer_norm is the same normalisation over
// other axes (each sample's last k axes instead of each channel's batch) and does the same; the
// two composed VJPs share standardize and standardize_vjp.
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
        const Standardized<T> s = standardize(x, axes, eps);                // inv [1, c, 1, ...]
        const Tensor<T> gw = affine ? mul(g, reshape(weight, cshape)) : g;  // ∂L/∂x̂
        std::vector<Tensor<T>> out(affine ? 3 : 1);
        out[0] = standardize_vjp(gw, s, axes);
        if (affine) {
            out[1] = sum(mul(g, s.xhat), axes);
            out[2] = sum(g, axes);
        }
        return out;
    }
};

// x [..., normalized_shape...] read as [m, s]: m slices of s contiguous values, each
// normalised on its own (layer_norm over the last k axes).
struct SliceLayout {
    std::size_t m = 1, s = 1;
    SliceLayout(const Shape& shape, std::size_t k) {
        for (std::size_t i = 0; i < shape.size(); ++i) {
            if (i + k < shape.size()) {
                m *= shape[i];
            } else {
                s *= shape[i];
            }
        }
    }
};

// The last k axes {−k, ..., −1}.
Axes trailing_axes(std::size_t k) {
    Axes axes;
    for (std::size_t i = k; i > 0; --i)
        axes.push_back(-static_cast<std::ptrdiff_t>(i));
    return axes;
}

// layer_norm: the statistics of each slice come from forward; the VJP has the two forms of
// Note [batch_norm backward]. Inputs: x, then weight and bias when given.
template <class T>
struct LayerNorm {
    static constexpr const char* name = "layer_norm";
    Shape normalized;  // the last k axes of x
    T eps;
    bool has_weight, has_bias;
    std::vector<double> mu, inv_std;  // per slice: μ, 1/√(σ² + eps)
    Tensor<T> x, weight;              // weight undefined without a scale

    std::string attributes() const {
        return fmt::format("normalized_shape={}, eps={}", shape_str(normalized), eps);
    }

    xt::xarray<T> forward(const std::vector<Tensor<T>>& in) {
        x = in[0];
        if (has_weight) weight = in[1];
        const SliceLayout L(x.shape(), normalized.size());
        // NOTE: a missing weight or bias reads as ones or zeros, so that the loop below has no
        // branch: GCC 12 turned `if (w) v *= w[j]` into masked loads through the stack, 7× slower
        // (x [2048, 256] float).
        const std::vector<T> ones(has_weight ? 0 : L.s, T(1)), zeros(has_bias ? 0 : L.s, T(0));
        const T* wd = has_weight ? in[1].value().data() : ones.data();
        const T* bd = has_bias ? in.back().value().data() : zeros.data();
        mu.resize(L.m);
        inv_std.resize(L.m);
        const T* xd = x.value().data();
        xt::xarray<T> y = xt::xarray<T>::from_shape(x.shape());
        for (std::size_t r = 0; r < L.m; ++r) {
            const T* xr = xd + r * L.s;
            mu[r] = run_sum(xr, L.s) / double(L.s);
            inv_std[r] = 1.0 / std::sqrt(run_sum_sq(xr, L.s, mu[r]) / double(L.s) + double(eps));
            // y = (x − μ)·inv·w + b
            const T m = static_cast<T>(mu[r]), is = static_cast<T>(inv_std[r]);
            T* yr = y.data() + r * L.s;
            for (std::size_t j = 0; j < L.s; ++j)
                yr[j] = (xr[j] - m) * is * wd[j] + bd[j];
        }
        return y;
    }

    // x̂ = (x − μ)·inv, y = w·x̂ + b  ⇒  dx = inv·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w,
    // dw = Σ g·x̂, db = Σ g (means over each slice, sums over the slices)
    std::vector<Tensor<T>> fast_vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const SliceLayout L(x.shape(), normalized.size());
        const double s = static_cast<double>(L.s);
        const T* xd = x.value().data();
        const T* gd = g.value().data();
        const std::vector<T> ones(has_weight ? 0 : L.s, T(1));  // see the NOTE in forward
        const T* wd = has_weight ? weight.value().data() : ones.data();
        const bool want_dx = x.requires_grad();
        xt::xarray<T> dx;
        if (want_dx) dx = xt::xarray<T>::from_shape(x.shape());
        std::vector<double> dw(has_weight ? L.s : 0, 0.0), db(has_bias ? L.s : 0, 0.0);
        // Slice by slice: its sums, its part of dx, its terms of dw and db.
        for (std::size_t r = 0; r < L.m; ++r) {
            const T* xr = xd + r * L.s;
            const T* gr = gd + r * L.s;
            const double is = inv_std[r];
            if (want_dx) {
                double sum_g = 0, sum_gx = 0;  // Σ ĝ, Σ ĝ·(x − μ)
                auto ghat = [gr, wd](std::size_t j) {
                    return static_cast<double>(gr[j]) * static_cast<double>(wd[j]);
                };
                run_sum_ghat(ghat, xr, L.s, mu[r], sum_g, sum_gx);
                // dx = is·(ĝ − Σĝ/s − (x − μ)·is²·Σ ĝ(x − μ)/s) = ka·ĝ + kb·(x − μ) + kc
                const T ka = static_cast<T>(is);
                const T kb = static_cast<T>(-is * is * is * sum_gx / s);
                const T kc = static_cast<T>(-is * sum_g / s);
                const T mc = static_cast<T>(mu[r]);
                T* dxr = dx.data() + r * L.s;
                for (std::size_t j = 0; j < L.s; ++j)
                    dxr[j] = ka * (gr[j] * wd[j]) + kb * (xr[j] - mc) + kc;
            }
            for (std::size_t j = 0; j < dw.size(); ++j)
                dw[j] += static_cast<double>(gr[j]) * (static_cast<double>(xr[j]) - mu[r]) * is;
            for (std::size_t j = 0; j < db.size(); ++j)
                db[j] += static_cast<double>(gr[j]);
        }
        auto as_tensor = [this](const std::vector<double>& v) {
            xt::xarray<T> a = xt::xarray<T>::from_shape(normalized);
            std::copy(v.begin(), v.end(), a.begin());
            return Tensor<T>(std::move(a));
        };
        std::vector<Tensor<T>> out(1 + has_weight + has_bias);
        if (want_dx) out[0] = Tensor<T>(std::move(dx));
        if (has_weight) out[1] = as_tensor(dw);
        if (has_bias) out.back() = as_tensor(db);
        return out;
    }

    // The same formula in xgrad ops, from x (Note [batch_norm backward]); weight broadcasts
    // over the leading axes as it does in y = w·x̂ + b.
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const Axes axes = trailing_axes(normalized.size());
        const Standardized<T> s = standardize(x, axes, eps);
        const Tensor<T> gw = has_weight ? mul(g, weight) : g;  // ∂L/∂x̂
        std::vector<Tensor<T>> out(1 + has_weight + has_bias);
        out[0] = standardize_vjp(gw, s, axes);
        if (has_weight) out[1] = sum_to(mul(g, s.xhat), normalized);
        if (has_bias) out.back() = sum_to(g, normalized);
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

template <class T>
Tensor<T> layer_norm(const Tensor<T>& x, const Shape& normalized_shape, const Tensor<T>& weight,
                     const Tensor<T>& bias, T eps) {
    const char* op = "layer_norm";
    const std::string names =
        fmt::format("normalized_shape={}, {}", shape_str(normalized_shape),
                    ops::operand_shapes(x, Tensor<T>(), Tensor<T>(), weight, bias));
    const std::size_t k = normalized_shape.size();
    if (k == 0 || k > x.dim() ||
        !std::equal(normalized_shape.begin(), normalized_shape.end(), x.shape().end() - k)) {
        throw ShapeError(fmt::format(
            "{}: normalized_shape must be the last axes of x (at least one); got {}", op, names));
    }
    auto fits = [&](const Tensor<T>& t) { return !t.defined() || t.shape() == normalized_shape; };
    if (!fits(weight) || !fits(bias)) {
        throw ShapeError(fmt::format("{}: weight and bias must have normalized_shape {}; got {}",
                                     op, shape_str(normalized_shape), names));
    }
    if (!(eps > T(0))) throw ValueError(fmt::format("{}: eps must be > 0; got eps={}", op, eps));
    std::vector<Tensor<T>> inputs{x};
    if (weight.defined()) inputs.push_back(weight);
    if (bias.defined()) inputs.push_back(bias);
    return record_list(
        ops::LayerNorm<T>{normalized_shape, eps, weight.defined(), bias.defined(), {}, {}, {}, {}},
        inputs);
}

#define XGRAD_INSTANTIATE(T)                                                            \
    template Tensor<T> batch_norm(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
                                  const Tensor<T>&, const Tensor<T>&, bool, T, T);      \
    template Tensor<T> layer_norm(const Tensor<T>&, const Shape&, const Tensor<T>&,     \
                                  const Tensor<T>&, T);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
