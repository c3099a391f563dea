#include "autograd/ops/linalg.hpp"

#include "autograd/random.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmanipulation.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <vector>

using namespace xgrad;
using harness::Array;
using harness::OpSpec;
using harness::Tensors;
using A = std::vector<Array>;

namespace {

// The matrix at batch position `batch` (right-aligned, broadcast where x has length 1) of
// x [..., r, c], as a plain [r][c] table.
std::vector<std::vector<double>> matrix_at(const Array& x, const std::vector<std::size_t>& batch) {
    const std::size_t rank = x.dimension(), r = x.shape()[rank - 2], c = x.shape()[rank - 1];
    std::vector<std::size_t> index(rank, 0);
    for (std::size_t i = 0; i + 2 < rank; ++i) {
        const std::size_t from = batch[batch.size() - (rank - 2) + i];
        index[i] = x.shape()[i] == 1 ? 0 : from;
    }
    std::vector<std::vector<double>> out(r, std::vector<double>(c));
    for (std::size_t i = 0; i < r; ++i) {
        for (std::size_t j = 0; j < c; ++j) {
            index[rank - 2] = i;
            index[rank - 1] = j;
            out[i][j] = x[index];
        }
    }
    return out;
}

// NumPy's matmul with transpose flags, as a naive triple loop per batch entry. 1-D operands
// (flags off) are promoted to [1, k] / [k, 1] and the added axis dropped.
Array naive_matmul(Array a, Array b, bool ta = false, bool tb = false) {
    const bool a_vec = a.dimension() == 1, b_vec = b.dimension() == 1;
    if (a_vec) a.reshape({1, a.size()});
    if (b_vec) b.reshape({b.size(), 1});
    const std::size_t ra = a.dimension(), rb = b.dimension(), rank = std::max(ra, rb);
    std::vector<std::size_t> batch(rank - 2, 1);
    for (std::size_t i = 0; i + 2 < rank; ++i) {
        const std::size_t da = i + ra < rank ? 1 : a.shape()[i + ra - rank];
        const std::size_t db = i + rb < rank ? 1 : b.shape()[i + rb - rank];
        batch[i] = std::max(da, db);
    }
    const std::size_t m = ta ? a.shape()[ra - 1] : a.shape()[ra - 2];
    const std::size_t k = ta ? a.shape()[ra - 2] : a.shape()[ra - 1];
    const std::size_t n = tb ? b.shape()[rb - 2] : b.shape()[rb - 1];
    Shape out_shape(batch.begin(), batch.end());
    out_shape.push_back(m);
    out_shape.push_back(n);
    Array out = Array::from_shape(out_shape);
    std::vector<std::size_t> pos(batch.size(), 0);
    for (std::size_t e = 0; e < out.size() / std::max<std::size_t>(m * n, 1); ++e) {
        const auto x = matrix_at(a, pos), y = matrix_at(b, pos);
        for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = 0; j < n; ++j) {
                double s = 0;
                for (std::size_t p = 0; p < k; ++p) {
                    s += (ta ? x[p][i] : x[i][p]) * (tb ? y[j][p] : y[p][j]);
                }
                out.data()[e * m * n + i * n + j] = s;
            }
        }
        for (std::size_t i = pos.size(); i-- > 0;) {  // next batch position, last axis fastest
            if (++pos[i] < batch[i]) break;
            pos[i] = 0;
        }
    }
    Shape final_shape(batch.begin(), batch.end());
    if (!a_vec) final_shape.push_back(m);
    if (!b_vec) final_shape.push_back(n);
    out.reshape(final_shape);
    return out;
}

// x [..., in] · weight [out, in]ᵀ + bias [out], in plain loops.
Array naive_linear(const A& a) {
    const Array& x = a[0];
    const Array& w = a[1];
    const std::size_t in = w.shape()[1], out = w.shape()[0], rows = x.size() / in;
    Shape shape = x.shape();
    shape[shape.size() - 1] = out;
    Array y = Array::from_shape(shape);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t o = 0; o < out; ++o) {
            double s = a.size() > 2 ? a[2](o) : 0.0;
            for (std::size_t i = 0; i < in; ++i) {
                s += x.data()[r * in + i] * w(o, i);
            }
            y.data()[r * out + o] = s;
        }
    }
    return y;
}

// `values` in the given shape (a column can't be written as a nested braced list: ambiguous).
template <class T>
xt::xarray<T> shaped(std::vector<T> values, const Shape& shape) {
    xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
    std::copy(values.begin(), values.end(), out.begin());
    return out;
}

}  // namespace

XGRAD_REGISTER_OP(OpSpec("matmul", [](const Tensors& x) { return matmul(x[0], x[1]); })
                      .reference([](const A& a) { return naive_matmul(a[0], a[1]); })
                      .cases({{{3, 4}, {4, 5}},           // 2-D: one gemm
                              {{4}, {4, 5}},              // vector @ matrix
                              {{3, 4}, {4}},              // matrix @ vector
                              {{4}, {4}},                 // dot product → []
                              {{2, 3, 4}, {2, 4, 5}},     // batched
                              {{1, 3, 4}, {2, 4, 5}},     // a's batch broadcast
                              {{3, 4}, {2, 4, 5}},        // 2-D a shared by the batch
                              {{2, 3, 4}, {4, 5}},        // batch folded into m (one gemm)
                              {{2, 1, 3, 4}, {3, 4, 2}},  // both batches broadcast
                              {{4}, {2, 4, 5}},           // vector @ batch
                              {{2, 3, 4}, {4}},           // batch @ vector
                              {{3, 0}, {0, 2}},           // k = 0: zeros
                              {{0, 4}, {2, 4, 3}}})       // m = 0
                      .bad_shapes({{32, 784}, {300, 784}}));
XGRAD_REGISTER_OP(
    OpSpec("matmul_tn", [](const Tensors& x) { return matmul(x[0], x[1], true, false); })
        .reference([](const A& a) { return naive_matmul(a[0], a[1], true, false); })
        .cases({{{4, 3}, {4, 5}}, {{2, 4, 3}, {4, 5}}, {{2, 4, 3}, {1, 4, 5}}, {{4, 3}, {2, 4, 5}}})
        .bad_shapes({{4, 3}, {3, 5}}));
XGRAD_REGISTER_OP(
    OpSpec("matmul_nt", [](const Tensors& x) { return matmul(x[0], x[1], false, true); })
        .reference([](const A& a) { return naive_matmul(a[0], a[1], false, true); })
        .cases({{{3, 4}, {5, 4}}, {{2, 3, 4}, {5, 4}}, {{2, 3, 4}, {2, 5, 4}}, {{3, 4}, {2, 5, 4}}})
        .bad_shapes({{32, 784}, {784, 300}}));
XGRAD_REGISTER_OP(
    OpSpec("matmul_tt", [](const Tensors& x) { return matmul(x[0], x[1], true, true); })
        .reference([](const A& a) { return naive_matmul(a[0], a[1], true, true); })
        .cases({{{4, 3}, {5, 4}}, {{2, 4, 3}, {2, 5, 4}}, {{4, 3}, {2, 5, 4}}, {{2, 4, 3}, {5, 4}}})
        .bad_shapes({{4, 3}, {4, 5}}));
XGRAD_REGISTER_OP(OpSpec("linear",
                         [](const Tensors& x) {
                             return x.size() > 2 ? linear(x[0], x[1], x[2]) : linear(x[0], x[1]);
                         })
                      .reference(naive_linear)
                      .cases({{{5, 4}, {3, 4}, {3}},
                              {{2, 5, 4}, {3, 4}, {3}},
                              {{1, 1}, {1, 1}, {1}},
                              {{4}, {3, 4}, {3}},
                              {{4}, {3, 4}},
                              {{0, 4}, {3, 4}, {3}},
                              {{5, 4}, {3, 4}}})
                      .bad_shapes({{32, 784}, {300, 100}, {300}}));

TEST_CASE("matmul: forward of a 2x2 product") {
    Tensor<double> a(xt::xarray<double>{{1, 2}, {3, 4}}), b(xt::xarray<double>{{5, 6}, {7, 8}});
    // [1·5 + 2·7, 1·6 + 2·8; 3·5 + 4·7, 3·6 + 4·8]
    CHECK(matmul(a, b).value() == xt::xarray<double>{{19, 22}, {43, 50}});
}

TEST_CASE("matmul: transpose flags read the stored matrix transposed") {
    Tensor<double> a(xt::xarray<double>{{1, 2}, {3, 4}});
    // Aᵀ·A = [1·1 + 3·3, 1·2 + 3·4; 2·1 + 4·3, 2·2 + 4·4]
    CHECK(matmul(a, a, true, false).value() == xt::xarray<double>{{10, 14}, {14, 20}});
    // A·Aᵀ = [1·1 + 2·2, 1·3 + 2·4; 3·1 + 4·2, 3·3 + 4·4]
    CHECK(matmul(a, a, false, true).value() == xt::xarray<double>{{5, 11}, {11, 25}});
    // Aᵀ·Aᵀ = (A·A)ᵀ, A·A = [7, 10; 15, 22]
    CHECK(matmul(a, a, true, true).value() == xt::xarray<double>{{7, 15}, {10, 22}});
}

TEST_CASE("matmul: 1-D operands follow NumPy") {
    Tensor<double> u(xt::xarray<double>{1, 2, 3}), v(xt::xarray<double>{4, 5, 6});
    const auto dot = matmul(u, v);  // 1·4 + 2·5 + 3·6 = 32
    CHECK(dot.dim() == 0);
    CHECK(dot.item() == 32);
    Tensor<double> m(xt::xarray<double>{{1, 0, 1}, {0, 1, 0}});
    CHECK(matmul(m, u).value() == xt::xarray<double>{4, 2});  // [1 + 3, 2]
    Tensor<double> r(xt::xarray<double>{1, 2});
    CHECK(matmul(r, m).value() == xt::xarray<double>{1, 2, 1});  // [1·1, 2·1, 1·1]
}

TEST_CASE("matmul: gradients of a row times a column") {
    Tensor<double> a(shaped<double>({1, 2}, {1, 2}), true), b(shaped<double>({3, 4}, {2, 1}), true);
    const auto c = matmul(a, b);  // [[1·3 + 2·4]] = [[11]]
    CHECK(c.item() == 11);
    c.backward(Tensor<double>(shaped<double>({2}, {1, 1})));
    CHECK(a.grad().value() == xt::xarray<double>{{6, 8}});      // G·Bᵀ = 2·[3, 4]
    CHECK(b.grad().value() == shaped<double>({2, 4}, {2, 1}));  // Aᵀ·G = [1, 2]ᵀ·2
}

TEST_CASE("matmul: float products agree with double") {
    Tensor<float> a(xt::xarray<float>{{1, 2, 3}, {4, 5, 6}}), b(shaped<float>({1, 1, 1}, {3, 1}));
    CHECK(matmul(a, b).value() == shaped<float>({6, 15}, {2, 1}));  // row sums
    CHECK(matmul(a, a, false, true).value() == xt::xarray<float>{{14, 32}, {32, 77}});
}

TEST_CASE("matmul: mismatched inner sizes name both shapes") {
    Tensor<double> a(xt::zeros<double>({32, 784})), w(xt::zeros<double>({300, 784}));
    CHECK_THROWS_WITH_AS(
        matmul(a, w), "matmul: expected [..., m, k] @ [..., k, n]; got a=[32, 784], b=[300, 784]",
        ShapeError);
    CHECK_THROWS_WITH_AS(
        matmul(a, Tensor<double>(xt::zeros<double>({300, 100})), false, true),
        doctest::Contains("[..., m, k] @ [..., n, k]; got a=[32, 784], b=[300, 100]"), ShapeError);
    Tensor<double> u(xt::zeros<double>({3})), v(xt::zeros<double>({4}));
    CHECK_THROWS_WITH_AS(matmul(u, v), doctest::Contains("got a=[3], b=[4]"), ShapeError);
}

TEST_CASE("matmul: rank-0 operands and unbroadcastable batches are ShapeErrors") {
    Tensor<double> s(xt::xarray<double>(2.0)), m(xt::zeros<double>({2, 2}));
    CHECK_THROWS_WITH_AS(matmul(s, m), doctest::Contains("got a=[], b=[2, 2]"), ShapeError);
    CHECK_THROWS_WITH_AS(matmul(m, s), doctest::Contains("got a=[2, 2], b=[]"), ShapeError);
    Tensor<double> v(xt::zeros<double>({2}));
    CHECK_THROWS_WITH_AS(matmul(v, m, true, false), doctest::Contains("got a=[2], b=[2, 2]"),
                         ShapeError);
    Tensor<double> a(xt::zeros<double>({2, 3, 4})), b(xt::zeros<double>({5, 4, 6}));
    CHECK_THROWS_WITH_AS(matmul(a, b),
                         "matmul: batch axes (all but the last two) must broadcast; got "
                         "a=[2, 3, 4], b=[5, 4, 6]",
                         ShapeError);
}

TEST_CASE("linear: one op adds the bias to every row and reads the weight itself") {
    Tensor<double> x(xt::xarray<double>{{1, 2}, {3, 4}});
    Tensor<double> w(xt::xarray<double>{{1, 0}, {1, 1}, {0, 2}}, true);
    Tensor<double> b(xt::xarray<double>{10, 20, 30});
    const auto y = linear(x, w, b);
    // row 1: (1, 1+2, 2·2) + b = (11, 23, 34); row 2: (3, 3+4, 2·4) + b = (13, 27, 38)
    CHECK(y.value() == xt::xarray<double>{{11, 23, 34}, {13, 27, 38}});
    // One node on the tape, whose inputs are x, the weight itself (no transposed copy) and b.
    CHECK(std::string(y.op_name()) == "linear");
    REQUIRE(y.inputs().size() == 3);
    CHECK(y.inputs()[1].same(w));
    CHECK(linear(x, w).inputs().size() == 2);  // no bias: two inputs
}

TEST_CASE("linear: only the inputs that require grad get a gradient") {
    manual_seed(5);
    auto x = rand<double>({2, 3, 4}, -1.0, 1.0);  // no grad: the first layer's input
    auto w = rand<double>({5, 4}, -1.0, 1.0, true);
    auto b = rand<double>({5}, -1.0, 1.0, true);
    linear(x, w, b).backward(ones<double>({2, 3, 5}));
    CHECK(!x.grad().defined());
    // ∂L/∂b = Σ over the 6 rows of ones; ∂L/∂W[o, i] = Σ_rows x[..., i]
    CHECK(b.grad().value() == xt::xarray<double>(xt::ones<double>({5}) * 6.0));
    const xt::xarray<double> column_sums = xt::sum(xt::reshape_view(x.value(), {6, 4}), {0});
    for (std::size_t o = 0; o < 5; ++o) {
        CHECK(xt::allclose(xt::row(w.grad().value(), o), column_sums, 1e-12, 1e-12));
    }
}

TEST_CASE("linear: a weight that does not match x names every shape") {
    Tensor<double> x(xt::zeros<double>({32, 784})), w(xt::zeros<double>({300, 100}));
    CHECK_THROWS_WITH_AS(linear(x, w),
                         "linear: expected x [..., in], weight [out, in], bias [out]; got "
                         "x=[32, 784], weight=[300, 100]",
                         ShapeError);
    Tensor<double> w2(xt::zeros<double>({300, 784})), b(xt::zeros<double>({10}));
    CHECK_THROWS_WITH_AS(linear(x, w2, b), doctest::Contains("bias=[10]"), ShapeError);
}
