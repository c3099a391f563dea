#include "autograd/ops/dropout.hpp"

#include "autograd/random.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <xtensor/xview.hpp>

#include <random>

using namespace xgrad;
using namespace harness;
using A = std::vector<Array>;

// The mask is random: each call reseeds, so every evaluation of the gradient check sees one mask.
XGRAD_REGISTER_OP(OpSpec("dropout",
                         [](const Tensors& x) {
                             manual_seed(7);
                             return dropout(x[0], 0.3, true);
                         })
                      .reference([](const A& a) {
                          manual_seed(7);
                          std::bernoulli_distribution keep(0.7);
                          Array y = a[0];
                          for (auto& v : y)
                              v *= keep(generator()) ? 1 / 0.7 : 0.0;
                          return y;
                      })
                      .cases({{{3, 4}}, {{2, 3, 2}}, {{}}, {{0, 2}}})
                      .any_shape("elementwise: any shape is fine"));
XGRAD_REGISTER_OP(OpSpec("dropout2d",
                         [](const Tensors& x) {
                             manual_seed(11);
                             return dropout2d(x[0], 0.4, true);
                         })
                      .reference([](const A& a) {
                          manual_seed(11);
                          std::bernoulli_distribution keep(0.6);
                          Array y = a[0];
                          const std::size_t planes = y.shape()[0] * y.shape()[1],
                                            s = y.size() / planes;
                          for (std::size_t p = 0; p < planes; ++p) {
                              const double m = keep(generator()) ? 1 / 0.6 : 0.0;
                              for (std::size_t j = 0; j < s; ++j)
                                  y.data()[p * s + j] *= m;
                          }
                          return y;
                      })
                      .cases({{{3, 4, 2, 2}}, {{2, 2, 3, 1}}})
                      .bad_shapes({{3, 4, 2}}));

TEST_CASE("dropout: each element is dropped or scaled, evaluation and p = 0 are the identity") {
    manual_seed(2);
    Tensor<double> x(xt::ones<double>({1000}));
    const auto y = dropout(x, 0.5);
    std::size_t dropped = 0;
    for (const double v : y.value()) {
        CHECK((v == 0 || v == 2));  // 1/(1 − 0.5)
        dropped += v == 0;
    }
    CHECK(dropped > 420);  // 500 expected, sd 15.8: outside [420, 580] has odds ~1e-6
    CHECK(dropped < 580);
    CHECK(dropout(x, 0.5, false).same(x));
    CHECK(dropout(x, 0.0).same(x));
    CHECK_THROWS_WITH_AS(dropout(x, 1.0), "dropout: p must be in [0, 1); got p=1", ValueError);
}

TEST_CASE("dropout2d: whole channels are dropped or scaled, evaluation is the identity") {
    manual_seed(1);
    Tensor<double> x(xt::ones<double>({8, 16, 3, 3}));
    const auto y = dropout2d(x, 0.25);
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < 8; ++i)
        for (std::size_t c = 0; c < 16; ++c) {
            const double first = y(i, c, 0, 0);
            CHECK((first == 0 || first == doctest::Approx(1 / 0.75)));
            CHECK(xt::all(xt::equal(xt::view(y.value(), i, c), first)));  // one value per plane
            dropped += first == 0;
        }
    CHECK(dropped > 10);  // 128 channels at p = 0.25: ~32 expected; < 10 has odds ~1e-7
    CHECK(dropped < 60);
    CHECK(dropout2d(x, 0.25, false).same(x));
    CHECK_THROWS_AS(dropout2d(x, 1.0), ValueError);
    CHECK_THROWS_AS(dropout2d(Tensor<double>(xt::ones<double>({2, 3})), 0.5), ShapeError);
}
