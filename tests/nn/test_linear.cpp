#include "nn/linear.hpp"

#include "autograd/random.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

using namespace xgrad;

TEST_CASE("Linear: forward is the linear op with PyTorch's init bounds") {
    manual_seed(0);
    nn::Linear<float> layer(4, 3);
    CHECK(layer.weight().shape() == Shape{3, 4});
    CHECK(xt::amax(xt::abs(layer.weight().value()))() <= 0.5f);  // 1/√4
    const auto y = layer(ones<float>({2, 4}));
    CHECK(std::string(y.op_name()) == "linear");
    CHECK(y.shape() == Shape{2, 3});
    CHECK_THROWS_WITH_AS(layer(ones<float>({2, 5})), doctest::Contains("x=[2, 5]"), ShapeError);
}
