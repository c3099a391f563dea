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
    for (std::size_t j = 0; j < z.shape()[1]; ++j)
        m = std::max(m, z(i, j));
    for (std::size_t j = 0; j < z.shape()[1]; ++j)
        s += std::exp(z(i, j) - m);
    return z(i, k) - m - std::log(s);
}

// Sparse categorical cross-entropy of logits a[0] [3, c] against `labels`, in plain loops:
// −(1/3) Σᵢ log softmax(a[0])ᵢ,labelᵢ.
Array sparse_cross_entropy_ref(const A& a) {
    double s = 0;
    for (std::size_t i = 0; i < 3; ++i)
        s -= log_softmax_at(a[0], i, static_cast<std::size_t>(labels(i)));
    return Array(s / 3);
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
                      .reference(sparse_cross_entropy_ref)
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
                         doctest::Contains("label 10 at position 1 is outside [0, 10)"),
                         ValueError);
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

// The other reductions and forms of each loss, through the same harness.
namespace {
// Per-element squared error [shape of a[0]].
Array squared_errors(const A& a) {
    Array r = a[0];
    for (std::size_t i = 0; i < r.size(); ++i) {
        const double d = a[0].data()[i] - a[1].data()[i];
        r.data()[i] = d * d;
    }
    return r;
}
Array sum_all(const Array& a) {
    double s = 0;
    for (const double v : a)
        s += v;
    return Array(s);
}
}  // namespace

XGRAD_REGISTER_OP(OpSpec("mse_loss_sum",
                         [](const Tensors& x) {
                             return nn::mse_loss(x[0], x[1], nn::Reduction::sum);
                         })
                      .reference([](const A& a) { return sum_all(squared_errors(a)); })
                      .cases({{{3, 2}, {3, 2}}})
                      .bad_shapes({{3, 2}, {3, 1}}));
XGRAD_REGISTER_OP(OpSpec("mse_loss_none",
                         [](const Tensors& x) {
                             return nn::mse_loss(x[0], x[1], nn::Reduction::none);
                         })
                      .reference(squared_errors)
                      .cases({{{3, 2}, {3, 2}}, {{4}, {4}}})
                      .bad_shapes({{4}, {5}}));
XGRAD_REGISTER_OP(OpSpec("binary_cross_entropy_none",
                         [](const Tensors& x) {
                             return nn::binary_cross_entropy(x[0], x[1], nn::Reduction::none);
                         })
                      .reference([](const A& a) {
                          Array r = a[0];
                          for (std::size_t i = 0; i < r.size(); ++i) {
                              const double p = a[0].data()[i], y = a[1].data()[i];
                              r.data()[i] = -(y * std::log(p) + (1 - y) * std::log(1 - p));
                          }
                          return r;
                      })
                      .cases({{{2, 3}, {2, 3}}})
                      .samplers({harness::uniform(0.05, 0.95), harness::uniform(0.0, 1.0)})
                      .bad_shapes({{2, 3}, {3, 2}}));
XGRAD_REGISTER_OP(OpSpec("binary_cross_entropy_with_logits_sum",
                         [](const Tensors& x) {
                             return nn::binary_cross_entropy_with_logits(x[0], x[1],
                                                                         nn::Reduction::sum);
                         })
                      .reference([](const A& a) {
                          double s = 0;
                          for (std::size_t i = 0; i < a[0].size(); ++i) {
                              const double z = a[0].data()[i], y = a[1].data()[i];
                              s += std::log(1 + std::exp(z)) - y * z;  // softplus(z) − y·z
                          }
                          return Array(s);
                      })
                      .cases({{{4}, {4}}})
                      .samplers({harness::uniform(-4, 4), harness::uniform(0.0, 1.0)})
                      .bad_shapes({{4}, {2, 2}}));
XGRAD_REGISTER_OP(OpSpec("categorical_cross_entropy_probabilities",
                         [](const Tensors& x) {
                             return nn::categorical_cross_entropy(x[0], x[1], false);
                         })
                      .reference([](const A& a) {
                          double s = 0;
                          for (std::size_t i = 0; i < a[0].size(); ++i)
                              s -= a[1].data()[i] * std::log(a[0].data()[i]);
                          return Array(s / static_cast<double>(a[0].shape()[0]));
                      })
                      .cases({{{3, 4}, {3, 4}}})
                      .samplers({harness::uniform(0.05, 0.95), harness::uniform(0.0, 1.0)})
                      .bad_shapes({{3, 4}, {4, 3}}));
XGRAD_REGISTER_OP(OpSpec("categorical_cross_entropy_none",
                         [](const Tensors& x) {
                             return nn::categorical_cross_entropy(x[0], x[1], true,
                                                                  nn::Reduction::none);
                         })
                      .reference([](const A& a) {
                          Array r = xt::zeros<double>({a[0].shape()[0]});
                          for (std::size_t i = 0; i < a[0].shape()[0]; ++i)
                              for (std::size_t k = 0; k < a[0].shape()[1]; ++k)
                                  r(i) -= a[1](i, k) * log_softmax_at(a[0], i, k);
                          return r;
                      })
                      .cases({{{3, 4}, {3, 4}}})
                      .bad_shapes({{4}, {4}}));  // not [n, classes]
XGRAD_REGISTER_OP(
    OpSpec("nll_loss_sum",
           [](const Tensors& x) { return nn::nll_loss(x[0], labels, nn::Reduction::sum); })
        .reference([](const A& a) { return Array(-(a[0](0, 2) + a[0](1, 0) + a[0](2, 1))); })
        .cases({{{3, 4}}})
        .bad_shapes({{2, 4}}));
XGRAD_REGISTER_OP(OpSpec("sparse_categorical_cross_entropy_tensor_labels",
                         [](const Tensors& x) {
                             // labels held as whole numbers in a tensor, as a DataLoader gives them
                             return nn::sparse_categorical_cross_entropy(
                                 x[0], Tensor<double>(xt::xarray<double>{2, 0, 1}));
                         })
                      .reference(sparse_cross_entropy_ref)
                      .cases({{{3, 4}}})
                      .bad_shapes({{3, 4, 1}}));

TEST_CASE("categorical_cross_entropy: one-hot targets on probabilities, worked by hand") {
    Tensor<double> p(xt::xarray<double>{{0.5, 0.25, 0.25}, {0.1, 0.8, 0.1}});
    Tensor<double> t(xt::xarray<double>{{1, 0, 0}, {0, 1, 0}});
    // −log 0.5 = 0.693147, −log 0.8 = 0.223144; mean 0.458145
    CHECK(nn::categorical_cross_entropy(p, t, false).item() ==
          doctest::Approx((std::log(2.0) - std::log(0.8)) / 2));
    CHECK(nn::categorical_cross_entropy(p, t, false, nn::Reduction::none).value()(1) ==
          doctest::Approx(-std::log(0.8)));
}

TEST_CASE("to_index: whole numbers become indices, a fraction is named") {
    CHECK(nn::to_index(Tensor<float>(xt::xarray<float>{3, 0, 9})) == Index{3, 0, 9});
    CHECK_THROWS_WITH_AS(
        nn::to_index(Tensor<float>(xt::xarray<float>{1, 2.5f})),
        doctest::Contains("to_index: value 2.5 at position 1 is not a whole number"), ValueError);
}
