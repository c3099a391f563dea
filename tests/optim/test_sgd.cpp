#include "optim/sgd.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "optim/optim_testing.hpp"

#include <doctest/doctest.h>

using namespace xgrad;
using optim::SGD;
using optim::SGDOptions;
using optim_testing::check_values;
using optim_testing::set_grad;

TEST_CASE("SGD: plain steps on L = ½‖θ‖², gradients from backward") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    SGD<double> opt({theta}, SGDOptions(0.1));
    for (int step = 0; step < 2; ++step) {
        opt.zero_grad();
        (sum(theta * theta) * 0.5).backward();  // g = θ
        opt.step();                             // θ ← θ − 0.1·θ = 0.9·θ
    }
    check_values(theta, {0.81, -1.62});  // 0.9² · [1, −2]
}

TEST_CASE("SGD: momentum and dampening, fixed gradient g = [1, −1]") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    SUBCASE("momentum 0.9") {
        SGD<double> opt({theta}, SGDOptions(0.1).momentum(0.9));
        set_grad(theta, {1.0, -1.0});
        opt.step();  // b = g = [1, −1];  θ = [1 − 0.1, −2 + 0.1]
        check_values(theta, {0.9, -1.9});
        opt.step();  // b = 0.9·1 + 1 = 1.9;  θ = [0.9 − 0.19, −1.9 + 0.19]
        check_values(theta, {0.71, -1.71});
    }
    SUBCASE("momentum 0.9, dampening 0.5: the first step is undamped") {
        SGD<double> opt({theta}, SGDOptions(0.1).momentum(0.9).dampening(0.5));
        set_grad(theta, {1.0, -1.0});
        opt.step();  // b = g (no dampening on step 1)
        check_values(theta, {0.9, -1.9});
        opt.step();  // b = 0.9·1 + 0.5·1 = 1.4;  θ = 0.9 − 0.14
        check_values(theta, {0.76, -1.76});
    }
}

TEST_CASE("SGD: nesterov momentum, fixed gradient g = [1, −1]") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    SGD<double> opt({theta}, SGDOptions(0.1).momentum(0.9).nesterov(true));
    set_grad(theta, {1.0, -1.0});
    opt.step();  // b = 1;  g + μb = 1 + 0.9 = 1.9;  θ = 1 − 0.19 = 0.81, −2 + 0.19 = −1.81
    check_values(theta, {0.81, -1.81});
    opt.step();  // b = 0.9·1 + 1 = 1.9;  g + μb = 1 + 1.71 = 2.71;  θ = 0.81 − 0.271
    check_values(theta, {0.539, -1.539});
}

TEST_CASE("SGD: weight decay adds λ·θ to the gradient") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    SGD<double> opt({theta}, SGDOptions(0.1).weight_decay(0.1));
    set_grad(theta, {1.0, -1.0});
    opt.step();  // g' = [1 + 0.1·1, −1 + 0.1·(−2)] = [1.1, −1.2];  θ = [1 − 0.11, −2 + 0.12]
    check_values(theta, {0.89, -1.88});
    opt.step();  // g' = [1 + 0.089, −1 − 0.188] = [1.089, −1.188]
                 // θ = [0.89 − 0.1089, −1.88 + 0.1188]
    check_values(theta, {0.7811, -1.7612});
}

TEST_CASE("SGD: parameters without a gradient are skipped, zero_grad drops every gradient") {
    Tensor<double> a(xt::xarray<double>{1.0}, true), b(xt::xarray<double>{2.0}, true);
    SGD<double> opt({a, b}, SGDOptions(0.5).momentum(0.9));
    set_grad(a, {1.0});
    opt.step();  // a = 1 − 0.5·1; b has no gradient
    check_values(a, {0.5});
    check_values(b, {2.0});
    opt.zero_grad();
    CHECK(!a.grad().defined());
    CHECK(!b.grad().defined());
    opt.step();  // nothing to do
    check_values(a, {0.5});
    set_grad(b, {1.0});
    opt.step();  // b's first step: its buffer starts at g, b = 2 − 0.5
    check_values(b, {1.5});
}
