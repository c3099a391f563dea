#include "autograd/ops/reduce.hpp"

#include "autograd/ops/elementwise.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>
#include <xtensor/xreducer.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

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

// f applied to each line of x along axis 1 (any rank ≥ 2), kept as length 1: plain loops over
// positions, independent of the library's axis arithmetic.
template <class F>
Array along_axis1(const Array& x, F f) {
    Shape out_shape = x.shape();
    out_shape[1] = 1;
    Array r = Array::from_shape(out_shape);
    for (std::size_t e = 0; e < r.size(); ++e) {
        harness::Pos p = harness::unravel(e, out_shape);
        std::vector<double> line;
        for (std::size_t j = 0; j < x.shape()[1]; ++j) {
            p[1] = j;
            line.push_back(x.data()[harness::ravel(p, x.shape())]);
        }
        r.data()[e] = f(line);
    }
    return r;
}
// The same over every element: a 0-d result.
template <class F>
Array over_all(const Array& x, F f) {
    return Array(f(std::vector<double>(x.begin(), x.end())));
}
double product(const std::vector<double>& v) {
    double p = 1;
    for (double e : v)
        p *= e;
    return p;
}
// Σ (v − mean)² / (n − correction)
double variance_of(const std::vector<double>& v, double correction) {
    double m = 0, s = 0;
    for (double e : v)
        m += e / static_cast<double>(v.size());
    for (double e : v)
        s += (e - m) * (e - m);
    return s / (static_cast<double>(v.size()) - correction);
}
double p_norm(const std::vector<double>& v, double p) {
    double s = 0, largest = 0;
    for (double e : v) {
        s += std::pow(std::abs(e), p);
        largest = std::max(largest, std::abs(e));
    }
    return std::isinf(p) ? largest : std::pow(s, 1 / p);
}
// Uniform values in [-1.5, 1.5) with exact zeros at the flat positions `at` (those inside the
// shape): lines of prod with no zero, one zero and two zeros (Note [prod with zeros]).
harness::Sampler with_zeros(std::vector<std::size_t> at) {
    return [at](const Shape& shape, std::mt19937_64& rng) {
        Array a = harness::uniform(-1.5, 1.5)(shape, rng);
        for (std::size_t i : at)
            if (i < a.size()) a.data()[i] = 0;
        return a;
    };
}
// argmax/argmin as a tensor of doubles, for the harness (not differentiable).
Tensor<double> as_tensor(const Index& i) {
    return Tensor<double>(xt::xarray<double>(xt::cast<double>(i)));
}
// The index of the first extreme of each line along axis 1 (sense +1 max, −1 min), as doubles.
Array arg_along_axis1(const Array& x, int sense) {
    Array r = along_axis1(x, [sense](const std::vector<double>& v) {
        std::size_t best = 0;
        for (std::size_t i = 1; i < v.size(); ++i)
            if (sense > 0 ? v[i] > v[best] : v[i] < v[best]) best = i;
        return static_cast<double>(best);
    });
    Shape s = x.shape();
    s.erase(s.begin() + 1);
    r.reshape(s);
    return r;
}
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

// Rows of the [3, 4] cases: row 0 no zero, row 1 one zero (flat 6), row 2 two zeros (8, 11).
XGRAD_REGISTER_OP(OpSpec("prod", [](const Tensors& x) { return prod(x[0], 1, true); })
                      .reference([](const A& a) { return along_axis1(a[0], product); })
                      .cases({{{3, 4}}, {{2, 3, 4}}, {{3, 0}}})
                      .samplers({with_zeros({6, 8, 11})})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("prod_all", [](const Tensors& x) { return prod(x[0]); })
                      .reference([](const A& a) { return over_all(a[0], product); })
                      .cases({{{3, 4}}, {{}}, {{0, 2}}, {{5}}})
                      .samplers({with_zeros({2})})  // one zero: the gradient lives there only
                      .any_shape("reduces every axis of any shape"));
XGRAD_REGISTER_OP(OpSpec("prod_all_two_zeros", [](const Tensors& x) { return prod(x[0]); })
                      .reference([](const A& a) { return over_all(a[0], product); })
                      .cases({{{2, 3}}})
                      .samplers({with_zeros({1, 4})})  // the gradient is zero everywhere
                      .any_shape("reduces every axis of any shape"));
XGRAD_REGISTER_OP(OpSpec("var", [](const Tensors& x) { return var(x[0], {1}, true, true); })
                      .reference([](const A& a) {
                          return along_axis1(a[0], [](const auto& v) { return variance_of(v, 1); });
                      })
                      .cases({{{3, 4}}, {{2, 3, 4}}})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("var_all_biased", [](const Tensors& x) { return var(x[0], {}, false); })
                      .reference([](const A& a) {
                          return over_all(a[0], [](const auto& v) { return variance_of(v, 0); });
                      })
                      .cases({{{3, 4}}, {{5}}})
                      .any_shape("reduces every axis of any non-empty shape"));
XGRAD_REGISTER_OP(OpSpec("std", [](const Tensors& x) { return xgrad::std(x[0], {1}, true, true); })
                      .reference([](const A& a) {
                          return along_axis1(
                              a[0], [](const auto& v) { return std::sqrt(variance_of(v, 1)); });
                      })
                      .cases({{{3, 4}}, {{2, 3, 4}}})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("norm", [](const Tensors& x) { return norm(x[0], 2, {1}, true); })
                      .reference([](const A& a) {
                          return along_axis1(a[0], [](const auto& v) { return p_norm(v, 2); });
                      })
                      .cases({{{3, 4}}, {{2, 3, 4}}, {{2, 0}}})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("norm_all", [](const Tensors& x) { return norm(x[0]); })
                      .reference([](const A& a) {
                          return over_all(a[0], [](const auto& v) { return p_norm(v, 2); });
                      })
                      .cases({{{3, 4}}, {{}}, {{5}}})
                      .samplers({harness::away_from({0.0})})  // 0-d: |x| has a kink at 0
                      .any_shape("reduces every axis of any shape"));
XGRAD_REGISTER_OP(OpSpec("norm_p1", [](const Tensors& x) { return norm(x[0], 1, {1}, true); })
                      .reference([](const A& a) {
                          return along_axis1(a[0], [](const auto& v) { return p_norm(v, 1); });
                      })
                      .cases({{{3, 4}}, {{2, 3, 4}}})
                      .samplers({harness::away_from({0.0})})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("norm_inf",
                         [](const Tensors& x) { return norm(x[0], INFINITY, {1}, true); })
                      .reference([](const A& a) {
                          return along_axis1(a[0],
                                             [](const auto& v) { return p_norm(v, INFINITY); });
                      })
                      .cases({{{3, 4}}, {{2, 3, 4}}})
                      .samplers({harness::distinct(0.03)})  // |x| distinct: 0.03, 0.07, 0.13, ...
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("norm_p3", [](const Tensors& x) { return norm(x[0], 3, {1}, true); })
                      .reference([](const A& a) {
                          return along_axis1(a[0], [](const auto& v) { return p_norm(v, 3); });
                      })
                      .cases({{{3, 4}}})
                      .samplers({harness::away_from({0.0})})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("cumsum", [](const Tensors& x) { return cumsum(x[0], 1); })
                      .reference([](const A& a) {
                          Array r = a[0];
                          for (std::size_t e = 0; e < r.size(); ++e) {
                              harness::Pos p = harness::unravel(e, r.shape());
                              if (p[1] == 0) continue;
                              --p[1];  // the running sum one step back along axis 1
                              r.data()[e] += r.data()[harness::ravel(p, r.shape())];
                          }
                          return r;
                      })
                      .cases({{{2, 3, 4}}, {{3, 5}}, {{3, 0}}, {{0, 2}}})
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("cumsum_0d", [](const Tensors& x) { return cumsum(x[0], -1); })
                      .reference([](const A& a) { return a[0]; })
                      .cases({{{}}})
                      .any_shape("a 0-d tensor is its own running sum; other ranks: cumsum"));
XGRAD_REGISTER_OP(OpSpec("argmax", [](const Tensors& x) { return as_tensor(argmax(x[0], 1)); })
                      .reference([](const A& a) { return arg_along_axis1(a[0], 1); })
                      .cases({{{3, 4}}, {{2, 3, 4}}})
                      .samplers({harness::distinct()})
                      .not_differentiable()
                      .bad_shapes(bad_axis));
XGRAD_REGISTER_OP(OpSpec("argmin", [](const Tensors& x) { return as_tensor(argmin(x[0], 1)); })
                      .reference([](const A& a) { return arg_along_axis1(a[0], -1); })
                      .cases({{{3, 4}}, {{2, 3, 4}}})
                      .samplers({harness::distinct()})
                      .not_differentiable()
                      .bad_shapes(bad_axis));

TEST_CASE("prod: the gradient with no zero, one zero and two zeros in a row") {
    Tensor<double> x(xt::xarray<double>{{2, 3, 4}, {2, 0, 4}, {0, 3, 0}}, true);
    auto y = prod(x, 1);
    CHECK(y.value() == xt::xarray<double>{24, 0, 0});
    y.backward(ones<double>({3}));
    // row 0: the product of the others (12, 8, 6); row 1: only the zero gets 2·4 = 8; row 2: 0
    CHECK(x.grad().value() == xt::xarray<double>{{12, 8, 6}, {0, 8, 0}, {0, 0, 0}});
}

// Σ over distinct b, c (both ≠ a, ≠ each other) of v_b w_c Π_{j∉{a,b,c}} x_j: the third derivative
// of Π x along one line, contracted with v and w.
double third_of_prod(const std::vector<double>& x, const std::vector<double>& v,
                     const std::vector<double>& w, std::size_t a) {
    double out = 0;
    for (std::size_t b = 0; b < x.size(); ++b)
        for (std::size_t c = 0; c < x.size(); ++c) {
            if (b == a || c == a || b == c) continue;
            double p = v[b] * w[c];
            for (std::size_t j = 0; j < x.size(); ++j)
                if (j != a && j != b && j != c) p *= x[j];
            out += p;
        }
    return out;
}

TEST_CASE("prod: third derivatives under create_graph, with zeros, along either axis") {
    // Lines: no zero, one zero, two zeros. Along dim 1 of [3, 4], and along dim 0 of its transpose.
    const std::vector<std::vector<double>> lines = {{2, 3, 1.5, 5}, {1, 0, 3, 4}, {0, 2, 0, 3}};
    const std::vector<double> v = {1, -2, 0.5, 3}, w = {0.25, 1, -1, 2};
    for (const std::ptrdiff_t dim : {1, 0}) {
        CAPTURE(dim);
        xt::xarray<double> xv = xt::zeros<double>({3, 4}), vv = xv, wv = xv;
        for (std::size_t r = 0; r < 3; ++r)
            for (std::size_t i = 0; i < 4; ++i) {
                xv(r, i) = lines[r][i];
                vv(r, i) = v[i];
                wv(r, i) = w[i];
            }
        if (dim == 0) {
            xv = xt::transpose(xv);
            vv = xt::transpose(vv);
            wv = xt::transpose(wv);
        }
        Tensor<double> x(xv, true);
        const auto g1 = grad(sum(prod(x, dim)), x, true);
        const auto g2 = grad(sum(g1 * Tensor<double>(vv)), x, true);
        const auto g3 = grad(sum(g2 * Tensor<double>(wv)), x, true);
        for (std::size_t r = 0; r < 3; ++r)
            for (std::size_t a = 0; a < 4; ++a) {
                const double got = dim == 1 ? g3.value()(r, a) : g3.value()(a, r);
                CHECK(got == doctest::Approx(third_of_prod(lines[r], v, w, a)));
            }
        // Π of four entries is multilinear: its fourth derivative along distinct axes is 1
        // (e_a, e_b, e_c, e_d distinct), so Σ_a g4_a = Σ_{a,b,c,d distinct} v_b w_c u_d, and it
        // is still differentiable (the graph goes on).
        const auto g4 = grad(sum(g3), x, true);
        double expected = 0;
        for (std::size_t a = 0; a < 4; ++a)
            for (std::size_t b = 0; b < 4; ++b)
                for (std::size_t c = 0; c < 4; ++c)
                    if (a != b && a != c && b != c) expected += v[a] * w[b];  // d: the fourth
        CHECK(xt::sum(g4.value())() == doctest::Approx(3 * expected));
        CHECK(g4.requires_grad());
    }
}

TEST_CASE("prod: of all, of a 0-d tensor, of an empty tensor") {
    CHECK(prod(Tensor<double>(xt::xarray<double>{{1, 2}, {3, 4}})).item() == 24);
    CHECK(prod(scalar(5.0)).item() == 5);
    CHECK(prod(zeros<double>({0, 3})).item() == 1);  // the empty product
    CHECK(prod(zeros<double>({0, 3}), 0).value() == xt::xarray<double>{1, 1, 1});
}

TEST_CASE("var and std: unbiased by default, biased on request") {
    Tensor<double> x(xt::xarray<double>{1, 2, 3, 4});
    // mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5
    CHECK(var(x).item() == doctest::Approx(5.0 / 3));
    CHECK(var(x, {}, false).item() == doctest::Approx(1.25));
    CHECK(xgrad::std(x, {0}, false).item() == doctest::Approx(std::sqrt(1.25)));
    CHECK(std::isnan(var(Tensor<double>(xt::xarray<double>{7})).item()));  // n − 1 = 0
}

TEST_CASE("norm: p = 2, 1 and inf, and the gradient of the 2-norm at 0 is 0") {
    Tensor<double> x(xt::xarray<double>{3, -4});
    CHECK(norm(x).item() == 5);            // sqrt(9 + 16)
    CHECK(norm(x, 1).item() == 7);         // 3 + 4
    CHECK(norm(x, INFINITY).item() == 4);  // max |x|
    Tensor<double> z(xt::zeros<double>({3}), true);
    norm(z).backward();
    CHECK(z.grad().value() == xt::zeros<double>({3}));
    CHECK_THROWS_WITH_AS(norm(x, 0.0), "norm: p must be > 0 or inf; got p=0", ValueError);
}

TEST_CASE("cumsum: running sums along an axis") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}}, true);
    CHECK(cumsum(x, 1).value() == xt::xarray<double>{{1, 3, 6}, {4, 9, 15}});
    CHECK(cumsum(x, 0).value() == xt::xarray<double>{{1, 2, 3}, {5, 7, 9}});
    sum(cumsum(x, 1)).backward();
    CHECK(x.grad().value() == xt::xarray<double>{{3, 2, 1}, {3, 2, 1}});  // entries counted
}

TEST_CASE("cumsum: a 0-d tensor is its own running sum, along dim 0 or -1") {
    Tensor<double> x = scalar(2.5, true);
    for (const std::ptrdiff_t dim : {0, -1}) {
        const auto y = cumsum(x, dim);
        CHECK(y.shape() == Shape{});
        CHECK(y.item() == 2.5);
        CHECK(grad(y, x).item() == 1);
    }
}

TEST_CASE("argmax and argmin: the first of ties, NaN as the largest, keepdim, all") {
    Tensor<double> x(xt::xarray<double>{{1, 5, 5}, {2, 2, 0}});
    CHECK(argmax(x, 1) == Index{1, 0});
    CHECK(argmin(x, 1) == Index{0, 2});
    CHECK(argmax(x, 0, true) == Index{{1, 0, 0}});
    CHECK(argmax(x)() == 1);  // flat position of the first 5
    CHECK(argmin(x)() == 5);
    Tensor<double> n(xt::xarray<double>{1, NAN, 3});
    CHECK(argmax(n)() == 1);
    CHECK_THROWS_WITH_AS(argmax(zeros<double>({0})),
                         doctest::Contains("argmax: cannot take the argmax of an empty tensor"),
                         ShapeError);
}

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
