#include "autograd/tape.hpp"

#include "autograd/gradcheck.hpp"
#include "autograd/graph.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"

#include <doctest/doctest.h>

#include <xtensor/xsort.hpp>

#include <cmath>
#include <utility>

using namespace xgrad;

TEST_CASE("backward: the lecture graph J = 3(a + b·c)") {
    auto a = scalar(5.0, true), b = scalar(3.0, true), c = scalar(2.0, true);
    auto u = b * c;    // u = 6
    auto v = a + u;    // v = 11
    auto J = 3.0 * v;  // J = 33
    J.backward();
    CHECK(J.item() == 33);
    CHECK(a.grad().item() == 3);  // dJ/da = 3
    CHECK(b.grad().item() == 6);  // dJ/db = 3·c
    CHECK(c.grad().item() == 9);  // dJ/dc = 3·b
}

TEST_CASE("backward: a value used twice receives the sum of both paths") {
    auto x = scalar(3.0, true);
    auto y = x * x + x;  // y = x² + x = 12,  dy/dx = 2x + 1 = 7
    y.backward();
    CHECK(y.item() == 12);
    CHECK(x.grad().item() == 7);
}

TEST_CASE("backward: gradients accumulate across calls until zero_grad") {
    auto x = scalar(2.0, true);
    (x * 5.0).backward();
    (x * 5.0).backward();
    CHECK(x.grad().item() == 10);  // 5 + 5
    x.zero_grad();
    CHECK(!x.grad().defined());
    (x * 5.0).backward();
    CHECK(x.grad().item() == 5);
}

TEST_CASE("backward: a chain of 10^6 ops is walked and torn down without recursion") {
    auto x = scalar(1.0, true);
    {
        Tensor<double> y = x;
        for (int i = 0; i < 1000000; ++i)
            y = y + 1e-6;  // dy/dx = 1 through every link
        CHECK(y.item() == doctest::Approx(2.0));
        y.backward();
    }  // the whole chain is destroyed here
    CHECK(x.grad().item() == 1.0);
    CHECK(x.node_ptr().use_count() == 1);  // nothing of the graph still holds the leaf
}

TEST_CASE("backward: a second pass through a freed graph names the op and the fix") {
    auto x = scalar(2.0, true);
    auto y = exp(x);
    auto z = y * y;
    z.backward();
    CHECK_THROWS_WITH_AS(z.backward(), doctest::Contains("retain_graph=true"), Error);
}

TEST_CASE("backward: retain_graph allows a second pass") {
    auto x = scalar(2.0, true);
    auto z = x * x * x;  // dz/dx = 3x² = 12
    z.backward(Tensor<double>(), true);
    z.backward();
    CHECK(x.grad().item() == 24);  // 12 + 12
}

TEST_CASE("backward: a non-scalar output needs an explicit gradient") {
    Tensor<double> x(xt::xarray<double>{1, 2}, true);
    auto y = x * 2.0;
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("got shape [2]"), Error);
    y.backward(Tensor<double>(xt::xarray<double>{1, 10}));
    CHECK(x.grad().value() == xt::xarray<double>{2, 20});  // 2·1, 2·10
}

TEST_CASE("backward: an output that does not require grad is an error") {
    auto x = scalar(1.0);
    CHECK_THROWS_WITH_AS((x * 2.0).backward(), doctest::Contains("does not require grad"), Error);
}

namespace {
// A deliberately broken op: its VJP returns a gradient of the wrong shape.
struct BadShape {
    static constexpr const char* name = "bad_shape";
    xt::xarray<double> forward(const Tensor<double>& x) { return x.value(); }
    Grads<double, 1> vjp(const Tensor<double>&, const Tensor<double>&) const {
        return {zeros<double>({3})};
    }
};
}  // namespace

TEST_CASE("backward: a VJP returning a wrong shape is named with its tape position") {
    Tensor<double> x(xt::xarray<double>{1, 2}, true);
    auto y = record(BadShape{}, x);
    const std::string where = "bad_shape (tape #" + std::to_string(y.tape_position()) + ")";
    CHECK_THROWS_WITH_AS(sum(y).backward(), doctest::Contains(where.c_str()), ShapeError);
    CHECK_THROWS_WITH_AS(sum(y).backward(),
                         doctest::Contains("shape [3] for an input of shape [2]"), ShapeError);
}

TEST_CASE("grad: returns gradients without touching .grad") {
    auto x = scalar(3.0, true), w = scalar(2.0, true);
    auto y = x * x * w;
    auto g = grad<double>({y}, {x, w});
    CHECK(g[0].item() == 12);  // 2xw = 2·3·2
    CHECK(g[1].item() == 9);   // x² = 3²
    CHECK(!x.grad().defined());
}

TEST_CASE("grad: an unused input is a ValueError, and with allow_unused it gets zeros") {
    auto x = scalar(3.0, true), unused = zeros<double>({2, 3}, true);
    CHECK_THROWS_WITH_AS(grad<double>({x * x}, {x, unused}),
                         doctest::Contains("grad: input 1 (shape [2, 3]) is not used"), ValueError);
    auto g = grad<double>({x * x}, {x, unused}, GradOptions().allow_unused());
    CHECK(g[0].item() == 6);  // 2x
    CHECK(g[1].value() == xt::zeros<double>({2, 3}));
    // The same with create_graph: the used input's gradient is differentiable again.
    auto h = grad<double>({x * x}, {x, unused}, GradOptions().create_graph().allow_unused());
    CHECK(grad(h[0], x).item() == 2);  // d(2x)/dx
    CHECK(h[1].value() == xt::zeros<double>({2, 3}));
}

TEST_CASE("grad: create_graph gives the second derivative of tanh") {
    const double x0 = 0.7;
    auto x = scalar(x0, true);
    auto dy = grad(tanh(x), x, true);  // 1 − tanh²
    auto d2y = grad(dy, x);            // −2 tanh (1 − tanh²)
    const double t = std::tanh(x0);
    CHECK(dy.item() == doctest::Approx(1 - t * t).epsilon(1e-14));
    CHECK(d2y.item() == doctest::Approx(-2 * t * (1 - t * t)).epsilon(1e-14));
}

TEST_CASE("grad: Hessian-vector product of a small MLP matches differences of gradients") {
    // f(w) = Σ c ⊙ tanh(X·w), X·w as a broadcast product summed over axis 1. Hv from double
    // backward vs (∇f(w + εv) − ∇f(w − εv)) / 2ε.
    Tensor<double> X(xt::xarray<double>{{0.5, -1.0, 0.3}, {1.2, 0.4, -0.7}});
    Tensor<double> c(xt::xarray<double>{1.5, -0.5});
    const xt::xarray<double> w0{0.2, -0.4, 0.9}, v{1.0, 0.5, -2.0};
    auto gradient_at = [&](const xt::xarray<double>& w_value, bool create) {
        Tensor<double> w(w_value, true);
        auto xw = sum(X * w, {1});  // [2]
        return std::make_pair(w, grad(sum(tanh(xw) * c), w, create));
    };
    auto [w, g] = gradient_at(w0, true);
    auto hv = grad(sum(g * Tensor<double>(v)), w);
    const double eps = 1e-6;
    xt::xarray<double> numeric = (gradient_at(w0 + eps * v, false).second.value() -
                                  gradient_at(w0 - eps * v, false).second.value()) /
                                 (2 * eps);
    CHECK(xt::allclose(hv.value(), numeric, 1e-6, 1e-9));
    CHECK(xt::amax(xt::abs(hv.value()))() > 0.1);  // a real curvature, not a vacuous zero
}

TEST_CASE("NoGradGuard: nothing is recorded inside, recording resumes after") {
    auto x = scalar(2.0, true);
    {
        NoGradGuard guard;
        auto y = x * 3.0;
        CHECK(!y.requires_grad());
        CHECK(y.is_leaf());
    }
    CHECK((x * 3.0).requires_grad());
}

TEST_CASE("detach: same value, no history") {
    auto x = scalar(2.0, true);
    auto y = (x * 3.0).detach();
    CHECK(y.item() == 6);
    CHECK(!y.requires_grad());
    CHECK(y.is_leaf());
}

TEST_CASE("retain_grad: an intermediate keeps its gradient") {
    auto x = scalar(2.0, true);
    auto u = (x * 3.0).retain_grad();
    auto y = u * u;  // dy/du = 2u = 12
    y.backward();
    CHECK(u.grad().item() == 12);
    CHECK(x.grad().item() == 36);  // 12 · 3
}

TEST_CASE("anomaly mode: the first NaN/Inf names the op and its tape position") {
    AnomalyGuard anomaly;
    auto x = scalar(0.0, true);
    CHECK_THROWS_WITH_AS(log(x), doctest::Contains("forward of log"), AnomalyError);
    auto y = sqrt(x);  // √0 = 0 is finite; its gradient 1/(2·0) is not
    const std::string where = "backward of sqrt (tape #" + std::to_string(y.tape_position()) + ")";
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains(where.c_str()), AnomalyError);
}

TEST_CASE("anomaly mode: off by default, so NaN passes through silently") {
    auto x = scalar(-1.0, true);
    CHECK(std::isnan(log(x).item()));
}

TEST_CASE("tape: a finished graph releases every node it held") {
    auto w = scalar(0.5, true);
    for (int step = 0; step < 100; ++step) {
        auto loss = (w * 2.0 - 1.0) * (w * 2.0 - 1.0);
        loss.backward();
    }
    CHECK(w.node_ptr().use_count() == 1);  // no graph, no cycle keeps the parameter
}

namespace {
// y = x³ with both VJPs; each counts its calls (Note [fast VJP]).
struct CubeWithFastVjp {
    static constexpr const char* name = "cube_with_fast_vjp";
    static inline int composed_calls = 0, fast_calls = 0;
    Tensor<double> x;
    xt::xarray<double> forward(const Tensor<double>& x_in) {
        x = x_in;
        return x.value() * x.value() * x.value();
    }
    // y = x³  ⇒  ∂L/∂x = 3·g·x²
    Grads<double, 1> vjp(const Tensor<double>& g, const Tensor<double>&) const {
        ++composed_calls;
        return {3.0 * g * x * x};
    }
    Grads<double, 1> fast_vjp(const Tensor<double>& g, const Tensor<double>&) const {
        ++fast_calls;
        return {Tensor<double>(xt::xarray<double>(3.0 * g.value() * x.value() * x.value()))};
    }
};
}  // namespace

TEST_CASE("backward: an op's fast_vjp runs without create_graph, its vjp with it") {
    auto x = scalar(2.0, true);
    auto cube = [](const Tensor<double>& t) { return record(CubeWithFastVjp{}, t); };
    CHECK(grad(cube(x), x).item() == 12);  // 3·2²
    CHECK(CubeWithFastVjp::fast_calls == 1);
    CHECK(CubeWithFastVjp::composed_calls == 0);
    const auto dx = grad(cube(x), x, /*create_graph=*/true);
    CHECK(dx.item() == 12);
    CHECK(CubeWithFastVjp::composed_calls == 1);
    CHECK(grad(dx, x).item() == 12);  // d²(x³)/dx² = 6x: the composed VJP's graph
    CHECK(CubeWithFastVjp::fast_calls == 1);
}

TEST_CASE("registered_ops: the library's ops and a user's op, each with its type") {
    auto x = scalar(2.0, true);
    record(CubeWithFastVjp{}, x);  // makes sure the program records it
    bool found_user_op = false, found_relu = false;
    for (const auto& op : registered_ops()) {
        if (op.name == "cube_with_fast_vjp") {
            found_user_op = true;
            CHECK(!op.builtin());
            CHECK(op.fast_vjp);
            CHECK(op.type.find("CubeWithFastVjp") != std::string::npos);
        }
        if (op.name == "relu") {
            found_relu = true;
            CHECK(op.builtin());
            CHECK(op.fast_vjp);
            CHECK(op.type.rfind("xgrad::ops::", 0) == 0);
        }
    }
    CHECK(found_user_op);
    CHECK(found_relu);
}

namespace {
// Two outputs from one op: y0 = x², y1 = x³ (Note [several outputs]).
struct SquareAndCube {
    static constexpr const char* name = "square_and_cube";
    static inline int composed_calls = 0, fast_calls = 0;
    Tensor<double> x;
    std::vector<xt::xarray<double>> forward(const Tensor<double>& x_in) {
        x = x_in;
        const auto& v = x.value();
        return {xt::xarray<double>(v * v), xt::xarray<double>(v * v * v)};
    }
    // ∂L/∂x = 2x·g0 + 3x²·g1
    Grads<double, 1> vjp(const std::vector<Tensor<double>>& gs,
                         const std::vector<Tensor<double>>&) const {
        ++composed_calls;
        return {2.0 * x * gs[0] + 3.0 * x * x * gs[1]};
    }
    Grads<double, 1> fast_vjp(const std::vector<Tensor<double>>& gs,
                              const std::vector<Tensor<double>>&) const {
        ++fast_calls;
        const auto& v = x.value();
        return {Tensor<double>(
            xt::xarray<double>(2.0 * v * gs[0].value() + 3.0 * v * v * gs[1].value()))};
    }
};
std::vector<Tensor<double>> square_and_cube(const Tensor<double>& x) {
    return record_multi(SquareAndCube{}, x);
}
}  // namespace

TEST_CASE("backward: an op with two outputs runs its VJP once, with both gradients") {
    auto x = scalar(2.0, true);
    auto ys = square_and_cube(x);
    REQUIRE(ys.size() == 2);
    CHECK(ys[0].item() == 4);
    CHECK(ys[1].item() == 8);
    SquareAndCube::fast_calls = 0;
    (ys[0] * 5.0 + ys[1]).backward();  // d/dx (5x² + x³) = 10x + 3x² = 32
    CHECK(x.grad().item() == 32);
    CHECK(SquareAndCube::fast_calls == 1);
}

TEST_CASE("backward: an output that receives no gradient counts as zeros") {
    auto x = scalar(3.0, true);
    auto ys = square_and_cube(x);
    ys[1].backward();  // y0 unused: d(x³)/dx = 27
    CHECK(x.grad().item() == 27);
    auto x2 = scalar(3.0, true);
    square_and_cube(x2)[0].backward();  // y1 dropped before backward: d(x²)/dx = 6
    CHECK(x2.grad().item() == 6);
}

TEST_CASE("grad: outputs of an op with several outputs are captured, retained and differentiated") {
    auto x = scalar(2.0, true);
    auto ys = square_and_cube(x);
    ys[0].retain_grad();
    const auto loss = ys[0] * ys[1];  // x⁵
    const auto g = grad<double>({loss}, {ys[1], x}, false, true);
    CHECK(g[0].item() == 4);   // ∂(y0·y1)/∂y1 = y0
    CHECK(g[1].item() == 80);  // 5x⁴
    loss.backward();
    CHECK(ys[0].grad().item() == 8);  // ∂/∂y0 = y1, kept by retain_grad
    SquareAndCube::composed_calls = 0;
    const auto dx = grad(square_and_cube(x)[1], x, /*create_graph=*/true);  // 3x² = 12
    CHECK(dx.item() == 12);
    CHECK(SquareAndCube::composed_calls == 1);
    CHECK(grad(dx, x).item() == 12);  // 6x
    auto r = gradgradcheck(
        [](const std::vector<Tensor<double>>& in) {
            auto ys = square_and_cube(in[0]);
            return ys[0] * ys[1] + ys[1];
        },
        {Tensor<double>(xt::xarray<double>{0.5, -1.5, 2.0}, true)});
    CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("backward: a second pass through a freed op with several outputs names it") {
    auto x = scalar(2.0, true);
    auto ys = square_and_cube(x);
    ys[1].backward(Tensor<double>(), /*retain_graph=*/true);  // 3x² = 12
    ys[1].backward();                                         // again, then freed: 24
    CHECK(x.grad().item() == 24);
    CHECK_THROWS_WITH_AS(ys[0].backward(), doctest::Contains("square_and_cube (tape #"), Error);
}

TEST_CASE("print_tape: each output of an op with several outputs is listed with its index") {
    auto x = scalar(2.0, true).set_name("x");
    auto ys = square_and_cube(x);
    ys[1].set_name("c");
    const std::string tape = format_tape(ys[1]);
    CHECK(tape.find("c = square_and_cube[1](x)") != std::string::npos);
}
