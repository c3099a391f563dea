#include "optim/adam.hpp"

#include "optim/optim_testing.hpp"

#include <doctest/doctest.h>

using namespace xgrad;
using optim::Adam;
using optim::AdamOptions;
using optim_testing::check_values;
using optim_testing::set_grad;

// All cases: θ0 = [1, −2], γ = 0.1, β = (0.5, 0.75), ε = 1 (large, so where it goes shows);
// bias corrections 1 − β1^t = 0.5, 0.75 and 1 − β2^t = 0.25, 0.4375 for t = 1, 2.

TEST_CASE("Adam: bias correction and ε outside the square root") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    Adam<double> opt({theta}, AdamOptions(0.1).betas(0.5, 0.75).eps(1));
    set_grad(theta, {3.0, -1.0});
    opt.step();  // m = 0.5·g = [1.5, −0.5], v = 0.25·g² = [2.25, 0.25]; m̂ = [3, −1], v̂ = [9, 1]
                 // θ −= 0.1·m̂/(√v̂ + 1) = 0.1·[3/4, −1/2] = [0.075, −0.05]
    check_values(theta, {0.925, -1.95});
    set_grad(theta, {3.0, 1.0});
    opt.step();  // [0]: g constant, so m̂ = 3, v̂ = 9 again: θ = 0.925 − 0.075 = 0.85
                 // [1]: m = 0.5·(−0.5) + 0.5·1 = 0.25, v = 0.75·0.25 + 0.25·1 = 0.4375
                 //      m̂ = 0.25/0.75 = 1/3, v̂ = 0.4375/0.4375 = 1; θ = −1.95 − 0.1·(1/3)/2
    check_values(theta, {0.85, -1.966667});
}

TEST_CASE("Adam: amsgrad divides by the running maximum of v") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    Adam<double> opt({theta}, AdamOptions(0.1).betas(0.5, 0.75).eps(1).amsgrad(true));
    set_grad(theta, {3.0, -1.0});
    opt.step();  // as plain Adam: v_max = v = [2.25, 0.25]
    check_values(theta, {0.925, -1.95});
    set_grad(theta, {1.0, 1.0});
    opt.step();  // [0]: m = 0.75 + 0.5 = 1.25, v = 1.6875 + 0.25 = 1.9375 < v_max = 2.25
                 //      m̂ = 1.25/0.75 = 5/3, v̂ = 2.25/0.4375 = 5.142857, √v̂ = 2.267787
                 //      θ = 0.925 − 0.1·(5/3)/3.267787 = 0.925 − 0.051003
                 // [1]: v = 0.4375 > v_max = 0.25, so as plain Adam: θ = −1.95 − 1/60
    check_values(theta, {0.873997, -1.966667});
}

TEST_CASE("Adam: weight decay is an L2 term inside the moments") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    Adam<double> opt({theta}, AdamOptions(0.1).betas(0.5, 0.75).eps(1).weight_decay(0.5));
    set_grad(theta, {3.0, -1.0});
    opt.step();  // g' = g + 0.5·θ = [3.5, −2]; m̂ = g', v̂ = g'²
                 // θ −= 0.1·[3.5/4.5, −2/3] = [0.077778, −0.066667]
    check_values(theta, {0.922222, -1.933333});
    set_grad(theta, {3.0, 1.0});
    opt.step();  // [0]: g' = 3 + 0.461111 = 3.461111; m = 0.875 + 1.730556 = 2.605556,
                 //      m̂ = 3.474074; v = 0.75·3.0625 + 0.25·11.979290 = 5.291698,
                 //      v̂ = 12.095309, √v̂ = 3.477831; θ −= 0.1·3.474074/4.477831 = 0.077584
                 // [1]: g' = 1 − 0.966667 = 0.033333; m = −0.5 + 0.016667 = −0.483333,
                 //      m̂ = −0.644444; v = 0.75 + 0.000278 = 0.750278, v̂ = 1.714921,
                 //      √v̂ = 1.309550; θ −= 0.1·(−0.644444)/2.309550 = −0.027903
    check_values(theta, {0.844638, -1.905430});
}

TEST_CASE("Adam: defaults and bad options") {
    const AdamOptions o;
    CHECK(o.lr() == 1e-3);
    CHECK(o.betas() == std::make_pair(0.9, 0.999));
    CHECK(o.eps() == 1e-8);
    CHECK(o.weight_decay() == 0);
    CHECK(!o.amsgrad());
    Tensor<double> theta(xt::xarray<double>{1.0}, true);
    CHECK_THROWS_WITH_AS(Adam<double>({theta}, AdamOptions(0.1).betas(0.9, 1.0)),
                         "adam: betas must be in [0, 1); got beta1=0.9, beta2=1", ValueError);
    CHECK_THROWS_WITH_AS(Adam<double>({theta}, AdamOptions(0.1).eps(-1)),
                         "adam: eps must be >= 0; got eps=-1", ValueError);
    CHECK_THROWS_WITH_AS(Adam<double>({theta}, AdamOptions(-0.1)),
                         "adam: lr must be >= 0; got lr=-0.1", ValueError);
}
