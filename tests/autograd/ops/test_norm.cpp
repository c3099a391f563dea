#include "autograd/ops/norm.hpp"

#include "autograd/random.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <random>
#include <utility>
#include <vector>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {

Tensor<double> arg(const Tensors& x, std::size_t i) {
    return x.size() > i ? x[i] : Tensor<double>();
}

// y = (x − μ_c)/√(σ²_c + eps)·w_c + b_c with μ, σ² given per channel (batch or running).
Array normalise(const Array& x, const std::vector<double>& mu, const std::vector<double>& var,
                const A& a, double eps = 1e-5) {
    Array y = x;
    const std::size_t n = x.shape()[0], c = x.shape()[1], s = x.size() / (n * c);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t ch = 0; ch < c; ++ch)
            for (std::size_t j = 0; j < s; ++j) {
                double& v = y.data()[(i * c + ch) * s + j];
                v = (v - mu[ch]) / std::sqrt(var[ch] + eps);
                if (a.size() > 1) v = v * a[1](ch) + a[2](ch);
            }
    return y;
}

Array naive_batch_norm(const A& a) {
    const Array& x = a[0];
    const std::size_t n = x.shape()[0], c = x.shape()[1], s = x.size() / (n * c);
    std::vector<double> mu(c, 0.0), var(c, 0.0);
    for (std::size_t ch = 0; ch < c; ++ch) {
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < s; ++j)
                mu[ch] += x.data()[(i * c + ch) * s + j];
        mu[ch] /= double(n * s);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < s; ++j) {
                const double d = x.data()[(i * c + ch) * s + j] - mu[ch];
                var[ch] += d * d / double(n * s);  // biased, as the normalisation uses
            }
    }
    return normalise(x, mu, var, a);
}

// Fixed running statistics for the evaluation-mode entry: μ_c = 0.1·c − 0.2, σ²_c = 0.5 + 0.25·c.
std::vector<double> running_mean_of(std::size_t c) {
    std::vector<double> v(c);
    for (std::size_t i = 0; i < c; ++i)
        v[i] = 0.1 * double(i) - 0.2;
    return v;
}
std::vector<double> running_var_of(std::size_t c) {
    std::vector<double> v(c);
    for (std::size_t i = 0; i < c; ++i)
        v[i] = 0.5 + 0.25 * double(i);
    return v;
}
Tensor<double> vec(const std::vector<double>& v) {
    Array a = Array::from_shape({v.size()});
    std::copy(v.begin(), v.end(), a.begin());
    return Tensor<double>(a);
}

// A column [n, 1] (a braced list of one-element rows is ambiguous to xtensor).
Array column(std::vector<double> v) {
    Array a = Array::from_shape({v.size(), 1});
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}

}  // namespace

XGRAD_REGISTER_OP(OpSpec("batch_norm",
                         [](const Tensors& x) {
                             return batch_norm(x[0], Tensor<double>(), Tensor<double>(), arg(x, 1),
                                               arg(x, 2), true);
                         })
                      .reference(naive_batch_norm)
                      .cases({{{4, 3}, {3}, {3}},        // BatchNorm1d
                              {{2, 3, 2, 2}, {3}, {3}},  // BatchNorm2d
                              {{3, 2, 4}}})              // [n, c, l] without the affine part
                      .bad_shapes({{4, 3}, {4}, {4}}));

XGRAD_REGISTER_OP(OpSpec("batch_norm eval",
                         [](const Tensors& x) {
                             const std::size_t c = x[0].shape()[1];
                             return batch_norm(x[0], vec(running_mean_of(c)),
                                               vec(running_var_of(c)), arg(x, 1), arg(x, 2), false);
                         })
                      .reference([](const A& a) {
                          const std::size_t c = a[0].shape()[1];
                          return normalise(a[0], running_mean_of(c), running_var_of(c), a);
                      })
                      .cases({{{4, 3}, {3}, {3}}, {{2, 3, 2, 2}, {3}, {3}}, {{2, 2, 3}}})
                      .bad_shapes({{2, 3, 2, 2}, {2}, {2}}));

TEST_CASE("batch_norm: training normalises each channel and updates the running statistics") {
    Tensor<double> x(column({1, 2, 3, 4}));
    auto rm = zeros<double>({1}), rv = ones<double>({1});
    const auto y = batch_norm(x, rm, rv, Tensor<double>(), Tensor<double>(), true, 0.1, 1e-5);
    // μ = 2.5, biased σ² = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25, unbiased 5/3
    const double s = std::sqrt(1.25 + 1e-5);
    CHECK(xt::allclose(y.value(), column({-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s})));
    CHECK(rm(0) == doctest::Approx(0.25));               // 0.9·0 + 0.1·2.5
    CHECK(rv(0) == doctest::Approx(0.9 + 0.1 * 5 / 3));  // 0.9·1 + 0.1·(5/3)
}

// gradgradcheck differentiates the create_graph VJP and compares it with finite differences of
// itself, so it cannot see a wrong create_graph gradient value: compare it with the fused one
// (which gradcheck compares with finite differences).
TEST_CASE("batch_norm: the create_graph backward agrees with the fused one") {
    manual_seed(6);
    auto x = randn<double>({3, 2, 2, 3}, 0.0, 1.0, true);
    auto w = randn<double>({2}, 1.0, 0.5, true), b = randn<double>({2}, 0.0, 1.0, true);
    auto g = randn<double>({3, 2, 2, 3});
    for (bool affine : {true, false}) {
        INFO("affine: ", affine);
        auto run = [&](bool create_graph) {
            auto y = affine ? batch_norm(x, Tensor<double>(), Tensor<double>(), w, b, true)
                            : batch_norm(x, Tensor<double>(), Tensor<double>(), Tensor<double>(),
                                         Tensor<double>(), true);
            const std::vector<Tensor<double>> wrt =
                affine ? std::vector<Tensor<double>>{x, w, b} : std::vector<Tensor<double>>{x};
            return grad<double>({y}, wrt, create_graph, true, {g});
        };
        const auto fused = run(false), graph = run(true);
        CHECK(graph[0].requires_grad());
        for (std::size_t i = 0; i < fused.size(); ++i) {
            CHECK(xt::allclose(fused[i].value(), graph[i].value(), 1e-10, 1e-12));
        }
    }
}

TEST_CASE("batch_norm: evaluation uses the running statistics and the affine part") {
    Tensor<double> x(column({1, 3}));
    auto rm = vec({1}), rv = vec({4});
    auto w = vec({2}), b = vec({0.5});
    const auto y = batch_norm(x, rm, rv, w, b, false, 0.1, 1e-12);
    CHECK(xt::allclose(y.value(), column({0.5, 2.5})));  // (x − 1)/2·2 + 0.5
    CHECK(rm(0) == 1);                                   // untouched in evaluation
}

TEST_CASE("batch_norm: float keeps precision when the mean is large") {
    manual_seed(5);
    xt::xarray<float> v = randn<float>({64, 2, 3, 3}).value() + 1000.0f;
    const auto y = batch_norm(Tensor<float>(v), Tensor<float>(), Tensor<float>(), Tensor<float>(),
                              Tensor<float>(), true);
    const xt::xarray<double> yd(y.value());
    CHECK(std::abs(xt::mean(yd)()) < 1e-4);
    CHECK(xt::variance(yd)() == doctest::Approx(1.0).epsilon(1e-3));
}

TEST_CASE("batch_norm: errors name the op and every shape") {
    Tensor<double> x(xt::zeros<double>({1, 3})), w(xt::zeros<double>({4})),
        b(xt::zeros<double>({4}));
    CHECK_THROWS_WITH_AS(batch_norm(x, Tensor<double>(), Tensor<double>(), w, b, true),
                         "batch_norm: running statistics, weight and bias must be [3] (one per "
                         "channel of x); got x=[1, 3], weight=[4], bias=[4]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(
        batch_norm(x, Tensor<double>(), Tensor<double>(), Tensor<double>(), Tensor<double>(), true),
        "batch_norm: training needs more than one value per channel to estimate "
        "a variance; got x=[1, 3]",
        ValueError);
    CHECK_THROWS_AS(batch_norm(x, Tensor<double>(), Tensor<double>()), ValueError);  // eval
}

// ---- layer_norm ----

namespace {

// normalized_shape of a harness case: the weight's (or the bias's) shape when one is given,
// else every axis of x but the first.
Shape normalized_of(const std::vector<Shape>& shapes) {
    if (shapes.size() > 1) return shapes[1];
    return Shape(shapes[0].begin() + 1, shapes[0].end());
}

// y = (x − μ)/√(σ² + eps)·w + b over each slice of the last normalized.size() axes, loop by loop;
// w, b: nullptr when absent.
Array naive_layer_norm(const Array& x, const Shape& normalized, const Array* w, const Array* b,
                       double eps = 1e-5) {
    std::size_t s = 1;
    for (auto d : normalized)
        s *= d;
    Array y = x;
    for (std::size_t r = 0; r * s < x.size(); ++r) {
        double mu = 0, var = 0;
        for (std::size_t j = 0; j < s; ++j)
            mu += x.data()[r * s + j] / double(s);
        for (std::size_t j = 0; j < s; ++j)
            var += (x.data()[r * s + j] - mu) * (x.data()[r * s + j] - mu) / double(s);  // biased
        for (std::size_t j = 0; j < s; ++j) {
            double& v = y.data()[r * s + j];
            v = (v - mu) / std::sqrt(var + eps);
            if (w) v *= w->data()[j];
            if (b) v += b->data()[j];
        }
    }
    return y;
}

std::vector<Shape> shapes_of(const Tensors& x) {
    std::vector<Shape> s;
    for (const auto& t : x)
        s.push_back(t.shape());
    return s;
}

}  // namespace

// Inputs x, then weight (and bias) of normalized_shape; x alone normalises over all axes but 0.
XGRAD_REGISTER_OP(OpSpec("layer_norm",
                         [](const Tensors& x) {
                             return layer_norm(x[0], normalized_of(shapes_of(x)), arg(x, 1),
                                               arg(x, 2));
                         })
                      .reference([](const A& a) {
                          std::vector<Shape> shapes;
                          for (const auto& v : a)
                              shapes.push_back(v.shape());
                          return naive_layer_norm(a[0], normalized_of(shapes),
                                                  a.size() > 1 ? &a[1] : nullptr,
                                                  a.size() > 2 ? &a[2] : nullptr);
                      })
                      .cases({{{4, 3}, {3}, {3}},           // k = 1
                              {{2, 3, 4}, {3, 4}, {3, 4}},  // k = 2, 3-D x
                              {{2, 3, 2}, {2}, {2}},        // k = 1, 3-D x
                              {{1, 5}, {5}, {5}},           // a batch of one row
                              {{5}, {5}, {5}},              // one sample without a batch axis
                              {{0, 3}, {3}, {3}},           // an empty batch
                              {{3, 4}, {4}},                // weight without bias
                              {{3, 4}},                     // no affine part, k = 1
                              {{2, 2, 3}}})                 // no affine part, k = 2
                      .bad_shapes({{2, 3}, {4}, {4}}));

XGRAD_REGISTER_OP(
    OpSpec("layer_norm bias only",
           [](const Tensors& x) { return layer_norm(x[0], x[1].shape(), Tensor<double>(), x[1]); })
        .reference([](const A& a) { return naive_layer_norm(a[0], a[1].shape(), nullptr, &a[1]); })
        .cases({{{3, 4}, {4}}, {{2, 2, 2}, {2, 2}}})
        .bad_shapes({{3, 4}, {3}}));

TEST_CASE("layer_norm: each row, or each last-two-axes slice, normalised on its own") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3, 4}, {2, 2, 2, 2}});
    // row 0: μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25; row 1: σ² = 0, so y = 0
    const double s = std::sqrt(1.25 + 1e-5);
    auto y = layer_norm(x, {4});
    CHECK(xt::allclose(y.value(),
                       xt::xarray<double>{{-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s}, {0, 0, 0, 0}}));
    // scale [1, 2, 1, 1], shift 1: row 0 becomes 1 − 1.5/s, 1 − 2·0.5/s, 1 + 0.5/s, 1 + 1.5/s
    auto w = vec({1, 2, 1, 1}), b = vec({1, 1, 1, 1});
    CHECK(xt::allclose(
        layer_norm(x, {4}, w, b).value(),
        xt::xarray<double>{{1 - 1.5 / s, 1 - 1.0 / s, 1 + 0.5 / s, 1 + 1.5 / s}, {1, 1, 1, 1}}));
    // k = 2 on [1, 2, 2]: μ = 3, σ² = (9 + 1 + 1 + 9)/4 = 5
    Tensor<double> z(xt::xarray<double>{{{0, 2}, {4, 6}}});
    const double t = std::sqrt(5 + 1e-5);
    CHECK(xt::allclose(layer_norm(z, {2, 2}).value(),
                       xt::xarray<double>{{{-3 / t, -1 / t}, {1 / t, 3 / t}}}));
}

// As for batch_norm: gradgradcheck cannot see a wrong create_graph gradient value, so the
// composed VJP is compared with the fused one (which gradcheck compares with finite differences).
TEST_CASE("layer_norm: the create_graph backward agrees with the fused one") {
    manual_seed(7);
    auto x = randn<double>({3, 2, 5}, 0.0, 1.0, true);
    auto w = randn<double>({2, 5}, 1.0, 0.5, true), b = randn<double>({2, 5}, 0.0, 1.0, true);
    auto g = randn<double>({3, 2, 5});
    const std::vector<std::pair<Tensor<double>, Tensor<double>>> affine = {
        {w, b}, {Tensor<double>(), Tensor<double>()}, {w, Tensor<double>()}, {Tensor<double>(), b}};
    for (const auto& [wt, bt] : affine) {
        INFO("weight: ", wt.defined(), ", bias: ", bt.defined());
        std::vector<Tensor<double>> wrt{x};
        for (const auto& p : {wt, bt})
            if (p.defined()) wrt.push_back(p);
        auto run = [&](bool create_graph) {
            return grad<double>({layer_norm(x, {2, 5}, wt, bt)}, wrt, create_graph, true, {g});
        };
        const auto fused = run(false), graph = run(true);
        CHECK(graph[0].requires_grad());
        for (std::size_t i = 0; i < fused.size(); ++i) {
            CHECK(xt::allclose(fused[i].value(), graph[i].value(), 1e-10, 1e-12));
        }
    }
}

TEST_CASE("layer_norm: float keeps precision when the mean is large") {
    manual_seed(8);
    xt::xarray<float> v = randn<float>({16, 64}).value() + 1000.0f;
    const auto y = layer_norm(Tensor<float>(v), {64});
    const xt::xarray<double> yd(y.value());
    CHECK(std::abs(xt::mean(yd)()) < 1e-4);
    CHECK(xt::variance(yd)() == doctest::Approx(1.0).epsilon(1e-3));
}

TEST_CASE("layer_norm: errors name normalized_shape and every shape") {
    Tensor<double> x(xt::zeros<double>({2, 3, 4})), w(xt::zeros<double>({3, 4})),
        b(xt::zeros<double>({4}));
    CHECK_THROWS_WITH_AS(layer_norm(x, {3}),
                         "layer_norm: normalized_shape must be the last axes of x (at least "
                         "one); got normalized_shape=[3], x=[2, 3, 4]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(layer_norm(x, {3, 4}, w, b),
                         "layer_norm: weight and bias must have normalized_shape [3, 4]; got "
                         "normalized_shape=[3, 4], x=[2, 3, 4], weight=[3, 4], bias=[4]",
                         ShapeError);
    CHECK_THROWS_AS(layer_norm(x, {}), ShapeError);
    CHECK_THROWS_AS(layer_norm(x, {1, 2, 3, 4}), ShapeError);  // more axes than x has
    CHECK_THROWS_WITH_AS(layer_norm(x, {4}, Tensor<double>(), Tensor<double>(), 0.0),
                         "layer_norm: eps must be > 0; got eps=0", ValueError);
}
