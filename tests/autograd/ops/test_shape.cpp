#include "autograd/ops/shape.hpp"

#include "autograd/tape.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using namespace xgrad;
using namespace harness;  // Array, OpSpec, Tensors, Pos, ravel, unravel
using A = std::vector<Array>;

namespace {

// The row-major reading of x's elements laid into `shape` (what every reshape-like op does).
Array relaid(const Array& x, const Shape& shape) {
    Array y = Array::from_shape(shape);
    REQUIRE(y.size() == x.size());
    for (std::size_t e = 0; e < x.size(); ++e)
        y.data()[e] = x.data()[e];
    return y;
}

// y(p) = x(q) where axis i of y is axis dims[i] of x: q[dims[i]] = p[i].
Array permuted(const Array& x, const std::vector<std::size_t>& dims) {
    Shape out(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i)
        out[i] = x.shape()[dims[i]];
    Array y = Array::from_shape(out);
    for (std::size_t e = 0; e < y.size(); ++e) {
        const Pos p = unravel(e, out);
        Pos q(p.size());
        for (std::size_t i = 0; i < dims.size(); ++i)
            q[dims[i]] = p[i];
        y.data()[e] = x.data()[ravel(q, x.shape())];
    }
    return y;
}

}  // namespace

XGRAD_REGISTER_OP(OpSpec("reshape",
                         [](const Tensors& x) {
                             return reshape(x[0], {-1, 2});
                         })
                      .reference([](const A& a) {
                          return relaid(a[0], {a[0].size() / 2, 2});
                      })
                      .cases({{{2, 3}}, {{4, 1, 3}}, {{2}}, {{0, 4}}})
                      .bad_shapes({{3}}));  // 3 elements do not make rows of 2

XGRAD_REGISTER_OP(OpSpec("permute",
                         [](const Tensors& x) {
                             return permute(x[0], {2, 0, 1});
                         })
                      .reference([](const A& a) {
                          return permuted(a[0], {2, 0, 1});
                      })
                      .cases({{{2, 3, 4}}, {{1, 3, 2}}, {{2, 0, 3}}})
                      .bad_shapes({{2, 3}}));  // three dims for two axes

XGRAD_REGISTER_OP(OpSpec("transpose", [](const Tensors& x) { return transpose(x[0], 0, -1); })
                      .reference([](const A& a) {
                          std::vector<std::size_t> dims(a[0].dimension());
                          for (std::size_t i = 0; i < dims.size(); ++i)
                              dims[i] = i;
                          std::swap(dims.front(), dims.back());
                          return permuted(a[0], dims);
                      })
                      .cases({{{2, 3}}, {{2, 3, 4}}, {{4}}})
                      .bad_shapes({{}}));  // a 0-d tensor has no axis 0

XGRAD_REGISTER_OP(OpSpec("flatten", [](const Tensors& x) { return flatten(x[0], -3, -2); })
                      .reference([](const A& a) {
                          const Shape& s = a[0].shape();
                          const std::size_t r = s.size();
                          Shape out;
                          for (std::size_t i = 0; i + 3 < r; ++i)
                              out.push_back(s[i]);
                          out.push_back(s[r - 3] * s[r - 2]);
                          out.push_back(s[r - 1]);
                          return relaid(a[0], out);
                      })
                      .cases({{{2, 3, 4}}, {{2, 3, 4, 1}}, {{0, 2, 2}}})
                      .bad_shapes({{5}}));  // axis −3 of a 1-D tensor

XGRAD_REGISTER_OP(OpSpec("squeeze", [](const Tensors& x) { return squeeze(x[0], -2); })
                      .reference([](const A& a) {
                          const Shape& s = a[0].shape();
                          Shape out;
                          for (std::size_t i = 0; i < s.size(); ++i) {
                              if (i != s.size() - 2) out.push_back(s[i]);
                          }
                          return relaid(a[0], out);
                      })
                      .cases({{{2, 1, 3}}, {{1, 1}}, {{1, 2}}, {{4, 1, 0}}})
                      .bad_shapes({{2, 3}}));  // axis −2 has length 2

XGRAD_REGISTER_OP(OpSpec("unsqueeze", [](const Tensors& x) { return unsqueeze(x[0], -3); })
                      .reference([](const A& a) {
                          const Shape& s = a[0].shape();
                          Shape out;
                          for (std::size_t i = 0; i < s.size(); ++i) {
                              if (i + 2 == s.size()) out.push_back(1);  // −3 of the result
                              out.push_back(s[i]);
                          }
                          return relaid(a[0], out);
                      })
                      .cases({{{2, 3}}, {{4, 1, 2}}, {{2, 0}}})
                      .bad_shapes({{4}}));  // −3 is outside [−2, 1] for a 1-D tensor

// ---- forward values worked by hand ----

TEST_CASE("reshape: -1 takes the remaining size") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}});
    CHECK(reshape(x, {-1}).value() == xt::xarray<double>{1, 2, 3, 4, 5, 6});           // 6 / 1
    CHECK(reshape(x, {3, -1}).value() == xt::xarray<double>{{1, 2}, {3, 4}, {5, 6}});  // 6 / 3
    CHECK(reshape(x, {2, 3}).same(x));  // the same shape records nothing
}

TEST_CASE("reshape: impossible shapes are named") {
    Tensor<double> x(xt::zeros<double>({2, 3}));
    CHECK_THROWS_WITH_AS(reshape(x, {4, -1}),
                         "reshape: cannot reshape x=[2, 3] (6 elements) into [4, -1]", ShapeError);
    CHECK_THROWS_WITH_AS(reshape(x, {-1, -1}), doctest::Contains("at most one -1"), ShapeError);
}

TEST_CASE("permute: values move with their axes, and dims must be a permutation") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}});
    CHECK(permute(x, {1, 0}).value() ==
          xt::xarray<double>{{1, 4}, {2, 5}, {3, 6}});  // y(j, i) = x(i, j)
    CHECK_THROWS_WITH_AS(permute(x, {0, 0}), doctest::Contains("got dims=[0, 0] for x=[2, 3]"),
                         ShapeError);
}

TEST_CASE("transpose: the default swaps the last two axes") {
    Tensor<double> x(xt::xarray<double>{{{1, 2}, {3, 4}}});  // [1, 2, 2]
    CHECK(transpose(x).value() == xt::xarray<double>{{{1, 3}, {2, 4}}});
}

TEST_CASE("flatten: merges the axes from start to end") {
    Tensor<double> x(xt::zeros<double>({2, 3, 4}));
    CHECK(flatten(x).shape() == Shape{24});        // 2·3·4
    CHECK(flatten(x, 1).shape() == Shape{2, 12});  // 3·4
    CHECK_THROWS_WITH_AS(flatten(x, 2, 1), doctest::Contains("for x=[2, 3, 4]"), ShapeError);
}

TEST_CASE("squeeze: an axis of another length than 1 is named") {
    Tensor<double> x(xt::zeros<double>({1, 2, 1, 3}));
    CHECK(squeeze(x).shape() == Shape{2, 3});         // every axis of length 1 goes
    CHECK(squeeze(x, -2).shape() == Shape{1, 2, 3});  // only axis 2
    CHECK_THROWS_WITH_AS(squeeze(x, 1), "squeeze: axis 1 must have length 1; got x=[1, 2, 1, 3]",
                         ShapeError);
}

TEST_CASE("unsqueeze: a new axis of length 1, and its gradient comes back in x's shape") {
    Tensor<double> x(xt::xarray<double>{1, 2, 3}, true);
    auto y = unsqueeze(x, 0);  // [1, 3]
    CHECK(y.shape() == Shape{1, 3});
    CHECK(unsqueeze(x, -1).shape() == Shape{3, 1});
    y.backward(Tensor<double>(xt::xarray<double>{{4, 5, 6}}));
    CHECK(x.grad().value() == xt::xarray<double>{4, 5, 6});
    CHECK_THROWS_WITH_AS(unsqueeze(x, 2), doctest::Contains("unsqueeze: axis 2 is out of range"),
                         ShapeError);
}
