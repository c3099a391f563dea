// Gradient hooks (Tensor::register_hook; Note [gradient hooks] in autograd/tape.cpp) and the
// backward_hook op the module hooks are built on (autograd/ops/hook.hpp).

#include "autograd/ops/hook.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/tape.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace xgrad;

TEST_CASE("register_hook: sees dJ/du of the lecture graph, summed, before it flows on") {
    auto a = scalar(5.0, true), b = scalar(3.0, true), c = scalar(2.0, true);
    auto u = b * c;
    auto J = 3.0 * (a + u);
    std::vector<double> seen;
    u.register_hook([&](const Tensor<double>& g) { seen.push_back(g.item()); });
    J.backward();
    CHECK(seen == std::vector<double>{3});
    CHECK(b.grad().item() == 6);  // unchanged by an observer
    CHECK(c.grad().item() == 9);
}

TEST_CASE("register_hook: a replacement is what the tensor's inputs receive") {
    auto b = scalar(3.0, true), c = scalar(2.0, true);
    auto u = b * c;
    auto J = 3.0 * u;
    u.register_hook([](const Tensor<double>& g) { return g * 2.0; });
    J.backward();
    CHECK(b.grad().item() == 12);  // 2 · 3 · c
    CHECK(c.grad().item() == 18);
}

TEST_CASE("register_hook: a tensor used twice calls its hook once, with the sum") {
    auto x = scalar(3.0, true);
    auto h = x * 1.0;
    int calls = 0;
    double got = 0;
    h.register_hook([&](const Tensor<double>& g) {
        ++calls;
        got = g.item();
    });
    (h * h + h).backward();  // d/dh (h² + h) = 2h + 1 = 7
    CHECK(calls == 1);
    CHECK(got == 7);
    CHECK(x.grad().item() == 7);
}

TEST_CASE("register_hook: on a leaf, before .grad, hooks chain in order and remove() stops one") {
    auto x = scalar(2.0, true);
    std::vector<int> order;
    double seen = 0;
    auto h1 = x.register_hook([&](const Tensor<double>& g) {
        order.push_back(1);
        return g + 1.0;
    });
    auto h2 = x.register_hook([&](const Tensor<double>& g) {
        order.push_back(2);
        seen = g.item();  // 5 from backward, + 1 from the first hook while it is there
        return g * 10.0;
    });
    (x * 5.0).backward();
    CHECK(order == std::vector<int>{1, 2});
    CHECK(seen == 6);
    CHECK(x.grad().item() == 60);

    CHECK(h1.active());
    h1.remove();
    CHECK(!h1.active());
    h1.remove();  // twice: nothing
    x.zero_grad();
    order.clear();
    (x * 5.0).backward();
    CHECK(order == std::vector<int>{2});
    CHECK(seen == 5);
    CHECK(x.grad().item() == 50);
    h2.remove();
}

TEST_CASE("register_hook: grad() and retain_grad see the replaced gradient") {
    auto x = scalar(2.0, true);
    auto y = x * x;  // dL/dy = 1 for L = y · 1
    y.retain_grad();
    y.register_hook([](const Tensor<double>& g) { return g * 3.0; });
    auto L = y * 1.0;
    CHECK(grad(L, x, GradOptions().retain_graph()).item() == 12);  // 3 · 2x
    L.backward();
    CHECK(y.grad().item() == 3);
    CHECK(x.grad().item() == 12);
}

TEST_CASE("register_hook: under create_graph a replacement is differentiated too") {
    auto x = scalar(1.5, true);
    auto y = x * x;
    // The gradient reaching y, times x: dL/dx becomes x · 2x = 2x², whose derivative is 4x.
    y.register_hook([&](const Tensor<double>& g) { return g * x; });
    auto dx = grad(y, x, /*create_graph=*/true);
    CHECK(dx.item() == doctest::Approx(2 * 1.5 * 1.5));
    CHECK(grad(dx, x).item() == doctest::Approx(4 * 1.5));
}

TEST_CASE("register_hook: the hook of a tensor that is removed mid-backward still leaves others") {
    auto x = scalar(2.0, true);
    auto y = x * 3.0;
    HookHandle self;
    int calls = 0;
    self = y.register_hook([&](const Tensor<double>&) {
        ++calls;
        self.remove();  // a hook may remove itself
    });
    y.backward(Tensor<double>(), /*retain_graph=*/true);
    y.backward();
    CHECK(calls == 1);
    CHECK(x.grad().item() == 6);
}

TEST_CASE("register_hook: errors name the function and the shapes") {
    auto c = scalar(1.0);
    CHECK_THROWS_WITH_AS(c.register_hook([](const Tensor<double>&) {}),
                         doctest::Contains("register_hook: cannot register a hook on a tensor "
                                           "that does not require grad"),
                         ValueError);
    auto x = full<double>({2, 3}, 1.0, true);
    auto u = (x * 2.0).set_name("u");
    u.register_hook([](const Tensor<double>&) { return zeros<double>({3}); });
    CHECK_THROWS_WITH_AS(sum(u).backward(),
                         doctest::Contains("backward: a hook of 'u', mul (tape #"), ShapeError);
    auto v = x * 2.0;
    v.register_hook([](const Tensor<double>&) { return zeros<double>({3}); });
    CHECK_THROWS_WITH_AS(grad(sum(v), x),
                         doctest::Contains("returned a gradient of shape [3] for a tensor of "
                                           "shape [2, 3]"),
                         ShapeError);
}

TEST_CASE("backward_hook: identity forward, one call with every output's gradient") {
    auto a = full<double>({2}, 1.0, true), b = full<double>({3}, 2.0, true);
    auto c = full<double>({1}, 5.0);  // does not require grad: passed through unwrapped
    int calls = 0;
    std::vector<Tensor<double>> seen;
    const auto ys = backward_hook<double>({a, c, b}, [&](std::vector<Tensor<double>>& gs) {
        ++calls;
        seen = gs;
        gs[0] = gs[0] * 10.0;  // replace the first
    });
    REQUIRE(ys.size() == 3);
    CHECK(ys[1].same(c));
    CHECK(std::string(ys[0].op_name()) == "backward_hook");
    CHECK(ys[0].value() == a.value());
    CHECK(ys[2].value() == b.value());
    (sum(ys[0] * 3.0) + sum(ys[2] * 4.0)).backward();
    CHECK(calls == 1);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].value() == xt::xarray<double>{3, 3});
    CHECK(seen[1].value() == xt::xarray<double>{4, 4, 4});
    CHECK(a.grad().value() == xt::xarray<double>{30, 30});
    CHECK(b.grad().value() == xt::xarray<double>{4, 4, 4});
}

TEST_CASE("backward_hook: an output backward does not reach gets zeros, a bad shape is named") {
    auto a = full<double>({2}, 1.0, true), b = full<double>({3}, 2.0, true);
    std::vector<Tensor<double>> seen;
    auto ys = backward_hook<double>({a, b}, [&](std::vector<Tensor<double>>& gs) { seen = gs; });
    sum(ys[0]).backward();
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].value() == xt::xarray<double>{0, 0, 0});
    ys = backward_hook<double>({a, b},
                               [](std::vector<Tensor<double>>& gs) { gs[1] = zeros<double>({2}); });
    CHECK_THROWS_WITH_AS(sum(ys[1]).backward(),
                         doctest::Contains("backward_hook: the hook left a gradient of shape [2] "
                                           "for output 1 of shape [3]"),
                         ShapeError);
}

// The harness checks backward_hook like every op: values, first and second derivatives against
// finite differences. The hook rewrites each gradient with an op (g · 1), so the replacement
// path, under create_graph too, is what is differentiated.
namespace {
using harness::OpSpec;
using A = std::vector<harness::Array>;
XGRAD_REGISTER_OP(
    OpSpec("backward_hook",
           [](const harness::Tensors& x) {
               const auto ys = backward_hook<double>(x, [](std::vector<Tensor<double>>& gs) {
                   for (auto& g : gs)
                       g = g * 1.0;
               });
               return ys[0] * 2.0 + ys[1] * ys[1];
           })
        .reference([](const A& a) { return xt::xarray<double>(a[0] * 2.0 + a[1] * a[1]); })
        .cases({{{2, 3}, {2, 3}}, {{4}, {4}}, {{}, {}}, {{0, 3}, {0, 3}}})
        .any_shape("an identity on each tensor: every list of shapes is fine (a hook's bad "
                   "gradient is an error-matrix row)"));
}  // namespace
