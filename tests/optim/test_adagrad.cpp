#include "optim/adagrad.hpp"

#include "optim/optim_testing.hpp"

#include <doctest/doctest.h>

using namespace xgrad;
using optim::Adagrad;
using optim::AdagradOptions;
using optim_testing::check_values;
using optim_testing::set_grad;

// θ0 = [1, −2], γ = 0.1 in every case; ε = 1e-10 is below the 1e-6 the checks resolve.

TEST_CASE("Adagrad: steps shrink with the sum of squared gradients") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    Adagrad<double> opt({theta}, AdagradOptions(0.1));
    set_grad(theta, {3.0, -1.0});
    opt.step();  // sum = [9, 1]; θ −= 0.1·[3/3, −1/1]
    check_values(theta, {0.9, -1.9});
    set_grad(theta, {4.0, 0.0});
    opt.step();  // sum = [9 + 16, 1 + 0] = [25, 1]; θ −= 0.1·[4/5, 0]
    check_values(theta, {0.82, -1.9});
}

TEST_CASE("Adagrad: lr_decay and initial_accumulator_value") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    Adagrad<double> opt({theta}, AdagradOptions(0.1).lr_decay(1).initial_accumulator_value(9));
    set_grad(theta, {4.0, -4.0});
    opt.step();  // γ̃ = 0.1/(1 + 0·1); sum = 9 + 16 = 25; θ −= 0.1·[4/5, −4/5]
    check_values(theta, {0.92, -1.92});
    set_grad(theta, {12.0, 0.0});
    opt.step();  // γ̃ = 0.1/(1 + 1·1) = 0.05; sum = [25 + 144, 25] = [169, 25]
                 // θ −= 0.05·[12/13, 0] = [0.046154, 0]
    check_values(theta, {0.873846, -1.92});
}

TEST_CASE("Adagrad: weight decay adds λ·θ to the gradient") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    Adagrad<double> opt({theta}, AdagradOptions(0.1).weight_decay(0.5));
    set_grad(theta, {1.5, 0.0});
    opt.step();  // g' = g + 0.5·θ = [2, −1]; sum = [4, 1]; θ −= 0.1·[2/2, −1/1]
    check_values(theta, {0.9, -1.9});
    set_grad(theta, {1.05, 1.7});
    opt.step();  // g' = [1.05 + 0.45, 1.7 − 0.95] = [1.5, 0.75]; sum = [6.25, 1.5625]
                 // θ −= 0.1·[1.5/2.5, 0.75/1.25] = [0.06, 0.06]
    check_values(theta, {0.84, -1.96});
}

TEST_CASE("Adagrad: defaults and bad options") {
    const AdagradOptions o;
    CHECK(o.lr() == 1e-2);
    CHECK(o.lr_decay() == 0);
    CHECK(o.initial_accumulator_value() == 0);
    CHECK(o.eps() == 1e-10);
    Tensor<double> theta(xt::xarray<double>{1.0}, true);
    CHECK_THROWS_WITH_AS(Adagrad<double>({theta}, AdagradOptions().lr_decay(-1)),
                         "adagrad: lr_decay must be >= 0; got lr_decay=-1", ValueError);
    CHECK_THROWS_WITH_AS(
        Adagrad<double>({theta}, AdagradOptions().initial_accumulator_value(-1)),
        "adagrad: initial_accumulator_value must be >= 0; got initial_accumulator_value=-1",
        ValueError);
}
