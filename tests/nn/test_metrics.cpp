#include "nn/metrics.hpp"

#include "autograd/errors.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

using namespace xgrad;

TEST_CASE("accuracy: argmax against indices and one-hot, threshold for one output") {
    // row argmaxes: 1, 0 (a tie goes to the first maximum), 2
    const Tensor<double> scores(xt::xarray<double>{{0.1, 0.9, 0.0}, {0.5, 0.5, 0.2}, {0, 1, 3}});
    CHECK(nn::argmax_rows(scores) == std::vector<std::size_t>{1, 0, 2});
    CHECK(nn::count_correct(scores, Tensor<double>(xt::xarray<double>{1, 1, 2})) == 2);
    CHECK(nn::accuracy(scores, Tensor<double>(
                                   xt::xarray<double>{{0., 1., 0.}, {1., 0., 0.}, {1., 0., 0.}})) ==
          doctest::Approx(2.0 / 3));
    // probabilities 0.2, 0.7, 0.6 > 0.5 → 0, 1, 1 against 0, 1, 0: two right
    xt::xarray<double> column{0.2, 0.7, 0.6};
    column.reshape({3, 1});
    const Tensor<double> p(column);
    CHECK(nn::count_correct(p, Tensor<double>(xt::xarray<double>{0, 1, 0})) == 2);
    CHECK(nn::count_correct(p, Tensor<double>(xt::xarray<double>{0, 1, 0}), 0.65) == 3);
    CHECK_THROWS_WITH_AS(nn::accuracy(scores, Tensor<double>(xt::xarray<double>{1, 2})),
                         doctest::Contains("scores=[3, 3], targets=[2]"), ShapeError);
}
