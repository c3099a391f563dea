#include "optim/adamw.hpp"

#include "optim/optim_testing.hpp"

#include <doctest/doctest.h>

using namespace xgrad;
using optim::AdamW;
using optim::AdamWOptions;
using optim_testing::check_values;
using optim_testing::set_grad;

// θ0 = [1, −2], γ = 0.1, β = (0.5, 0.75), ε = 1, λ = 0.5: every step first shrinks θ by
// 1 − γλ = 0.95, then takes the Adam step of the raw gradient (see test_adam.cpp for those).

TEST_CASE("AdamW: weight decay is decoupled from the moments") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    AdamW<double> opt({theta}, AdamWOptions(0.1).betas(0.5, 0.75).eps(1).weight_decay(0.5));
    set_grad(theta, {3.0, -1.0});
    opt.step();  // 0.95·[1, −2] = [0.95, −1.9];  Adam step [0.075, −0.05]
    check_values(theta, {0.875, -1.85});
    set_grad(theta, {3.0, 1.0});
    opt.step();  // 0.95·[0.875, −1.85] = [0.83125, −1.7575];  Adam step [0.075, 1/60]
    check_values(theta, {0.75625, -1.774167});
}

TEST_CASE("AdamW: amsgrad") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    AdamW<double> opt({theta},
                      AdamWOptions(0.1).betas(0.5, 0.75).eps(1).weight_decay(0.5).amsgrad(true));
    set_grad(theta, {3.0, -1.0});
    opt.step();  // as above: [0.875, −1.85]
    check_values(theta, {0.875, -1.85});
    set_grad(theta, {1.0, 1.0});
    opt.step();  // 0.95·θ = [0.83125, −1.7575]; AMSGrad step [0.051003, 1/60] (test_adam.cpp)
    check_values(theta, {0.780247, -1.774167});
}

TEST_CASE("AdamW: defaults, float parameters and bad options") {
    const AdamWOptions o;
    CHECK(o.lr() == 1e-3);
    CHECK(o.weight_decay() == 1e-2);
    CHECK(o.eps() == 1e-8);
    Tensor<float> theta(xt::xarray<float>{1.0f}, true);
    AdamW<float> opt({theta}, AdamWOptions(0.1).weight_decay(0.1));
    theta.set_grad(Tensor<float>(xt::xarray<float>{4.0f}));
    opt.step();  // 0.99·1, then m̂/(√v̂ + ε) = 4/(4 + 1e-8) ≈ 1: θ = 0.99 − 0.1
    CHECK(theta(0) == doctest::Approx(0.89f));
    CHECK_THROWS_WITH_AS(AdamW<float>({theta}, AdamWOptions(0.1).weight_decay(-1)),
                         "adamw: weight_decay must be >= 0; got weight_decay=-1", ValueError);
}
