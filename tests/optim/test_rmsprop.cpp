#include "optim/rmsprop.hpp"

#include "optim/optim_testing.hpp"

#include <doctest/doctest.h>

using namespace xgrad;
using optim::RMSprop;
using optim::RMSpropOptions;
using optim_testing::check_values;
using optim_testing::set_grad;

// All cases: θ0 = [1, −2], γ = 0.1, α = 0.75, ε = 0.5, g1 = [3, −1], g2 = [1.5, 0.5].

TEST_CASE("RMSprop: plain and with momentum") {
    for (const double mu : {0.0, 0.5}) {
        CAPTURE(mu);
        Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
        RMSprop<double> opt({theta}, RMSpropOptions(0.1).alpha(0.75).eps(0.5).momentum(mu));
        set_grad(theta, {3.0, -1.0});
        opt.step();  // v = 0.25·g² = [2.25, 0.25], √v = [1.5, 0.5]
                     // g/(√v + ε) = [3/2, −1/1] = [1.5, −1] (= b with momentum); θ −= 0.1·that
        check_values(theta, {0.85, -1.9});
        set_grad(theta, {1.5, 0.5});
        opt.step();  // v = 0.75·[2.25, 0.25] + 0.25·[2.25, 0.25] = [2.25, 0.25]
                     // g/(√v + ε) = [1.5/2, 0.5/1] = [0.75, 0.5]
        if (mu == 0) {
            check_values(theta, {0.775, -1.95});  // θ −= 0.1·[0.75, 0.5]
        } else {
            check_values(theta, {0.7, -1.9});  // b = 0.5·[1.5, −1] + [0.75, 0.5] = [1.5, 0]
        }
    }
}

TEST_CASE("RMSprop: centered subtracts the squared mean gradient") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    RMSprop<double> opt({theta}, RMSpropOptions(0.1).alpha(0.75).eps(0.5).centered(true));
    set_grad(theta, {3.0, -1.0});
    opt.step();  // v = [2.25, 0.25], ḡ = 0.25·g = [0.75, −0.25], ṽ = v − ḡ² = [1.6875, 0.1875]
                 // √ṽ = [1.299038, 0.433013]; θ −= 0.1·[3/1.799038, −1/0.933013]
    check_values(theta, {0.833244, -1.892820});
    set_grad(theta, {1.5, 0.5});
    opt.step();  // v = [2.25, 0.25], ḡ = [0.5625 + 0.375, −0.1875 + 0.125] = [0.9375, −0.0625]
                 // ṽ = [2.25 − 0.878906, 0.25 − 0.003906] = [1.371094, 0.246094]
                 // √ṽ = [1.170937, 0.496078]; θ −= 0.1·[1.5/1.670937, 0.5/0.996078]
    check_values(theta, {0.743474, -1.943017});
}

TEST_CASE("RMSprop: weight decay adds λ·θ to the gradient") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    RMSprop<double> opt({theta}, RMSpropOptions(0.1).alpha(0.75).eps(0.5).weight_decay(0.5));
    set_grad(theta, {3.0, -1.0});
    opt.step();  // g' = g + 0.5·θ = [3.5, −2]; v = 0.25·g'² = [3.0625, 1], √v = [1.75, 1]
                 // θ −= 0.1·[3.5/2.25, −2/1.5] = [0.155556, −0.133333]
    check_values(theta, {0.844444, -1.866667});
    set_grad(theta, {1.5, 0.5});
    opt.step();  // g' = [1.5 + 0.422222, 0.5 − 0.933333] = [1.922222, −0.433333]
                 // v = [2.296875 + 0.923735, 0.75 + 0.046944] = [3.220610, 0.796944]
                 // √v = [1.794606, 0.892718]; θ −= 0.1·[1.922222/2.294606, −0.433333/1.392718]
    check_values(theta, {0.760673, -1.835552});
}

TEST_CASE("RMSprop: defaults and bad options") {
    const RMSpropOptions o;
    CHECK(o.lr() == 1e-2);
    CHECK(o.alpha() == 0.99);
    CHECK(o.eps() == 1e-8);
    CHECK(o.momentum() == 0);
    CHECK(!o.centered());
    Tensor<double> theta(xt::xarray<double>{1.0}, true);
    CHECK_THROWS_WITH_AS(RMSprop<double>({theta}, RMSpropOptions().alpha(-0.5)),
                         "rmsprop: alpha must be >= 0; got alpha=-0.5", ValueError);
    CHECK_THROWS_WITH_AS(RMSprop<double>({theta}, RMSpropOptions().momentum(-1)),
                         "rmsprop: momentum must be >= 0; got momentum=-1", ValueError);
}
