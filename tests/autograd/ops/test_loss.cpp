// The fused cross_entropy op (Note [fused cross-entropy] in autograd/ops/loss.cpp): harness
// entries for each reduction and for large logits, and the single recorded op.

#include "autograd/ops/loss.hpp"

#include "autograd/graph.hpp"
#include "autograd/ops/softmax.hpp"
#include "autograd/random.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

#include <cmath>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {
const Index labels{2, 0, 1, 3};  // four examples, four classes

// −log softmax(z)_i,label_i for each row, in plain loops: [n].
Array per_example(const Array& z) {
    Array out = Array::from_shape({z.shape()[0]});
    for (std::size_t i = 0; i < z.shape()[0]; ++i) {
        double m = -1e300, s = 0;
        for (std::size_t j = 0; j < z.shape()[1]; ++j)
            m = std::max(m, z(i, j));
        for (std::size_t j = 0; j < z.shape()[1]; ++j)
            s += std::exp(z(i, j) - m);
        out(i) = m + std::log(s) - z(i, static_cast<std::size_t>(labels(i)));
    }
    return out;
}

harness::Sampler around(double center) {
    return [center](const Shape& shape, std::mt19937_64& rng) {
        return Array(harness::uniform(-3, 3)(shape, rng) + center);
    };
}
}  // namespace

XGRAD_REGISTER_OP(OpSpec("cross_entropy",
                         [](const Tensors& x) { return cross_entropy(x[0], labels); })
                      .reference([](const A& a) { return Array(xt::mean(per_example(a[0]))()); })
                      .cases({{{4, 4}}, {{4, 6}}})
                      .samplers({harness::uniform(-3, 3)})
                      .bad_shapes({{4, 4, 2}}));
XGRAD_REGISTER_OP(OpSpec("cross_entropy_sum",
                         [](const Tensors& x) {
                             return cross_entropy(x[0], labels, Reduction::sum);
                         })
                      .reference([](const A& a) { return Array(xt::sum(per_example(a[0]))()); })
                      .cases({{{4, 4}}, {{4, 6}}})
                      .bad_shapes({{3, 4}}));  // three rows for four labels
XGRAD_REGISTER_OP(OpSpec("cross_entropy_none",
                         [](const Tensors& x) {
                             return cross_entropy(x[0], labels, Reduction::none);
                         })
                      .reference([](const A& a) { return per_example(a[0]); })
                      .cases({{{4, 4}}, {{4, 5}}})
                      .bad_shapes({{4}}));
XGRAD_REGISTER_OP(OpSpec("cross_entropy_large",
                         [](const Tensors& x) { return cross_entropy(x[0], labels); })
                      .reference([](const A& a) { return Array(xt::mean(per_example(a[0]))()); })
                      .cases({{{4, 4}}})
                      .samplers({around(1000)})
                      .bad_shapes({{4, 4, 1}}));

TEST_CASE("cross_entropy: one recorded op whose gradient is softmax − one-hot") {
    manual_seed(3);
    auto z = rand<double>({4, 4}, -2.0, 2.0, true);
    auto loss = cross_entropy(z, labels);
    CHECK(std::string(loss.op_name()) == "cross_entropy");
    CHECK(loss.inputs().size() == 1);
    CHECK(loss.inputs()[0].same(z));
    loss.backward();
    // ∂(mean loss)/∂z = (softmax(z) − one_hot) / n
    xt::xarray<double> expected = softmax(z.detach(), 1).value();
    for (std::size_t i = 0; i < 4; ++i)
        expected(i, static_cast<std::size_t>(labels(i))) -= 1;
    CHECK(xt::allclose(z.grad().value(), expected / 4.0, 1e-12, 1e-14));
}

TEST_CASE("cross_entropy: finite for logits of ±1e30 in float") {
    Tensor<float> z(xt::xarray<float>{{1e30f, -1e30f}, {-1e30f, 1e30f}}, true);
    auto loss = cross_entropy(z, Index{1, 1});  // right, then wrong
    CHECK(std::isfinite(loss.item()));
    CHECK(loss.item() == doctest::Approx(1e30f));  // (2e30 + 0) / 2
    loss.backward();
    CHECK(z.grad()(0, 1) == doctest::Approx(-0.5f));  // (softmax 0 − 1) / 2
    CHECK(z.grad()(1, 1) == doctest::Approx(0.0f));   // (softmax 1 − 1) / 2
}

TEST_CASE("cross_entropy: an out-of-range label is named with its position") {
    Tensor<double> logits(xt::zeros<double>({2, 10}));
    CHECK_THROWS_WITH_AS(cross_entropy(logits, Index{3, 10}),
                         "cross_entropy: label 10 at position 1 is outside [0, 10)", ValueError);
    CHECK_THROWS_WITH_AS(cross_entropy(logits, Index{-1, 0}), doctest::Contains("label -1"),
                         ValueError);
}
