#include "nn/activation.hpp"

#include "autograd/ops/reduce.hpp"
#include "harness.hpp"
#include "nn/module.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include <cmath>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {
const std::vector<std::vector<Shape>> unary_cases = {{{3, 4}}, {{2, 3, 2}}};
const char* const elementwise = "elementwise: any shape";

// Softmax (or log-softmax) of a [r, c] array along axis 0, in plain loops.
harness::Reference softmax_axis0(bool log) {
    return [log](const A& a) {
        Array r = a[0];
        for (std::size_t j = 0; j < r.shape()[1]; ++j) {
            double m = -1e300, s = 0;
            for (std::size_t i = 0; i < r.shape()[0]; ++i)
                m = std::max(m, r(i, j));
            for (std::size_t i = 0; i < r.shape()[0]; ++i)
                s += std::exp(r(i, j) - m);
            for (std::size_t i = 0; i < r.shape()[0]; ++i)
                r(i, j) = log ? r(i, j) - m - std::log(s) : std::exp(r(i, j) - m) / s;
        }
        return r;
    };
}
}  // namespace

// Each activation module through the op harness: its forward (with a non-default attribute where
// it has one) against a plain reference, gradients and second derivatives against differences.
XGRAD_REGISTER_OP(OpSpec("nn::Sigmoid",
                         [](const Tensors& x) { return nn::Sigmoid<double>()(x[0]); })
                      .reference(harness::map([](double v) { return 1 / (1 + std::exp(-v)); }))
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("nn::Tanh", [](const Tensors& x) { return nn::Tanh<double>()(x[0]); })
                      .reference(harness::map([](double v) { return std::tanh(v); }))
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("nn::ReLU", [](const Tensors& x) { return nn::ReLU<double>()(x[0]); })
                      .reference(harness::map([](double v) { return v > 0 ? v : 0; }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({0.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("nn::LeakyReLU(0.2)",
                         [](const Tensors& x) { return nn::LeakyReLU<double>(0.2)(x[0]); })
                      .reference(harness::map([](double v) { return v > 0 ? v : 0.2 * v; }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({0.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(
    OpSpec("nn::ELU(0.5)", [](const Tensors& x) { return nn::ELU<double>(0.5)(x[0]); })
        .reference(harness::map([](double v) { return v > 0 ? v : 0.5 * (std::exp(v) - 1); }))
        .cases(unary_cases)
        .samplers({harness::away_from({0.0})})
        .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("nn::GELU", [](const Tensors& x) { return nn::GELU<double>()(x[0]); })
                      .reference(harness::map([](double v) {
                          return 0.5 * v * std::erfc(-v / std::sqrt(2.0));
                      }))
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("nn::GELU(tanh)",
                         [](const Tensors& x) { return nn::GELU<double>("tanh")(x[0]); })
                      .reference(harness::map([](double v) {
                          const double u = std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v);
                          return 0.5 * v * (1 + std::tanh(u));
                      }))
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("nn::SiLU", [](const Tensors& x) { return nn::SiLU<double>()(x[0]); })
                      .reference(harness::map([](double v) { return v / (1 + std::exp(-v)); }))
                      .cases(unary_cases)
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("nn::SELU", [](const Tensors& x) { return nn::SELU<double>()(x[0]); })
                      .reference(harness::map([](double v) {
                          return 1.0507009873554805 *
                                 (v > 0 ? v : 1.6732632423543772 * (std::exp(v) - 1));
                      }))
                      .cases(unary_cases)
                      .samplers({harness::away_from({0.0})})
                      .any_shape(elementwise));
XGRAD_REGISTER_OP(OpSpec("nn::PReLU(3) prelu",
                         [](const Tensors& x) { return nn::PReLU<double>(3)(x[0]); })
                      .reference(harness::map([](double v) { return v > 0 ? v : 0.25 * v; }))
                      .cases({{{2, 3}}, {{2, 3, 4}}})
                      .samplers({harness::away_from({0.0})})
                      .bad_shapes({{2, 4}}));  // 4 channels for 3 slopes
XGRAD_REGISTER_OP(OpSpec("nn::Softmax(axis=0) softmax",
                         [](const Tensors& x) { return nn::Softmax<double>(0)(x[0]); })
                      .reference(softmax_axis0(false))
                      .cases({{{3, 4}}, {{1, 2}}})
                      .bad_shapes({{}}));
XGRAD_REGISTER_OP(OpSpec("nn::LogSoftmax(axis=0) log_softmax",
                         [](const Tensors& x) { return nn::LogSoftmax<double>(0)(x[0]); })
                      .reference(softmax_axis0(true))
                      .cases({{{3, 4}}, {{1, 2}}})
                      .bad_shapes({{}}));

TEST_CASE("activations: forward values worked by hand") {
    const Tensor<double> x(xt::xarray<double>{-std::log(2.0), 0.0, 3.0});
    // σ(−ln 2) = 1/(1 + 2) = ⅓, σ(0) = ½, tanh(0) = 0, ReLU(−ln 2) = 0
    CHECK(nn::Sigmoid<double>()(x)(0) == doctest::Approx(1.0 / 3));
    CHECK(nn::Sigmoid<double>()(x)(1) == 0.5);
    CHECK(nn::Tanh<double>()(x)(1) == 0.0);
    CHECK(nn::ReLU<double>()(x).value() == xt::xarray<double>{0, 0, 3});
    // LeakyReLU(0.1): 0.1·(−ln 2); ELU(2): 2·(e^(−ln 2) − 1) = 2·(½ − 1) = −1; both keep 3
    CHECK(nn::LeakyReLU<double>(0.1)(x)(0) == doctest::Approx(-0.1 * std::log(2.0)));
    CHECK(nn::ELU<double>(2.0)(x)(0) == doctest::Approx(-1.0));
    CHECK(nn::ELU<double>(2.0)(x)(2) == 3.0);
    CHECK(nn::LeakyReLU<double>()(Tensor<double>(xt::xarray<double>{-1.0}))(0) ==
          doctest::Approx(-0.01));  // PyTorch's default slope
}

TEST_CASE(
    "Softmax: rows of (0, ln 3) are (¼, ¾), LogSoftmax is their log, the default axis is the "
    "last") {
    const Tensor<double> z(xt::xarray<double>{{0.0, std::log(3.0)}, {std::log(3.0), 0.0}});
    const auto p = nn::Softmax<double>()(z);  // e⁰ / (1 + 3) = ¼, 3 / 4 = ¾
    CHECK(p(0, 0) == doctest::Approx(0.25));
    CHECK(p(0, 1) == doctest::Approx(0.75));
    CHECK(p(1, 0) == doctest::Approx(0.75));
    CHECK(nn::LogSoftmax<double>()(z)(0, 0) == doctest::Approx(std::log(0.25)));
    const auto columns = nn::Softmax<double>(0)(z);  // along axis 0 the columns sum to 1
    CHECK(columns(0, 0) == doctest::Approx(0.25));
    CHECK(columns(1, 0) == doctest::Approx(0.75));
}

TEST_CASE("activations: no parameters, names and attributes for summary()") {
    nn::LeakyReLU<> leaky(0.2f);
    nn::ELU<> elu(1.5f);
    CHECK(leaky.parameters().empty());
    CHECK(elu.parameters().empty());
    CHECK(nn::Softmax<>().parameters().empty());
    CHECK(leaky.type_name() == "LeakyReLU");
    CHECK(leaky.extra_repr() == "slope=0.2");
    CHECK(elu.extra_repr() == "alpha=1.5");
    CHECK(nn::Sigmoid<>().type_name() == "Sigmoid");
    CHECK(nn::LogSoftmax<>().type_name() == "LogSoftmax");
}

TEST_CASE("PReLU: a parameter named weight, 0.25 by default, that learns") {
    nn::PReLU<double> one;
    nn::PReLU<double> per_channel(2, 0.1);
    REQUIRE(one.named_parameters().size() == 1);
    CHECK(one.named_parameters()[0].first == "weight");
    CHECK(one.weight().value() == xt::xarray<double>{0.25});
    CHECK(per_channel.weight().value() == xt::xarray<double>{0.1, 0.1});
    CHECK(per_channel.extra_repr() == "num_parameters=2");
    const Tensor<double> x(xt::xarray<double>{{-2, 1}, {-1, -3}});
    sum(per_channel(x)).backward();
    CHECK(per_channel.weight().grad().value() == xt::xarray<double>{-3, -3});  // Σ min(x, 0)
    CHECK_THROWS_AS(nn::GELU<double>("quick"), ValueError);
    CHECK(nn::GELU<>("tanh").extra_repr() == "approximate=tanh");
}

TEST_CASE("activations: float modules give the double results to float precision") {
    const xt::xarray<float> xf{-1.5f, -0.25f, 0.5f, 2.0f};
    const Tensor<double> xd(xt::xarray<double>(xt::cast<double>(xf)));
    CHECK(xt::allclose(xt::cast<double>(nn::Tanh<>()(Tensor<float>(xf)).value()),
                       nn::Tanh<double>()(xd).value(), 1e-6, 1e-7));
    CHECK(xt::allclose(xt::cast<double>(nn::ELU<>(0.5f)(Tensor<float>(xf)).value()),
                       nn::ELU<double>(0.5)(xd).value(), 1e-6, 1e-7));
}
