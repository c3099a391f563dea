// Numerics under extreme inputs and anomaly mode (docs/reliability.md, "Numerics"): the softmax
// family and the losses stay finite, values and gradients, for logits of ±1e4 and probabilities
// of exactly 0 and 1; anomaly mode names the op that first produced NaN/Inf and where it was made.

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/loss.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/softmax.hpp"
#include "autograd/tape.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

using namespace xgrad;

namespace {

template <class T>
bool all_finite(const xt::xarray<T>& a) {
    return std::all_of(a.begin(), a.end(), [](T v) { return std::isfinite(v); });
}

// Logits with entries of ±1e4 beside ordinary ones; labels that pick a −1e4, a +1e4 and a small
// logit.
template <class T>
xt::xarray<T> extreme_logits() {
    return xt::xarray<T>{{1e4, -1e4, 0, 1}, {-1e4, -1e4, 1e4, 1e4}, {-1e4, 3, -1e4, -2}};
}
const Index labels{1, 0, 3};

// f(x) must be finite, and so must the gradient of Σ w ⊙ f(x) for a fixed w of mixed signs, both
// on the ordinary path (fast VJPs) and with create_graph (the VJPs written with ops).
template <class T>
void check_finite_through(const std::function<Tensor<T>(const Tensor<T>&)>& f,
                          const xt::xarray<T>& x0) {
    for (const bool create_graph : {false, true}) {
        CAPTURE(create_graph);
        const Tensor<T> x(x0, true);
        const Tensor<T> y = f(x);
        REQUIRE(all_finite(y.value()));
        xt::xarray<T> w = xt::xarray<T>::from_shape(y.shape());
        for (std::size_t i = 0; i < w.size(); ++i)
            w.data()[i] = T(0.5) - T(0.37) * T(i % 4);  // 0.5, 0.13, −0.24, −0.61, ...
        const Tensor<T> g = grad(sum(mul(y, Tensor<T>(w))), x, create_graph);
        CHECK(all_finite(g.value()));
    }
}

}  // namespace

TEST_CASE_TEMPLATE("softmax, log_softmax, logsumexp: finite for logits of ±1e4", T, float, double) {
    const xt::xarray<T> z = extreme_logits<T>();
    check_finite_through<T>([](const Tensor<T>& x) { return softmax(x, 1); }, z);
    check_finite_through<T>([](const Tensor<T>& x) { return log_softmax(x, 1); }, z);
    check_finite_through<T>([](const Tensor<T>& x) { return logsumexp(x, {1}); }, z);
    const Tensor<T> p = softmax(Tensor<T>(z), 1);
    CHECK(p(0, 0) == T(1));    // e^0 / (e^0 + e^−2e4 + e^−1e4 + e^(1−1e4))
    CHECK(p(1, 2) == T(0.5));  // two equal largest logits share the mass
    const Tensor<T> lp = log_softmax(Tensor<T>(z), 1);
    CHECK(lp(0, 1) == T(-2e4));  // −1e4 − 1e4 − log(1 + ...) with the log term 0
}

TEST_CASE_TEMPLATE("cross_entropy: finite for logits of ±1e4, fused and composed", T, float,
                   double) {
    const xt::xarray<T> z = extreme_logits<T>();
    // Per example lse − z_label: 1e4 − (−1e4) = 2e4; 1e4 + ln 2 − (−1e4) = 2e4 + ln 2;
    // 3 + ln(1 + e^−5) − (−2) = 5 + ln(1 + e^−5).
    const xt::xarray<double> expected{2e4, 2e4 + std::log(2.0), 5 + std::log1p(std::exp(-5.0))};
    xt::xarray<T> one_hot = xt::zeros<T>({3, 4});
    for (std::size_t i = 0; i < 3; ++i)
        one_hot(i, static_cast<std::size_t>(labels(i))) = T(1);
    const std::function<Tensor<T>(const Tensor<T>&)> losses[] = {
        [](const Tensor<T>& x) { return cross_entropy(x, labels, Reduction::none); },
        [](const Tensor<T>& x) { return nn::nll_loss(log_softmax(x, 1), labels, Reduction::none); },
        [&](const Tensor<T>& x) {
            return nn::categorical_cross_entropy(x, Tensor<T>(one_hot), true, Reduction::none);
        },
    };
    for (std::size_t k = 0; k < 3; ++k) {
        CAPTURE(k);  // fused, nll of log_softmax, categorical from logits
        check_finite_through<T>(losses[k], z);
        const Tensor<T> l = losses[k](Tensor<T>(z));
        for (std::size_t i = 0; i < 3; ++i)
            CHECK(double(l(i)) == doctest::Approx(expected(i)).epsilon(1e-6));
    }
    check_finite_through<T>([](const Tensor<T>& x) { return cross_entropy(x, labels); }, z);
}

TEST_CASE_TEMPLATE("binary_cross_entropy: finite for probabilities of exactly 0 and 1", T, float,
                   double) {
    const xt::xarray<T> y{0, 0, 1, 1, 1};
    const auto bce = [&](const Tensor<T>& p) {
        return nn::binary_cross_entropy(p, Tensor<T>(y), Reduction::none);
    };
    check_finite_through<T>(bce, xt::xarray<T>{0, 1, 0, 1, 0.5});
    // p is clipped to [1e-7, 1 − 1e-7] (as Keras): a wrong certain answer costs −ln(1e-7) ≈ 16.1
    // (15.9 in float, where 1 − 1e-7 rounds to 1 − 2^−23), a right one about 1e-7.
    const Tensor<T> l = bce(Tensor<T>(xt::xarray<T>{0, 1, 0, 1, 0.5}));
    CHECK(l(0) < T(1e-6));
    CHECK(l(1) > T(15.8));
    CHECK(l(1) < T(16.2));
    CHECK(l(2) > T(15.8));
    CHECK(l(3) < T(1e-6));
    CHECK(double(l(4)) == doctest::Approx(std::log(2.0)).epsilon(1e-6));
    // The same for probabilities read as such in categorical_cross_entropy (clipped to [1e-7, 1]).
    check_finite_through<T>(
        [](const Tensor<T>& p) {
            return nn::categorical_cross_entropy(p, Tensor<T>(xt::xarray<T>{{0, 1}, {1, 0}}), false,
                                                 Reduction::none);
        },
        xt::xarray<T>{{1, 0}, {1, 0}});
}

TEST_CASE_TEMPLATE("binary_cross_entropy_with_logits: finite for logits of ±1e4", T, float,
                   double) {
    const xt::xarray<T> y{1, 0, 0, 1, 1};
    const auto bce = [&](const Tensor<T>& z) {
        return nn::binary_cross_entropy_with_logits(z, Tensor<T>(y), Reduction::none);
    };
    const xt::xarray<T> z{1e4, -1e4, 1e4, -1e4, 0};
    check_finite_through<T>(bce, z);
    // softplus(z) − y·z: 0, 0, 1e4, 1e4, ln 2.
    const Tensor<T> l = bce(Tensor<T>(z));
    CHECK(l(0) == T(0));
    CHECK(l(1) == T(0));
    CHECK(l(2) == T(1e4));
    CHECK(l(3) == T(1e4));
    CHECK(double(l(4)) == doctest::Approx(std::log(2.0)).epsilon(1e-6));
}

TEST_CASE("anomaly mode: a forward NaN/Inf names the op, the element, its inputs and the label") {
    AnomalyGuard anomaly;
    Tensor<double> x(xt::xarray<double>{1.0, 0.0}, true);
    x.set_name("x");
    AnomalyLabel label("log-likelihood");
    const int line = __LINE__ - 1;
    const std::string site =
        "created in log-likelihood (test_numerics.cpp:" + std::to_string(line) + ")";
    const auto y = exp(x);  // finite: recorded at the next tape position
    const std::string where = "anomaly: forward of log (tape #" +
                              std::to_string(y.tape_position() + 1) +
                              ") produced -Inf at element 1 of [2]; inputs: leaf 'x' [2]; " + site;
    CHECK_THROWS_WITH_AS(log(x), where.c_str(), AnomalyError);
}

TEST_CASE("anomaly mode: a backward NaN/Inf names the op and where its forward was made") {
    AnomalyGuard anomaly;
    Tensor<double> x(xt::xarray<double>{4.0, 0.0}, true);
    Tensor<double> y;
    int line = 0;
    {
        AnomalyLabel label("norm");
        line = __LINE__ - 1;
        y = sqrt(x * 1.0);  // √0 = 0 is finite; its gradient 1/(2·0) is not
    }
    const std::string where =
        "anomaly: backward of sqrt (tape #" + std::to_string(y.tape_position()) +
        ") produced Inf (in its div); " + "inputs: #" +
        std::to_string(y.inputs()[0].tape_position()) +
        " mul [2]; created in norm (test_numerics.cpp:" + std::to_string(line) + ")";
    CHECK_THROWS_WITH_AS(sum(y).backward(), where.c_str(), AnomalyError);
}

TEST_CASE("anomaly mode: an op made in a module's forward names the module") {
    AnomalyGuard anomaly;
    nn::Linear<double> layer(2, 1);
    layer.parameters()[0].mutable_value()(0, 0) = std::numeric_limits<double>::infinity();
    const Tensor<double> x(xt::xarray<double>{{1.0, -1.0}}, true);
    CHECK_THROWS_WITH_AS(layer(x), doctest::Contains("created in Linear(in=2, out=1, bias=true)"),
                         AnomalyError);
}
