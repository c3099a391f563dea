#include "../../examples/ex4_net.hpp"

#include "testing.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <vector>

using namespace xgrad;
using ex4::debug_weights;

namespace {

// The lecture's cost in plain loops, straight from the formula with log h (no xgrad ops).
double reference_cost(const xt::xarray<double>& t1, const xt::xarray<double>& t2,
                      const xt::xarray<double>& x, const std::vector<int>& labels, double lambda) {
    const std::size_t m = x.shape()[0], n = x.shape()[1], h = t1.shape()[0], k = t2.shape()[0];
    const auto sigma = [](double z) { return 1 / (1 + std::exp(-z)); };
    double j = 0;
    for (std::size_t i = 0; i < m; ++i) {
        std::vector<double> a2(h + 1, 1.0);
        for (std::size_t u = 0; u < h; ++u) {
            double z = t1(u, 0);
            for (std::size_t v = 0; v < n; ++v)
                z += t1(u, v + 1) * x(i, v);
            a2[u + 1] = sigma(z);
        }
        for (std::size_t c = 0; c < k; ++c) {
            double z = 0;
            for (std::size_t u = 0; u <= h; ++u)
                z += t2(c, u) * a2[u];
            const double y = labels[i] == int(c) + 1 ? 1 : 0;
            j += -y * std::log(sigma(z)) - (1 - y) * std::log(1 - sigma(z));
        }
    }
    double squares = 0;
    for (const auto* t : {&t1, &t2})
        for (std::size_t r = 0; r < t->shape()[0]; ++r)
            for (std::size_t c = 1; c < t->shape()[1]; ++c)
                squares += (*t)(r, c) * (*t)(r, c);
    return j / double(m) + lambda / (2 * double(m)) * squares;
}

}  // namespace

TEST_CASE("ex4: cost of a network worked by hand") {
    // Θ1 = 0, so a⁽²⁾ = [1, ½, ½] for every image; Θ2 rows give z⁽³⁾ = [0 + 2·½ + 2·½, ln 3] = [2,
    // ln 3], h = [σ(2), ¾]. Example 1 has label 1 (y = [1, 0]), example 2 label 2 (y = [0, 1]):
    //   example 1: −log σ(2) − log(1 − ¾) = log(1 + e⁻²) + log 4 = 0.126928 + 1.386294
    //   example 2: −log(1 − σ(2)) − log ¾ = log(1 + e²) − log ¾  = 2.126928 + 0.287682
    //   J = (1.513223 + 2.414610) / 2 = 1.963916;  λ = 1: + 1/(2·2)·(2² + 2²) = 2 → 3.963916
    const ex4::Net<double> net{
        Tensor<double>(xt::zeros<double>({2, 3})),
        Tensor<double>(xt::xarray<double>{{0, 2, 2}, {std::log(3.0), 0, 0}})};
    const Tensor<double> x(xt::xarray<double>{{0.3, -0.7}, {5, 1}});
    const Tensor<double> y(ex4::label_matrix<double>({1, 2}, 2));
    CHECK(ex4::cost(net, x, y, 0.0).item() == doctest::Approx(1.963916).epsilon(1e-6));
    CHECK(ex4::cost(net, x, y, 1.0).item() == doctest::Approx(3.963916).epsilon(1e-6));
    CHECK(ex4::forward(net, x)(0, 1) == doctest::Approx(0.75));
    CHECK(ex4::predict(net, x) == std::vector<int>{1, 1});  // σ(2) = 0.881 > ¾: label 1
}

TEST_CASE("ex4: cost matches the formula in plain loops, with and without λ") {
    const xt::xarray<double> t1 = debug_weights(5, 4), t2 = debug_weights(3, 6),
                             xv = debug_weights(5, 3);
    const std::vector<int> labels{2, 3, 1, 2, 3};
    const ex4::Net<double> net{Tensor<double>(t1), Tensor<double>(t2)};
    const Tensor<double> x(xv), y(ex4::label_matrix<double>(labels, 3));
    for (const double lambda : {0.0, 1.0, 3.0}) {
        CAPTURE(lambda);
        CHECK(ex4::cost(net, x, y, lambda).item() ==
              doctest::Approx(reference_cost(t1, t2, xv, labels, lambda)).epsilon(1e-12));
    }
}

TEST_CASE("ex4: backpropagation through the cost passes gradcheck (3-5-3, λ = 3)") {
    const Tensor<double> x(debug_weights(5, 3)), y(ex4::label_matrix<double>({2, 3, 1, 2, 3}, 3));
    const std::vector<Tensor<double>> thetas{Tensor<double>(debug_weights(5, 4), true),
                                             Tensor<double>(debug_weights(3, 6), true)};
    const GradcheckResult r = gradcheck(
        [&](const std::vector<Tensor<double>>& t) {
            return ex4::cost(ex4::Net<double>{t[0], t[1]}, x, y, 3.0);
        },
        thetas);
    CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("ex4: the shipped weights give the README's regularisation term") {
    const ex4::Net<double> net{
        Tensor<double>(load_npy<double>(testing::data_path("ex4/Theta1.npy"))),
        Tensor<double>(load_npy<double>(testing::data_path("ex4/Theta2.npy")))};
    REQUIRE(net.theta1.shape() == Shape{25, 401});
    REQUIRE(net.theta2.shape() == Shape{10, 26});
    // README: Σ non-bias θ² = 961.406939, so λ/(2m)·961.406939 = 0.096141 for λ = 1, m = 5000
    CHECK(ex4::regularization(net, 2.0, 1).item() == doctest::Approx(961.406939).epsilon(1e-9));
    CHECK(ex4::regularization(net, 1.0, 5000).item() == doctest::Approx(0.096141).epsilon(1e-5));
}

TEST_CASE("ex4: labels outside 1..K are named") {
    CHECK_THROWS_WITH_AS(ex4::label_matrix<double>({1, 11}, 10),
                         doctest::Contains("label 11 of example 1 is outside 1..10"), ValueError);
    CHECK_THROWS_AS(ex4::label_matrix<double>({0}, 10), ValueError);
    CHECK(ex4::label_of_digit(0) == 10);
    CHECK(ex4::digit_of_label(10) == 0);
    CHECK(ex4::digit_of_label(ex4::label_of_digit(7)) == 7);
}

TEST_CASE(
    "ex4: area resize keeps constants, scales the ink by (20/28)² and flattens column-major") {
    const xt::xarray<double> w = ex4::area_weights(28, 20);
    for (std::size_t r = 0; r < 20; ++r)
        CHECK(xt::sum(xt::row(w, r))() == doctest::Approx(1.0));
    CHECK(w(0, 0) == doctest::Approx(1 / 1.4));    // output 0 covers [0, 1.4): all of input 0
    CHECK(w(0, 1) == doctest::Approx(0.4 / 1.4));  // and 0.4 of input 1
    xt::xarray<double> img = xt::zeros<double>({2, 784});
    xt::row(img, 0).fill(0.5);
    for (std::size_t c = 0; c < 28; ++c)
        img(1, c) = 1.0;  // the top row of image 1
    const xt::xarray<double> out = ex4::resize_images(img, 28, 20);
    REQUIRE(out.shape() == Shape{2, 400});
    CHECK(xt::amax(xt::abs(xt::row(out, 0) - 0.5))() < 1e-12);
    CHECK(xt::sum(xt::row(out, 1))() == doctest::Approx(28.0 * 20 * 20 / (28 * 28)));
    CHECK(out(1, 5 * 20 + 0) == doctest::Approx(1 / 1.4));  // pixel (0, 5): column-major index
    CHECK(out(1, 5) == 0.0);                                // pixel (5, 0) stays blank
}
