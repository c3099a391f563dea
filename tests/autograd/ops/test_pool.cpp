#include "autograd/ops/pool.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/tuning.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {

struct Pool {
    std::size_t k, s, p, d = 1;
    bool ceil = false, count_pad = true;
};

// PyTorch's pooling_output_shape, written out.
std::size_t out_size(std::size_t in, const Pool& a) {
    const double span = double(in + 2 * a.p) - double(a.d * (a.k - 1) + 1);
    std::size_t out = std::size_t(a.ceil ? std::ceil(span / a.s) : std::floor(span / a.s)) + 1;
    if (a.ceil && (out - 1) * a.s >= in + a.p) --out;
    return out;
}

// y [n, c, oh, ow] with y[n, c, i, j] = f(n, c, i, j): the loop of every reference below.
template <class F>
Array per_output(const Array& x, std::size_t OH, std::size_t OW, F f) {
    const std::size_t N = x.shape()[0], C = x.shape()[1];
    Array y = Array::from_shape({N, C, OH, OW});
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t i = 0; i < OH; ++i)
                for (std::size_t j = 0; j < OW; ++j)
                    y(n, c, i, j) = f(n, c, i, j);
    return y;
}

// Max over the window taps that fall inside the input.
Array naive_max_pool(const Array& x, const Pool& a) {
    const std::size_t H = x.shape()[2], W = x.shape()[3];
    return per_output(x, out_size(H, a), out_size(W, a), [&](auto n, auto c, auto i, auto j) {
        double best = -std::numeric_limits<double>::infinity();
        for (std::size_t p = 0; p < a.k; ++p)
            for (std::size_t q = 0; q < a.k; ++q) {
                const long r = long(i * a.s + p * a.d) - long(a.p);
                const long t = long(j * a.s + q * a.d) - long(a.p);
                if (r < 0 || t < 0 || r >= long(H) || t >= long(W)) continue;
                best = std::max(best, x(n, c, r, t));
            }
        return best;
    });
}

// PyTorch's avg_pool2d loop: the divisor is the window clipped to the padded input
// (count_include_pad) or to the input.
Array naive_avg_pool(const Array& x, const Pool& a) {
    const std::size_t H = x.shape()[2], W = x.shape()[3];
    return per_output(x, out_size(H, a), out_size(W, a), [&](auto n, auto c, auto i, auto j) {
        long h0 = long(i * a.s) - long(a.p), w0 = long(j * a.s) - long(a.p);
        long h1 = std::min(h0 + long(a.k), long(H + a.p));
        long w1 = std::min(w0 + long(a.k), long(W + a.p));
        const double padded = double((h1 - h0) * (w1 - w0));
        h0 = std::max(h0, 0L);
        w0 = std::max(w0, 0L);
        h1 = std::min(h1, long(H));
        w1 = std::min(w1, long(W));
        double s = 0;
        for (long r = h0; r < h1; ++r)
            for (long t = w0; t < w1; ++t)
                s += x(n, c, r, t);
        return s / (a.count_pad ? padded : double((h1 - h0) * (w1 - w0)));
    });
}

// Bins ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1.
Array naive_adaptive_avg(const Array& x, std::size_t OH, std::size_t OW) {
    const std::size_t H = x.shape()[2], W = x.shape()[3];
    return per_output(x, OH, OW, [&](auto n, auto c, auto i, auto j) {
        const auto h0 = std::size_t(std::floor(double(i * H) / OH));
        const auto h1 = std::size_t(std::ceil(double((i + 1) * H) / OH));
        const auto w0 = std::size_t(std::floor(double(j * W) / OW));
        const auto w1 = std::size_t(std::ceil(double((j + 1) * W) / OW));
        double s = 0;
        for (std::size_t r = h0; r < h1; ++r)
            for (std::size_t t = w0; t < w1; ++t)
                s += x(n, c, r, t);
        return s / double((h1 - h0) * (w1 - w0));
    });
}

}  // namespace

// Max pooling is piecewise linear: away from ties (distinct inputs, 0.1 apart) its second
// derivative in x is zero, which gradgradcheck confirms; the VJP's own graph (in the upstream
// gradient) is checked in "max_pool2d: the backward is differentiable in the upstream gradient".
XGRAD_REGISTER_OP(OpSpec("max_pool2d", [](const Tensors& x) { return max_pool2d(x[0], 2); })
                      .reference([](const A& a) {
                          return naive_max_pool(a[0], {2, 2, 0});
                      })
                      .cases({{{2, 3, 4, 4}}, {{1, 2, 5, 3}}})  // 5 rows: the last is dropped
                      .samplers({harness::distinct()})
                      .bad_shapes({{2, 3, 4}}));

XGRAD_REGISTER_OP(OpSpec("max_pool2d 3 stride=2 padding=1 ceil_mode",
                         [](const Tensors& x) {
                             return max_pool2d(x[0],
                                               PoolOptions(3).stride(2).padding(1).ceil_mode());
                         })
                      .reference([](const A& a) {
                          return naive_max_pool(a[0], {3, 2, 1, 1, true});
                      })
                      .cases({{{2, 2, 5, 6}}, {{1, 1, 4, 4}}})
                      .samplers({harness::distinct()})
                      .bad_shapes({{1, 1, 4, 4, 1}}));

XGRAD_REGISTER_OP(OpSpec("max_pool2d 2 stride=1 dilation=2",
                         [](const Tensors& x) {
                             return max_pool2d(x[0], PoolOptions(2).stride(1).dilation(2));
                         })
                      .reference([](const A& a) {
                          return naive_max_pool(a[0], {2, 1, 0, 2});
                      })
                      .cases({{{1, 2, 5, 5}}, {{2, 1, 3, 4}}})
                      .samplers({harness::distinct()})
                      .bad_shapes({{1, 1, 2, 2}}));  // the dilated window spans 3 rows

XGRAD_REGISTER_OP(OpSpec("avg_pool2d", [](const Tensors& x) { return avg_pool2d(x[0], 2); })
                      .reference([](const A& a) {
                          return naive_avg_pool(a[0], {2, 2, 0});
                      })
                      .cases({{{2, 3, 4, 4}}, {{1, 2, 5, 3}}})
                      .bad_shapes({{1, 1, 1, 3}}));  // one row, a 2-row window

XGRAD_REGISTER_OP(OpSpec("avg_pool2d 3 stride=2 padding=1",
                         [](const Tensors& x) {
                             return avg_pool2d(x[0], PoolOptions(3).stride(2).padding(1));
                         })
                      .reference([](const A& a) {
                          return naive_avg_pool(a[0], {3, 2, 1});
                      })
                      .cases({{{2, 2, 5, 6}}, {{1, 1, 4, 4}}})
                      .bad_shapes({{2, 5, 6}}));

XGRAD_REGISTER_OP(OpSpec("avg_pool2d 3 stride=2 padding=1 ceil_mode count_include_pad=false",
                         [](const Tensors& x) {
                             return avg_pool2d(
                                 x[0],
                                 PoolOptions(3).stride(2).padding(1).ceil_mode().count_include_pad(
                                     false));
                         })
                      .reference([](const A& a) {
                          Pool p{3, 2, 1};
                          p.ceil = true;
                          p.count_pad = false;
                          return naive_avg_pool(a[0], p);
                      })
                      .cases({{{2, 2, 6, 5}}, {{1, 1, 4, 4}}})
                      .bad_shapes({{2, 5, 6}}));

XGRAD_REGISTER_OP(OpSpec("adaptive_avg_pool2d",
                         [](const Tensors& x) {
                             return adaptive_avg_pool2d(x[0], {3, 2});
                         })
                      .reference([](const A& a) { return naive_adaptive_avg(a[0], 3, 2); })
                      .cases({{{2, 3, 7, 5}},
                              {{1, 1, 2, 2}}})  // overlapping bins; more rows out than in
                      .bad_shapes({{7, 5}}));

XGRAD_REGISTER_OP(OpSpec("global_avg_pool2d",
                         [](const Tensors& x) { return global_avg_pool2d(x[0]); })
                      .reference([](const A& a) {
                          Array y = naive_adaptive_avg(a[0], 1, 1);
                          y.reshape({a[0].shape()[0], a[0].shape()[1]});
                          return y;
                      })
                      .cases({{{2, 3, 4, 5}}, {{1, 2, 1, 1}}})
                      .bad_shapes({{2, 3}}));

TEST_CASE("max_pool2d: 2x2 windows of a 4x4 image") {
    Tensor<double> x(xt::arange<double>(16).reshape({1, 1, 4, 4}));
    // rows 0 1 2 3 / 4 5 6 7 / 8 9 10 11 / 12 13 14 15: each window's bottom-right wins
    CHECK(max_pool2d(x, 2).value() == xt::xarray<double>{{{{5, 7}, {13, 15}}}});
}

TEST_CASE("max_pool2d: the gradient goes to the argmax, summed over overlapping windows") {
    Tensor<double> x(xt::xarray<double>{{{{1, 2, 3}, {4, 9, 6}, {7, 8, 5}}}}, true);
    const auto y = max_pool2d(x, PoolOptions(2).stride(1));  // all four windows hold the 9
    CHECK(y.value() == xt::xarray<double>{{{{9, 9}, {9, 9}}}});
    y.backward(Tensor<double>(xt::xarray<double>{{{{1, 2}, {3, 4}}}}));
    CHECK(x.grad().value() == xt::xarray<double>{{{{0, 0, 0}, {0, 10, 0}, {0, 0, 0}}}});  // 1+2+3+4
}

TEST_CASE("max_pool2d: a NaN in a window propagates") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Tensor<double> x(xt::xarray<double>{{{{1, nan}, {3, 2}}}});
    CHECK(std::isnan(max_pool2d(x, 2).item()));
}

TEST_CASE("avg_pool2d: padding counts in the divisor unless told otherwise") {
    Tensor<double> x(xt::ones<double>({1, 1, 2, 2}));
    // kernel 2, stride 2, padding 1: windows of 4 cells, 1 real cell each
    CHECK(avg_pool2d(x, PoolOptions(2).padding(1)).value() ==
          xt::xarray<double>{{{{0.25, 0.25}, {0.25, 0.25}}}});
    CHECK(avg_pool2d(x, PoolOptions(2).padding(1).count_include_pad(false)).value() ==
          xt::xarray<double>{{{{1, 1}, {1, 1}}}});
}

TEST_CASE("avg_pool2d: the gradient is spread evenly over the window") {
    Tensor<double> x(xt::zeros<double>({1, 1, 2, 4}), true);
    avg_pool2d(x, 2).backward(Tensor<double>(xt::xarray<double>{{{{4, 8}}}}));
    CHECK(x.grad().value() == xt::xarray<double>{{{{1, 1, 2, 2}, {1, 1, 2, 2}}}});  // 4/4, 8/4
}

TEST_CASE("adaptive_avg_pool2d: PyTorch's overlapping bins") {
    Tensor<double> x(xt::arange<double>(1, 10).reshape({1, 1, 3, 3}));
    // rows/columns {0, 1} and {1, 2}: means of 1 2 4 5, 2 3 5 6, 4 5 7 8, 5 6 8 9
    CHECK(adaptive_avg_pool2d(x, 2).value() == xt::xarray<double>{{{{3, 4}, {6, 7}}}});
}

TEST_CASE("global_avg_pool2d: one mean per channel, [n, c]") {
    Tensor<double> x(xt::arange<double>(8).reshape({1, 2, 2, 2}));
    CHECK(global_avg_pool2d(x).value() == xt::xarray<double>{{1.5, 5.5}});  // 6/4, 22/4
}

// grad(pool(x), x, g) is linear in g: its own VJP must be right for create_graph (a gradient
// penalty or a Hessian-vector product through a CNN differentiates it).
TEST_CASE("max_pool2d: the backward is differentiable in the upstream gradient") {
    std::mt19937_64 rng(1);
    auto x = Tensor<double>(harness::distinct()({2, 2, 4, 5}, rng), true);
    for (int kind = 0; kind < 2; ++kind) {
        INFO("pool: ", (kind == 0 ? "max_pool2d" : "avg_pool2d"));
        auto pool = [&](const Tensor<double>& t) {
            const auto opt = PoolOptions(2).stride(1);
            return kind == 0 ? max_pool2d(t, opt) : avg_pool2d(t, opt);
        };
        auto fn = [&](const Tensors& in) { return grad(pool(x), x, true, std::nullopt, in[0]); };
        const Tensors g{Tensor<double>(xt::ones<double>(pool(x).shape()), true)};
        CHECK(gradcheck(fn, g).ok);
        CHECK(gradgradcheck(fn, g).ok);
    }
}

TEST_CASE("max_pool2d: errors name the op and the shape") {
    Tensor<double> x(xt::zeros<double>({1, 1, 2, 2}));
    CHECK_THROWS_WITH_AS(max_pool2d(x, 3),
                         "max_pool2d: kernel 3x3 (dilation [1, 1]) is larger than the padded "
                         "input 2x2 (padding [0, 0]); got x=[1, 1, 2, 2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(max_pool2d(x, PoolOptions(2).padding(2)),
                         "max_pool2d: padding must be at most half the kernel size; got "
                         "padding=[2, 2], kernel_size=[2, 2]",
                         ValueError);
    CHECK_THROWS_AS(avg_pool2d(x, PoolOptions(2).stride(0)), ValueError);
    CHECK_THROWS_AS(adaptive_avg_pool2d(x, 0), ValueError);
    CHECK_THROWS_WITH_AS(global_avg_pool2d(Tensor<double>(xt::zeros<double>({2, 3}))),
                         "global_avg_pool2d: expected x [n, c, h, w]; got x=[2, 3]", ShapeError);
}

TEST_CASE("max_pool2d: float matches double, and worker threads change nothing") {
    std::mt19937_64 rng(2);
    auto xd = Tensor<double>(harness::distinct()({4, 3, 6, 6}, rng), true);
    const xt::xarray<float> xf_value(xd.value());
    Tensor<float> xf(xf_value);
    CHECK(xt::allclose(xt::xarray<double>(max_pool2d(xf, 2).value()), max_pool2d(xd, 2).value()));
    auto run = [&](std::size_t threads) {
        const tuning::Override workers(tuning::batch_threads(), threads);
        const tuning::Override split(tuning::batch_parallel_min_work(), 0);
        auto y = add(max_pool2d(xd, PoolOptions(3).stride(1)), sum(avg_pool2d(xd, 2)));
        auto g = grad(sum(mul(y, y)), xd);
        return std::vector<Tensor<double>>{y, g};
    };
    const auto one = run(1), two = run(2);
    CHECK(xt::allclose(one[0].value(), two[0].value(), 1e-12, 1e-12));
    CHECK(xt::allclose(one[1].value(), two[1].value(), 1e-12, 1e-12));
}
