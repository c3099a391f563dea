#include "autograd/ops/elementwise.hpp"

#include "autograd/ops/reduce.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include <cmath>
#include <cstring>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {
// Input shape sets shared by the binary ops: equal, row broadcast, both sides broadcast,
// scalar with matrix, rank mismatch, an empty axis.
const std::vector<std::vector<Shape>> binary_cases = {{{2, 3}, {2, 3}},    {{2, 3}, {3}},
                                                      {{2, 1}, {1, 3}},    {{}, {2, 3}},
                                                      {{4, 1, 3}, {2, 1}}, {{0, 3}, {3}}};
const std::vector<std::vector<Shape>> unary_cases = {{{2, 3}}, {{}}, {{3, 1, 2}}, {{0}}};
const std::vector<Shape> not_broadcastable = {{2, 3}, {4, 3}};
const char* elementwise = "elementwise over any shape";
}  // namespace

XGRAD_REGISTER_OP(OpSpec("add", [](const Tensors& x) { return x[0] + x[1]; })
                      .reference([](const A& a) { return Array(a[0] + a[1]); })
                      .cases(binary_cases)
                      .bad_shapes(not_broadcastable));
XGRAD_REGISTER_OP(OpSpec("sub", [](const Tensors& x) { return x[0] - x[1]; })
                      .reference([](const A& a) { return Array(a[0] - a[1]); })
                      .cases(binary_cases)
                      .bad_shapes(not_broadcastable));
XGRAD_REGISTER_OP(OpSpec("mul", [](const Tensors& x) { return x[0] * x[1]; })
                      .reference([](const A& a) { return Array(a[0] * a[1]); })
                      .cases(binary_cases)
                      .bad_shapes(not_broadcastable));
XGRAD_REGISTER_OP(OpSpec("div", [](const Tensors& x) { return x[0] / x[1]; })
                      .reference([](const A& a) { return Array(a[0] / a[1]); })
                      .cases(binary_cases)
                      .samplers({harness::uniform(), harness::away_from({0.0}, 0.5)})
                      .bad_shapes(not_broadcastable));
XGRAD_REGISTER_OP(OpSpec("neg", [](const Tensors& x) { return -x[0]; })
                      .reference([](const A& a) { return Array(-a[0]); })
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("pow", [](const Tensors& x) { return pow(x[0], 3.0) + pow(x[0], 2.0); })
                      .reference([](const A& a) { return Array(a[0] * a[0] * a[0] + a[0] * a[0]); })
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("pow_tensor", [](const Tensors& x) { return pow(x[0], x[1]); })
                      .reference([](const A& a) { return Array(xt::exp(a[1] * xt::log(a[0]))); })
                      .cases(binary_cases)
                      .samplers({harness::uniform(0.5, 2.0), harness::uniform(-1.5, 1.5)})
                      .bad_shapes(not_broadcastable));
XGRAD_REGISTER_OP(OpSpec("exp", [](const Tensors& x) { return exp(x[0]); })
                      .reference(harness::map([](double v) { return std::exp(v); }))
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("log", [](const Tensors& x) { return log(x[0]); })
                      .reference(harness::map([](double v) { return std::log(v); }))
                      .cases(unary_cases)
                      .samplers({harness::uniform(0.3, 3.0)})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("sqrt", [](const Tensors& x) { return sqrt(x[0]); })
                      .reference(harness::map([](double v) { return std::sqrt(v); }))
                      .cases(unary_cases)
                      .samplers({harness::uniform(0.3, 3.0)})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("abs", [](const Tensors& x) { return abs(x[0]); })
                      .reference(harness::map([](double v) { return v < 0 ? -v : v; }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({0.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("tanh", [](const Tensors& x) { return tanh(x[0]); })
                      .reference(harness::map([](double v) {
                          return (std::exp(2 * v) - 1) / (std::exp(2 * v) + 1);
                      }))
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("sigmoid", [](const Tensors& x) { return sigmoid(x[0]); })
                      .reference(harness::map([](double v) { return 1 / (1 + std::exp(-v)); }))
                      .cases(unary_cases)
                      .samplers({harness::uniform(-6, 6)})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("relu", [](const Tensors& x) { return relu(x[0]); })
                      .reference(harness::map([](double v) { return v > 0 ? v : 0; }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({0.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("leaky_relu", [](const Tensors& x) { return leaky_relu(x[0], 0.1); })
                      .reference(harness::map([](double v) { return v > 0 ? v : 0.1 * v; }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({0.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("elu", [](const Tensors& x) { return elu(x[0], 1.5); })
                      .reference(harness::map([](double v) {
                          return v > 0 ? v : 1.5 * (std::exp(v) - 1);
                      }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({0.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("softplus", [](const Tensors& x) { return softplus(x[0]); })
                      .reference(harness::map([](double v) { return std::log(1 + std::exp(v)); }))
                      .cases(unary_cases)
                      .samplers({harness::uniform(-5, 5)})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("clamp", [](const Tensors& x) { return clamp(x[0], -0.5, 1.0); })
                      .reference(harness::map([](double v) {
                          return v < -0.5 ? -0.5 : (v > 1.0 ? 1.0 : v);
                      }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({-0.5, 1.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("erf", [](const Tensors& x) { return erf(x[0]); })
                      .reference(harness::map([](double v) { return 1 - std::erfc(v); }))
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("gelu", [](const Tensors& x) { return gelu(x[0]); })
                      .reference(harness::map([](double v) {
                          return v * 0.5 * std::erfc(-v / std::sqrt(2.0));  // x·Φ(x)
                      }))
                      .cases(unary_cases)
                      .samplers({harness::uniform(-4, 4)})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("gelu_tanh", [](const Tensors& x) { return gelu(x[0], "tanh"); })
                      .reference(harness::map([](double v) {
                          const double u = std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v);
                          return 0.5 * v * (1 + std::tanh(u));
                      }))
                      .cases(unary_cases)
                      .samplers({harness::uniform(-4, 4)})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("silu", [](const Tensors& x) { return silu(x[0]); })
                      .reference(harness::map([](double v) { return v / (1 + std::exp(-v)); }))
                      .cases(unary_cases)
                      .samplers({harness::uniform(-5, 5)})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("selu", [](const Tensors& x) { return selu(x[0]); })
                      .reference(harness::map([](double v) {
                          const double alpha = 1.6732632423543772, scale = 1.0507009873554805;
                          return scale * (v > 0 ? v : alpha * (std::exp(v) - 1));
                      }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({0.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("prelu", [](const Tensors& x) { return prelu(x[0], x[1]); })
                      .reference([](const A& a) {
                          // per channel: the slope of x's position along axis 1
                          Array y = a[0];
                          for (std::size_t e = 0; e < y.size(); ++e) {
                              const auto c = harness::unravel(e, y.shape())[1];
                              const double v = y.data()[e];
                              y.data()[e] = v > 0 ? v : a[1](c) * v;
                          }
                          return y;
                      })
                      .cases({{{2, 3}, {3}}, {{2, 3, 4}, {3}}, {{2, 3, 2, 2}, {3}}, {{0, 3}, {3}}})
                      .samplers({harness::away_from({0.0}), harness::uniform(0.05, 0.5)})
                      .bad_shapes({{2, 3}, {4}}));  // 4 slopes for 3 channels
XGRAD_REGISTER_OP(OpSpec("prelu_single", [](const Tensors& x) { return prelu(x[0], x[1]); })
                      .reference([](const A& a) {
                          Array y = a[0];
                          for (auto& v : y)
                              v = v > 0 ? v : a[1].data()[0] * v;
                          return y;
                      })
                      .cases({{{2, 3}, {1}}, {{4}, {1}}, {{}, {1}}, {{2, 3, 2}, {}}})
                      .samplers({harness::away_from({0.0}), harness::uniform(0.05, 0.5)})
                      .bad_shapes({{4}, {2}}));  // a 1-D x has no channels: one slope only
XGRAD_REGISTER_OP(OpSpec("maximum", [](const Tensors& x) { return maximum(x[0], x[1]); })
                      .reference([](const A& a) {
                          return Array(xt::where(a[0] > a[1], a[0], a[1]));
                      })
                      .cases(binary_cases)
                      .samplers({harness::distinct(0.0), harness::distinct(0.05)})
                      .bad_shapes(not_broadcastable));
XGRAD_REGISTER_OP(OpSpec("minimum", [](const Tensors& x) { return minimum(x[0], x[1]); })
                      .reference([](const A& a) {
                          return Array(xt::where(a[0] < a[1], a[0], a[1]));
                      })
                      .cases(binary_cases)
                      .samplers({harness::distinct(0.0), harness::distinct(0.05)})
                      .bad_shapes(not_broadcastable));
XGRAD_REGISTER_OP(OpSpec("where", [](const Tensors& x) { return where(x[0], x[1], x[2]); })
                      .reference([](const A& a) {
                          return Array(xt::where(xt::not_equal(a[0], 0.0), a[1], a[2]));
                      })
                      .cases({{{2, 3}, {2, 3}, {2, 3}}, {{2, 3}, {3}, {2, 1}}, {{3}, {2, 3}, {}}})
                      .samplers({harness::integers(2), harness::uniform()})
                      .constant_inputs({0})
                      .bad_shapes({{2, 3}, {4, 3}, {2, 3}}));

#define XGRAD_REGISTER_COMPARISON(NAME, EXPR)                                                  \
    XGRAD_REGISTER_OP(OpSpec(#NAME, [](const Tensors& x) { return NAME(x[0], x[1]); })         \
                          .reference([](const A& a) { return Array(xt::cast<double>(EXPR)); }) \
                          .cases(binary_cases)                                                 \
                          .samplers({harness::integers(3)})                                    \
                          .not_differentiable()                                                \
                          .bad_shapes(not_broadcastable))
XGRAD_REGISTER_COMPARISON(eq, xt::equal(a[0], a[1]));
XGRAD_REGISTER_COMPARISON(ne, xt::not_equal(a[0], a[1]));
XGRAD_REGISTER_COMPARISON(lt, a[0] < a[1]);
XGRAD_REGISTER_COMPARISON(le, a[0] <= a[1]);
XGRAD_REGISTER_COMPARISON(gt, a[0] > a[1]);
XGRAD_REGISTER_COMPARISON(ge, a[0] >= a[1]);

TEST_CASE("gelu, silu, selu: values at a few points") {
    Tensor<double> x(xt::xarray<double>{-1, 0, 1});
    // gelu(1) = Φ(1) = 0.841345, gelu(−1) = −(1 − Φ(1)) = −0.158655
    CHECK(xt::allclose(gelu(x).value(), xt::xarray<double>{-0.158655, 0, 0.841345}, 1e-5));
    // tanh form: ½(1 + tanh(0.797885·1.044715)) = 0.841192
    CHECK(xt::allclose(gelu(x, "tanh").value(), xt::xarray<double>{-0.158808, 0, 0.841192}, 1e-5));
    // silu(1) = 1·σ(1) = 0.731059
    CHECK(xt::allclose(silu(x).value(), xt::xarray<double>{-0.268941, 0, 0.731059}, 1e-5));
    // selu(−1) = 1.0507·1.6733·(e^−1 − 1) = −1.111330; selu(1) = 1.0507
    CHECK(xt::allclose(selu(x).value(), xt::xarray<double>{-1.111330, 0, 1.050701}, 1e-5));
    CHECK_THROWS_WITH_AS(gelu(x, "fast"),
                         "gelu: approximate must be \"none\" or \"tanh\"; got \"fast\"",
                         ValueError);
}

TEST_CASE("prelu: one slope per channel, and its gradient") {
    Tensor<double> x(xt::xarray<double>{{-1, 2}, {-3, -4}}, true);
    Tensor<double> w(xt::xarray<double>{0.1, 0.5}, true);
    auto y = prelu(x, w);
    CHECK(xt::allclose(y.value(), xt::xarray<double>{{-0.1, 2}, {-0.3, -2}}));
    sum(y).backward();
    CHECK(xt::allclose(x.grad().value(), xt::xarray<double>{{0.1, 1}, {0.1, 0.5}}));
    CHECK(xt::allclose(w.grad().value(), xt::xarray<double>{-4, -4}));  // Σ min(x, 0) per channel
}

TEST_CASE("mul: forward broadcasts a row") {
    Tensor<double> a(xt::xarray<double>{{1, 2}, {3, 4}});
    Tensor<double> b(xt::xarray<double>{10, 100});
    CHECK(mul(a, b).value() ==
          xt::xarray<double>{{10, 200}, {30, 400}});  // 1·10, 2·100, 3·10, 4·100
}

TEST_CASE("mul: shapes that do not broadcast are named") {
    Tensor<double> a(xt::zeros<double>({2, 3})), b(xt::zeros<double>({4, 3}));
    CHECK_THROWS_WITH_AS(mul(a, b), doctest::Contains("a=[2, 3], b=[4, 3]"), ShapeError);
}

TEST_CASE("operators: numbers on either side become constants") {
    auto x = scalar(2.0, true);
    auto y = 3.0 * x - x / 4.0 + 1.0;  // 6 − 0.5 + 1 = 6.5;  dy/dx = 3 − 1/4 = 2.75
    y.backward();
    CHECK(y.item() == 6.5);
    CHECK(x.grad().item() == 2.75);
}

TEST_CASE("sigmoid: finite for large |x| and exact at 0") {
    Tensor<double> x(xt::xarray<double>{-1000, 0, 1000});
    auto y = sigmoid(x);
    CHECK(y(0) == 0.0);  // e^−1000 underflows to 0 without producing inf/inf
    CHECK(y(1) == 0.5);
    CHECK(y(2) == 1.0);
}

TEST_CASE("relu: the gradient at 0 is 0") {
    Tensor<double> x(xt::xarray<double>{-1, 0, 2}, true);
    relu(x).backward(Tensor<double>(xt::xarray<double>{1, 1, 1}));
    CHECK(x.grad().value() ==
          xt::xarray<double>{0, 0, 1});  // relu'(−1) = 0, relu'(0) = 0, relu'(2) = 1
}

TEST_CASE("relu: the one-pass VJP and the create_graph VJP agree") {
    Tensor<double> x(xt::xarray<double>{-1.5, 0, 0.25, 2}, true);
    Tensor<double> g(xt::xarray<double>{0.3, -0.7, 1.1, -2}, true);
    const auto plain = grad(relu(x), x, /*create_graph=*/false, std::nullopt, g);
    const auto graph = grad(relu(x), x, /*create_graph=*/true, std::nullopt, g);
    CHECK(plain.value() == xt::xarray<double>{0, 0, 1.1, -2});  // g where x > 0, else 0
    CHECK(graph.value() == plain.value());
    CHECK(graph.requires_grad());  // recorded as g ⊙ mask, so it differentiates through g
    CHECK_FALSE(plain.requires_grad());
}

TEST_CASE("maximum: ties split the gradient evenly") {
    Tensor<double> a(xt::xarray<double>{1, 2}, true), b(xt::xarray<double>{1, 3}, true);
    maximum(a, b).backward(Tensor<double>(xt::xarray<double>{1, 1}));
    CHECK(a.grad().value() == xt::xarray<double>{0.5, 0});  // tie at 1: half; 2 < 3: none
    CHECK(b.grad().value() == xt::xarray<double>{0.5, 1});
}

TEST_CASE("clamp: lo above hi is a ValueError") {
    Tensor<double> x(xt::xarray<double>{1});
    CHECK_THROWS_WITH_AS(clamp(x, 2.0, 1.0), doctest::Contains("lo=2, hi=1"), ValueError);
}

TEST_CASE("comparisons: record nothing and give 0/1") {
    Tensor<double> a(xt::xarray<double>{1, 2, 3}, true), b(xt::xarray<double>{2, 2, 2});
    auto m = a > b;
    CHECK(!m.requires_grad());
    CHECK(m.value() == xt::xarray<double>{0, 0, 1});
}

namespace {

// Note [one formula per value]: 509 values in [lo, hi] as the 16 identical rows of [16, 509]
// (row r starts 13·r elements past a multiple of 16, so each value sits at every offset modulo
// 16 floats or 8 doubles) and one at a time as one-element tensors: every copy of a value must
// give the same bits. Counts the values that do not.
template <class T, class Op>
std::size_t position_dependent(Op op, T lo, T hi) {
    constexpr std::size_t n = 509, rows = 16;
    xt::xarray<T> x = xt::xarray<T>::from_shape({rows, n});
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t i = 0; i < n; ++i)
            x(r, i) = lo + (hi - lo) * static_cast<T>(i) / static_cast<T>(n - 1);
    const xt::xarray<T> y = op(Tensor<T>(x)).value();
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T alone = op(Tensor<T>(xt::xarray<T>{x(0, i)})).value()(0);
        bool same = std::memcmp(&alone, &y(0, i), sizeof(T)) == 0;
        for (std::size_t r = 1; r < rows; ++r)
            same = same && std::memcmp(&y(r, i), &y(0, i), sizeof(T)) == 0;
        bad += same ? 0 : 1;
    }
    return bad;
}

template <class T>
void check_position_free() {
    using Tn = Tensor<T>;
    CHECK(position_dependent<T>([](const Tn& x) { return exp(x); }, -12, 12) == 0);
    CHECK(position_dependent<T>([](const Tn& x) { return log(x); }, T(0.01), 100) == 0);
    CHECK(position_dependent<T>([](const Tn& x) { return tanh(x); }, -5, 5) == 0);
    CHECK(position_dependent<T>([](const Tn& x) { return sigmoid(x); }, -20, 20) == 0);
    CHECK(position_dependent<T>([](const Tn& x) { return softplus(x); }, -20, 20) == 0);
    CHECK(position_dependent<T>([](const Tn& x) { return elu(x, T(0.7)); }, -5, 5) == 0);
    CHECK(position_dependent<T>([](const Tn& x) { return pow(x, T(1.7)); }, T(0.01), 10) == 0);
}

}  // namespace

TEST_CASE(
    "exp, log, tanh, sigmoid, softplus, elu, pow: a value's bits do not depend on where "
    "it sits") {
    SUBCASE("float") {
        check_position_free<float>();
    }
    SUBCASE("double") {
        check_position_free<double>();
    }
}
