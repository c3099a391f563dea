#include "autograd/gradcheck.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/tape.hpp"

#include <doctest/doctest.h>

using namespace xgrad;

namespace {
// y = x³; the three ops below share this forward and differ in their VJP.
struct CubeForward {
    Tensor<double> x;
    xt::xarray<double> forward(const Tensor<double>& x_in) {
        x = x_in;
        return x.value() * x.value() * x.value();
    }
};
// A deliberately wrong VJP (2x² instead of 3x²): gradcheck must reject it.
struct WrongCube : CubeForward {
    static constexpr const char* name = "wrong_cube";
    Grads<double, 1> vjp(const Tensor<double>& g, const Tensor<double>&) const {
        return {g * x * x * 2.0};
    }
};
// The right VJP, written with ops so it is twice differentiable.
struct Cube : CubeForward {
    static constexpr const char* name = "cube";
    Grads<double, 1> vjp(const Tensor<double>& g, const Tensor<double>&) const {
        return {g * x * x * 3.0};
    }
};
// Right first derivative, but computed from raw values: its graph stops at x, so the second
// derivative through it is wrong (0 instead of 6x).
struct DetachedCube : CubeForward {
    static constexpr const char* name = "detached_cube";
    Grads<double, 1> vjp(const Tensor<double>& g, const Tensor<double>&) const {
        return {g * Tensor<double>(xt::xarray<double>(3.0 * x.value() * x.value()))};
    }
};
}  // namespace

TEST_CASE("gradcheck: accepts a correct VJP and rejects a wrong one") {
    Tensor<double> x(xt::xarray<double>{{0.5, -1.2}, {2.0, 0.3}}, true);
    auto right = gradcheck([](const auto& in) { return record(Cube{}, in[0]); }, {x});
    CHECK_MESSAGE(right.ok, right.message);
    auto wrong = gradcheck([](const auto& in) { return record(WrongCube{}, in[0]); }, {x});
    CHECK(!wrong.ok);
    CHECK(wrong.message.find("analytic") != std::string::npos);
}

TEST_CASE("gradgradcheck: a VJP that is not differentiable through its inputs is caught") {
    Tensor<double> x(xt::xarray<double>{0.5, -1.2, 2.0}, true);
    auto detached = [](const auto& in) { return record(DetachedCube{}, in[0]); };
    CHECK(gradcheck(detached, {x}).ok);  // first order is right
    CHECK(gradgradcheck([](const auto& in) { return record(Cube{}, in[0]); }, {x}).ok);
    CHECK(!gradgradcheck(detached, {x}).ok);
}

TEST_CASE("gradcheck: nothing to check is reported, not passed") {
    Tensor<double> x(xt::xarray<double>{1.0});
    auto r = gradcheck([](const auto& in) { return in[0] * 2.0; }, {x});
    CHECK(!r.ok);
    CHECK(r.message.find("no input requires grad") != std::string::npos);
}
