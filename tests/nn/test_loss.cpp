#include "nn/loss.hpp"

#include "harness.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {
const Index labels{2, 0, 1};  // three examples, four classes

// Plain-loop log-softmax of row i of a [n, c] array, at class k.
double log_softmax_at(const Array& z, std::size_t i, std::size_t k) {
    double m = -1e300, s = 0;
    for (std::size_t j = 0; j < z.shape()[1]; ++j) m = std::max(m, z(i, j));
    for (std::size_t j = 0; j < z.shape()[1]; ++j) s += std::exp(z(i, j) - m);
    return z(i, k) - m - std::log(s);
}
}  // namespace

XGRAD_REGISTER_OP(OpSpec("mse_loss", [](const Tensors& x) { return nn::mse_loss(x[0], x[1]); })
                      .reference([](const A& a) {
                          double s = 0;
                          for (std::size_t i = 0; i < a[0].size(); ++i) {
                              const double d = a[0].data()[i] - a[1].data()[i];
                              s += d * d;
                          }
                          return Array(s / static_cast<double>(a[0].size()));
                      })
                      .cases({{{3, 2}, {3, 2}}, {{5}, {5}}})
                      .bad_shapes({{3, 2}, {2, 3}}));
XGRAD_REGISTER_OP(OpSpec("binary_cross_entropy",
                         [](const Tensors& x) { return nn::binary_cross_entropy(x[0], x[1]); })
                      .reference([](const A& a) {
                          double s = 0;
                          for (std::size_t i = 0; i < a[0].size(); ++i) {
                              const double p = a[0].data()[i], y = a[1].data()[i];
                              s -= y * std::log(p) + (1 - y) * std::log(1 - p);
                          }
                          return Array(s / static_cast<double>(a[0].size()));
                      })
                      .cases({{{3, 2}, {3, 2}}})
                      .samplers({harness::uniform(0.05, 0.95), harness::uniform(0.0, 1.0)})
                      .bad_shapes({{3, 2}, {3}}));
XGRAD_REGISTER_OP(OpSpec("binary_cross_entropy_with_logits",
                         [](const Tensors& x) {
                             return nn::binary_cross_entropy_with_logits(x[0], x[1]);
                         })
                      .reference([](const A& a) {
                          double s = 0;
                          for (std::size_t i = 0; i < a[0].size(); ++i) {
                              const double p = 1 / (1 + std::exp(-a[0].data()[i]));
                              const double y = a[1].data()[i];
                              s -= y * std::log(p) + (1 - y) * std::log(1 - p);
                          }
                          return Array(s / static_cast<double>(a[0].size()));
                      })
                      .cases({{{3, 2}, {3, 2}}})
                      .samplers({harness::uniform(-4, 4), harness::uniform(0.0, 1.0)})
                      .bad_shapes({{3, 2}, {3}}));
XGRAD_REGISTER_OP(OpSpec("categorical_cross_entropy",
                         [](const Tensors& x) { return nn::categorical_cross_entropy(x[0], x[1]); })
                      .reference([](const A& a) {
                          double s = 0;
                          for (std::size_t i = 0; i < a[0].shape()[0]; ++i)
                              for (std::size_t k = 0; k < a[0].shape()[1]; ++k)
                                  s -= a[1](i, k) * log_softmax_at(a[0], i, k);
                          return Array(s / static_cast<double>(a[0].shape()[0]));
                      })
                      .cases({{{3, 4}, {3, 4}}})
                      .bad_shapes({{3, 4}, {3, 5}}));
XGRAD_REGISTER_OP(OpSpec("sparse_categorical_cross_entropy",
                         [](const Tensors& x) {
                             return nn::sparse_categorical_cross_entropy(x[0], labels);
                         })
                      .reference([](const A& a) {
                          double s = 0;
                          for (std::size_t i = 0; i < 3; ++i)
                              s -= log_softmax_at(a[0], i, static_cast<std::size_t>(labels(i)));
                          return Array(s / 3);
                      })
                      .cases({{{3, 4}}})
                      .bad_shapes({{4, 4}}));  // four rows for three labels
XGRAD_REGISTER_OP(OpSpec("nll_loss", [](const Tensors& x) { return nn::nll_loss(x[0], labels); })
                      .reference([](const A& a) {
                          return Array(-(a[0](0, 2) + a[0](1, 0) + a[0](2, 1)) / 3);
                      })
                      .cases({{{3, 4}}})
                      .bad_shapes({{3}}));

TEST_CASE("sparse_categorical_cross_entropy: uniform logits cost log(classes)") {
    Tensor<double> logits(xt::zeros<double>({2, 4}));
    // softmax of equal logits is 1/4 per class, so −log(1/4) = log 4 for every example
    CHECK(nn::sparse_categorical_cross_entropy(logits, Index{1, 3}).item() ==
          doctest::Approx(std::log(4.0)));
}

TEST_CASE("sparse_categorical_cross_entropy: an out-of-range label is named") {
    Tensor<double> logits(xt::zeros<double>({2, 10}));
    CHECK_THROWS_WITH_AS(nn::sparse_categorical_cross_entropy(logits, Index{3, 10}),
                         doctest::Contains("label 10 at position 1 is outside [0, 10)"), ValueError);
}

TEST_CASE("binary_cross_entropy: probabilities of exactly 0 and 1 stay finite") {
    Tensor<double> p(xt::xarray<double>{0.0, 1.0}), y(xt::xarray<double>{1.0, 0.0});
    const double loss = nn::binary_cross_entropy(p, y).item();
    CHECK(std::isfinite(loss));
    CHECK(loss == doctest::Approx(-std::log(1e-7)).epsilon(1e-6));  // both clipped to 1e-7
}

TEST_CASE("mse_loss: reductions") {
    Tensor<double> p(xt::xarray<double>{1, 2, 4}), t(xt::xarray<double>{1, 0, 1});
    // squared errors 0, 4, 9
    CHECK(nn::mse_loss(p, t).item() == doctest::Approx(13.0 / 3));
    CHECK(nn::mse_loss(p, t, nn::Reduction::sum).item() == 13);
    CHECK(nn::mse_loss(p, t, nn::Reduction::none).value() == xt::xarray<double>{0, 4, 9});
}
