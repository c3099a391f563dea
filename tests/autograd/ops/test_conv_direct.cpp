// The direct convolution kernels (Note [direct conv]) against the im2col path and the harness.

#include "autograd/ops/conv.hpp"
#include "autograd/ops/conv_direct.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "autograd/tuning.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace xgrad;

namespace {

// Sets the conv path (and, optionally, the batch threads with no minimum work) for a scope.
struct PathGuard {
    tuning::Override<tuning::ConvPath> path;
    tuning::Override<std::size_t> threads;
    tuning::Override<double> work;
    explicit PathGuard(tuning::ConvPath p, std::size_t t = 1)
        : path(tuning::conv_path(), p),
          threads(tuning::batch_threads(), t),
          work(tuning::batch_parallel_min_work(), 0) {}
};

bool is_conv(const harness::OpSpec& spec) {
    return spec.name.rfind("conv", 0) == 0;
}

// y = conv2d(x, w, b) and the gradients of Σ y·u (u fixed) for x, w and b, in float.
std::vector<xt::xarray<float>> run_float(const Shape& xs, const Shape& ws, const ConvOptions& opt,
                                         tuning::ConvPath path, std::size_t threads) {
    PathGuard guard(path, threads);
    manual_seed(11);
    auto x = randn<float>(xs, 0.0, 1.0, true);
    auto w = randn<float>(ws, 0.0, 1.0, true);
    auto b = randn<float>({ws[0]}, 0.0, 1.0, true);
    auto y = conv2d(x, w, b, opt);
    auto u = randn<float>(y.shape());
    auto g = grad<float>({sum(mul(y, u))}, {x, w, b});
    return {y.value(), g[0].value(), g[1].value(), g[2].value()};
}

}  // namespace

TEST_CASE("conv direct: the harness's conv ops pass with the direct kernels forced") {
    PathGuard guard(tuning::ConvPath::direct);
    std::size_t checked = 0;
    for (const auto& spec : harness::registry()) {
        if (!is_conv(spec)) continue;
        for (std::size_t c = 0; c < spec.shapes.size(); ++c) {
            INFO("op: ", spec.name, ", case ", c);
            auto xs = harness::sample_inputs(spec, c);
            std::vector<harness::Array> values;
            for (const auto& x : xs)
                values.push_back(x.value());
            CHECK(xt::allclose(spec.fn(xs).value(), spec.ref(values), 1e-12, 1e-12));
            const auto r1 = gradcheck(spec.fn, xs, spec.options);
            INFO(r1.message);
            CHECK(r1.ok);
            const auto r2 = gradgradcheck(spec.fn, xs, spec.options);
            INFO(r2.message);
            CHECK(r2.ok);
            ++checked;
        }
    }
    CHECK(checked >= 18);  // 9 conv registrations (test_conv.cpp), 2 cases each
}

TEST_CASE("conv direct: float values and gradients agree with im2col, on 1 and 2 threads") {
    struct Case {
        Shape x, w;
        ConvOptions opt;
    };
    const std::vector<Case> cases = {
        {{3, 20, 9, 8}, {24, 20, 5, 5}, ConvOptions().padding(Padding::same)},  // 2 blocks
        {{2, 1, 12, 12}, {32, 1, 5, 5}, ConvOptions().padding(2)},              // first layer
        {{2, 8, 7, 9}, {16, 8, 3, 2}, ConvOptions().stride({2, 1}).padding({1, 0})},
        {{2, 6, 9, 9}, {18, 3, 3, 3}, ConvOptions().groups(2).dilation(2).padding(3)},
        {{1, 4, 5, 5}, {17, 4, 4, 4}, ConvOptions().padding(Padding::same)},  // even kernel
        {{2, 16, 6, 6}, {16, 16, 3, 3}, ConvOptions().padding(5)},  // padding past the kernel
    };
    for (const auto& c : cases) {
        INFO("x ", shape_str(c.x), ", w ", shape_str(c.w));
        const auto expected = run_float(c.x, c.w, c.opt, tuning::ConvPath::im2col, 1);
        for (std::size_t threads : {1, 2}) {
            const auto got = run_float(c.x, c.w, c.opt, tuning::ConvPath::direct, threads);
            for (std::size_t i = 0; i < got.size(); ++i) {
                INFO("output ", i, ", threads ", threads);
                REQUIRE(got[i].shape() == expected[i].shape());
                CHECK(xt::allclose(got[i], expected[i], 1e-4, 1e-4));
            }
        }
    }
}

TEST_CASE("conv direct: automatic picks it for wide layers, im2col for 1x1 and narrow ones") {
    detail::ConvGeometry g;
    g.n = 64, g.c = 32, g.h = g.w = 14, g.o = 64, g.kh = g.kw = 5, g.oh = g.ow = 14;
    g.ph = g.pw = 2;
    CHECK(detail::direct_forward(g));
    CHECK(detail::direct_input_grad(g));
    CHECK(detail::direct_weight_grad(g));
    g.c = 1;  // a first layer: dx would fill 1 lane of 16
    CHECK(detail::direct_forward(g));
    CHECK(!detail::direct_input_grad(g));
    g.c = 6, g.o = 16, g.ph = g.pw = 0, g.oh = g.ow = 10;  // LeNet's second conv, "valid"
    CHECK(detail::direct_forward(g));
    CHECK(detail::direct_weight_grad(g));
    CHECK(!detail::direct_input_grad(g));  // 6 of 16 lanes, and 196 outputs from 100 pixels
    g.o = 64, g.ph = g.pw = 2, g.oh = g.ow = 14;
    g.sh = g.sw = 2, g.oh = g.ow = 7;  // the input gradient of a strided conv is not a correlation
    g.c = 32;
    CHECK(!detail::direct_input_grad(g));
    {
        PathGuard forced(tuning::ConvPath::direct);
        CHECK(!detail::direct_input_grad(g));
    }
    g.sh = g.sw = 1, g.oh = g.ow = 14, g.kh = g.kw = 1, g.ph = g.pw = 0;  // 1×1: a plain gemm
    CHECK(!detail::direct_forward(g));
    PathGuard forced(tuning::ConvPath::im2col);
    g.kh = g.kw = 5, g.ph = g.pw = 2;
    CHECK(!detail::direct_forward(g));
}
