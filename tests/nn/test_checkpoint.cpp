// nn::checkpoint_sequential: the gradients of the plain model, with segments.

#include "nn/checkpoint.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "autograd/tape.hpp"
#include "nn/activation.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace xgrad;

namespace {

nn::Sequential<double> deep_mlp(std::size_t layers) {
    nn::Sequential<double> model;
    for (std::size_t i = 0; i < layers; ++i) {
        model.add(nn::Linear<double>(6, 6));
        model.add(nn::Tanh<double>());
        if (i % 2 == 1) model.add(nn::Dropout<double>(0.2));
    }
    return model;
}

// Gradients of Σ model(x)² with respect to x and every parameter; segments 0 means plain.
std::vector<xt::xarray<double>> gradients(nn::Sequential<double>& model, const Tensor<double>& x,
                                          std::size_t segments) {
    manual_seed(3);  // the same dropout masks for every run
    const Tensor<double> y =
        segments == 0 ? model(x) : nn::checkpoint_sequential(model, segments, x);
    std::vector<Tensor<double>> wrt = model.parameters();
    wrt.push_back(x);
    std::vector<xt::xarray<double>> out;
    for (const auto& g : grad(std::vector<Tensor<double>>{sum(y * y)}, wrt))
        out.push_back(g.value());
    return out;
}

}  // namespace

TEST_CASE("checkpoint_sequential: every segment count gives the plain model's gradients") {
    manual_seed(1);
    nn::Sequential<double> model = deep_mlp(4);  // 10 layers
    const Tensor<double> x = randn<double>({5, 6}, 0.0, 1.0, true);
    const auto plain = gradients(model, x, 0);
    for (std::size_t segments : {1, 2, 3, 10}) {
        CAPTURE(segments);
        const auto cp = gradients(model, x, segments);
        REQUIRE(cp.size() == plain.size());
        for (std::size_t i = 0; i < plain.size(); ++i) {
            CAPTURE(i);
            CHECK(xt::allclose(cp[i], plain[i], 1e-13, 1e-14));
        }
    }
}

TEST_CASE("checkpoint_sequential: segments must lie in [1, layers]") {
    nn::Sequential<double> model = deep_mlp(1);  // 2 layers
    const Tensor<double> x = randn<double>({1, 6});
    CHECK_THROWS_WITH_AS(nn::checkpoint_sequential(model, 0, x),
                         "checkpoint_sequential: segments must lie in [1, 2] (the model's "
                         "layers); got 0",
                         ValueError);
    CHECK_THROWS_AS(nn::checkpoint_sequential(model, 3, x), ValueError);
}

TEST_CASE("checkpoint_sequential: the segments outlive the call (backward after it returns)") {
    manual_seed(4);
    Tensor<double> y;
    const Tensor<double> x = randn<double>({2, 6}, 0.0, 1.0, true);
    xt::xarray<double> expected;
    {
        auto model = std::make_shared<nn::Sequential<double>>(deep_mlp(2));
        manual_seed(5);
        expected = grad(sum(model->forward(x)), x).value();
        manual_seed(5);  // the same dropout mask
        y = sum(nn::checkpoint_sequential(*model, 2, x));
    }  // the segments hold the layers: the model's object is gone, its layers are not
    CHECK(xt::allclose(grad(y, x).value(), expected, 1e-13, 1e-14));
}
