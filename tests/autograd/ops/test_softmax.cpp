#include "autograd/ops/softmax.hpp"

#include "harness.hpp"

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {

// The references use no max shift: softmax_i = 1 / Σ_j e^(x_j − x_i) is finite whenever the
// values along the axis are within a few hundred of each other, whatever their magnitude.

// Σ_j e^(x_j − x_i) along `axis` for every element i, in plain loops over [outer, n, inner].
Array sum_exp_relative(const Array& x, std::size_t axis) {
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < axis; ++d) {
        outer *= x.shape()[d];
    }
    for (std::size_t d = axis + 1; d < x.dimension(); ++d) {
        inner *= x.shape()[d];
    }
    const std::size_t n = x.shape()[axis];
    Array s = Array::from_shape(x.shape());
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t in = 0; in < inner; ++in) {
            for (std::size_t i = 0; i < n; ++i) {
                const double xi = x.data()[(o * n + i) * inner + in];
                double total = 0;
                for (std::size_t j = 0; j < n; ++j) {
                    total += std::exp(x.data()[(o * n + j) * inner + in] - xi);
                }
                s.data()[(o * n + i) * inner + in] = total;
            }
        }
    }
    return s;
}

std::size_t axis_of(const Array& x, std::ptrdiff_t axis) {
    return static_cast<std::size_t>(axis < 0 ? axis + static_cast<std::ptrdiff_t>(x.dimension())
                                             : axis);
}

harness::Reference softmax_ref(std::ptrdiff_t axis) {
    return [axis](const A& a) {
        Array s = sum_exp_relative(a[0], axis_of(a[0], axis));
        for (auto& v : s) {
            v = 1 / v;
        }
        return s;
    };
}

harness::Reference log_softmax_ref(std::ptrdiff_t axis) {
    return [axis](const A& a) {
        Array s = sum_exp_relative(a[0], axis_of(a[0], axis));
        for (auto& v : s) {
            v = -std::log(v);
        }
        return s;
    };
}

// log Σ e^x over `axes` (all when empty): the first element of each reduced group is the
// shift, x₀ + log Σ e^(x − x₀), accumulated element by element through the multi-index.
harness::Reference logsumexp_ref(std::vector<std::size_t> axes, bool keepdims) {
    return [axes, keepdims](const A& a) {
        const Array& x = a[0];
        const std::size_t rank = x.dimension();
        auto reduced = [&](std::size_t d) {
            return axes.empty() || std::find(axes.begin(), axes.end(), d) != axes.end();
        };
        Shape kept = x.shape();
        for (std::size_t d = 0; d < rank; ++d) {
            kept[d] = reduced(d) ? 1 : kept[d];
        }
        Array shift = Array::from_shape(kept), total = xt::zeros<double>(kept);
        std::vector<bool> seen(shift.size(), false);
        std::vector<std::size_t> index(rank, 0);
        for (std::size_t e = 0; e < x.size(); ++e) {
            std::size_t out = 0;  // row-major offset into the kept shape
            for (std::size_t d = 0; d < rank; ++d) {
                out = out * kept[d] + (reduced(d) ? 0 : index[d]);
            }
            if (!seen[out]) shift.data()[out] = x.data()[e];
            seen[out] = true;
            total.data()[out] += std::exp(x.data()[e] - shift.data()[out]);
            for (std::size_t d = rank; d-- > 0;) {
                if (++index[d] < x.shape()[d]) break;
                index[d] = 0;
            }
        }
        Array y = Array::from_shape(kept);
        for (std::size_t i = 0; i < y.size(); ++i) {
            y.data()[i] = shift.data()[i] + std::log(total.data()[i]);
        }
        if (!keepdims) {
            Shape out;
            for (std::size_t d = 0; d < rank; ++d) {
                if (!reduced(d)) out.push_back(kept[d]);
            }
            y.reshape(out);
        }
        return y;
    };
}

// softmax or log_softmax along `axis`, checked against its reference along the same axis.
OpSpec along(const std::string& name, Tensor<double> (*op)(const Tensor<double>&, std::ptrdiff_t),
             harness::Reference (*reference)(std::ptrdiff_t), std::ptrdiff_t axis) {
    return OpSpec(name, [op, axis](const Tensors& x) { return op(x[0], axis); })
        .reference(reference(axis));
}

const std::vector<std::vector<Shape>> last_axis_cases = {{{2, 5}}, {{6}}, {{3, 1, 4}}, {{2, 3, 4}}};
const std::vector<std::vector<Shape>> middle_axis_cases = {
    {{2, 3, 4}}, {{3, 5}}, {{4, 2, 3, 2}}, {{2, 0, 3}}};
// Large magnitudes, one sign per op: the max shift must keep exp finite.
const harness::Sampler around_plus_1000 = harness::uniform(995, 1005);
const harness::Sampler around_minus_1000 = harness::uniform(-1005, -995);

}  // namespace

XGRAD_REGISTER_OP(
    along("softmax", softmax<double>, softmax_ref, -1).cases(last_axis_cases).bad_shapes({{}}));
XGRAD_REGISTER_OP(along("softmax_axis1", softmax<double>, softmax_ref, 1)
                      .cases(middle_axis_cases)
                      .bad_shapes({{5}}));
XGRAD_REGISTER_OP(along("softmax_large", softmax<double>, softmax_ref, 0)
                      .cases({{{5}}, {{4, 3}}})
                      .samplers({around_plus_1000})
                      .bad_shapes({{}}));
XGRAD_REGISTER_OP(along("log_softmax", log_softmax<double>, log_softmax_ref, -1)
                      .cases(last_axis_cases)
                      .bad_shapes({{}}));
XGRAD_REGISTER_OP(along("log_softmax_axis1", log_softmax<double>, log_softmax_ref, 1)
                      .cases(middle_axis_cases)
                      .bad_shapes({{5}}));
XGRAD_REGISTER_OP(along("log_softmax_large", log_softmax<double>, log_softmax_ref, -2)
                      .cases({{{5, 1}}, {{4, 3}}})
                      .samplers({around_minus_1000})
                      .bad_shapes({{5}}));
XGRAD_REGISTER_OP(OpSpec("logsumexp", [](const Tensors& x) { return logsumexp(x[0]); })
                      .reference(logsumexp_ref({}, false))
                      .cases({{{2, 3}}, {{5}}, {{}}, {{2, 3, 4}}})
                      .any_shape("reduces every axis of any shape"));
XGRAD_REGISTER_OP(OpSpec("logsumexp_axes",
                         [](const Tensors& x) {
                             return logsumexp(x[0], {0, -1});
                         })
                      .reference(logsumexp_ref({0, 2}, false))
                      .cases({{{2, 3, 4}}, {{3, 1, 2}}, {{1, 2, 5}}})
                      .bad_shapes({{3}}));  // axes 0 and −1 are the same axis of a vector
XGRAD_REGISTER_OP(OpSpec("logsumexp_keepdims",
                         [](const Tensors& x) { return logsumexp(x[0], {1}, true); })
                      .reference(logsumexp_ref({1}, true))
                      .cases({{{2, 3}}, {{4, 5, 2}}, {{3, 1}}})
                      .bad_shapes({{4}}));
XGRAD_REGISTER_OP(OpSpec("logsumexp_large", [](const Tensors& x) { return logsumexp(x[0], {-1}); })
                      .reference(logsumexp_ref({1}, false))
                      .cases({{{3, 4}}, {{1, 6}}})
                      .samplers({around_plus_1000})
                      .bad_shapes({{}}));

TEST_CASE("softmax: forward of [0, log 3]") {
    Tensor<double> x(xt::xarray<double>{0, std::log(3.0)});
    const auto y = softmax(x);  // e^0 = 1, e^(log 3) = 3, sum 4
    CHECK(y(0) == doctest::Approx(0.25));
    CHECK(y(1) == doctest::Approx(0.75));
}

TEST_CASE("softmax: along axis 0 normalises each column") {
    Tensor<double> x(xt::xarray<double>{{0, 1}, {0, 1}});
    // each column holds two equal values: 1/2 each
    CHECK(softmax(x, 0).value() == xt::xarray<double>{{0.5, 0.5}, {0.5, 0.5}});
}

TEST_CASE("log_softmax: forward of [0, log 3]") {
    Tensor<double> x(xt::xarray<double>{0, std::log(3.0)});
    const auto y = log_softmax(x);  // log(1/4), log(3/4)
    CHECK(y(0) == doctest::Approx(std::log(0.25)));
    CHECK(y(1) == doctest::Approx(std::log(0.75)));
}

TEST_CASE("logsumexp: forward over one axis and over all") {
    Tensor<double> x(xt::xarray<double>{{0, std::log(3.0)}, {1000, 1000}});
    const auto rows = logsumexp(x, {1});  // log(1 + 3) = log 4;  1000 + log(2)
    CHECK(rows(0) == doctest::Approx(std::log(4.0)));
    CHECK(rows(1) == doctest::Approx(1000 + std::log(2.0)));
    CHECK(logsumexp(x).item() == doctest::Approx(1000 + std::log(2.0)));  // e^0, e^log3 vanish
    CHECK(logsumexp(x, {1}, true).shape() == Shape{2, 1});
}

TEST_CASE("softmax: finite for large inputs") {
    Tensor<double> x(xt::xarray<double>{1000, 0});
    const auto y = softmax(x);  // e^(0 − 1000) underflows to 0 instead of e^1000 overflowing
    CHECK(y(0) == 1.0);
    CHECK(y(1) == 0.0);
    Tensor<float> xf(xt::xarray<float>{1000, 0});
    CHECK(softmax(xf)(0) == 1.0f);
}

TEST_CASE("log_softmax: finite for large negative inputs") {
    Tensor<double> x(xt::xarray<double>{-1000, 0}, true);
    const auto y = log_softmax(x);  // [−1000 − log(1 + e^−1000), −log(1 + e^−1000)] = [−1000, 0]
    CHECK(y(0) == -1000.0);
    CHECK(y(1) == 0.0);
    y.backward(Tensor<double>(xt::xarray<double>{1, 0}));
    // g − softmax·Σg = [1, 0] − [0, 1]·1
    CHECK(x.grad().value() == xt::xarray<double>{1, -1});
}

TEST_CASE("logsumexp: a slice of only -inf gives -inf, not NaN") {
    const double inf = std::numeric_limits<double>::infinity();
    Tensor<double> x(xt::xarray<double>{{-inf, -inf}, {0, 0}});
    const auto y = logsumexp(x, {1});
    CHECK(y(0) == -inf);
    CHECK(y(1) == doctest::Approx(std::log(2.0)));
}

TEST_CASE("softmax: an axis out of range names the op and the shape") {
    Tensor<double> x(xt::zeros<double>({2, 3}));
    CHECK_THROWS_WITH_AS(softmax(x, 2), doctest::Contains("softmax: axis 2 is out of range"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(log_softmax(x, -3), doctest::Contains("[2, 3]"), ShapeError);
    CHECK_THROWS_WITH_AS(logsumexp(x, {1, -1}), doctest::Contains("logsumexp: an axis is repeated"),
                         ShapeError);
}

namespace {

// Note [one formula per value] (simd_math.hpp): 24 tensors of 16 identical rows of 13 values
// (row r starts 13·r elements in, so the rows sit at every offset modulo 16 floats or 8
// doubles), each tensor its own values, and each row alone as a [1, 13] tensor: every row of the
// result must have the same bits. Counts the tensors where one does not.
template <class T, class Op>
std::size_t rows_differ(Op op) {
    constexpr std::size_t rows = 16, n = 13;
    std::size_t bad = 0;
    for (std::size_t t = 0; t < 24; ++t) {
        xt::xarray<T> x = xt::xarray<T>::from_shape({rows, n});
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t i = 0; i < n; ++i)
                x(r, i) = static_cast<T>(std::sin(0.7 * double(i) + 1.3 * double(t)) * 6);
        const xt::xarray<T> y = op(Tensor<T>(x)).value();
        const std::size_t m = y.size() / rows;  // a row of the result
        xt::xarray<T> row = xt::view(x, xt::range(0, 1), xt::all());
        const xt::xarray<T> alone = op(Tensor<T>(row)).value();
        bool same = std::memcmp(alone.data(), y.data(), m * sizeof(T)) == 0;
        for (std::size_t r = 1; r < rows; ++r)
            same = same && std::memcmp(y.data() + r * m, y.data(), m * sizeof(T)) == 0;
        bad += same ? 0 : 1;
    }
    return bad;
}

template <class T>
void check_rows_alike() {
    CHECK(rows_differ<T>([](const Tensor<T>& x) { return softmax(x, 1); }) == 0);
    CHECK(rows_differ<T>([](const Tensor<T>& x) { return log_softmax(x, 1); }) == 0);
    CHECK(rows_differ<T>([](const Tensor<T>& x) { return logsumexp(x, {1}); }) == 0);
}

}  // namespace

TEST_CASE("softmax, log_softmax, logsumexp: a row's bits do not depend on where it sits") {
    SUBCASE("float") {
        check_rows_alike<float>();
    }
    SUBCASE("double") {
        check_rows_alike<double>();
    }
}
