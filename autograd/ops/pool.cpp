#include "autograd/ops/pool.hpp"

#include "autograd/ops/reduce.hpp"
#include "autograd/ops/window.hpp"
#include "autograd/parallel.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace xgrad {

void check_pool_options(const char* op, const PoolOptions& opt, bool is_max) {
    const Size2 k = opt.kernel_size(), s = opt.stride(), p = opt.padding(), d = opt.dilation();
    if (k.h == 0 || k.w == 0 || s.h == 0 || s.w == 0 || d.h == 0 || d.w == 0) {
        throw ValueError(
            fmt::format("{}: kernel size, stride and dilation must be >= 1; got "
                        "kernel_size={}, stride={}, dilation={}",
                        op, size2_str(k), size2_str(s), size2_str(d)));
    }
    const std::pair<const char*, Size2> sizes[] = {
        {"kernel_size", k}, {"stride", s}, {"padding", p}, {"dilation", d}};
    for (const auto& [what, size] : sizes) {
        check_size(op, what, size.h);  // Note [size limit]
        check_size(op, what, size.w);
    }
    if (!is_max && (d.h != 1 || d.w != 1)) {
        throw ValueError(
            fmt::format("{}: dilation is not supported; got dilation={}", op, size2_str(d)));
    }
    if (2 * p.h > k.h || 2 * p.w > k.w) {
        throw ValueError(
            fmt::format("{}: padding must be at most half the kernel size; got "
                        "padding={}, kernel_size={}",
                        op, size2_str(p), size2_str(k)));
    }
}

void check_pool_output_size(const char* op, Size2 out) {
    if (out.h == 0 || out.w == 0) {
        throw ValueError(
            fmt::format("{}: output size must be >= 1; got output_size={}", op, size2_str(out)));
    }
    check_size(op, "output_size", out.h);  // Note [size limit]
    check_size(op, "output_size", out.w);
}

namespace ops {
namespace {

// Note [pool windows]: every pooling op here is described by its windows, separable in rows and
// columns: output row i reads input rows r0[i], r0[i] + dh, ... (rn[i] of them, all inside the
// input: padding is never read), output column j likewise. Average pooling divides by
// hdiv[i]·wdiv[j]. The ops and their VJPs share one immutable Windows (shared_ptr).
// Strided windows (max_pool2d, avg_pool2d: `regular`) run column tap by column tap: tap q of
// every output column j reads input column j·sw − pw + q·dw, valid for j in taps[q], so the
// innermost loop runs over j without branches (a data-dependent branch per element costs a
// misprediction on random data). Adaptive bins have no such form and loop per window.
struct Windows {
    std::size_t h = 0, w = 0, oh = 0, ow = 0, dh = 1, dw = 1;
    std::vector<std::size_t> r0, rn, c0, cn;
    std::vector<double> hdiv, wdiv;  // average pooling only
    bool regular = false;
    std::size_t sw = 1, pw = 0;             // column stride and padding of regular windows
    std::vector<detail::ColumnRange> taps;  // regular: the output columns each tap is valid for
    std::string attributes;

    std::size_t in_plane() const { return h * w; }
    std::size_t out_plane() const { return oh * ow; }
    // Input column read by tap q of output column j (regular windows, j in taps[q]).
    std::ptrdiff_t tap_offset(std::size_t q) const {
        return static_cast<std::ptrdiff_t>(q * dw) - static_cast<std::ptrdiff_t>(pw);
    }
};
using WindowsPtr = std::shared_ptr<const Windows>;

// Output size along one axis of a max/avg pool (PyTorch's pooling_output_shape); may be ≤ 0.
std::ptrdiff_t pool_out(std::size_t in, std::size_t k, std::size_t s, std::size_t p, std::size_t d,
                        bool ceil_mode) {
    const auto span = static_cast<std::ptrdiff_t>(in + 2 * p) -
                      static_cast<std::ptrdiff_t>(d * (k - 1) + 1);  // last window start
    if (span < 0) return 0;
    const auto ss = static_cast<std::ptrdiff_t>(s);
    std::ptrdiff_t out = (ceil_mode ? (span + ss - 1) / ss : span / ss) + 1;
    // The last window must start inside the input or its left padding.
    if (ceil_mode && (out - 1) * ss >= static_cast<std::ptrdiff_t>(in + p)) --out;
    return out;
}

// Rows of window i of a strided, padded, dilated pool along one axis: the first valid tap and
// the number of valid taps; plus, for averages, the divisor (window clipped to the padded
// input, or to the input when padding does not count).
void axis_windows(std::size_t in, std::size_t out, std::size_t k, std::size_t s, std::size_t p,
                  std::size_t d, bool count_pad, std::vector<std::size_t>& first,
                  std::vector<std::size_t>& count, std::vector<double>& div) {
    first.resize(out);
    count.resize(out);
    div.resize(out);
    for (std::size_t i = 0; i < out; ++i) {
        const auto start = static_cast<std::ptrdiff_t>(i * s) - static_cast<std::ptrdiff_t>(p);
        std::size_t t0 = 0;  // first tap inside the input
        while (t0 < k && start + static_cast<std::ptrdiff_t>(t0 * d) < 0)
            ++t0;
        std::size_t t1 = t0;  // one past the last tap inside
        while (t1 < k &&
               start + static_cast<std::ptrdiff_t>(t1 * d) < static_cast<std::ptrdiff_t>(in))
            ++t1;
        first[i] =
            t1 > t0 ? static_cast<std::size_t>(start + static_cast<std::ptrdiff_t>(t0 * d)) : 0;
        count[i] = t1 - t0;
        // avg (d = 1): PyTorch's pool_size = min(start + k, in + p) − start
        const auto end_padded =
            std::min(start + static_cast<std::ptrdiff_t>(k), static_cast<std::ptrdiff_t>(in + p));
        div[i] = count_pad ? static_cast<double>(end_padded - start) : static_cast<double>(t1 - t0);
    }
}

void check_rank(const char* op, const Shape& x) {
    if (x.size() != 4) {
        throw ShapeError(fmt::format("{}: expected x [n, c, h, w]; got x={}", op, shape_str(x)));
    }
}

WindowsPtr pool_windows(const char* op, const Shape& x, const PoolOptions& opt, bool is_max) {
    check_rank(op, x);
    check_pool_options(op, opt, is_max);
    const Size2 k = opt.kernel_size(), s = opt.stride(), p = opt.padding(), d = opt.dilation();
    const std::ptrdiff_t oh = pool_out(x[2], k.h, s.h, p.h, d.h, opt.ceil_mode());
    const std::ptrdiff_t ow = pool_out(x[3], k.w, s.w, p.w, d.w, opt.ceil_mode());
    if (oh <= 0 || ow <= 0) {
        throw ShapeError(
            fmt::format("{}: kernel {}x{} (dilation {}) is larger than the padded "
                        "input {}x{} (padding {}); got x={}",
                        op, k.h, k.w, size2_str(d), x[2] + 2 * p.h, x[3] + 2 * p.w, size2_str(p),
                        shape_str(x)));
    }
    auto win = std::make_shared<Windows>();
    win->h = x[2];
    win->w = x[3];
    win->oh = static_cast<std::size_t>(oh);
    win->ow = static_cast<std::size_t>(ow);
    win->dh = d.h;
    win->dw = d.w;
    const bool count_pad = opt.count_include_pad();
    axis_windows(win->h, win->oh, k.h, s.h, p.h, d.h, count_pad, win->r0, win->rn, win->hdiv);
    axis_windows(win->w, win->ow, k.w, s.w, p.w, d.w, count_pad, win->c0, win->cn, win->wdiv);
    win->regular = true;
    win->sw = s.w;
    win->pw = p.w;
    win->taps.resize(k.w);
    for (std::size_t q = 0; q < k.w; ++q)  // j·sw + off in [0, w)  ⇔  j in taps[q]
        win->taps[q] = detail::valid_range(win->tap_offset(q), s.w, win->w, win->ow);
    win->attributes = fmt::format("kernel_size={}, stride={}, padding={}", size2_str(k),
                                  size2_str(s), size2_str(p));
    if (is_max && (d.h != 1 || d.w != 1)) win->attributes += ", dilation=" + size2_str(d);
    if (opt.ceil_mode()) win->attributes += ", ceil_mode=true";
    if (!is_max && !count_pad) win->attributes += ", count_include_pad=false";
    return win;
}

WindowsPtr adaptive_windows(const Shape& x, Size2 out) {
    const char* op = "adaptive_avg_pool2d";
    check_rank(op, x);
    check_pool_output_size(op, out);
    auto win = std::make_shared<Windows>();
    win->h = x[2];
    win->w = x[3];
    win->oh = out.h;
    win->ow = out.w;
    auto bins = [](std::size_t in, std::size_t n, std::vector<std::size_t>& first,
                   std::vector<std::size_t>& count, std::vector<double>& div) {
        first.resize(n);
        count.resize(n);
        div.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            first[i] = i * in / n;                               // ⌊i·in/n⌋
            const std::size_t end = ((i + 1) * in + n - 1) / n;  // ⌈(i + 1)·in/n⌉
            count[i] = end - first[i];
            div[i] = static_cast<double>(count[i]);
        }
    };
    bins(win->h, win->oh, win->r0, win->rn, win->hdiv);
    bins(win->w, win->ow, win->c0, win->cn, win->wdiv);
    win->attributes = "output_size=" + size2_str(out);
    return win;
}

// Planes (n·c) of x split over the batch workers when the work pays (Note [batch threads] in
// autograd/parallel.cpp).
template <class F>
void for_planes(std::size_t planes, double work, F body) {
    const std::size_t workers = detail::batch_workers(planes, work);
    const std::size_t grain = std::max<std::size_t>(planes / (8 * workers), 1);
    detail::parallel_batch(planes, workers, grain,
                           [&](std::size_t, std::size_t p0, std::size_t p1) { body(p0, p1); });
}

double pool_work(const Windows& win, std::size_t planes) {
    return static_cast<double>(planes) * static_cast<double>(win.in_plane() + 2 * win.out_plane());
}

// ---- max pooling: argmax indices (position in the plane) kept for the backward ----

using Indices = std::shared_ptr<const std::vector<std::int32_t>>;

// One output row of a 2×2, stride-2 max pool over input rows a and b: the first maximum in
// row-major window order and its position in the plane (base = the row's first tap). Written so
// the compiler vectorises it (int index, && and selects; no branch on the data).
// NOTE: a NaN wins and stays: take v when !(v <= m) (v larger, or v NaN) unless m is NaN.
template <class T>
void max_2x2_row(const T* __restrict a, const T* __restrict b, T* __restrict best,
                 std::int32_t* __restrict arg, int ow, std::int32_t base, std::int32_t w) {
    for (int j = 0; j < ow; ++j) {
        T m = a[2 * j];
        std::int32_t k = 0;
        const T v1 = a[2 * j + 1], v2 = b[2 * j], v3 = b[2 * j + 1];
        bool t = !(v1 <= m) && (m == m);
        m = t ? v1 : m;
        k = t ? 1 : k;
        t = !(v2 <= m) && (m == m);
        m = t ? v2 : m;
        k = t ? w : k;
        t = !(v3 <= m) && (m == m);
        m = t ? v3 : m;
        k = t ? w + 1 : k;
        best[j] = m;
        arg[j] = base + 2 * j + k;
    }
}

template <class T>
xt::xarray<T> max_pool_forward(const xt::xarray<T>& x, const Windows& win,
                               std::vector<std::int32_t>& idx) {
    const Shape& s = x.shape();
    const std::size_t planes = s[0] * s[1], P = win.out_plane(), ow = win.ow, W = win.w;
    xt::xarray<T> y = xt::xarray<T>::from_shape({s[0], s[1], win.oh, win.ow});
    idx.resize(planes * P);
    const T* xd = x.data();
    T* yd = y.data();
    // 2×2 windows at stride 2 inside the input (no padding, dilation 1): the common CNN case,
    // one branch-free compare chain per output.
    const bool two_by_two =
        win.regular && win.taps.size() == 2 && win.sw == 2 && win.pw == 0 && win.dw == 1 &&
        win.dh == 1 && win.oh * 2 <= win.h && win.ow * 2 <= W && win.r0.size() > 0 &&
        std::all_of(win.rn.begin(), win.rn.end(), [](std::size_t n) { return n == 2; }) &&
        win.r0[0] == 0 && (win.oh < 2 || win.r0[1] == 2);
    if (two_by_two) {
        for_planes(planes, pool_work(win, planes), [&](std::size_t p0, std::size_t p1) {
            for (std::size_t pl = p0; pl < p1; ++pl) {
                const T* plane = xd + pl * win.in_plane();
                for (std::size_t i = 0; i < win.oh; ++i) {
                    const T* a = plane + 2 * i * W;
                    const T* b = a + W;
                    T* best = yd + pl * P + i * ow;
                    std::int32_t* arg = idx.data() + pl * P + i * ow;
                    max_2x2_row(a, b, best, arg, static_cast<int>(ow),
                                static_cast<std::int32_t>(2 * i * W), static_cast<std::int32_t>(W));
                }
            }
        });
        return y;
    }
    for_planes(planes, pool_work(win, planes), [&](std::size_t p0, std::size_t p1) {
        for (std::size_t pl = p0; pl < p1; ++pl) {
            const T* plane = xd + pl * win.in_plane();
            for (std::size_t i = 0; i < win.oh; ++i) {
                T* best = yd + pl * P + i * ow;
                std::int32_t* arg = idx.data() + pl * P + i * ow;
                // Start from −∞ at the first tap (so −∞ inputs still route a gradient); −1 for a
                // window with no tap inside the input: −∞, no gradient.
                for (std::size_t j = 0; j < ow; ++j) {
                    best[j] = -std::numeric_limits<T>::infinity();
                    arg[j] = win.rn[i] && win.cn[j]
                                 ? static_cast<std::int32_t>(win.r0[i] * W + win.c0[j])
                                 : -1;
                }
                for (std::size_t r = 0; r < win.rn[i]; ++r) {
                    const std::size_t row = (win.r0[i] + r * win.dh) * W;
                    for (std::size_t q = 0; q < win.taps.size(); ++q) {
                        const auto [lo, hi] = win.taps[q];
                        const std::ptrdiff_t off =
                            static_cast<std::ptrdiff_t>(row) + win.tap_offset(q);
                        const T* src = plane + off;
                        for (std::size_t j = lo; j < hi; ++j) {
                            const T v = src[j * win.sw];
                            const T b = best[j];
                            // NOTE: a NaN wins and stays (it propagates, as in PyTorch)
                            const bool take = !(v <= b) && (b == b);
                            best[j] = take ? v : b;
                            arg[j] = take ? static_cast<std::int32_t>(
                                                off + static_cast<std::ptrdiff_t>(j * win.sw))
                                          : arg[j];
                        }
                    }
                }
            }
        }
    });
    return y;
}

// Scatter (x-shaped result) or gather (y-shaped result) through the argmax indices.
template <class T>
xt::xarray<T> scatter_at(const xt::xarray<T>& g, const Shape& x_shape, const Windows& win,
                         const std::vector<std::int32_t>& idx) {
    const std::size_t planes = x_shape[0] * x_shape[1], P = win.out_plane();
    xt::xarray<T> dx = xt::zeros<T>(x_shape);
    const T* gd = g.data();
    T* dxd = dx.data();
    for_planes(planes, pool_work(win, planes), [&](std::size_t p0, std::size_t p1) {
        for (std::size_t pl = p0; pl < p1; ++pl) {
            T* plane = dxd + pl * win.in_plane();
            const T* gp = gd + pl * P;
            const std::int32_t* arg = idx.data() + pl * P;
            for (std::size_t k = 0; k < P; ++k) {
                if (arg[k] >= 0) plane[arg[k]] += gp[k];
            }
        }
    });
    return dx;
}

template <class T>
xt::xarray<T> gather_at(const xt::xarray<T>& gx, const Windows& win,
                        const std::vector<std::int32_t>& idx) {
    const Shape& s = gx.shape();
    const std::size_t planes = s[0] * s[1], P = win.out_plane();
    xt::xarray<T> y = xt::xarray<T>::from_shape({s[0], s[1], win.oh, win.ow});
    const T* gd = gx.data();
    T* yd = y.data();
    for (std::size_t pl = 0; pl < planes; ++pl) {
        const T* plane = gd + pl * win.in_plane();
        const std::int32_t* arg = idx.data() + pl * P;
        T* out = yd + pl * P;
        for (std::size_t k = 0; k < P; ++k)
            out[k] = arg[k] >= 0 ? plane[arg[k]] : T(0);
    }
    return y;
}

template <class T>
Tensor<T> run_unpool(const Tensor<T>& g, const Shape& x_shape, const WindowsPtr& win,
                     const Indices& idx);
template <class T>
Tensor<T> run_gather(const Tensor<T>& gx, const WindowsPtr& win, const Indices& idx);

template <class T>
struct MaxPool2d {
    static constexpr const char* name = "max_pool2d";
    WindowsPtr win;
    Indices idx;  // argmax of every window, filled by forward
    Shape x_shape;

    std::string attributes() const { return win->attributes; }
    xt::xarray<T> forward(const Tensor<T>& x) {
        x_shape = x.shape();
        auto arg = std::make_shared<std::vector<std::int32_t>>();
        xt::xarray<T> y = max_pool_forward(x.value(), *win, *arg);
        idx = std::move(arg);
        return y;
    }
    // y = x[argmax]  ⇒  ∂L/∂x = g routed to the argmax of its window (max_unpool2d)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {run_unpool(g, x_shape, win, idx)};
    }
};

template <class T>
struct MaxUnpool2d {
    static constexpr const char* name = "max_unpool2d";
    WindowsPtr win;
    Indices idx;
    Shape x_shape;

    std::string attributes() const { return win->attributes; }
    xt::xarray<T> forward(const Tensor<T>& g) { return scatter_at(g.value(), x_shape, *win, *idx); }
    // dx = scatter(u)  ⇒  ∂L/∂u = g read at the argmax (the same routing, backwards)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {run_gather(g, win, idx)};
    }
};

template <class T>
struct MaxPool2dGather {
    static constexpr const char* name = "max_pool2d_gather";
    WindowsPtr win;
    Indices idx;
    Shape x_shape;

    std::string attributes() const { return win->attributes; }
    xt::xarray<T> forward(const Tensor<T>& gx) {
        x_shape = gx.shape();
        return gather_at(gx.value(), *win, *idx);
    }
    // y = u[argmax]  ⇒  ∂L/∂u = scatter(g)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {run_unpool(g, x_shape, win, idx)};
    }
};

template <class T>
Tensor<T> run_unpool(const Tensor<T>& g, const Shape& x_shape, const WindowsPtr& win,
                     const Indices& idx) {
    return record(MaxUnpool2d<T>{win, idx, x_shape}, g);
}

template <class T>
Tensor<T> run_gather(const Tensor<T>& gx, const WindowsPtr& win, const Indices& idx) {
    return record(MaxPool2dGather<T>{win, idx, {}}, gx);
}

// ---- average pooling: a fixed linear map and its adjoint ----

// 1/(hdiv[i]·wdiv[j]) for every output cell of a plane.
template <class T>
std::vector<T> inverse_divisors(const Windows& win) {
    std::vector<T> inv(win.out_plane());
    for (std::size_t i = 0; i < win.oh; ++i) {
        for (std::size_t j = 0; j < win.ow; ++j) {
            inv[i * win.ow + j] = static_cast<T>(1.0 / (win.hdiv[i] * win.wdiv[j]));
        }
    }
    return inv;
}

template <class T>
xt::xarray<T> avg_forward(const xt::xarray<T>& x, const Windows& win) {
    const Shape& s = x.shape();
    const std::size_t planes = s[0] * s[1], P = win.out_plane(), ow = win.ow;
    xt::xarray<T> y = xt::xarray<T>::from_shape({s[0], s[1], win.oh, win.ow});
    const T* xd = x.data();
    T* yd = y.data();
    const std::vector<T> inv = inverse_divisors<T>(win);
    for_planes(planes, pool_work(win, planes), [&](std::size_t p0, std::size_t p1) {
        for (std::size_t pl = p0; pl < p1; ++pl) {
            const T* plane = xd + pl * win.in_plane();
            for (std::size_t i = 0; i < win.oh; ++i) {
                T* out = yd + pl * P + i * ow;
                std::fill(out, out + ow, T(0));
                for (std::size_t r = 0; r < win.rn[i]; ++r) {
                    const T* row = plane + (win.r0[i] + r) * win.w;
                    if (win.regular) {
                        for (std::size_t q = 0; q < win.taps.size(); ++q) {
                            const auto [lo, hi] = win.taps[q];
                            const T* src = row + win.tap_offset(q);
                            for (std::size_t j = lo; j < hi; ++j)
                                out[j] += src[j * win.sw];
                        }
                    } else {
                        for (std::size_t j = 0; j < ow; ++j) {
                            const T* src = row + win.c0[j];
                            T acc = T(0);
                            for (std::size_t q = 0; q < win.cn[j]; ++q)
                                acc += src[q];
                            out[j] += acc;
                        }
                    }
                }
                for (std::size_t j = 0; j < ow; ++j)
                    out[j] *= inv[i * ow + j];
            }
        }
    });
    return y;
}

template <class T>
xt::xarray<T> avg_adjoint(const xt::xarray<T>& g, const Shape& x_shape, const Windows& win) {
    const std::size_t planes = x_shape[0] * x_shape[1], P = win.out_plane(), ow = win.ow;
    xt::xarray<T> dx = xt::zeros<T>(x_shape);
    const T* gd = g.data();
    T* dxd = dx.data();
    const std::vector<T> inv = inverse_divisors<T>(win);
    for_planes(planes, pool_work(win, planes), [&](std::size_t p0, std::size_t p1) {
        std::vector<T> scaled(ow);
        for (std::size_t pl = p0; pl < p1; ++pl) {
            T* plane = dxd + pl * win.in_plane();
            for (std::size_t i = 0; i < win.oh; ++i) {
                const T* gp = gd + pl * P + i * ow;
                for (std::size_t j = 0; j < ow; ++j)
                    scaled[j] = gp[j] * inv[i * ow + j];
                for (std::size_t r = 0; r < win.rn[i]; ++r) {
                    T* row = plane + (win.r0[i] + r) * win.w;
                    if (win.regular) {
                        for (std::size_t q = 0; q < win.taps.size(); ++q) {
                            const auto [lo, hi] = win.taps[q];
                            T* dst = row + win.tap_offset(q);
                            for (std::size_t j = lo; j < hi; ++j)
                                dst[j * win.sw] += scaled[j];
                        }
                    } else {
                        for (std::size_t j = 0; j < ow; ++j) {
                            T* dst = row + win.c0[j];
                            for (std::size_t q = 0; q < win.cn[j]; ++q)
                                dst[q] += scaled[j];
                        }
                    }
                }
            }
        }
    });
    return dx;
}

template <class T, bool adaptive>
Tensor<T> run_avg(const Tensor<T>& x, const WindowsPtr& win);
template <class T, bool adaptive>
Tensor<T> run_avg_adjoint(const Tensor<T>& g, const Shape& x_shape, const WindowsPtr& win);

template <class T, bool adaptive>
struct AvgPool2d {
    static constexpr const char* name = adaptive ? "adaptive_avg_pool2d" : "avg_pool2d";
    WindowsPtr win;
    Shape x_shape;

    std::string attributes() const { return win->attributes; }
    xt::xarray<T> forward(const Tensor<T>& x) {
        x_shape = x.shape();
        return avg_forward(x.value(), *win);
    }
    // y = A·x (window means)  ⇒  ∂L/∂x = Aᵀ·g: each g spread evenly over its window
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {run_avg_adjoint<T, adaptive>(g, x_shape, win)};
    }
};

template <class T, bool adaptive>
struct AvgPool2dBackward {
    static constexpr const char* name = "avg_pool2d_backward";
    WindowsPtr win;
    Shape x_shape;

    std::string attributes() const { return win->attributes; }
    xt::xarray<T> forward(const Tensor<T>& g) { return avg_adjoint(g.value(), x_shape, *win); }
    // dx = Aᵀ·u  ⇒  ∂L/∂u = A·g
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {run_avg<T, adaptive>(g, win)};
    }
};

template <class T, bool adaptive>
Tensor<T> run_avg(const Tensor<T>& x, const WindowsPtr& win) {
    return record(AvgPool2d<T, adaptive>{win, {}}, x);
}

template <class T, bool adaptive>
Tensor<T> run_avg_adjoint(const Tensor<T>& g, const Shape& x_shape, const WindowsPtr& win) {
    return record(AvgPool2dBackward<T, adaptive>{win, x_shape}, g);
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, const PoolOptions& options) {
    return record(
        ops::MaxPool2d<T>{ops::pool_windows("max_pool2d", x.shape(), options, true), nullptr, {}},
        x);
}

template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, const PoolOptions& options) {
    return ops::run_avg<T, false>(x, ops::pool_windows("avg_pool2d", x.shape(), options, false));
}

template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& x, Size2 output_size) {
    return ops::run_avg<T, true>(x, ops::adaptive_windows(x.shape(), output_size));
}

template <class T>
Tensor<T> global_avg_pool2d(const Tensor<T>& x) {
    ops::check_rank("global_avg_pool2d", x.shape());
    return mean(x, Axes{2, 3});  // [n, c]
}

#define XGRAD_INSTANTIATE(T)                                             \
    template Tensor<T> max_pool2d(const Tensor<T>&, const PoolOptions&); \
    template Tensor<T> avg_pool2d(const Tensor<T>&, const PoolOptions&); \
    template Tensor<T> adaptive_avg_pool2d(const Tensor<T>&, Size2);     \
    template Tensor<T> global_avg_pool2d(const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
