#include "nn/loss.hpp"

#include "autograd/ops/elementwise.hpp"

#include "harness.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

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
namespace {
// The mean over elements of f(pred − target), in plain loops.
template <class F>
Array mean_of_differences(const A& a, F f) {
    double s = 0;
    for (std::size_t i = 0; i < a[0].size(); ++i)
        s += f(a[0].data()[i] - a[1].data()[i]);
    return Array(s / static_cast<double>(a[0].size()));
}
// Targets near 0, so pred − target keeps pred's distance from the kinks the pred sampler avoids.
const harness::Sampler small = harness::uniform(-0.05, 0.05);
// Σ over elements of p·(log p − q) (0 where p = 0), or e^t·(t − q) for log targets.
double kl_sum(const A& a, bool log_target) {
    double s = 0;
    for (std::size_t i = 0; i < a[0].size(); ++i) {
        const double q = a[0].data()[i], t = a[1].data()[i];
        s += log_target ? std::exp(t) * (t - q) : (t > 0 ? t * (std::log(t) - q) : 0.0);
    }
    return s;
}
// Uniform probabilities in [0.05, 1) with exact zeros at the even flat positions.
harness::Sampler probabilities_with_zeros() {
    return [](const Shape& shape, std::mt19937_64& rng) {
        Array p = harness::uniform(0.05, 1.0)(shape, rng);
        for (std::size_t i = 0; i < p.size(); i += 2)
            p.data()[i] = 0;
        return p;
    };
}
}  // namespace

XGRAD_REGISTER_OP(OpSpec("l1_loss", [](const Tensors& x) { return nn::l1_loss(x[0], x[1]); })
                      .reference([](const A& a) {
                          return mean_of_differences(a, [](double d) { return std::abs(d); });
                      })
                      .cases({{{3, 2}, {3, 2}}, {{5}, {5}}, {{}, {}}})
                      .samplers({harness::away_from({0.0}, 0.2), small})
                      .bad_shapes({{3, 2}, {2, 3}}));
XGRAD_REGISTER_OP(OpSpec("huber_loss",
                         [](const Tensors& x) {
                             return nn::huber_loss(x[0], x[1], Reduction::mean, 0.8);
                         })
                      .reference([](const A& a) {
                          return mean_of_differences(a, [](double d) {
                              return std::abs(d) <= 0.8 ? 0.5 * d * d : 0.8 * (std::abs(d) - 0.4);
                          });
                      })
                      .cases({{{4, 3}, {4, 3}}, {{6}, {6}}})
                      .samplers({harness::away_from({-0.8, 0.8}, 0.2), small})
                      .bad_shapes({{4, 3}, {3}}));
XGRAD_REGISTER_OP(OpSpec("smooth_l1_loss",
                         [](const Tensors& x) {
                             return nn::smooth_l1_loss(x[0], x[1], Reduction::sum, 0.5);
                         })
                      .reference([](const A& a) {
                          const double n = static_cast<double>(a[0].size());
                          return Array(n * mean_of_differences(a, [](double d) {
                                           return std::abs(d) < 0.5 ? d * d : std::abs(d) - 0.25;
                                       })());  // ½d²/0.5 = d², |d| − ½·0.5
                      })
                      .cases({{{4, 3}, {4, 3}}, {{6}, {6}}})
                      .samplers({harness::away_from({-0.5, 0.5}, 0.2), small})
                      .bad_shapes({{4, 3}, {4, 2}}));
XGRAD_REGISTER_OP(
    OpSpec("kl_div", [](const Tensors& x) { return nn::kl_div(x[0], x[1], Reduction::batchmean); })
        .reference([](const A& a) {
            return Array(kl_sum(a, false) / static_cast<double>(a[0].shape()[0]));
        })
        .cases({{{3, 4}, {3, 4}}, {{5}, {5}}})
        .samplers({harness::uniform(-3, -0.1), harness::uniform(0.05, 1.0)})
        .bad_shapes({{3, 4}, {4, 3}}));
XGRAD_REGISTER_OP(OpSpec("kl_div_mean_zero_targets",
                         [](const Tensors& x) { return nn::kl_div(x[0], x[1]); })
                      .reference([](const A& a) {
                          return Array(kl_sum(a, false) / static_cast<double>(a[0].size()));
                      })
                      .cases({{{3, 4}, {3, 4}}})
                      .samplers({harness::uniform(-3, -0.1), probabilities_with_zeros()})
                      .constant_inputs({1})  // p·log p has no derivative at p = 0
                      .bad_shapes({{3, 4}, {3}}));
XGRAD_REGISTER_OP(OpSpec("kl_div_log_target",
                         [](const Tensors& x) {
                             return nn::kl_div(x[0], x[1], Reduction::sum, true);
                         })
                      .reference([](const A& a) { return Array(kl_sum(a, true)); })
                      .cases({{{3, 4}, {3, 4}}, {{}, {}}})
                      .samplers({harness::uniform(-3, -0.1)})
                      .bad_shapes({{3, 4}, {3, 5}}));
XGRAD_REGISTER_OP(OpSpec("sparse_categorical_cross_entropy_options",
                         [](const Tensors& x) {
                             return nn::sparse_categorical_cross_entropy(
                                 x[0], Index{2, -1, 1},
                                 nn::CrossEntropyOptions().ignore_index(-1).label_smoothing(0.1));
                         })
                      .reference([](const A& a) {
                          // rows 0 and 2 count: (1 − ε)(−log p_y) + (ε/4)·Σ_c (−log p_c), over 2
                          double s = 0;
                          for (std::size_t i : {0, 2}) {
                              const auto y = i == 0 ? 2u : 1u;
                              double smooth = 0;
                              for (std::size_t c = 0; c < 4; ++c)
                                  smooth -= log_softmax_at(a[0], i, c);
                              s += -0.9 * log_softmax_at(a[0], i, y) + 0.1 / 4 * smooth;
                          }
                          return Array(s / 2);
                      })
                      .cases({{{3, 4}}})
                      .bad_shapes({{4, 4}}));

TEST_CASE("l1, huber, smooth_l1: values worked by hand") {
    Tensor<double> pred(xt::xarray<double>{0.5, 3.0}), target(xt::xarray<double>{0.0, 0.0});
    CHECK(nn::l1_loss(pred, target).item() == doctest::Approx(1.75));  // (0.5 + 3) / 2
    // huber δ = 1: ½·0.25 = 0.125 and 1·(3 − ½) = 2.5
    CHECK(nn::huber_loss(pred, target, Reduction::sum).item() == doctest::Approx(2.625));
    // smooth_l1 β = 2: ½·0.25/2 = 0.0625 and 3 − 1 = 2
    CHECK(nn::smooth_l1_loss(pred, target, Reduction::sum, 2.0).item() == doctest::Approx(2.0625));
    CHECK(nn::smooth_l1_loss(pred, target, Reduction::mean, 0.0).item() == doctest::Approx(1.75));
    CHECK_THROWS_WITH_AS(nn::huber_loss(pred, target, Reduction::mean, 0.0),
                         "huber_loss: delta must be > 0; got delta=0", ValueError);
}

TEST_CASE("kl_div: zero for equal distributions, batchmean divides by the batch") {
    const xt::xarray<double> p{{0.25, 0.75}, {0.5, 0.5}};
    Tensor<double> log_p(xt::xarray<double>(xt::log(p))), target(p);
    CHECK(nn::kl_div(log_p, target).item() == doctest::Approx(0.0));
    // KL((1, 0) ‖ (¼, ¾)) = log 4 in row 0, and 0 in row 1 for a target equal to the input
    Tensor<double> t(xt::xarray<double>{{1, 0}, {0.5, 0.5}});
    CHECK(nn::kl_div(log_p, t, Reduction::batchmean).item() == doctest::Approx(std::log(4.0) / 2));
    CHECK(nn::kl_div(log_p, t, Reduction::mean).item() == doctest::Approx(std::log(4.0) / 4));
    CHECK(nn::kl_div(log_p, Tensor<double>(xt::xarray<double>(xt::log(p))), Reduction::sum, true)
              .item() == doctest::Approx(0.0));
}

TEST_CASE("batchmean is kl_div's alone: every other loss refuses it by name") {
    const Tensor<double> p(xt::xarray<double>{{0.2, 0.8}, {0.6, 0.4}});
    const Index labels{1, 0};
    const auto b = Reduction::batchmean;
    const std::vector<std::pair<std::string, std::function<void()>>> losses = {
        {"mse_loss", [&] { nn::mse_loss(p, p, b); }},
        {"l1_loss", [&] { nn::l1_loss(p, p, b); }},
        {"huber_loss", [&] { nn::huber_loss(p, p, b); }},
        {"smooth_l1_loss", [&] { nn::smooth_l1_loss(p, p, b); }},
        {"binary_cross_entropy", [&] { nn::binary_cross_entropy(p, p, b); }},
        {"binary_cross_entropy_with_logits",
         [&] { nn::binary_cross_entropy_with_logits(p, p, b); }},
        {"categorical_cross_entropy", [&] { nn::categorical_cross_entropy(p, p, false, b); }},
        {"sparse_categorical_cross_entropy",
         [&] { nn::sparse_categorical_cross_entropy(p, labels, b); }},
        {"nll_loss", [&] { nn::nll_loss(p, labels, b); }},
    };
    for (const auto& [name, call] : losses) {
        CAPTURE(name);
        CHECK_THROWS_WITH_AS(
            call(), (name + ": reduction batchmean is for kl_div; use mean, sum or none").c_str(),
            ValueError);
    }
    CHECK_NOTHROW(nn::kl_div(xgrad::log(p), p, b));
}

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
