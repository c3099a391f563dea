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
#include <cstdint>
#include <vector>

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

// Cross-entropy with PyTorch's options in plain loops (Note [fused cross-entropy]): per example
// (1 − ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c), 0 for an ignored label; mean divides by
// the sum of w_y over the examples not ignored.
Array options_ref(const Array& z, const Index& y, const std::vector<double>& w, std::int64_t ignore,
                  double eps, Reduction reduction) {
    const std::size_t n = z.shape()[0], c = z.shape()[1];
    Array out = xt::zeros<double>({n});
    double denominator = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (y(i) == ignore) continue;
        double m = -1e300, s = 0;
        for (std::size_t j = 0; j < c; ++j)
            m = std::max(m, z(i, j));
        for (std::size_t j = 0; j < c; ++j)
            s += std::exp(z(i, j) - m);
        auto minus_log_p = [&](std::size_t j) { return m + std::log(s) - z(i, j); };
        const auto k = static_cast<std::size_t>(y(i));
        double smooth = 0;
        for (std::size_t j = 0; j < c; ++j)
            smooth += w[j] * minus_log_p(j);
        out(i) = (1 - eps) * w[k] * minus_log_p(k) + eps / static_cast<double>(c) * smooth;
        denominator += w[k];
    }
    if (reduction == Reduction::none) return out;
    const double total = xt::sum(out)();
    return Array(reduction == Reduction::sum ? total : total / denominator);
}

const Index ignoring{2, -100, 1, 3};  // the second example is ignored
const std::vector<double> class_weight{0.5, 2.0, 1.0, 3.0};

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

XGRAD_REGISTER_OP(OpSpec("cross_entropy_weight",
                         [](const Tensors& x) {
                             return cross_entropy(x[0], labels,
                                                  CrossEntropyOptions().weight(class_weight));
                         })
                      .reference([](const A& a) {
                          return options_ref(a[0], labels, class_weight, -1, 0, Reduction::mean);
                      })
                      .cases({{{4, 4}}})
                      .bad_shapes({{4, 5}}));  // five classes for four weights
XGRAD_REGISTER_OP(OpSpec("cross_entropy_ignore_index",
                         [](const Tensors& x) {
                             return cross_entropy(x[0], ignoring,
                                                  CrossEntropyOptions().ignore_index(-100));
                         })
                      .reference([](const A& a) {
                          return options_ref(a[0], ignoring, std::vector<double>(6, 1.0), -100, 0,
                                             Reduction::mean);
                      })
                      .cases({{{4, 4}}, {{4, 6}}})
                      .bad_shapes({{3, 4}}));
XGRAD_REGISTER_OP(OpSpec("cross_entropy_label_smoothing",
                         [](const Tensors& x) {
                             return cross_entropy(x[0], labels,
                                                  CrossEntropyOptions().label_smoothing(0.1));
                         })
                      .reference([](const A& a) {
                          return options_ref(a[0], labels, std::vector<double>(6, 1.0), -1, 0.1,
                                             Reduction::mean);
                      })
                      .cases({{{4, 4}}, {{4, 6}}})
                      .bad_shapes({{4}}));
// Class weights, an ignored label and label smoothing at once, with each reduction.
OpSpec all_options_spec(const char* name, Reduction reduction) {
    return OpSpec(name,
                  [reduction](const Tensors& x) {
                      return cross_entropy(x[0], ignoring,
                                           CrossEntropyOptions()
                                               .weight(class_weight)
                                               .ignore_index(-100)
                                               .label_smoothing(0.2)
                                               .reduction(reduction));
                  })
        .reference([reduction](const A& a) {
            return options_ref(a[0], ignoring, class_weight, -100, 0.2, reduction);
        })
        .cases({{{4, 4}}})
        .bad_shapes({{4, 3}});
}
XGRAD_REGISTER_OP(all_options_spec("cross_entropy_all_options", Reduction::mean));
XGRAD_REGISTER_OP(all_options_spec("cross_entropy_all_options_none", Reduction::none));
XGRAD_REGISTER_OP(all_options_spec("cross_entropy_all_options_sum", Reduction::sum));

TEST_CASE("cross_entropy: weights, ignore_index and label smoothing worked by hand") {
    // two classes, equal logits: −log p = log 2 for either class
    Tensor<double> z(xt::zeros<double>({3, 2}));
    const Index y{0, 1, 7};
    const double l2 = std::log(2.0);
    auto opts = CrossEntropyOptions().weight({1.0, 3.0}).ignore_index(7);
    // (1·log 2 + 3·log 2) / (1 + 3): the weighted mean, the ignored row left out
    CHECK(cross_entropy(z, y, opts).item() == doctest::Approx(l2));
    CHECK(cross_entropy(z, y, opts.reduction(Reduction::sum)).item() == doctest::Approx(4 * l2));
    // smoothing with p = ½ everywhere changes nothing: (1 − ε)·log 2 + ε/2·(log 2 + log 2)
    CHECK(cross_entropy(z, Index{0, 1, 0}, CrossEntropyOptions().label_smoothing(0.3)).item() ==
          doctest::Approx(l2));
    // every row ignored: 0/0, as PyTorch
    CHECK(
        std::isnan(cross_entropy(z, Index{7, 7, 7}, CrossEntropyOptions().ignore_index(7)).item()));
}

TEST_CASE("cross_entropy: bad options are named") {
    Tensor<double> z(xt::zeros<double>({2, 3}));
    CHECK_THROWS_WITH_AS(
        cross_entropy(z, Index{0, 1}, CrossEntropyOptions().weight({1.0, 2.0})),
        "cross_entropy: weight must be [classes], one entry per class; got logits=[2, 3], "
        "weight=[2]",
        ShapeError);
    CHECK_THROWS_WITH_AS(cross_entropy(z, Index{0, 1}, CrossEntropyOptions().label_smoothing(1.5)),
                         doctest::Contains("cross_entropy: label_smoothing must lie in [0, 1]"),
                         ValueError);
    CHECK_THROWS_WITH_AS(cross_entropy(z, Index{0, -100}, CrossEntropyOptions().ignore_index(-1)),
                         doctest::Contains("cross_entropy: label -100 at position 1"), ValueError);
}

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
