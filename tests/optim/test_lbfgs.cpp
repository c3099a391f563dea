#include "optim/lbfgs.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "optim/optim_testing.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace xgrad;
using optim::LBFGS;
using optim::LBFGSOptions;
using optim::LineSearch;
using optim_testing::check_values;

TEST_CASE("LBFGS: fixed steps on (x − 3)², worked by hand") {
    Tensor<double> x(xt::xarray<double>{0.0}, true);
    LBFGS<double> opt({x}, LBFGSOptions().max_iter(2).max_eval(10));
    auto closure = [&] {
        opt.zero_grad();
        auto loss = sum((x - 3.0) * (x - 3.0));
        loss.backward();
        return loss;
    };
    // it 1: g = 2(0 − 3) = −6, d = 6, t = min(1, 1/|g|₁)·lr = 1/6: x = 1 (f = 4, g = −4)
    // it 2: s = t·d = 1, y = −4 − (−6) = 2, ρ = 1/yᵀs = 0.5, H0 = yᵀs/yᵀy = 0.5
    //       two-loop: q = 4, α = ρ·sᵀq = 2, q = 4 − α·y = 0, r = H0·q = 0, β = ρ·yᵀr = 0,
    //       r = r + (α − β)·s = 2 = d; t = lr = 1: x = 3, the secant step to the minimum
    CHECK(opt.step(closure) == 9.0);  // the loss at the start of the step
    check_values(x, {3.0});
    CHECK(opt.n_iter() == 2);
    CHECK(opt.func_evals() == 2);
}

TEST_CASE("LBFGS: strong Wolfe minimises the Rosenbrock function from (−1.5, 2)") {
    Tensor<double> x(xt::xarray<double>{-1.5}, true), y(xt::xarray<double>{2.0}, true);
    // NOTE: tolerance_change also bounds the directional derivative gᵀd. The valley floor is
    // flat (Hessian eigenvalues 0.4 and 1002 at the minimum), so at the default 1e-9 the
    // iterations stop about 3e-6 from (1, 1); 1e-12 lets them reach 1e-7.
    LBFGS<double> opt({x, y},
                      LBFGSOptions().line_search(LineSearch::strong_wolfe).tolerance_change(1e-12));
    auto closure = [&] {
        opt.zero_grad();
        auto a = 1.0 - x, b = y - x * x;
        auto loss = sum(a * a + 100.0 * b * b);  // f = (1 − x)² + 100(y − x²)²
        loss.backward();
        return loss;
    };
    double f = opt.step(closure);  // returns f at the start: (1 + 1.5)² + 100·(2 − 2.25)² = 12.5
    CHECK(f == doctest::Approx(12.5));
    for (int step = 0; step < 20; ++step) {
        const double before = f;
        f = opt.step(closure);
        if (f >= before) break;  // no more progress
    }
    CHECK(std::abs(x(0) - 1) < 1e-6);
    CHECK(std::abs(y(0) - 1) < 1e-6);
    CHECK(f < 1e-12);
    CHECK(opt.n_iter() < 100);
}

TEST_CASE("LBFGS: a quadratic in a few iterations") {
    // f = Σ c_k (θ_k − a_k)², c = [1, 10, 100], minimum at a = [1, −2, 3]
    Tensor<double> theta(xt::zeros<double>({3}), true);
    const Tensor<double> c(xt::xarray<double>{1, 10, 100}), a(xt::xarray<double>{1, -2, 3});
    LBFGS<double> opt({theta}, LBFGSOptions().line_search(LineSearch::strong_wolfe));
    auto closure = [&] {
        opt.zero_grad();
        auto loss = sum(c * (theta - a) * (theta - a));
        loss.backward();
        return loss;
    };
    opt.step(closure);
    check_values(theta, {1.0, -2.0, 3.0});
    CHECK(opt.n_iter() <= 10);
}

TEST_CASE("LBFGS: float parameters, history of one pair") {
    Tensor<float> theta(xt::xarray<float>{4.0f, -3.0f}, true);
    LBFGS<float> opt({theta}, LBFGSOptions().history_size(1).line_search(LineSearch::strong_wolfe));
    auto closure = [&] {
        opt.zero_grad();
        auto loss = sum(theta * theta * Tensor<float>(xt::xarray<float>{1.0f, 5.0f}));
        loss.backward();
        return loss;
    };
    for (int step = 0; step < 5; ++step)
        opt.step(closure);
    CHECK(std::abs(theta(0)) < 1e-4f);
    CHECK(std::abs(theta(1)) < 1e-4f);
}

TEST_CASE("LBFGS: step() needs the closure, bad options are named") {
    Tensor<double> x(xt::xarray<double>{1.0}, true);
    LBFGS<double> opt({x});
    CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("lbfgs: step() needs the closure"), Error);
    CHECK(LBFGSOptions().max_iter(8).max_eval() == 10);  // max_iter·5/4 unless set
    CHECK_THROWS_WITH_AS(LBFGS<double>({x}, LBFGSOptions().history_size(0)),
                         "lbfgs: history_size must be >= 1; got history_size=0", ValueError);
    CHECK_THROWS_WITH_AS(LBFGS<double>({x}, LBFGSOptions().lr(-1)),
                         "lbfgs: lr must be >= 0; got lr=-1", ValueError);
}
