#include "nn/linear.hpp"

#include "autograd/graph.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {
// x [..., in] · weight [out, in]ᵀ + bias [out], in plain loops.
Array naive_linear(const A& a) {
    const Array& x = a[0];
    const Array& w = a[1];
    const std::size_t in = w.shape()[1], out = w.shape()[0], rows = x.size() / in;
    Shape shape = x.shape();
    shape.back() = out;
    Array y = Array::from_shape(shape);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t o = 0; o < out; ++o) {
            double s = a.size() > 2 ? a[2](o) : 0.0;
            for (std::size_t i = 0; i < in; ++i)
                s += x.data()[r * in + i] * w(o, i);
            y.data()[r * out + o] = s;
        }
    }
    return y;
}
}  // namespace

// First order runs the raw-gemm VJP, second order (create_graph) the composed one.
XGRAD_REGISTER_OP(OpSpec("fused_linear",
                         [](const Tensors& x) {
                             return x.size() > 2 ? nn::fused_linear(x[0], x[1], x[2])
                                                 : nn::fused_linear(x[0], x[1], Tensor<double>());
                         })
                      .reference(naive_linear)
                      .cases({{{5, 4}, {3, 4}, {3}},
                              {{2, 5, 4}, {3, 4}, {3}},
                              {{1, 1}, {1, 1}, {1}},
                              {{4}, {3, 4}, {3}},
                              {{5, 4}, {3, 4}}})
                      .bad_shapes({{32, 784}, {300, 100}, {300}}));

TEST_CASE("fused_linear: forward adds the bias to every row") {
    Tensor<double> x(xt::xarray<double>{{1, 2}, {3, 4}});
    Tensor<double> w(xt::xarray<double>{{1, 0}, {1, 1}, {0, 2}});
    Tensor<double> b(xt::xarray<double>{10, 20, 30});
    // row 1: (1, 1+2, 2·2) + b = (11, 23, 34); row 2: (3, 3+4, 2·4) + b = (13, 27, 38)
    CHECK(nn::fused_linear(x, w, b).value() == xt::xarray<double>{{11, 23, 34}, {13, 27, 38}});
}

TEST_CASE("fused_linear: gradients equal those of linear, only for inputs that require grad") {
    manual_seed(5);
    auto x = rand<double>({2, 3, 4}, -1.0, 1.0);  // no grad: the first layer's input
    auto w = rand<double>({5, 4}, -1.0, 1.0, true);
    auto b = rand<double>({5}, -1.0, 1.0, true);
    auto g = rand<double>({2, 3, 5}, -1.0, 1.0);
    const auto fused = grad<double>({nn::fused_linear(x, w, b)}, {w, b}, false, false, {g});
    const auto plain = grad<double>({linear(x, w, b)}, {w, b}, false, false, {g});
    CHECK(xt::allclose(fused[0].value(), plain[0].value(), 1e-12, 1e-12));
    CHECK(xt::allclose(fused[1].value(), plain[1].value(), 1e-12, 1e-12));
    const auto y = nn::fused_linear(x, w, b);
    CHECK(std::string(y.op_name()) == "linear");
    CHECK(!x.grad().defined());
}

TEST_CASE("Linear: forward is the fused op with PyTorch's init bounds") {
    manual_seed(0);
    nn::Linear<float> layer(4, 3);
    CHECK(layer.weight().shape() == Shape{3, 4});
    CHECK(xt::amax(xt::abs(layer.weight().value()))() <= 0.5f);  // 1/√4
    const auto y = layer(ones<float>({2, 4}));
    CHECK(std::string(y.op_name()) == "linear");
    CHECK(y.shape() == Shape{2, 3});
    CHECK_THROWS_WITH_AS(layer(ones<float>({2, 5})), doctest::Contains("x=[2, 5]"), ShapeError);
}

TEST_CASE("fused_linear: the create_graph VJP equals the ordinary one") {
    // The harness checks the ordinary VJP against finite differences and the create_graph one
    // for consistent second derivatives; this ties the two first derivatives together.
    manual_seed(6);
    auto x = rand<double>({2, 3, 4}, -1.0, 1.0, true);
    auto w = rand<double>({5, 4}, -1.0, 1.0, true);
    auto b = rand<double>({5}, -1.0, 1.0, true);
    auto g = rand<double>({2, 3, 5}, -1.0, 1.0);
    const auto y = nn::fused_linear(x, w, b);
    const auto plain = grad<double>({y}, {x, w, b}, false, true, {g});
    const auto composed = grad<double>({y}, {x, w, b}, true, true, {g});
    CHECK(composed[0].requires_grad());  // G·W depends on W
    CHECK(composed[1].requires_grad());  // Gᵀ·x depends on x
    for (std::size_t k = 0; k < 3; ++k) {
        CHECK(xt::allclose(composed[k].value(), plain[k].value(), 1e-12, 1e-14));
    }
}
