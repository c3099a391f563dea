// jacobian and hessian (autograd/functional.hpp) against central finite differences.

#include "autograd/functional.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "autograd/tape.hpp"

#include <doctest/doctest.h>

#include <xtensor/xview.hpp>

#include <functional>

using namespace xgrad;
using Fn = std::function<Tensor<double>(const Tensor<double>&)>;

namespace {

// The Jacobian of f at x by central differences, shape f(x).shape ++ x.shape.
xt::xarray<double> numeric_jacobian(const Fn& f, const xt::xarray<double>& x, double eps = 1e-6) {
    NoGradGuard off;
    const xt::xarray<double> y0 = f(Tensor<double>(x)).value();
    Shape shape = y0.shape();
    shape.insert(shape.end(), x.shape().begin(), x.shape().end());
    xt::xarray<double> J = xt::zeros<double>(shape);
    for (std::size_t j = 0; j < x.size(); ++j) {
        xt::xarray<double> xp = x, xm = x;
        xp.data()[j] += eps;
        xm.data()[j] -= eps;
        const xt::xarray<double> d =
            (f(Tensor<double>(xp)).value() - f(Tensor<double>(xm)).value()) / (2 * eps);
        for (std::size_t i = 0; i < d.size(); ++i)
            J.data()[i * x.size() + j] = d.data()[i];
    }
    return J;
}

}  // namespace

TEST_CASE("jacobian: a matrix-vector product with tanh, against finite differences") {
    manual_seed(0);
    const auto A = randn<double>({3, 4});
    const Fn f = [&](const Tensor<double>& x) { return tanh(matmul(A, x)); };
    const auto x = randn<double>({4});
    const Tensor<double> J = jacobian(f, x);
    CHECK(J.shape() == Shape{3, 4});
    CHECK(xt::allclose(J.value(), numeric_jacobian(f, x.value()), 1e-7, 1e-9));
    CHECK(!J.requires_grad());
    CHECK(!x.requires_grad());  // x itself is left alone
}

TEST_CASE("jacobian: shapes are f(x).shape ++ x.shape, a 0-d output gives the gradient") {
    manual_seed(1);
    const auto x = randn<double>({2, 3});
    const Fn square = [](const Tensor<double>& t) { return t * t; };
    const Tensor<double> J = jacobian(square, x);
    CHECK(J.shape() == Shape{2, 3, 2, 3});
    CHECK(xt::allclose(J.value(), numeric_jacobian(square, x.value()), 1e-7, 1e-9));
    const Fn total = [](const Tensor<double>& t) { return sum(t * t); };
    const Tensor<double> g = jacobian(total, x);
    CHECK(g.shape() == Shape{2, 3});
    CHECK(xt::allclose(g.value(), 2.0 * x.value()));
    // An output that does not depend on x: zeros.
    const Fn constant = [](const Tensor<double>&) { return full<double>({2}, 1.0); };
    CHECK(jacobian(constant, x).value() == xt::zeros<double>({2, 2, 3}));
}

TEST_CASE("hessian: of a cubic with a cross term, exact and against finite differences") {
    // f(x) = Σ x_i³ + x_0·x_1:  H = diag(6 x) + (e_0 e_1ᵀ + e_1 e_0ᵀ)
    const Fn f = [](const Tensor<double>& x) {
        const auto parts = split(x, {1, 1, 1}, 0);
        return sum(x * x * x) + sum(parts[0] * parts[1]);
    };
    const auto x = Tensor<double>(xt::xarray<double>{0.5, -1.0, 2.0});
    const Tensor<double> H = hessian(f, x);
    const xt::xarray<double> expected = {{3.0, 1.0, 0.0}, {1.0, -6.0, 0.0}, {0.0, 0.0, 12.0}};
    CHECK(H.shape() == Shape{3, 3});
    CHECK(xt::allclose(H.value(), expected, 1e-12, 1e-12));
    const Fn gradient = [&](const Tensor<double>& t) { return jacobian(f, t); };
    CHECK(xt::allclose(H.value(), numeric_jacobian(gradient, x.value()), 1e-6, 1e-8));
}

TEST_CASE("hessian: of a small network's loss is symmetric and matches finite differences") {
    manual_seed(2);
    const auto W = randn<double>({3, 4}), t = randn<double>({3});
    const Fn loss = [&](const Tensor<double>& x) {
        const auto y = tanh(matmul(W, x)) - t;
        return sum(y * y);
    };
    const auto x = randn<double>({4});
    const Tensor<double> H = hessian(loss, x);
    CHECK(H.shape() == Shape{4, 4});
    CHECK(xt::allclose(H.value(), xt::transpose(H.value()), 1e-12, 1e-12));
    const Fn gradient = [&](const Tensor<double>& v) { return jacobian(loss, v); };
    CHECK(xt::allclose(H.value(), numeric_jacobian(gradient, x.value()), 1e-6, 1e-8));
}

TEST_CASE("jacobian with create_graph: differentiable again, with respect to x") {
    auto x = Tensor<double>(xt::xarray<double>{0.3, -0.7}, true);
    const Fn f = [](const Tensor<double>& t) { return t * t * t; };  // J = diag(3x²)
    const Tensor<double> J = jacobian(f, x, /*create_graph=*/true);
    REQUIRE(J.requires_grad());
    sum(J).backward();  // d/dx Σ 3x_i² = 6x
    CHECK(xt::allclose(x.grad().value(), 6.0 * x.value()));
}

TEST_CASE("hessian: errors name the function") {
    const auto x = Tensor<double>(xt::xarray<double>{1.0, 2.0});
    const Fn vector = [](const Tensor<double>& t) { return t * 2.0; };
    CHECK_THROWS_WITH_AS(hessian(vector, x),
                         doctest::Contains("hessian: f must return one element; got shape [2]"),
                         ValueError);
    CHECK_THROWS_WITH_AS(jacobian(vector, Tensor<double>()),
                         doctest::Contains("jacobian: x is undefined"), ValueError);
}
