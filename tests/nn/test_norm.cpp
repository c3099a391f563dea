#include "nn/norm.hpp"

#include "autograd/gradcheck.hpp"
#include "autograd/random.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace xgrad;

TEST_CASE("LayerNorm: weight of ones and bias of zeros, of normalized_shape") {
    nn::LayerNorm<double> ln({2, 3});
    const auto params = ln.named_parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].first == "weight");
    CHECK(params[1].first == "bias");
    CHECK(ln.weight().value() == xt::ones<double>({2, 3}));
    CHECK(ln.bias().value() == xt::zeros<double>({2, 3}));
    CHECK(ln.named_buffers().empty());  // no running statistics
    CHECK(ln.extra_repr() ==
          "normalized_shape=[2, 3], eps=1e-05, elementwise_affine=true, bias=true");
    CHECK(nn::LayerNorm<float>(64).weight().shape() == Shape{64});
    CHECK(nn::LayerNorm<float>(nn::LayerNormOptions(8).elementwise_affine(false))
              .parameters()
              .empty());
    nn::LayerNorm<float> scale_only(nn::LayerNormOptions({8}).bias(false));
    CHECK(scale_only.parameters().size() == 1);
    CHECK(!scale_only.bias().defined());
}

TEST_CASE("LayerNorm: each sample normalised on its own, in training and evaluation alike") {
    nn::LayerNorm<double> ln(nn::LayerNormOptions(4).eps(1e-12));
    ln.weight().mutable_value() = xt::xarray<double>{1, 2, 1, 1};
    ln.bias().mutable_value() = xt::xarray<double>{0, 0, 0, 1};
    Tensor<double> x(xt::xarray<double>{{1, 2, 3, 4}, {10, 10, 30, 30}});
    // row 0: μ = 2.5, σ² = 1.25; row 1: μ = 20, σ² = 100, x̂ = [−1, −1, 1, 1]
    const double s = std::sqrt(1.25);
    const xt::xarray<double> expected{{-1.5 / s, -1.0 / s, 0.5 / s, 1 + 1.5 / s}, {-1, -2, 1, 2}};
    CHECK(xt::allclose(ln(x).value(), expected));
    ln.eval();
    CHECK(xt::allclose(ln(x).value(), expected));
}

TEST_CASE("LayerNorm: the gradient with respect to x and the parameters, to second order") {
    manual_seed(12);
    nn::LayerNorm<double> ln({3, 4});
    nn::init::uniform_(ln.weight(), 0.5, 1.5);  // away from the defaults 1 and 0
    nn::init::uniform_(ln.bias(), -0.5, 0.5);
    const auto x = randn<double>({2, 3, 4}, 0.0, 1.0, true);
    const TensorFn fn = [&](const std::vector<Tensor<double>>& in) { return ln(in[0]); };
    const std::vector<Tensor<double>> inputs{x, ln.weight(), ln.bias()};
    const auto first = gradcheck(fn, inputs);
    INFO(first.message);
    CHECK(first.ok);
    const auto second = gradgradcheck(fn, inputs);
    INFO(second.message);
    CHECK(second.ok);
}

TEST_CASE("LayerNorm: an input whose last axes differ, and bad options, are named") {
    nn::LayerNorm<double> ln({3, 4});
    CHECK_THROWS_WITH_AS(ln(zeros<double>({2, 4, 3})),
                         "layer_norm: normalized_shape must be the last axes of x (at least one); "
                         "got normalized_shape=[3, 4], x=[2, 4, 3], weight=[3, 4], bias=[3, 4]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(
        nn::LayerNorm<double>(nn::LayerNormOptions(Shape{})),
        "layer_norm: expected a normalized_shape of at least one axis, each of length >= 1, and "
        "eps > 0; got normalized_shape=[], eps=1e-05",
        ValueError);
    CHECK_THROWS_AS(nn::LayerNorm<double>(nn::LayerNormOptions(4).eps(0)), ValueError);
}

TEST_CASE("summary: LayerNorm between two Linear layers") {
    nn::Sequential<float> model;
    model.add(nn::Linear<float>(6, 8));
    model.add(nn::LayerNorm<float>(8));
    model.add(nn::Linear<float>(8, 2));
    const std::string table = nn::summary(model, {5, 6});
    INFO(table);
    CHECK(table.find("(LayerNorm)") != std::string::npos);
    CHECK(table.find("[None, 5, 8]") != std::string::npos);
    CHECK(table.find("Total params: 90") != std::string::npos);  // 56 + 16 + 18
}
