#include "nn/dropout.hpp"

#include "autograd/gradcheck.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "harness.hpp"
#include "nn/flatten.hpp"
#include "nn/sequential.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include <cmath>

using namespace xgrad;
using harness::Tensors;

TEST_CASE("Dropout: p outside 0 <= p < 1 is a ValueError naming p") {
    CHECK_THROWS_WITH_AS(nn::Dropout<>(1.0f), doctest::Contains("p must be in [0, 1); got p=1"),
                         ValueError);
    CHECK_THROWS_AS(nn::Dropout<>(-0.1f), ValueError);
    CHECK_NOTHROW(nn::Dropout<>(0.0f));
    CHECK(nn::Dropout<>(0.25f).extra_repr() == "p=0.25");
}

TEST_CASE("Dropout: inverted scaling keeps the mean, each element is 0 or x/(1 − p)") {
    manual_seed(11);
    nn::Dropout<double> drop(0.3);
    const Tensor<double> x(xt::ones<double>({100000}));
    const auto y = drop(x);
    std::size_t zeros = 0, other = 0;
    for (const double v : y.value()) {
        if (v == 0)
            ++zeros;
        else if (v != doctest::Approx(1 / 0.7))
            ++other;
    }
    CHECK(other == 0);
    // fraction dropped: 0.3 ± 0.0015 (one standard deviation); mean: 1 ± 0.0021
    CHECK(std::abs(double(zeros) / 1e5 - 0.3) < 0.009);
    CHECK(std::abs(xt::mean(y.value())() - 1.0) < 0.01);
}

TEST_CASE("Dropout: evaluation, and p = 0, are the identity") {
    nn::Dropout<> drop(0.5f);
    const Tensor<> x(xt::xarray<float>{1, 2, 3, 4, 5, 6, 7, 8});
    drop.eval();
    CHECK(drop(x).value() == x.value());
    drop.train();
    manual_seed(3);
    CHECK(drop(x).value() != x.value());  // seeded: some of the 8 are dropped
    nn::Dropout<> none(0.0f);
    CHECK(none(x).value() == x.value());
}

TEST_CASE("Dropout: the same seed gives the same mask, the next call a new one") {
    nn::Dropout<> drop(0.5f);
    const Tensor<> x(xt::ones<float>({64}));
    manual_seed(5);
    const auto a = drop(x).value();
    const auto b = drop(x).value();
    manual_seed(5);
    CHECK(drop(x).value() == a);
    CHECK(a != b);  // 2⁻⁶⁴ chance of a false failure
}

TEST_CASE("Dropout: the gradient is the mask, and passes gradcheck with the mask held fixed") {
    nn::Dropout<double> drop(0.4);
    Tensor<double> x(xt::xarray<double>{{0.5, -1.0, 2.0}, {1.5, -0.5, 3.0}}, true);
    manual_seed(2);
    const auto y = drop(x);
    sum(y).backward();
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double kept = y.value().data()[i] / x.value().data()[i];  // 0 or 1/(1 − p)
        CHECK(x.grad().value().data()[i] == doctest::Approx(kept));
    }
    const auto r = gradcheck(
        [&](const Tensors& in) {
            manual_seed(2);
            return drop(in[0]);
        },
        {x});
    CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("Dropout: eval() on a Sequential reaches it") {
    nn::Sequential<> model;
    model.add(nn::Flatten<>());
    model.add(nn::Dropout<>(0.9f));
    const Tensor<> x(xt::ones<float>({4, 2, 3}));
    model.eval();
    CHECK(model(x).value() == xt::ones<float>({4, 6}));
    model.train();
    manual_seed(1);
    CHECK(xt::sum(xt::equal(model(x).value(), 0.0f))() > 0);
}

TEST_CASE("Dropout2d: drops channels in training only") {
    manual_seed(4);
    nn::Dropout2d<double> drop(0.5);
    const auto x = ones<double>({4, 8, 2, 2});
    const auto y = drop(x);
    CHECK(xt::any(xt::equal(y.value(), 0.0)));
    drop.eval();
    CHECK(drop(x).same(x));
    CHECK_THROWS_AS(nn::Dropout2d<double>(1.0), ValueError);
}
