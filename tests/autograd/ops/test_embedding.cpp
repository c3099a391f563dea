#include "autograd/ops/embedding.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/tape.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

using namespace xgrad;
using namespace harness;  // Array, OpSpec, Sampler, Tensors
using A = std::vector<Array>;

namespace {

// The index of a harness case arrives as input 1, a constant tensor of whole numbers whose
// shape is the index's; `row_numbers(n)` fills it with (3·e + 1) mod n at flat position e, so
// an index longer than n repeats rows (1, 0, 3, 2, 1, ... for n = 4).
Sampler row_numbers(std::size_t n) {
    return [n](const Shape& shape, std::mt19937_64&) {
        Array a = Array::from_shape(shape);
        for (std::size_t e = 0; e < a.size(); ++e)
            a.data()[e] = static_cast<double>((3 * e + 1) % n);
        return a;
    };
}

Index as_index(const Array& a) {
    Index idx = Index::from_shape(a.shape());
    for (std::size_t e = 0; e < a.size(); ++e)
        idx.data()[e] = static_cast<std::int64_t>(a.data()[e]);
    return idx;
}

// y[p, j] = w[index[p], j], written out position by position; rows `zero_row` of w read as 0.
Array naive_embedding(const Array& w, const Array& index, std::optional<std::size_t> zero_row) {
    const std::size_t dim = w.shape()[1];
    Shape out = index.shape();
    out.push_back(dim);
    Array y = Array::from_shape(out);
    for (std::size_t p = 0; p < index.size(); ++p) {
        const auto row = static_cast<std::size_t>(index.data()[p]);
        for (std::size_t j = 0; j < dim; ++j)
            y.data()[p * dim + j] = zero_row == row ? 0.0 : w(row, j);
    }
    return y;
}

constexpr std::int64_t padding_row = 2;

// 1 on every row of an [n, 1] column but padding_row.
Tensor<double> keep_rows(std::size_t n) {
    Array m = xt::ones<double>({n, std::size_t(1)});
    m(padding_row, 0) = 0.0;
    return Tensor<double>(m);
}

}  // namespace

XGRAD_REGISTER_OP(
    OpSpec("embedding", [](const Tensors& x) { return embedding(x[0], as_index(x[1].value())); })
        .reference([](const A& a) { return naive_embedding(a[0], a[1], std::nullopt); })
        .cases({{{4, 3}, {5}},         // repeats rows 1
                {{6, 2}, {2, 3}},      // rows 4 and 5 unused
                {{4, 3}, {}},          // a 0-d index: one row, [3]
                {{4, 3}, {0}},         // an empty index: [0, 3]
                {{5, 1}, {2, 2, 2}}})  // [2, 2, 2, 1]
        .samplers({uniform(), row_numbers(4)})
        .constant_inputs({1})
        .bad_shapes({{4}, {2, 3}}));  // weight of rank 1

// PyTorch's padding_idx does not follow the derivative (the padding row's values come out, its
// gradient stays zero), so finite differences can only check it where that row holds zeros, as
// an nn::Embedding's does: the weight is masked to zero there first. That the row gets exactly
// no gradient is checked below.
XGRAD_REGISTER_OP(OpSpec("embedding padding_idx",
                         [](const Tensors& x) {
                             const Tensor<double>& w = x[0];  // masked where it is a matrix
                             return embedding(w.dim() == 2 ? w * keep_rows(w.shape()[0]) : w,
                                              as_index(x[1].value()), padding_row);
                         })
                      .reference([](const A& a) {
                          return naive_embedding(a[0], a[1], std::size_t(padding_row));
                      })
                      .cases({{{4, 3}, {3, 4}}, {{5, 2}, {6}}})
                      .samplers({uniform(), row_numbers(4)})
                      .constant_inputs({1})
                      .bad_shapes({{4, 3, 1}, {2}}));

TEST_CASE("embedding: rows of the weight at the positions of the index") {
    Tensor<double> w(xt::xarray<double>{{0, 1}, {10, 11}, {20, 21}});
    const auto y = embedding(w, Index{{2, 0}, {2, 1}});  // [2, 2] indices → [2, 2, 2]
    CHECK(y.shape() == Shape{2, 2, 2});
    CHECK(y.value() == xt::xarray<double>{{{20, 21}, {0, 1}}, {{20, 21}, {10, 11}}});
    const Index one = xt::xarray<std::int64_t>(1);  // a 0-d index: one row, [2]
    CHECK(embedding(w, one).value() == xt::xarray<double>{10, 11});
    CHECK(embedding(w, Index::from_shape({0})).shape() == Shape{0, 2});
    // padding_idx −1 is row 2; its values still come out
    CHECK(embedding(w, Index{2, 0}, -1).value() == xt::xarray<double>{{20, 21}, {0, 1}});
}

TEST_CASE("embedding: repeated rows sum, unused rows and the padding row get exactly zero") {
    Tensor<double> w(xt::xarray<double>{{1, 1}, {2, 2}, {3, 3}, {4, 4}}, true);
    const Index idx{3, 1, 3, 0};
    const Tensor<double> g(xt::xarray<double>{{1, 2}, {3, 4}, {5, 6}, {7, 8}});
    for (bool create_graph : {false, true}) {
        INFO("create_graph: ", create_graph);
        const auto y = embedding(w, idx, 0);
        CHECK(y.value() == xt::xarray<double>{{4, 4}, {2, 2}, {4, 4}, {1, 1}});  // row 0 too
        const auto dw = grad(y, w, create_graph, false, g);
        // row 0: padding (g's [7, 8] dropped); row 1: [3, 4]; row 2: unused; row 3: [1+5, 2+6]
        CHECK(dw.value() == xt::xarray<double>{{0, 0}, {3, 4}, {0, 0}, {6, 8}});
    }
}

TEST_CASE("embedding: a bad index names its value and position, a bad padding_idx its range") {
    Tensor<double> w(xt::zeros<double>({4, 3}));
    CHECK_THROWS_WITH_AS(embedding(w, Index{{0, 1}, {5, -1}}),
                         "embedding: every index must lie in [0, 4) (the rows of weight); got "
                         "index 5 at position [1, 0] of indices=[2, 2], weight=[4, 3]",
                         ValueError);
    CHECK_THROWS_WITH_AS(embedding(w, Index{0, -1}),
                         doctest::Contains("got index -1 at position [1]"), ValueError);
    CHECK_THROWS_WITH_AS(embedding(w, Index{0}, 4),
                         "embedding: padding_idx must lie in [-4, 4) (the rows of weight); got "
                         "padding_idx=4, weight=[4, 3]",
                         ValueError);
    CHECK_THROWS_WITH_AS(embedding(Tensor<double>(xt::zeros<double>({4, 3, 1})), Index{0}),
                         "embedding: expected weight [num_embeddings, embedding_dim]; got "
                         "weight=[4, 3, 1], indices=[1]",
                         ShapeError);
}
