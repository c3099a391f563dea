#include "autograd/ops/conv.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "autograd/tuning.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <vector>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {

// Attributes of the naive references, with explicit padding on each side.
struct Naive {
    std::size_t sh = 1, sw = 1, pt = 0, pb = 0, pl = 0, pr = 0, dh = 1, dw = 1, groups = 1;
};

Naive sym(std::size_t s, std::size_t p, std::size_t d = 1, std::size_t groups = 1) {
    return {s, s, p, p, p, p, d, d, groups};
}

// The sizes of one convolution x [N, C, H, W] * w [O, C/G, KH, KW] → y [N, O, OH, OW].
struct Sizes {
    std::size_t N, C, H, W, O, KH, KW, OH, OW;
};

// One product w[o, c, p, q]·x[n, ci, r, t] of the sum that makes y[n, o, i, j].
struct Term {
    std::size_t n, o, i, j, ci, c, p, q, r, t;
};

// Calls f on every term of the convolution: output y[n, o, i, j] of group grp = o/(O/G) reads
// input channel ci = grp·C/G + c at row r = i·sh − pt + p·dh, column t = j·sw − pl + q·dw, where
// that lies inside the image. The three references below read this one sum three ways (Note
// [conv family]): as y, as the scatter of y's gradient onto x, as the weight gradient.
template <class F>
void for_each_term(const Sizes& z, const Naive& a, F f) {
    const std::size_t CG = z.C / a.groups, OG = z.O / a.groups;
    for (std::size_t n = 0; n < z.N; ++n)
        for (std::size_t o = 0; o < z.O; ++o)
            for (std::size_t i = 0; i < z.OH; ++i)
                for (std::size_t j = 0; j < z.OW; ++j)
                    for (std::size_t c = 0; c < CG; ++c)
                        for (std::size_t p = 0; p < z.KH; ++p)
                            for (std::size_t q = 0; q < z.KW; ++q) {
                                const long r = long(i * a.sh + p * a.dh) - long(a.pt);
                                const long t = long(j * a.sw + q * a.dw) - long(a.pl);
                                if (r < 0 || t < 0 || r >= long(z.H) || t >= long(z.W)) continue;
                                f(Term{n, o, i, j, o / OG * CG + c, c, p, q, std::size_t(r),
                                       std::size_t(t)});
                            }
}

// y[n, c, i, j] + b[c] (y unchanged without a bias).
Array with_bias(Array y, const Array* b) {
    if (b) y += xt::view(*b, xt::newaxis(), xt::all(), xt::newaxis(), xt::newaxis());
    return y;
}

// y[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q]·x[n, grp·C/G + c, i·sh − pt + p·dh, j·sw − pl +
// q·dw]
Array naive_conv2d(const Array& x, const Array& w, const Array* b, const Naive& a) {
    const auto &xs = x.shape(), &ws = w.shape();
    const std::size_t OH = (xs[2] + a.pt + a.pb - a.dh * (ws[2] - 1) - 1) / a.sh + 1;
    const std::size_t OW = (xs[3] + a.pl + a.pr - a.dw * (ws[3] - 1) - 1) / a.sw + 1;
    Array y = xt::zeros<double>({xs[0], ws[0], OH, OW});
    for_each_term({xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], OH, OW}, a, [&](Term e) {
        y(e.n, e.o, e.i, e.j) += w(e.o, e.c, e.p, e.q) * x(e.n, e.ci, e.r, e.t);
    });
    return with_bias(y, b);
}

// The scatter definition of a transposed conv: every input pixel adds x·kernel to the output.
// Its input x [N, CI, H, W] is a conv's output and its output y that conv's input; its weight
// [CI, CO/G, KH, KW] is laid out like that conv's.
Array naive_conv_transpose2d(const Array& x, const Array& w, const Array* b, const Naive& a,
                             std::size_t oph = 0, std::size_t opw = 0) {
    const auto &xs = x.shape(), &ws = w.shape();
    const std::size_t CO = ws[1] * a.groups;
    const std::size_t OH = (xs[2] - 1) * a.sh - 2 * a.pt + a.dh * (ws[2] - 1) + oph + 1;
    const std::size_t OW = (xs[3] - 1) * a.sw - 2 * a.pl + a.dw * (ws[3] - 1) + opw + 1;
    Array y = xt::zeros<double>({xs[0], CO, OH, OW});
    for_each_term({xs[0], CO, OH, OW, xs[1], ws[2], ws[3], xs[2], xs[3]}, a, [&](Term e) {
        y(e.n, e.ci, e.r, e.t) += x(e.n, e.o, e.i, e.j) * w(e.o, e.c, e.p, e.q);
    });
    return with_bias(y, b);
}

// dw[o, c, p, q] = Σ_{n, i, j} g[n, o, i, j]·x[n, grp·C/G + c, i·sh − pt + p·dh, j·sw − pl + q·dw]
Array naive_conv2d_weight(const Array& x, const Array& g, std::size_t KH, std::size_t KW,
                          const Naive& a) {
    const auto &xs = x.shape(), &gs = g.shape();
    Array dw = xt::zeros<double>({gs[1], xs[1] / a.groups, KH, KW});
    for_each_term({xs[0], xs[1], xs[2], xs[3], gs[1], KH, KW, gs[2], gs[3]}, a, [&](Term e) {
        dw(e.o, e.c, e.p, e.q) += g(e.n, e.o, e.i, e.j) * x(e.n, e.ci, e.r, e.t);
    });
    return dw;
}

Tensor<double> opt_bias(const Tensors& x) {
    return x.size() > 2 ? x[2] : Tensor<double>();
}
const Array* opt_bias(const A& a) {
    return a.size() > 2 ? &a[2] : nullptr;
}

}  // namespace

// ---- conv2d: one registration per attribute set (the harness fixes the attributes per op) ----

XGRAD_REGISTER_OP(
    OpSpec("conv2d",
           [](const Tensors& x) {
               return conv2d(x[0], x[1], opt_bias(x), ConvOptions().padding(1));
           })
        .reference([](const A& a) { return naive_conv2d(a[0], a[1], opt_bias(a), sym(1, 1)); })
        .cases({{{2, 3, 5, 5}, {4, 3, 3, 3}, {4}},   // a batch: one chunk, scattered to NCHW
                {{1, 2, 4, 6}, {3, 2, 1, 1}},        // one image, 1×1 kernel with padding
                {{1, 2, 3, 4}, {2, 2, 2, 3}, {2}}})  // even kernel, one image: no scatter
        .bad_shapes({{2, 3, 8, 8}, {4, 2, 3, 3}}));  // 3 channels, weight expects 2

XGRAD_REGISTER_OP(OpSpec("conv2d stride=2 padding=[1, 0] dilation=[1, 2]",
                         [](const Tensors& x) {
                             return conv2d(
                                 x[0], x[1], opt_bias(x),
                                 ConvOptions().stride(2).padding({1, 0}).dilation({1, 2}));
                         })
                      .reference([](const A& a) {
                          return naive_conv2d(a[0], a[1], opt_bias(a), {2, 2, 1, 1, 0, 0, 1, 2, 1});
                      })
                      .cases({{{2, 2, 7, 8}, {3, 2, 3, 2}, {3}}, {{1, 1, 4, 5}, {2, 1, 2, 2}}})
                      .bad_shapes({{1, 2, 2, 2},
                                   {3, 2, 5, 5}}));  // kernel larger than the padded input

XGRAD_REGISTER_OP(OpSpec("conv2d groups=2",
                         [](const Tensors& x) {
                             return conv2d(x[0], x[1], opt_bias(x), ConvOptions().groups(2));
                         })
                      .reference([](const A& a) {
                          return naive_conv2d(a[0], a[1], opt_bias(a), sym(1, 0, 1, 2));
                      })
                      .cases({{{2, 4, 5, 5}, {6, 2, 3, 3}, {6}}, {{1, 2, 3, 3}, {2, 1, 1, 1}}})
                      .bad_shapes({{2, 3, 5, 5},
                                   {4, 3, 3, 3}}));  // 3 channels do not split in 2 groups

XGRAD_REGISTER_OP(OpSpec("conv2d padding=same",
                         [](const Tensors& x) {
                             return conv2d(x[0], x[1], opt_bias(x),
                                           ConvOptions().padding(Padding::same));
                         })
                      .reference([](const A& a) {
                          // total padding k − 1, the extra one (even kernels) after: top/left
                          // ⌊(k−1)/2⌋
                          const std::size_t kh = a[1].shape()[2], kw = a[1].shape()[3];
                          const Naive n{1, 1, (kh - 1) / 2, kh / 2, (kw - 1) / 2, kw / 2, 1, 1, 1};
                          return naive_conv2d(a[0], a[1], opt_bias(a), n);
                      })
                      .cases({{{2, 2, 5, 5}, {3, 2, 3, 3}, {3}}, {{1, 2, 4, 5}, {2, 2, 4, 2}}})
                      .bad_shapes({{2, 3, 5}, {4, 3, 3, 3}}));  // rank 3 input

XGRAD_REGISTER_OP(OpSpec("conv2d 1x1 (no im2col)",
                         [](const Tensors& x) { return conv2d(x[0], x[1], opt_bias(x)); })
                      .reference([](const A& a) {
                          return naive_conv2d(a[0], a[1], opt_bias(a), sym(1, 0));
                      })
                      .cases({{{2, 3, 4, 5}, {4, 3, 1, 1}, {4}}, {{1, 3, 2, 2}, {2, 3, 1, 1}}})
                      .bad_shapes({{2, 3, 4, 5}, {4, 3, 1, 1}, {3}}));  // bias of the wrong length

// ---- conv_transpose2d ----

XGRAD_REGISTER_OP(OpSpec("conv_transpose2d",
                         [](const Tensors& x) {
                             return conv_transpose2d(
                                 x[0], x[1], opt_bias(x),
                                 ConvOptions().stride(2).padding(1).output_padding(1));
                         })
                      .reference([](const A& a) {
                          return naive_conv_transpose2d(a[0], a[1], opt_bias(a), sym(2, 1), 1, 1);
                      })
                      .cases({{{2, 3, 3, 4}, {3, 2, 3, 3}, {2}}, {{1, 2, 2, 2}, {2, 3, 2, 2}}})
                      .bad_shapes({{2, 3, 4, 4},
                                   {2, 5, 3, 3}}));  // weight [c_in, ...] with c_in = 2 ≠ 3

XGRAD_REGISTER_OP(OpSpec("conv_transpose2d groups=2 dilation=2",
                         [](const Tensors& x) {
                             return conv_transpose2d(x[0], x[1], opt_bias(x),
                                                     ConvOptions().groups(2).dilation(2));
                         })
                      .reference([](const A& a) {
                          return naive_conv_transpose2d(a[0], a[1], opt_bias(a), sym(1, 0, 2, 2));
                      })
                      .cases({{{1, 4, 3, 3}, {4, 1, 2, 2}, {2}}, {{2, 2, 2, 3}, {2, 2, 1, 1}}})
                      .bad_shapes({{1, 4, 3}, {4, 1, 2, 2}}));

// ---- conv2d_weight and conv1d ----

XGRAD_REGISTER_OP(
    OpSpec("conv2d_weight",
           [](const Tensors& x) {
               return conv2d_weight(x[0], x[1], {3, 2}, ConvOptions().stride(2).padding(1));
           })
        .reference([](const A& a) { return naive_conv2d_weight(a[0], a[1], 3, 2, sym(2, 1)); })
        .cases({{{2, 3, 5, 5}, {2, 4, 3, 3}}, {{1, 2, 4, 3}, {1, 2, 2, 2}}})
        .bad_shapes({{2, 3, 5, 5}, {2, 4, 5, 5}}));  // grad_out is not the conv output shape

XGRAD_REGISTER_OP(OpSpec("conv1d",
                         [](const Tensors& x) {
                             return conv1d(x[0], x[1], opt_bias(x),
                                           ConvOptions().stride(2).padding(1));
                         })
                      .reference([](const A& a) {
                          // conv1d = conv2d on [n, c, 1, l]
                          Array x = a[0], w = a[1];
                          x.reshape({x.shape()[0], x.shape()[1], 1, x.shape()[2]});
                          w.reshape({w.shape()[0], w.shape()[1], 1, w.shape()[2]});
                          Array y = naive_conv2d(x, w, opt_bias(a), {2, 2, 0, 0, 1, 1, 1, 1, 1});
                          y.reshape({y.shape()[0], y.shape()[1], y.shape()[3]});
                          return y;
                      })
                      .cases({{{2, 3, 7}, {4, 3, 3}, {4}}, {{1, 1, 4}, {2, 1, 2}}})
                      .bad_shapes({{2, 3, 7}, {4, 2, 3}}));

// ---- forward values worked by hand ----

TEST_CASE("conv2d: a 2x2 kernel of ones sums each window") {
    Tensor<double> x(xt::xarray<double>{{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});
    Tensor<double> w(xt::ones<double>({1, 1, 2, 2}));
    // 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9
    CHECK(conv2d(x, w).value() == xt::xarray<double>{{{{12, 16}, {24, 28}}}});
    Tensor<double> b(xt::xarray<double>{0.5});
    CHECK(conv2d(x, w, b).value() == xt::xarray<double>{{{{12.5, 16.5}, {24.5, 28.5}}}});
}

TEST_CASE("conv2d: stride and zero padding") {
    Tensor<double> x(xt::xarray<double>{{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});
    Tensor<double> w(xt::xarray<double>{{{{1, 0}, {0, 1}}}});  // top-left + bottom-right
    // padded by 1, windows start at (−1, −1), (−1, 1), (1, −1), (1, 1); top-left + bottom-right:
    // 0 + x[0][0], 0 + x[0][2], 0 + x[2][0], x[1][1] + x[2][2]
    const auto y = conv2d(x, w, Tensor<double>(), ConvOptions().stride(2).padding(1));
    CHECK(y.value() == xt::xarray<double>{{{{1, 3}, {7, 14}}}});
}

TEST_CASE("conv2d: padding same keeps the size, even kernels pad bottom/right") {
    Tensor<double> x(xt::xarray<double>{{{{1, 2}, {3, 4}}}});
    Tensor<double> w(xt::ones<double>({1, 1, 2, 2}));
    // total padding 1, after: windows at (0,0), (0,1), (1,0), (1,1) over the padded 3×3
    // 1+2+3+4, 2+4, 3+4, 4
    const auto y = conv2d(x, w, Tensor<double>(), ConvOptions().padding(Padding::same));
    CHECK(y.value() == xt::xarray<double>{{{{10, 6}, {7, 4}}}});
}

TEST_CASE("conv_transpose2d: stride 2 places a copy of the kernel per input pixel") {
    Tensor<double> x(xt::xarray<double>{{{{1, 2}, {3, 4}}}});
    Tensor<double> w(xt::xarray<double>{{{{1, 10}, {100, 1000}}}});
    const auto y = conv_transpose2d(x, w, Tensor<double>(), ConvOptions().stride(2));
    // out 4×4: block (i, j) is x[i][j]·w
    CHECK(y.value() ==
          xt::xarray<double>{
              {{{1, 10, 2, 20}, {100, 1000, 200, 2000}, {3, 30, 4, 40}, {300, 3000, 400, 4000}}}});
}

TEST_CASE("conv1d: a length-2 difference kernel") {
    Tensor<double> x(xt::xarray<double>{{{1, 4, 9, 16}}});
    Tensor<double> w(xt::xarray<double>{{{-1, 1}}});
    CHECK(conv1d(x, w).value() == xt::xarray<double>{{{3, 5, 7}}});  // 4−1, 9−4, 16−9
}

// ---- implementation paths: chunks of the batch and float ----

TEST_CASE("conv2d: batch chunks and worker threads do not change values or gradients") {
    manual_seed(3);
    // 20 images, so that im2col chunks of 2 images occur (a chunk is at most an eighth of the
    // batch, or of a weight-gradient chunk: docs/convolution.md)
    auto x = randn<double>({20, 3, 6, 7}, 0.0, 1.0, true);
    auto w = randn<double>({4, 3, 3, 2}, 0.0, 1.0, true);
    auto b = randn<double>({4}, 0.0, 1.0, true);
    auto x1 = randn<double>({3, 4, 5, 5}, 0.0, 1.0, true);  // 1×1 kernel: no im2col
    auto w1 = randn<double>({2, 4, 1, 1}, 0.0, 1.0, true);
    const auto opt = ConvOptions().stride({1, 2}).padding(1);
    auto run = [&](std::size_t limit, std::size_t threads) {
        const tuning::Override chunk(tuning::conv_workspace_limit(), limit);
        const tuning::Override workers(tuning::batch_threads(), threads);
        const tuning::Override split(tuning::batch_parallel_min_work(), 0);  // even these tiny ones
        auto y = conv2d(x, w, b, opt);
        auto y1 = conv2d(x1, w1);
        auto g = grad<double>({add(sum(mul(y, y)), sum(mul(y1, y1)))}, {x, w, b, x1, w1});
        g.push_back(y);
        g.push_back(y1);
        return g;
    };
    const auto reference = run(1u << 24, 1);  // the whole batch in one chunk, one thread
    // im2col of one image: rows 3·3·2 = 18, P = 6·4 = 24, so 2·18·24 holds two images
    for (std::size_t limit : {std::size_t(1), std::size_t(2 * 18 * 24)}) {
        const auto one_thread = run(limit, 1);
        for (std::size_t threads : {1, 2, 3}) {
            INFO("limit ", limit, ", threads ", threads);
            const auto other = run(limit, threads);
            for (std::size_t i = 0; i < other.size(); ++i) {
                CHECK(xt::allclose(other[i].value(), reference[i].value(), 1e-12, 1e-12));
                // and the same bits with any number of workers (Note [fixed reduction order])
                CHECK(other[i].value() == one_thread[i].value());
            }
        }
    }
}

TEST_CASE("conv2d: float agrees with double") {
    manual_seed(4);
    auto xd = randn<double>({2, 3, 8, 8}), wd = randn<double>({5, 3, 3, 3});
    Tensor<float> xf(xt::xarray<float>(xd.value())), wf(xt::xarray<float>(wd.value()));
    const auto opt = ConvOptions().padding(Padding::same);
    const xt::xarray<double> yf = conv2d(xf, wf, Tensor<float>(), opt).value();
    CHECK(xt::allclose(yf, conv2d(xd, wd, Tensor<double>(), opt).value(), 1e-4, 1e-4));
}

TEST_CASE("conv2d: backward lists conv_transpose2d and conv2d_weight on the gradient tape") {
    auto x = randn<double>({1, 2, 4, 4}, 0.0, 1.0, true);
    auto w = randn<double>({3, 2, 3, 3}, 0.0, 1.0, true);
    auto y = conv2d(x, w);
    auto g = grad<double>({sum(y)}, {x, w}, /*create_graph=*/true);
    CHECK(std::string(g[0].op_name()) == "conv_transpose2d");
    CHECK(std::string(g[1].op_name()) == "conv2d_weight");
}

// ---- errors ----

TEST_CASE("conv2d: channel mismatch names the op and both shapes") {
    Tensor<double> x(xt::zeros<double>({2, 3, 8, 8})), w(xt::zeros<double>({4, 2, 3, 3}));
    CHECK_THROWS_WITH_AS(
        conv2d(x, w),
        "conv2d: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] expects 2 (groups=1)",
        ShapeError);
}

TEST_CASE("conv2d: a kernel larger than the padded input is a ShapeError") {
    Tensor<double> x(xt::zeros<double>({1, 1, 3, 3})), w(xt::zeros<double>({1, 1, 5, 5}));
    CHECK_THROWS_WITH_AS(conv2d(x, w),
                         "conv2d: kernel 5x5 (dilation [1, 1], so 5x5) is larger than the padded "
                         "input 3x3 (padding [0, 0]); got x=[1, 1, 3, 3], weight=[1, 1, 5, 5]",
                         ShapeError);
    CHECK_NOTHROW(conv2d(x, w, Tensor<double>(), ConvOptions().padding(1)));  // 5×5 padded
}

TEST_CASE("conv2d: bad attributes are ValueErrors") {
    Tensor<double> x(xt::zeros<double>({1, 2, 5, 5})), w(xt::zeros<double>({2, 2, 3, 3}));
    CHECK_THROWS_AS(conv2d(x, w, Tensor<double>(), ConvOptions().stride(0)), ValueError);
    CHECK_THROWS_AS(conv2d(x, w, Tensor<double>(), ConvOptions().groups(0)), ValueError);
    CHECK_THROWS_WITH_AS(
        conv2d(x, w, Tensor<double>(), ConvOptions().stride(2).padding(Padding::same)),
        "conv2d: padding 'same' needs stride 1; got stride=[2, 2]", ValueError);
    CHECK_THROWS_AS(conv_transpose2d(x, w, Tensor<double>(), ConvOptions().output_padding(1)),
                    ValueError);  // output_padding 1 ≥ stride 1 and dilation 1
}
