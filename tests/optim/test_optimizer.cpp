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

TEST_CASE("SGD: an update is in place and records nothing") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    const double* storage = theta.value().data();
    SGD<double> opt({theta}, SGDOptions(0.1).momentum(0.9));
    set_grad(theta, {1.0, 1.0});
    opt.step();
    opt.step();
    CHECK(theta.value().data() == storage);  // same array, no reallocation
    CHECK(theta.is_leaf());
    CHECK(theta.requires_grad());
    CHECK(grad_enabled());  // the guard is gone after the step
}

TEST_CASE("SGD: step(closure) evaluates the loss with grad mode on, then steps") {
    Tensor<double> theta(xt::xarray<double>{3.0}, true);
    SGD<double> opt({theta}, SGDOptions(0.25));
    auto closure = [&] {
        opt.zero_grad();
        auto loss = sum(theta * theta);  // L = θ² = 9,  g = 2θ = 6
        loss.backward();
        return loss;
    };
    NoGradGuard outer;  // even inside a no-grad scope
    CHECK(opt.step(closure) == 9.0);
    check_values(theta, {1.5});  // 3 − 0.25·6
}

TEST_CASE("SGD: float parameters") {
    Tensor<float> theta(xt::xarray<float>{1.0f, -2.0f}, true);
    SGD<float> opt({theta}, SGDOptions(0.5).momentum(0.5).nesterov(true));
    theta.set_grad(Tensor<float>(xt::xarray<float>{2.0f, 2.0f}));
    opt.step();  // b = 2, g + μb = 3, θ = 1 − 1.5, −2 − 1.5
    CHECK(theta(0) == doctest::Approx(-0.5f));
    CHECK(theta(1) == doctest::Approx(-3.5f));
}

TEST_CASE("SGD: bad options are named with their values") {
    Tensor<double> theta(xt::xarray<double>{1.0}, true);
    CHECK_THROWS_WITH_AS(SGD<double>({theta}, SGDOptions(-1)), "sgd: lr must be >= 0; got lr=-1",
                         ValueError);
    CHECK_THROWS_WITH_AS(SGD<double>({theta}, SGDOptions(0.1).momentum(-0.5)),
                         "sgd: momentum must be >= 0; got momentum=-0.5", ValueError);
    CHECK_THROWS_WITH_AS(SGD<double>({theta}, SGDOptions(0.1).weight_decay(-1)),
                         "sgd: weight_decay must be >= 0; got weight_decay=-1", ValueError);
    CHECK_THROWS_WITH_AS(SGD<double>({theta}, SGDOptions(0.1).nesterov(true)),
                         doctest::Contains("nesterov requires momentum > 0 and dampening = 0; "
                                           "got momentum=0, dampening=0"),
                         ValueError);
    CHECK_THROWS_AS(
        SGD<double>({theta}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
        ValueError);
    SGD<double> opt({theta}, SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(opt.set_lr(-2), "sgd: lr must be >= 0; got lr=-2", ValueError);
    CHECK(opt.lr() == 0.1);
    CHECK_THROWS_WITH_AS(SGD<double>({theta * 2.0}, SGDOptions(0.1)),
                         doctest::Contains("sgd: parameter 0 is not a leaf"), ValueError);
}
