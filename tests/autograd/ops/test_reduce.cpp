#include "autograd/ops/reduce.hpp"

#include "autograd/ops/elementwise.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>
#include <xtensor/xreducer.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xtensor.hpp>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {
// Plain-loop reference: reduces a [2, 3, 4] array over axis 1 (keepdims) with `f`.
template <class F>
Array reduce_axis1_keep(const Array& x, double init, F f) {
    Array r = Array::from_shape({x.shape()[0], 1, x.shape()[2]});
    for (std::size_t i = 0; i < x.shape()[0]; ++i) {
        for (std::size_t k = 0; k < x.shape()[2]; ++k) {
            double acc = init;
            for (std::size_t j = 0; j < x.shape()[1]; ++j)
                acc = f(acc, x(i, j, k));
            r(i, 0, k) = acc;
        }
    }
    return r;
}
double plus(double a, double b) {
    return a + b;
}
double larger(double a, double b) {
    return a > b ? a : b;
}
double smaller(double a, double b) {
    return a < b ? a : b;
}
double total(const Array& x) {
    double s = 0;
    for (double v : x)
        s += v;
    return s;
}
const std::vector<Shape> bad_axis = {{3}};  // axis 1 does not exist in a 1-D tensor
}  // namespace

XGRAD_REGISTER_OP(OpSpec("sum", [](const Tensors& x) { return sum(x[0], {1}, true); })
                      .reference([](const A& a) { return reduce_axis1_keep(a[0], 0.0, plus); })
                      .cases({{{2, 3, 4}}})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("sum_all", [](const Tensors& x) { return sum(x[0]); })
                      .reference([](const A& a) { return Array(total(a[0])); })
                      .cases({{{2, 3}}, {{}}, {{0, 2}}})
                      .any_shape("reduces every axis of any shape"));
XGRAD_REGISTER_OP(OpSpec("mean", [](const Tensors& x) { return mean(x[0], {-2}, true); })
                      .reference([](const A& a) {
                          return Array(reduce_axis1_keep(a[0], 0.0, plus) / 3.0);
                      })
                      .cases({{{2, 3, 4}}})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("max", [](const Tensors& x) { return max(x[0], {1}, true); })
                      .reference([](const A& a) { return reduce_axis1_keep(a[0], -1e300, larger); })
                      .cases({{{2, 3, 4}}})
                      .samplers({harness::distinct()})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("min", [](const Tensors& x) { return min(x[0], {1}, true); })
                      .reference([](const A& a) { return reduce_axis1_keep(a[0], 1e300, smaller); })
                      .cases({{{2, 3, 4}}})
                      .samplers({harness::distinct()})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("sum_to",
                         [](const Tensors& x) {
                             return sum_to(x[0], {3, 1});
                         })
                      .reference([](const A& a) {
                          // [2, 3, 4] → [3, 1]: sum over axis 0 and axis 2
                          Array r = Array::from_shape({3, 1});
                          for (std::size_t j = 0; j < 3; ++j) {
                              double s = 0;
                              for (std::size_t i = 0; i < 2; ++i)
                                  for (std::size_t k = 0; k < 4; ++k)
                                      s += a[0](i, j, k);
                              r(j, 0) = s;
                          }
                          return r;
                      })
                      .cases({{{2, 3, 4}}})
                      .bad_shapes({{2, 4, 4}}));
XGRAD_REGISTER_OP(OpSpec("broadcast_to",
                         [](const Tensors& x) {
                             return broadcast_to(x[0], {2, 3, 4});
                         })
                      .reference([](const A& a) {
                          Array r = Array::from_shape({2, 3, 4});
                          for (std::size_t i = 0; i < 2; ++i)
                              for (std::size_t j = 0; j < 3; ++j)
                                  for (std::size_t k = 0; k < 4; ++k)
                                      r(i, j, k) = a[0](j, 0);
                          return r;
                      })
                      .cases({{{3, 1}}})
                      .bad_shapes({{2, 1}}));

TEST_CASE("sum: over all axes, over one axis, keepdims") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}});
    CHECK(sum(x).item() == 21);                                 // 1+2+3+4+5+6
    CHECK(sum(x, {0}).value() == xt::xarray<double>{5, 7, 9});  // column sums
    CHECK(sum(x, {-1}, true).value() ==
          xt::xarray<double>(xt::xtensor<double, 2>{{6}, {15}}));  // row sums, kept
}

TEST_CASE("max: tied maxima share the gradient") {
    Tensor<double> x(xt::xarray<double>{3, 1, 3}, true);
    max(x).backward();
    CHECK(x.grad().value() == xt::xarray<double>{0.5, 0, 0.5});
}

TEST_CASE("mean: an axis out of range is named") {
    Tensor<double> x(xt::zeros<double>({2, 3}));
    CHECK_THROWS_WITH_AS(mean(x, {2}), doctest::Contains("axis 2 is out of range"), ShapeError);
}
