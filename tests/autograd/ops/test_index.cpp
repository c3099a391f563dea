#include "autograd/ops/index.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/embedding.hpp"
#include "autograd/tape.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <xtensor/xview.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace xgrad;
using namespace harness;  // Array, OpSpec, Tensors, Pos, ravel, unravel
using A = std::vector<Array>;
using Pads = std::vector<std::pair<std::size_t, std::size_t>>;

namespace {

// y(p) = x(source(p)) for every position p of y.
template <class F>
Array map_positions(const Array& x, const Shape& out_shape, F source) {
    Array y = Array::from_shape(out_shape);
    for (std::size_t e = 0; e < y.size(); ++e) {
        y.data()[e] = x.data()[ravel(source(unravel(e, out_shape)), x.shape())];
    }
    return y;
}

std::ptrdiff_t axis(std::ptrdiff_t dim, std::size_t rank) {
    return dim < 0 ? dim + static_cast<std::ptrdiff_t>(rank) : dim;
}

// Arguments by input rank, shared by each op's fn and its reference.
struct SliceArgs {
    std::ptrdiff_t dim, start, stop, step;
};
SliceArgs slice_args(std::size_t rank) {
    if (rank == 1) return {0, 1, -1, 2};
    if (rank == 2) return {-1, -5, 100, 2};
    return {1, 1, 3, 1};  // rank 0 has no axis 1: the shape-error case
}

struct NarrowArgs {
    std::ptrdiff_t dim, start;
    std::size_t length;
};
NarrowArgs narrow_args(std::size_t rank) {
    if (rank == 1) return {0, -3, 2};
    if (rank == 2) return {-2, 1, 2};
    return {2, 0, 3};
}

struct SelectArgs {
    std::ptrdiff_t dim;
    std::vector<std::int64_t> indices;
};
SelectArgs select_args(std::size_t rank) {
    if (rank == 1) return {0, {2, 0, 2, -1}};
    if (rank == 2) return {-1, {1, -3, 1, 1, 0}};  // repeats: gradients accumulate
    return {1, {0, -1}};
}

// gather's index, built from x's shape: rank 2 gathers 4 entries per row along the last axis
// (repeats when a row is shorter), rank 3 gathers along axis 0 with an index shorter than x on
// axis 1.
std::ptrdiff_t gather_dim(std::size_t rank) {
    return rank == 3 ? -3 : -1;
}
Index gather_index(const Shape& x) {
    if (x.size() == 1) {
        Index idx = Index::from_shape({5});
        for (std::size_t i = 0; i < 5; ++i)
            idx(i) = static_cast<std::int64_t>((3 * i + 1) % x[0]);
        return idx;
    }
    if (x.size() == 2) {
        Index idx = Index::from_shape({x[0], 4});
        for (std::size_t i = 0; i < x[0]; ++i)
            for (std::size_t j = 0; j < 4; ++j)
                idx(i, j) = static_cast<std::int64_t>((i + 2 * j) % x[1]);
        return idx;
    }
    Index idx = Index::from_shape({5, 3, x[2]});
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 3; ++j)
            for (std::size_t k = 0; k < x[2]; ++k)
                idx(i, j, k) = static_cast<std::int64_t>((i + j + k) % x[0]);
    return idx;
}

std::ptrdiff_t concat_dim(std::size_t rank) {
    return rank == 1 ? 0 : (rank == 2 ? -1 : 1);
}
std::ptrdiff_t stack_dim(std::size_t rank) {
    return rank == 0 ? 0 : (rank == 1 ? -1 : 1);
}

Pads pad_args(std::size_t rank) {
    if (rank == 1) return {{2, 1}};
    if (rank == 2) return {{1, 0}, {2, 3}};
    if (rank == 3) return {{0, 2}, {1, 1}};  // fewer pairs than axes: the last two axes
    return {{1, 1}};                         // a 0-d tensor has no axis to pad
}
constexpr double pad_value = 0.5;

// Positions picked by x[start:stop:step] along an axis of length n (Python's rules).
std::vector<std::size_t> python_slice(std::ptrdiff_t n, std::ptrdiff_t start, std::ptrdiff_t stop,
                                      std::ptrdiff_t step) {
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    start = start < 0 ? 0 : (start > n ? n : start);
    stop = stop < 0 ? 0 : (stop > n ? n : stop);
    std::vector<std::size_t> picked;
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        if (i >= start && i < stop && (i - start) % step == 0)
            picked.push_back(static_cast<std::size_t>(i));
    }
    return picked;
}

// y takes x's entries `picked` along `dim`.
Array pick_along(const Array& x, std::size_t dim, const std::vector<std::size_t>& picked) {
    Shape out = x.shape();
    out[dim] = picked.size();
    return map_positions(x, out, [&](Pos p) {
        p[dim] = picked[p[dim]];
        return p;
    });
}

// An [n, 1] column: xarray's constructors find {{1}, {2}} ambiguous.
template <class V = double>
xt::xarray<V> column(std::initializer_list<V> v) {
    xt::xarray<V> c = xt::xarray<V>::from_shape({v.size(), 1});
    std::copy(v.begin(), v.end(), c.begin());
    return c;
}

}  // namespace

XGRAD_REGISTER_OP(OpSpec("slice",
                         [](const Tensors& x) {
                             const auto a = slice_args(x[0].dim());
                             return slice(x[0], a.dim, a.start, a.stop, a.step);
                         })
                      .reference([](const A& a) {
                          const auto s = slice_args(a[0].dimension());
                          const auto d = static_cast<std::size_t>(axis(s.dim, a[0].dimension()));
                          const auto n = static_cast<std::ptrdiff_t>(a[0].shape()[d]);
                          return pick_along(a[0], d, python_slice(n, s.start, s.stop, s.step));
                      })
                      .cases({{{7}}, {{3, 6}}, {{4, 2}}, {{2, 0}}, {{2, 4, 3}}})
                      .bad_shapes({{}}));

XGRAD_REGISTER_OP(OpSpec("narrow",
                         [](const Tensors& x) {
                             const auto a = narrow_args(x[0].dim());
                             return narrow(x[0], a.dim, a.start, a.length);
                         })
                      .reference([](const A& a) {
                          const auto s = narrow_args(a[0].dimension());
                          const auto d = static_cast<std::size_t>(axis(s.dim, a[0].dimension()));
                          const auto n = static_cast<std::ptrdiff_t>(a[0].shape()[d]);
                          const auto first =
                              static_cast<std::size_t>(s.start < 0 ? s.start + n : s.start);
                          std::vector<std::size_t> picked;
                          for (std::size_t j = 0; j < s.length; ++j)
                              picked.push_back(first + j);
                          return pick_along(a[0], d, picked);
                      })
                      .cases({{{5}}, {{3, 4}}, {{4, 0}}, {{2, 3, 4}}})
                      .bad_shapes({{1, 3}}));  // rows 1..2 of an axis of length 1

XGRAD_REGISTER_OP(OpSpec("index_select",
                         [](const Tensors& x) {
                             const auto a = select_args(x[0].dim());
                             return index_select(x[0], a.dim, a.indices);
                         })
                      .reference([](const A& a) {
                          const auto s = select_args(a[0].dimension());
                          const auto d = static_cast<std::size_t>(axis(s.dim, a[0].dimension()));
                          const auto n = static_cast<std::int64_t>(a[0].shape()[d]);
                          std::vector<std::size_t> picked;
                          for (auto i : s.indices)
                              picked.push_back(static_cast<std::size_t>(i < 0 ? i + n : i));
                          return pick_along(a[0], d, picked);
                      })
                      .cases({{{4}}, {{2, 3}}, {{3, 3}}, {{2, 3, 2}}})
                      .bad_shapes({{}}));  // axis 1 of a 0-d tensor (an index out of range
                                           // is a ValueError: test_error_matrix.cpp)

XGRAD_REGISTER_OP(OpSpec("gather",
                         [](const Tensors& x) {
                             return gather(x[0], gather_dim(x[0].dim()),
                                           gather_index(x[0].shape()));
                         })
                      .reference([](const A& a) {
                          const Index idx = gather_index(a[0].shape());
                          const auto d = static_cast<std::size_t>(
                              axis(gather_dim(a[0].dimension()), a[0].dimension()));
                          Array y = Array::from_shape(idx.shape());
                          for (std::size_t e = 0; e < y.size(); ++e) {
                              Pos p = unravel(e, idx.shape());
                              p[d] = static_cast<std::size_t>(idx.data()[e]);
                              y.data()[e] = a[0].data()[ravel(p, a[0].shape())];
                          }
                          return y;
                      })
                      .cases({{{3}}, {{2, 3}}, {{3, 2}}, {{3, 4, 2}}, {{2, 3, 1}}})
                      .bad_shapes({{3, 2, 2}}));  // the index [5, 3, 2] is longer on axis 1

namespace {
// scatter_add's index for x [3, 5] along axis 1: [3, 4], with repeats (row 0 hits column 1
// twice, row 2 column 4 three times) and columns no one hits.
const Index scatter_index{{1, 3, 1, 0}, {2, 2, 4, 0}, {4, 4, 4, 1}};
// out = x; out[i][index[i][j]] += src[i][j] for each (i, j) of index, in plain loops; `dim`
// picks which coordinate the index replaces.
Array scatter_add_ref(const Array& x, const Index& index, const Array& src, std::size_t dim) {
    Array out = x;
    for (std::size_t e = 0; e < index.size(); ++e) {
        Pos p = unravel(e, index.shape());
        const double v = src.data()[ravel(p, src.shape())];
        p[dim] = static_cast<std::size_t>(index.data()[e]);
        out.data()[ravel(p, x.shape())] += v;
    }
    return out;
}
}  // namespace

XGRAD_REGISTER_OP(OpSpec("scatter_add",
                         [](const Tensors& x) { return scatter_add(x[0], 1, scatter_index, x[1]); })
                      .reference([](const A& a) {
                          return scatter_add_ref(a[0], scatter_index, a[1], 1);
                      })
                      .cases({{{3, 5}, {3, 4}}, {{3, 5}, {4, 6}}})  // src as index, src larger
                      .bad_shapes({{3, 5}, {2, 4}}));  // src shorter than the index [3, 4]
XGRAD_REGISTER_OP(OpSpec("scatter_add_dim0",
                         [](const Tensors& x) {
                             // along axis 0 of x [5, 3]: the transposed index [4, 3]
                             const Index index = xt::transpose(scatter_index);
                             return scatter_add(x[0], 0, index, x[1]);
                         })
                      .reference([](const A& a) {
                          return scatter_add_ref(a[0], xt::transpose(scatter_index), a[1], 0);
                      })
                      .cases({{{5, 3}, {4, 3}}, {{5, 4}, {4, 3}}})  // x wider than index
                      .bad_shapes({{5, 2}, {4, 3}}));               // index wider than x on axis 1
XGRAD_REGISTER_OP(OpSpec("scatter_add_empty_index",
                         [](const Tensors& x) {
                             return scatter_add(x[0], 1, Index::from_shape({2, 0}), x[1]);
                         })
                      .reference([](const A& a) { return a[0]; })
                      .cases({{{2, 3}, {2, 0}}, {{2, 3}, {2, 2}}})
                      .bad_shapes({{2}, {2, 2}}));  // ranks differ

XGRAD_REGISTER_OP(OpSpec("concat",
                         [](const Tensors& x) { return concat(x, concat_dim(x[0].dim())); })
                      .reference([](const A& a) {
                          const auto rank = a[0].dimension();
                          const auto d = static_cast<std::size_t>(axis(concat_dim(rank), rank));
                          Shape out = a[0].shape();
                          out[d] = 0;
                          for (const auto& x : a)
                              out[d] += x.shape()[d];
                          Array y = Array::from_shape(out);
                          for (std::size_t e = 0; e < y.size(); ++e) {
                              Pos p = unravel(e, out);
                              std::size_t k = 0;  // the input holding position p[d]
                              while (p[d] >= a[k].shape()[d])
                                  p[d] -= a[k++].shape()[d];
                              y.data()[e] = a[k].data()[ravel(p, a[k].shape())];
                          }
                          return y;
                      })
                      .cases({{{3}, {2}, {5}},
                              {{2, 3}, {2, 1}, {2, 4}},
                              {{3, 2}, {3, 0}},
                              {{2, 1, 3}, {2, 4, 3}, {2, 2, 3}},
                              {{2, 3}}})
                      .bad_shapes({{2, 3}, {4, 4}}));

XGRAD_REGISTER_OP(OpSpec("stack", [](const Tensors& x) { return stack(x, stack_dim(x[0].dim())); })
                      .reference([](const A& a) {
                          const auto rank = a[0].dimension();
                          const auto d = static_cast<std::size_t>(axis(stack_dim(rank), rank + 1));
                          Shape out;  // a[0]'s shape with a.size() inserted at d
                          for (std::size_t i = 0; i <= rank; ++i) {
                              if (i == d) out.push_back(a.size());
                              if (i < rank) out.push_back(a[0].shape()[i]);
                          }
                          Array y = Array::from_shape(out);
                          for (std::size_t e = 0; e < y.size(); ++e) {
                              Pos p = unravel(e, out);
                              const std::size_t k = p[d];
                              p.erase(p.begin() + static_cast<std::ptrdiff_t>(d));
                              y.data()[e] = a[k].data()[ravel(p, a[k].shape())];
                          }
                          return y;
                      })
                      .cases({{{}, {}, {}}, {{4}, {4}}, {{2, 3}, {2, 3}, {2, 3}}, {{2, 0}, {2, 0}}})
                      .bad_shapes({{2, 3}, {3, 2}}));

XGRAD_REGISTER_OP(
    OpSpec("pad", [](const Tensors& x) { return pad(x[0], pad_args(x[0].dim()), pad_value); })
        .reference([](const A& a) {
            const Shape& in = a[0].shape();
            const Pads pads = pad_args(in.size());
            Pos before(in.size(), 0);
            Shape out = in;
            for (std::size_t i = 0; i < pads.size(); ++i) {
                const std::size_t ax = in.size() - pads.size() + i;
                before[ax] = pads[i].first;
                out[ax] += pads[i].first + pads[i].second;
            }
            Array y = Array::from_shape(out);
            for (std::size_t e = 0; e < y.size(); ++e) {
                Pos p = unravel(e, out);
                bool inside = true;
                for (std::size_t i = 0; i < p.size(); ++i) {
                    inside = inside && p[i] >= before[i] && p[i] - before[i] < in[i];
                    if (inside) p[i] -= before[i];
                }
                y.data()[e] = inside ? a[0].data()[ravel(p, in)] : pad_value;
            }
            return y;
        })
        .cases({{{3}}, {{2, 3}}, {{0, 2}}, {{2, 3, 2}}})
        .bad_shapes({{}}));

// ---- forward values worked by hand ----

TEST_CASE("slice: a negative start and step 2 pick every other element") {
    Tensor<double> x(xt::xarray<double>{0, 1, 2, 3, 4, 5, 6});
    // start −6 → 1, stop 7 → 7 (the end): 1, 3, 5
    CHECK(slice(x, 0, -6, 7, 2).value() == xt::xarray<double>{1, 3, 5});
    // start 5, stop 100 clamped to 7: 5, 6;  start 4 past stop 2: nothing
    CHECK(slice(x, -1, 5, 100).value() == xt::xarray<double>{5, 6});
    CHECK(slice(x, 0, 4, 2).shape() == Shape{0});
}

TEST_CASE("slice: the gradient lands on the picked places") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3, 4}, {5, 6, 7, 8}}, true);
    auto y = slice(x, 1, 1, 4, 2);  // columns 1 and 3: [[2, 4], [6, 8]]
    CHECK(y.value() == xt::xarray<double>{{2, 4}, {6, 8}});
    y.backward(Tensor<double>(xt::xarray<double>{{10, 20}, {30, 40}}));
    CHECK(x.grad().value() == xt::xarray<double>{{0, 10, 0, 20}, {0, 30, 0, 40}});
}

TEST_CASE("narrow: length elements from start, a negative start counts from the end") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
    // rows −2 → 1 and 2
    CHECK(narrow(x, 0, -2, 2).value() == xt::xarray<double>{{4, 5, 6}, {7, 8, 9}});
    CHECK(narrow(x, 1, 3, 0).shape() == Shape{3, 0});  // an empty window at the end is allowed
}

TEST_CASE("index_select: repeated indices sum their gradients") {
    Tensor<double> x(xt::xarray<double>{10, 20, 30}, true);
    auto y = index_select(x, 0, {2, 0, 2, -1});  // −1 → 2: [30, 10, 30, 30]
    CHECK(y.value() == xt::xarray<double>{30, 10, 30, 30});
    y.backward(Tensor<double>(xt::xarray<double>{1, 2, 3, 4}));
    CHECK(x.grad().value() == xt::xarray<double>{2, 0, 8});  // x₀: 2; x₂: 1 + 3 + 4
    CHECK(index_select(x, 0, {}).shape() == Shape{0});
}

TEST_CASE("gather: one entry per position along the axis") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}}, true);
    const Index idx{{2, 0}, {1, 1}};
    auto y = gather(x, 1, idx);  // row 0: x[0][2], x[0][0];  row 1: x[1][1] twice
    CHECK(y.value() == xt::xarray<double>{{3, 1}, {5, 5}});
    y.backward(Tensor<double>(xt::xarray<double>{{1, 2}, {3, 4}}));
    CHECK(x.grad().value() == xt::xarray<double>{{2, 0, 1}, {0, 7, 0}});  // x[1][1]: 3 + 4
}

TEST_CASE("scatter_add: adds src at the indexed places, and differentiates x and src") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}}, true);
    Tensor<double> src(xt::xarray<double>{{10, 20, 30}, {40, 50, 60}}, true);
    const Index idx{{2, 2}, {0, 1}};  // src's last column is not read
    auto y = scatter_add(x, 1, idx, src);
    // row 0: x[0][2] += 10 + 20;  row 1: x[1][0] += 40, x[1][1] += 50
    CHECK(y.value() == xt::xarray<double>{{1, 2, 33}, {44, 55, 6}});
    y.backward(Tensor<double>(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}}));
    CHECK(x.grad().value() == xt::xarray<double>{{1, 2, 3}, {4, 5, 6}});
    CHECK(src.grad().value() == xt::xarray<double>{{3, 3, 0}, {4, 5, 0}});  // gather(g), 0 unread
}

TEST_CASE("scatter_add: a bad index is named with every shape") {
    Tensor<double> x(xt::zeros<double>({2, 3})), src(xt::zeros<double>({2, 2}));
    CHECK_THROWS_WITH_AS(scatter_add(x, 1, Index{{0, 3}, {0, 0}}, src),
                         doctest::Contains("scatter_add: every index must lie in [0, 3)"),
                         ValueError);
    CHECK_THROWS_WITH_AS(scatter_add(x, 1, Index{{0, 1, 2}, {0, 0, 0}}, src),
                         doctest::Contains("x=[2, 3], index=[2, 3], src=[2, 2]"), ShapeError);
}

TEST_CASE("concat: joins three pieces along the last axis and splits the gradient") {
    Tensor<double> a(column({1.0, 2.0}), true), b(xt::xarray<double>{{3, 4}, {5, 6}}, true);
    Tensor<double> c(column({7.0, 8.0}));
    auto y = concat<double>({a, b, c}, -1);
    CHECK(y.value() == xt::xarray<double>{{1, 3, 4, 7}, {2, 5, 6, 8}});
    y.backward(Tensor<double>(xt::xarray<double>{{1, 2, 3, 4}, {5, 6, 7, 8}}));
    CHECK(a.grad().value() == column({1.0, 5.0}));
    CHECK(b.grad().value() == xt::xarray<double>{{2, 3}, {6, 7}});
    CHECK(!c.grad().defined());  // c does not require grad
}

TEST_CASE("stack: a new axis, in front or at the end") {
    Tensor<double> a(xt::xarray<double>{1, 2}), b(xt::xarray<double>{3, 4});
    CHECK(stack<double>({a, b}).value() == xt::xarray<double>{{1, 2}, {3, 4}});
    CHECK(stack<double>({a, b}, -1).value() == xt::xarray<double>{{1, 3}, {2, 4}});
}

TEST_CASE("pad: frames with the value, fewer pairs pad the last axes") {
    Tensor<float> x(xt::xarray<float>{{1, 2}, {3, 4}}, true);
    auto y = pad(x, {{0, 1}}, 9.0f);  // the last axis gets one 9 after each row
    CHECK(y.value() == xt::xarray<float>{{1, 2, 9}, {3, 4, 9}});
    auto z = pad(x, {{1, 0}, {1, 1}});  // one row above, one column on each side, zeros
    CHECK(z.value() == xt::xarray<float>{{0, 0, 0, 0}, {0, 1, 2, 0}, {0, 3, 4, 0}});
    z.backward(ones<float>({3, 4}));
    CHECK(x.grad().value() == xt::xarray<float>{{1, 1}, {1, 1}});  // the frame gets no gradient
}

// ---- the VJPs are themselves differentiable ----

// The harness's second-order check contracts with a constant upstream gradient, so for these
// linear ops it only confirms a zero. Here the upstream gradient g is the variable:
// g ↦ ∂⟨g, f(x)⟩/∂x runs each backward op (slice_backward, index_add, scatter_add, crop,
// embedding_backward), and its second order runs their VJPs again (for embedding with
// padding_idx, the lookup that gives zeros at the padding positions: Note [embedding backward]).
TEST_CASE("index ops: each backward op has a correct gradient of its own") {
    using F = std::function<Tensor<double>(const Tensor<double>&)>;
    const Tensor<double> x(xt::xarray<double>{{0.1, -0.2, 0.3, 0.4}, {0.5, 0.6, -0.7, 0.8}}, true);
    const Tensor<double> c(column({1.5, 2.5}), true);
    const std::vector<std::pair<std::string, F>> ops = {
        {"slice", [](const Tensor<double>& t) { return slice(t, 1, 1, 4, 2); }},
        {"narrow", [](const Tensor<double>& t) { return narrow(t, 0, 1, 1); }},
        {"index_select",
         [](const Tensor<double>& t) {
             return index_select(t, -1, {3, 0, 0, 2});
         }},
        {"gather",
         [](const Tensor<double>& t) {
             return gather(t, 0, Index{{1, 0, 1, 1}});
         }},
        {"concat",
         [&c](const Tensor<double>& t) {
             return concat<double>({t, c, t}, 1);
         }},
        {"stack",
         [](const Tensor<double>& t) {
             return stack<double>({t, t}, 1);
         }},
        {"pad",
         [](const Tensor<double>& t) {
             return pad(t, {{2, 0}, {1, 2}}, 3.0);
         }},
        {"embedding",
         [](const Tensor<double>& t) {
             return embedding(t, Index{{1, 0, 1}});
         }},
        {"embedding padding_idx", [](const Tensor<double>& t) {
             return embedding(t, Index{{1, 0, 1}, {0, 0, 1}}, 0);
         }}};
    for (const auto& [name, f] : ops) {
        INFO("op: ", name);
        auto vjp = [&, f = f](const Tensors& in) { return grad(f(x), x, true, true, in[0]); };
        const Shape g_shape = f(x).shape();
        std::mt19937_64 rng(5);
        Tensors g = {Tensor<double>(harness::uniform()(g_shape, rng), true)};
        auto first = gradcheck(vjp, g);
        INFO(first.message);
        CHECK(first.ok);
        auto second = gradgradcheck(vjp, g);
        INFO(second.message);
        CHECK(second.ok);
    }
}

// ---- errors ----

TEST_CASE("slice: a step below 1 is a ValueError") {
    Tensor<double> x(xt::zeros<double>({4}));
    CHECK_THROWS_WITH_AS(slice(x, 0, 0, 4, 0), "slice: step must be >= 1; got step=0", ValueError);
}

TEST_CASE("narrow: a window past the end names the shape") {
    Tensor<double> x(xt::zeros<double>({2, 3}));
    CHECK_THROWS_WITH_AS(narrow(x, 1, 2, 2), doctest::Contains("got start=2, length=2, x=[2, 3]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(narrow(x, 2, 0, 1), doctest::Contains("narrow: axis 2 is out of range"),
                         ShapeError);
}

TEST_CASE("index_select: an index out of range is named") {
    Tensor<double> x(xt::zeros<double>({2, 3}));
    CHECK_THROWS_WITH_AS(
        index_select(x, 1, {0, 3}),
        "index_select: every index must lie in [-3, 3) for axis 1; got index 3, x=[2, 3]",
        ValueError);
    CHECK_THROWS_WITH_AS(index_select(x, 1, {-4}), doctest::Contains("got index -4"), ValueError);
}

TEST_CASE("gather: an index of another rank, or negative, is named") {
    Tensor<double> x(xt::zeros<double>({2, 3}));
    CHECK_THROWS_WITH_AS(gather(x, 1, Index{0, 1}),
                         "gather: index must have the rank of x; got x=[2, 3], index=[2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(gather(x, 1, column<std::int64_t>({0, -1})),
                         doctest::Contains("got index value -1"), ValueError);
    CHECK_THROWS_WITH_AS(gather(x, 0, Index{{0, 1, 0, 1}}),
                         doctest::Contains("x=[2, 3], index=[1, 4]"), ShapeError);
}

TEST_CASE("concat: mismatched shapes name every input") {
    Tensor<double> a(xt::zeros<double>({2, 3})), b(xt::zeros<double>({2, 2})),
        c(xt::zeros<double>({3, 3}));
    CHECK_THROWS_WITH_AS(concat<double>({a, b, c}, 1),
                         "concat: tensors must agree on every axis but axis 1; got xs[0]=[2, 3], "
                         "xs[1]=[2, 2], xs[2]=[3, 3]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(concat<double>({a, Tensor<double>(xt::zeros<double>({3}))}),
                         doctest::Contains("tensors must have one rank"), ShapeError);
    CHECK_THROWS_AS(concat<double>({}), ValueError);
}

TEST_CASE("stack: shapes that differ and an axis out of range are named") {
    Tensor<double> a(xt::zeros<double>({2, 3})), b(xt::zeros<double>({3, 2}));
    CHECK_THROWS_WITH_AS(stack<double>({a, b}),
                         "stack: tensors must have one shape; got xs[0]=[2, 3], xs[1]=[3, 2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(stack<double>({a, a}, 3),
                         doctest::Contains("stack: axis 3 is out of range"), ShapeError);
    CHECK(stack<double>({a, a}, -3).shape() == Shape{2, 2, 3});  // −3 → new axis 0
}

TEST_CASE("pad: more pairs than axes is named") {
    Tensor<double> x(xt::zeros<double>({4}));
    CHECK_THROWS_WITH_AS(
        pad(x, {{1, 1}, {0, 1}}),
        "pad: expected at most one (before, after) pair per axis; got pairs=2, x=[4]", ShapeError);
}

// ---- split, chunk, unbind: one op with several outputs (Note [several outputs]) ----

namespace {
// Output k of the split scaled by k + 1, joined again along the axis: the VJP must route each
// piece's (distinct) gradient back to its place.
Tensor<double> weighted_join(const std::vector<Tensor<double>>& pieces, std::ptrdiff_t dim) {
    std::vector<Tensor<double>> scaled;
    for (std::size_t k = 0; k < pieces.size(); ++k)
        scaled.push_back(pieces[k] * double(k + 1));
    return concat(scaled, dim);
}
// The same on arrays: entry p of x times (its piece's index + 1), pieces of `sizes` along dim.
Array weighted_reference(const Array& x, std::size_t dim, const std::vector<std::size_t>& sizes) {
    Array y = x;
    for (std::size_t e = 0; e < y.size(); ++e) {
        std::size_t at = unravel(e, x.shape())[dim], k = 0;
        while (at >= sizes[k])
            at -= sizes[k++];
        y.data()[e] *= double(k + 1);
    }
    return y;
}
}  // namespace

XGRAD_REGISTER_OP(OpSpec("split",
                         [](const Tensors& x) {
                             return weighted_join(split(x[0], {1, 2, 1}, 1), 1);
                         })
                      .reference([](const A& a) {
                          return weighted_reference(a[0], 1, {1, 2, 1});
                      })
                      .cases({{{2, 4}}, {{3, 4, 2}}, {{0, 4}}})
                      .bad_shapes({{2, 5}}));
// Only the middle piece is used: the others get zeros, which the VJP must place.
XGRAD_REGISTER_OP(OpSpec("split_one_piece_used",
                         [](const Tensors& x) {
                             return split(x[0], {2, 2, 1}, -1)[1] * 3.0;
                         })
                      .reference([](const A& a) {
                          Array y = xt::view(a[0], xt::all(), xt::range(2, 4));
                          return Array(y * 3.0);
                      })
                      .cases({{{3, 5}}, {{1, 5}}})
                      .bad_shapes({{3, 4}}));
XGRAD_REGISTER_OP(OpSpec("unbind",
                         [](const Tensors& x) {
                             auto rows = unbind(x[0], 0);
                             std::vector<Tensor<double>> scaled;
                             for (std::size_t k = 0; k < rows.size(); ++k)
                                 scaled.push_back(rows[k] * double(k + 1));
                             return stack(scaled, 0);
                         })
                      .reference([](const A& a) {
                          return weighted_reference(a[0], 0,
                                                    std::vector<std::size_t>(a[0].shape()[0], 1));
                      })
                      .cases({{{3, 2}}, {{2, 3, 2}}, {{1}}})
                      .bad_shapes({{}}));

TEST_CASE("split: pieces of the given sizes, of one size, and chunks as PyTorch counts them") {
    Tensor<double> x(xt::xarray<double>{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}});
    auto p = split(x, {2, 3}, 1);
    REQUIRE(p.size() == 2);
    CHECK(p[0].value() == xt::xarray<double>{{0, 1}, {5, 6}});
    CHECK(p[1].value() == xt::xarray<double>{{2, 3, 4}, {7, 8, 9}});
    auto q = split(x, std::size_t(2), 1);  // 5 = 2 + 2 + 1
    REQUIRE(q.size() == 3);
    CHECK(q[2].shape() == Shape{2, 1});
    CHECK(chunk(x, 3, 1).size() == 3);  // ⌈5/3⌉ = 2: pieces 2, 2, 1
    CHECK(chunk(x, 4, 1).size() == 3);  // ⌈5/4⌉ = 2: still 2, 2, 1, as torch.chunk gives
    CHECK(chunk(x, 2, 0)[1].value() == xt::xarray<double>{{5, 6, 7, 8, 9}});
    auto rows = unbind(x, 0);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].shape() == Shape{5});
    CHECK(rows[1].value() == xt::xarray<double>{5, 6, 7, 8, 9});
    CHECK_THROWS_WITH_AS(split(x, {2, 2}, 1),
                         "split: sizes [2, 2] must sum to the length 5 of axis 1; got x=[2, 5]",
                         ShapeError);
    CHECK_THROWS_AS(split(x, std::size_t(0), 1), ValueError);
    CHECK_THROWS_AS(unbind(scalar(1.0)), ShapeError);
}

TEST_CASE("split: the pieces are consecutive outputs of one op on the tape") {
    Tensor<double> x(xt::xarray<double>{{1, 2, 3, 4}}, true);
    auto p = split(x, std::size_t(2), 1);
    CHECK(std::string(p[0].op_name()) == "split");
    CHECK(p[0].output_index() == 0);
    CHECK(p[1].output_index() == 1);
    CHECK(p[1].tape_position() == p[0].tape_position() + 1);
    CHECK(p[0].function() == p[1].function());  // one recorded op
    REQUIRE(p[1].inputs().size() == 1);
    CHECK(p[1].inputs()[0].same(x));
}
