#include "nn/flatten.hpp"

#include "autograd/errors.hpp"
#include "autograd/random.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

// Flatten through the op harness: a reshape, so the reference is the same values with the new
// shape.
XGRAD_REGISTER_OP(OpSpec("nn::Flatten() flatten",
                         [](const Tensors& x) { return nn::Flatten<double>()(x[0]); })
                      .reference([](const A& a) {
                          Array r = a[0];
                          r.reshape({a[0].shape()[0], a[0].size() / a[0].shape()[0]});
                          return r;
                      })
                      .cases({{{2, 3, 4}}, {{3, 2}}, {{2, 1, 2, 2}}})
                      .bad_shapes({{5}}));  // no axis 1 to start from
XGRAD_REGISTER_OP(OpSpec("nn::Flatten(1, 2) flatten",
                         [](const Tensors& x) { return nn::Flatten<double>(1, 2)(x[0]); })
                      .reference([](const A& a) {
                          Array r = a[0];
                          const Shape& s = a[0].shape();
                          r.reshape({s[0], s[1] * s[2], s[3]});
                          return r;
                      })
                      .cases({{{2, 3, 2, 2}}})
                      .bad_shapes({{2, 3}}));

TEST_CASE("Flatten: default keeps the batch axis, start and end pick the merged axes") {
    const Tensor<> x(xt::zeros<float>({2, 3, 4, 5}));
    CHECK(nn::Flatten<>()(x).shape() == Shape{2, 60});
    CHECK(nn::Flatten<>(0, -1)(x).shape() == Shape{120});
    CHECK(nn::Flatten<>(1, 2)(x).shape() == Shape{2, 12, 5});
    CHECK(nn::Flatten<>(-2, -1)(x).shape() == Shape{2, 3, 20});
    CHECK(nn::Flatten<>()(Tensor<>(xt::zeros<float>({7, 1}))).shape() == Shape{7, 1});
    const Tensor<> y = nn::Flatten<>()(Tensor<>(xt::xarray<float>{{{1, 2}, {3, 4}}}));
    CHECK(y.value() == xt::xarray<float>{{1, 2, 3, 4}});  // row-major order
    CHECK_THROWS_AS(nn::Flatten<>(2, 1)(x), ShapeError);
}

TEST_CASE("Unflatten: [n, c*h*w] to [n, c, h, w], the inverse of Flatten, shapes named") {
    const Tensor<double> x = randn<double>({2, 3, 4, 5});
    nn::Flatten<double> flat;
    nn::Unflatten<double> unflat({3, 4, 5});
    const Tensor<double> y = unflat(flat(x));
    CHECK(y.shape() == Shape{2, 3, 4, 5});
    CHECK(y.value() == x.value());
    CHECK_THROWS_WITH_AS(unflat(randn<double>({2, 59})),
                         "unflatten: expected x [n, 60] for sizes [3, 4, 5]; got x=[2, 59]",
                         ShapeError);
    CHECK(nn::clone(unflat)->forward(flat(x)).shape() == Shape{2, 3, 4, 5});
}
