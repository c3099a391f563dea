#include "optim/clip.hpp"

#include "autograd/errors.hpp"
#include "optim/optim_testing.hpp"

#include <doctest/doctest.h>

#include <limits>

using namespace xgrad;
using namespace xgrad::optim;
using optim_testing::check_values;
using optim_testing::set_grad;

TEST_CASE("clip_grad_norm: scales all gradients together by max_norm / total") {
    Tensor<double> a(xt::xarray<double>{3.0, 0.0}, true), b(xt::xarray<double>{1.0}, true);
    Tensor<double> c(xt::xarray<double>{1.0}, true);  // no gradient: skipped
    set_grad(a, {3.0, 0.0});
    set_grad(b, {4.0});
    CHECK(clip_grad_norm<double>({a, b, c}, 1.0) == doctest::Approx(5.0));  // √(9 + 16)
    check_values(a.grad(), {0.6, 0.0});                                     // ·1/5
    check_values(b.grad(), {0.8});
    CHECK(clip_grad_norm<double>({a, b, c}, 2.0) == doctest::Approx(1.0));  // below: unchanged
    check_values(b.grad(), {0.8});
    CHECK(clip_grad_norm<double>({c}, 1.0) == 0);
}

TEST_CASE("clip_grad_norm: inf-norm and 1-norm") {
    Tensor<double> a(xt::xarray<double>{0.0, 0.0}, true), b(xt::xarray<double>{0.0}, true);
    const double inf = std::numeric_limits<double>::infinity();
    set_grad(a, {3.0, -4.0});
    set_grad(b, {1.0});
    CHECK(clip_grad_norm<double>({a, b}, 10.0, 1) == doctest::Approx(8.0));   // 3 + 4 + 1
    CHECK(clip_grad_norm<double>({a, b}, 2.0, inf) == doctest::Approx(4.0));  // max |g|
    check_values(a.grad(), {1.5, -2.0});                                      // ·2/4
    check_values(b.grad(), {0.5});
    CHECK_THROWS_WITH_AS(clip_grad_norm<double>({a}, -1.0),
                         "clip_grad_norm: max_norm must be >= 0; got max_norm=-1", ValueError);
}

TEST_CASE("clip_grad_value: clamps every element into [−clip, clip]") {
    Tensor<double> a(xt::xarray<double>{0.0, 0.0, 0.0}, true);
    set_grad(a, {3.0, -4.0, 0.5});
    clip_grad_value<double>({a}, 1.0);
    check_values(a.grad(), {1.0, -1.0, 0.5});
    CHECK_THROWS_WITH_AS(clip_grad_value<double>({a}, -1.0),
                         "clip_grad_value: clip must be >= 0; got clip=-1", ValueError);
}
