#include "nn/init.hpp"

#include "autograd/random.hpp"
#include "nn/linear.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include <cmath>

using namespace xgrad;

namespace {

struct Stats {
    double mean, stddev, min, max;
};

Stats stats(const Tensor<double>& t) {
    const auto& v = t.value();
    const double mean = xt::mean(v)();
    return {mean, std::sqrt(xt::mean(xt::square(v - mean))()), xt::amin(v)(), xt::amax(v)()};
}

// v within a relative tolerance (doctest's Approx alone adds a scale of 1 to the tolerance).
doctest::Approx near(double v, double rel) {
    return doctest::Approx(v).epsilon(rel).scale(0);
}

}  // namespace

TEST_CASE("nn::init: fans of Linear and Conv2d weights, rank < 2 is an error") {
    CHECK(nn::init::fans({300, 784}) == std::pair<std::size_t, std::size_t>{784, 300});
    // [out, in, kh, kw]: fan_in = 3·5·5 = 75, fan_out = 8·5·5 = 200
    CHECK(nn::init::fans({8, 3, 5, 5}) == std::pair<std::size_t, std::size_t>{75, 200});
    CHECK_THROWS_WITH_AS(nn::init::fans({10}), doctest::Contains("shape [10]"), ValueError);
}

TEST_CASE("nn::init: uniform_ and normal_ have the asked range, mean and spread") {
    manual_seed(1);
    Tensor<double> t(xt::zeros<double>({200, 500}));  // 10⁵ draws
    nn::init::uniform_(t, -1.0, 3.0);
    Stats s = stats(t);
    CHECK(s.min >= -1.0);
    CHECK(s.max < 3.0);
    CHECK(s.mean == near(1.0, 0.015));  // σ of the mean ≈ 1.15/316 = 0.004
    CHECK(s.stddev == near(4 / std::sqrt(12.0), 0.01));
    nn::init::normal_(t, 2.0, 0.5);
    s = stats(t);
    CHECK(s.mean == near(2.0, 0.005));
    CHECK(s.stddev == near(0.5, 0.015));
    CHECK_THROWS_AS(nn::init::uniform_(t, 1.0, 0.0), ValueError);
    CHECK_THROWS_AS(nn::init::normal_(t, 0.0, -1.0), ValueError);
}

TEST_CASE("nn::init: constant_, zeros_ and the lectures' epsilon_uniform_") {
    Tensor<float> t(xt::ones<float>({25, 401}));
    nn::init::constant_(t, 0.5f);
    CHECK(xt::all(xt::equal(t.value(), 0.5f)));
    nn::init::zeros_(t);
    CHECK(xt::all(xt::equal(t.value(), 0.0f)));
    manual_seed(2);
    nn::init::epsilon_uniform_(t);  // ε = 0.12 by default
    CHECK(xt::amax(xt::abs(t.value()))() <= 0.12f);
    CHECK(xt::amax(xt::abs(t.value()))() > 0.119f);  // 10025 draws reach the edge
    nn::init::epsilon_uniform_(t, 0.01f);
    CHECK(xt::amax(xt::abs(t.value()))() <= 0.01f);
}

TEST_CASE("nn::init: Glorot and He bounds and spreads follow the fans of a Linear weight") {
    manual_seed(3);
    Tensor<double> w(xt::zeros<double>({300, 784}));  // fan_in 784, fan_out 300
    nn::init::glorot_uniform_(w);
    const double a = std::sqrt(6.0 / (784 + 300));  // 0.0744
    Stats s = stats(w);
    CHECK(s.max <= a);
    CHECK(s.min >= -a);
    CHECK(s.max > 0.99 * a);
    CHECK(s.stddev == near(a / std::sqrt(3.0), 0.01));  // Var = a²/3 = 2/(in+out)
    nn::init::glorot_normal_(w, 2.0);                   // σ = gain·√(2/(in + out))
    CHECK(stats(w).stddev == near(2 * std::sqrt(2.0 / 1084), 0.01));
    nn::init::he_uniform_(w);
    CHECK(stats(w).max <= std::sqrt(6.0 / 784));
    CHECK(stats(w).stddev == near(std::sqrt(2.0 / 784), 0.01));
    nn::init::he_normal_(w);
    CHECK(std::abs(stats(w).mean) < 0.001);  // σ of the mean ≈ 0.05/485 = 1e-4
    CHECK(stats(w).stddev == near(std::sqrt(2.0 / 784), 0.01));
    Tensor<double> bias(xt::zeros<double>({300}));
    CHECK_THROWS_AS(nn::init::glorot_uniform_(bias), ValueError);  // a vector has no fans
}

TEST_CASE("nn::init: manual_seed makes every initialiser reproducible") {
    const auto draw = [](std::uint64_t seed) {
        manual_seed(seed);
        nn::Linear<float> layer(20, 10);  // PyTorch's init, from the same generator
        nn::init::he_normal_(layer.weight());
        nn::init::epsilon_uniform_(layer.bias());
        return std::make_pair(layer.weight().value(), layer.bias().value());
    };
    const auto a = draw(42), b = draw(42), c = draw(43);
    CHECK(a.first == b.first);
    CHECK(a.second == b.second);
    CHECK(a.first != c.first);
}

TEST_CASE("nn::init: initialisers write in place, so a layer's parameter keeps its identity") {
    nn::Linear<float> layer(4, 3);
    const Tensor<float> before = layer.weight();
    nn::init::constant_(layer.weight(), 0.25f);
    CHECK(before.same(layer.weight()));
    CHECK(before.value() == xt::xarray<float>(xt::ones<float>({3, 4}) * 0.25f));
    CHECK(layer.weight().requires_grad());
}
