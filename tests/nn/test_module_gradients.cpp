// Every module with parameters or attributes, gradchecked through the engine's gradcheck: the
// module's forward with respect to its input and to each of its parameters (double precision,
// random upstream gradient), and second order where the module is twice differentiable.
// Stateless activations, Flatten and the losses are in the op harness (test_activation.cpp,
// test_flatten.cpp, test_loss.cpp); Dropout in test_dropout.cpp, Sequential in test_sequential.cpp.

#include "autograd/gradcheck.hpp"
#include "autograd/random.hpp"
#include "nn/conv.hpp"
#include "nn/dropout.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/norm.hpp"
#include "nn/pool.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

using namespace xgrad;

namespace {

enum class Order { first, second };

// Checks d module(x) / d(x, parameters...) with gradcheck (and gradgradcheck for Order::second).
void check_module(nn::Module<double>& module, const Tensor<double>& x,
                  Order order = Order::second) {
    std::vector<Tensor<double>> inputs{x};
    for (const auto& p : module.parameters())
        inputs.push_back(p);
    const TensorFn fn = [&](const std::vector<Tensor<double>>& in) { return module(in[0]); };
    const GradcheckResult r = gradcheck(fn, inputs);
    CHECK_MESSAGE(r.ok, module.type_name(), ": ", r.message);
    if (order == Order::second) {
        const GradcheckResult rr = gradgradcheck(fn, inputs);
        CHECK_MESSAGE(rr.ok, module.type_name(), " (second order): ", rr.message);
    }
}

Tensor<double> input(const Shape& shape, std::uint64_t seed) {
    manual_seed(seed);
    return randn<double>(shape, 0.0, 1.0, true);
}

// Values 0.1 apart in shuffled order (no ties for max pooling), centred on 0.
Tensor<double> distinct(const Shape& shape, std::uint64_t seed) {
    xt::xarray<double> v = xt::zeros<double>(shape);
    std::vector<double> values(v.size());
    std::iota(values.begin(), values.end(), 0.0);
    std::shuffle(values.begin(), values.end(), std::mt19937_64(seed));
    for (std::size_t i = 0; i < v.size(); ++i)
        v.data()[i] = 0.1 * (values[i] - double(v.size()) / 2);
    return Tensor<double>(std::move(v), true);
}

}  // namespace

TEST_CASE("module gradients: Linear on rank-2 and rank-3 inputs, with and without bias") {
    manual_seed(1);
    nn::Linear<double> a(4, 3), b(4, 2, false);
    check_module(a, input({5, 4}, 2));
    check_module(a, input({2, 3, 4}, 3));
    check_module(b, input({3, 4}, 4));
}

TEST_CASE("module gradients: Conv2d with stride, padding and groups") {
    manual_seed(5);
    nn::Conv2d<double> plain(2, 3, 3);
    nn::Conv2d<double> strided(nn::Conv2dOptions(4, 2, Size2(3, 2)).stride(2).padding(1).groups(2));
    check_module(plain, input({2, 2, 5, 5}, 6));
    check_module(strided, input({1, 4, 6, 5}, 7));
}

TEST_CASE("module gradients: ConvTranspose2d with stride 2") {
    manual_seed(8);
    nn::ConvTranspose2d<double> up(nn::ConvTranspose2dOptions(2, 3, 3).stride(2).padding(1));
    check_module(up, input({2, 2, 3, 3}, 9));
}

TEST_CASE("module gradients: BatchNorm1d and BatchNorm2d in training and evaluation") {
    nn::BatchNorm1d<double> bn1(3);
    nn::BatchNorm2d<double> bn2(2);
    manual_seed(10);
    for (auto* bn : std::vector<nn::BatchNorm<double>*>{&bn1, &bn2}) {
        nn::init::uniform_(bn->weight(), 0.5, 1.5);  // away from the defaults 1 and 0
        nn::init::uniform_(bn->bias(), -0.5, 0.5);
    }
    check_module(bn1, input({6, 3}, 11));
    check_module(bn1, input({4, 3, 5}, 12));
    check_module(bn2, input({3, 2, 4, 4}, 13));
    bn2.eval();  // running statistics: an affine map of x
    check_module(bn2, input({2, 2, 3, 3}, 14));
}

TEST_CASE("module gradients: pooling layers") {
    nn::MaxPool2d<double> max2(2);
    nn::MaxPool2d<double> max3(PoolOptions(3).stride(2).padding(1));
    nn::AvgPool2d<double> avg(PoolOptions(3).stride(2).padding(1));
    nn::AdaptiveAvgPool2d<double> adaptive(Size2(2, 3));
    nn::GlobalAvgPool2d<double> global;
    check_module(max2, distinct({2, 3, 4, 4}, 15));
    check_module(max3, distinct({1, 2, 5, 5}, 16));
    check_module(avg, input({2, 2, 5, 4}, 17));
    check_module(adaptive, input({1, 2, 5, 7}, 18));
    check_module(global, input({2, 3, 4, 5}, 19));
}

TEST_CASE("module gradients: Dropout2d with its channel mask held fixed") {
    nn::Dropout2d<double> drop(0.5);
    const Tensor<double> x = input({3, 4, 2, 2}, 20);
    const TensorFn fn = [&](const std::vector<Tensor<double>>& in) {
        manual_seed(21);  // the same channels dropped at every evaluation
        return drop(in[0]);
    };
    manual_seed(21);
    CHECK(xt::any(xt::equal(drop(x).value(), 0.0)));  // the mask drops something
    const GradcheckResult r = gradcheck(fn, {x});
    CHECK_MESSAGE(r.ok, r.message);
}
