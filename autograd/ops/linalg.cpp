#include "autograd/ops/linalg.hpp"

#include "autograd/ops/blas.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace xgrad {
namespace ops {
namespace {

// "[..., m, k] @ [..., k, n]" with each operand written as it is stored, so a transpose flag
// shows as the swapped pair and the user sees which axis must match which.
std::string expected_form(bool transpose_a, bool transpose_b) {
    return fmt::format("[..., {}] @ [..., {}]", transpose_a ? "k, m" : "m, k",
                       transpose_b ? "n, k" : "k, n");
}

// Rows and columns of the stored matrix (the last two axes).
std::size_t rows(const Shape& s) {
    return s[s.size() - 2];
}
std::size_t cols(const Shape& s) {
    return s[s.size() - 1];
}

// The output shape of op(a)·op(b) for operands of rank ≥ 2: the broadcast batch axes, then
// [m, n]. Errors name the shapes the user passed (`a_user`, `b_user`: before 1-D promotion).
Shape product_shape(const Shape& a, const Shape& b, bool transpose_a, bool transpose_b,
                    const Shape& a_user, const Shape& b_user, const std::string& form) {
    const std::size_t m = transpose_a ? cols(a) : rows(a);
    const std::size_t ka = transpose_a ? rows(a) : cols(a);
    const std::size_t kb = transpose_b ? cols(b) : rows(b);
    const std::size_t n = transpose_b ? rows(b) : cols(b);
    if (ka != kb) {
        throw ShapeError(fmt::format("matmul: expected {}; got a={}, b={}", form, shape_str(a_user),
                                     shape_str(b_user)));
    }
    const std::size_t rank = std::max(a.size(), b.size());
    Shape out(rank, 1);
    for (std::size_t i = 0; i + 2 < rank; ++i) {
        // Batch axes align from the right, as NumPy does; a missing axis counts as 1.
        const std::size_t da = i + a.size() < rank ? 1 : a[i + a.size() - rank];
        const std::size_t db = i + b.size() < rank ? 1 : b[i + b.size() - rank];
        if (da != db && da != 1 && db != 1) {
            throw ShapeError(
                fmt::format("matmul: batch axes (all but the last two) must "
                            "broadcast; got a={}, b={}",
                            shape_str(a_user), shape_str(b_user)));
        }
        out[i] = da == 1 ? db : da;
    }
    out[rank - 2] = m;
    out[rank - 1] = n;
    return out;
}

// Offset of each batch entry of `x` for every entry of the output batch `batch` (row-major
// order), broadcasting axes of length 1 and missing leading axes.
std::vector<std::size_t> batch_offsets(const Shape& x, const Shape& batch) {
    const std::size_t matrix = rows(x) * cols(x);
    const std::size_t x_batch_rank = x.size() - 2;
    const std::size_t lead = batch.size() - x_batch_rank;
    // Stride of each output batch axis in x (0 where x broadcasts).
    std::vector<std::size_t> stride(batch.size(), 0);
    std::size_t s = matrix;
    for (std::size_t i = batch.size(); i-- > lead;) {
        const std::size_t d = x[i - lead];
        stride[i] = d == 1 ? 0 : s;
        s *= d;
    }
    std::size_t count = 1;
    for (auto d : batch) {
        count *= d;
    }
    std::vector<std::size_t> offsets(count);
    std::vector<std::size_t> index(batch.size(), 0);
    std::size_t offset = 0;
    for (std::size_t e = 0; e < count; ++e) {
        offsets[e] = offset;
        // Odometer increment over the batch index.
        for (std::size_t i = batch.size(); i-- > 0;) {
            offset += stride[i];
            if (++index[i] < batch[i]) break;
            offset -= stride[i] * index[i];
            index[i] = 0;
        }
    }
    return offsets;
}

// y = op(a)·op(b) into the preallocated `y` (shape from product_shape).
template <class T>
void matmul_into(const xt::xarray<T>& a, const xt::xarray<T>& b, bool transpose_a, bool transpose_b,
                 xt::xarray<T>& y) {
    const Shape& as = a.shape();
    const Shape& bs = b.shape();
    const std::size_t m = transpose_a ? cols(as) : rows(as);
    const std::size_t k = transpose_a ? rows(as) : cols(as);
    const std::size_t n = transpose_b ? rows(bs) : cols(bs);
    std::size_t b_batch = 1;
    for (std::size_t i = 0; i + 2 < bs.size(); ++i) {
        b_batch *= bs[i];
    }

    // One gemm: 2-D × 2-D, and [..., m, k] × [k, n] with the batch folded into the rows
    // (a's batch entries are consecutive [m, k] blocks, so a is one [batch·m, k] matrix).
    if (b_batch == 1 && !transpose_a) {
        const std::size_t folded_m = n == 0 ? 0 : y.size() / n;  // batch·m
        detail::gemm<T>(false, transpose_b, folded_m, n, k, T(1), a.data(), cols(as), b.data(),
                        cols(bs), T(0), y.data(), n);
        return;
    }
    const Shape batch(y.shape().begin(), y.shape().end() - 2);
    const auto a_off = batch_offsets(as, batch);
    const auto b_off = batch_offsets(bs, batch);
    for (std::size_t e = 0; e < a_off.size(); ++e) {
        detail::gemm<T>(transpose_a, transpose_b, m, n, k, T(1), a.data() + a_off[e], cols(as),
                        b.data() + b_off[e], cols(bs), T(0), y.data() + e * m * n, n);
    }
}

template <class T>
struct MatMul {
    static constexpr const char* name = "matmul";
    bool transpose_a = false, transpose_b = false;
    Tensor<T> a, b;  // each gradient reads the other input

    std::string attributes() const {
        return fmt::format("transpose_a={}, transpose_b={}", transpose_a, transpose_b);
    }
    xt::xarray<T> forward(const Tensor<T>& a_in, const Tensor<T>& b_in) {
        if (a_in.dim() < 2 || b_in.dim() < 2) {
            throw ShapeError(
                fmt::format("matmul: expected {} with both operands of rank >= 2 "
                            "(1-D operands only without transpose flags); got "
                            "a={}, b={}",
                            expected_form(transpose_a, transpose_b), shape_str(a_in.shape()),
                            shape_str(b_in.shape())));
        }
        const Shape out =
            product_shape(a_in.shape(), b_in.shape(), transpose_a, transpose_b, a_in.shape(),
                          b_in.shape(), expected_form(transpose_a, transpose_b));
        a = a_in;
        b = b_in;
        xt::xarray<T> y = xt::xarray<T>::from_shape(out);
        matmul_into(a.value(), b.value(), transpose_a, transpose_b, y);
        return y;
    }

    // C = op(A)·op(B), G = ∂L/∂C; by flags (T = transposed), never materialising a transpose:
    //   NN  C = A·B     dA = G·Bᵀ    dB = Aᵀ·G
    //   TN  C = Aᵀ·B    dA = B·Gᵀ    dB = A·G
    //   NT  C = A·Bᵀ    dA = G·B     dB = Gᵀ·A
    //   TT  C = Aᵀ·Bᵀ   dA = Bᵀ·Gᵀ   dB = Gᵀ·Aᵀ
    // then sum_to each input's shape (batch axes it was broadcast along).
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {a.requires_grad() ? sum_to(grad_a(g), a.shape()) : Tensor<T>(),
                b.requires_grad() ? sum_to(grad_b(g), b.shape()) : Tensor<T>()};
    }

    Tensor<T> grad_a(const Tensor<T>& g) const {
        if (!transpose_a) return matmul(g, b, false, !transpose_b);
        return transpose_b ? matmul(b, g, true, true) : matmul(b, g, false, true);
    }

    Tensor<T> grad_b(const Tensor<T>& g) const {
        if (b.dim() == 2 && a.dim() > 2 && !transpose_a) {
            // A 2-D b shared by the batch: fold the batch into the rows, so dB is one gemm
            // (no [batch, k, n] intermediate to sum).
            std::ptrdiff_t rows_total = 1;  // batch·m (explicit: -1 is ambiguous when empty)
            for (std::size_t i = 0; i + 1 < a.dim(); ++i) {
                rows_total *= static_cast<std::ptrdiff_t>(a.shape()[i]);
            }
            const auto k = static_cast<std::ptrdiff_t>(cols(a.shape()));
            const auto n = static_cast<std::ptrdiff_t>(cols(g.shape()));
            const Tensor<T> a2 = reshape(a, {rows_total, k});  // [batch·m, k]
            const Tensor<T> g2 = reshape(g, {rows_total, n});  // [batch·m, n]
            return transpose_b ? matmul(g2, a2, true, false) : matmul(a2, g2, true, false);
        }
        if (!transpose_b) return matmul(a, g, !transpose_a, false);
        return transpose_a ? matmul(g, a, true, true) : matmul(g, a, true, false);
    }
};

// Note [fused linear]
// linear could be matmul followed by add: two ops, two [..., out] results, and in backward the
// add's VJP plus a reduction for the bias. For the small batches of the MLP lectures that
// overhead is a visible share of a training step (docs/performance.md, MLP training step), so
// linear is one op: the bias is copied into every row of the result and the gemm accumulates onto
// it (beta = 1). Its fast_vjp (Note [fast VJP]) runs raw gemms into fresh arrays and a column-sum
// loop; its vjp states the same formulas as xgrad ops, so the gradient is itself differentiable.
template <class T>
struct Linear {
    static constexpr const char* name = "linear";
    Tensor<T> x, weight, bias;  // the VJP reads x and W; bias (maybe undefined) for requires_grad()
    std::size_t rows = 0;       // x's leading axes folded: m (1 for a 1-D x)

    std::size_t in() const { return weight.shape()[1]; }
    std::size_t out() const { return weight.shape()[0]; }

    xt::xarray<T> forward(const Tensor<T>& x_in, const Tensor<T>& w_in) {
        return forward(x_in, w_in, Tensor<T>());
    }
    xt::xarray<T> forward(const Tensor<T>& x_in, const Tensor<T>& w_in, const Tensor<T>& b_in) {
        x = x_in;
        weight = w_in;
        bias = b_in;
        Shape shape = x.shape();
        shape.back() = out();  // [..., out]
        rows = 1;
        for (std::size_t i = 0; i + 1 < x.dim(); ++i)
            rows *= x.shape()[i];
        xt::xarray<T> y = xt::xarray<T>::from_shape(shape);
        if (bias.defined()) {
            const T* b = bias.value().data();
            const std::size_t n = out();  // hoisted: the loop then copies without a call per row
            for (std::size_t i = 0; i < rows; ++i)
                std::copy_n(b, n, y.data() + i * n);
        }
        detail::gemm<T>(false, true, rows, out(), in(), T(1), x.value().data(), in(),
                        weight.value().data(), in(), bias.defined() ? T(1) : T(0), y.data(), out());
        return y;
    }

    // G = ∂L/∂y as [m, out]:  ∂L/∂x = G·W,  ∂L/∂W = Gᵀ·x,  ∂L/∂b = Σ_rows G
    // (one gradient per input: two without a bias)
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const auto m = static_cast<std::ptrdiff_t>(rows);
        const Tensor<T> g2 = reshape(g, {m, static_cast<std::ptrdiff_t>(out())});  // [m, out]
        std::vector<Tensor<T>> grads(bias.defined() ? 3 : 2);
        if (x.requires_grad()) grads[0] = matmul(g, weight);  // [..., in]
        if (weight.requires_grad()) {
            const Tensor<T> x2 = reshape(x, {m, static_cast<std::ptrdiff_t>(in())});  // [m, in]
            grads[1] = matmul(g2, x2, true, false);                                   // [out, in]
        }
        if (bias.defined() && bias.requires_grad()) grads[2] = sum(g2, {0});  // [out]
        return grads;
    }

    // The same with gemms into fresh arrays and one pass for the bias (Note [fast VJP]).
    std::vector<Tensor<T>> fast_vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const T* gp = g.value().data();
        std::vector<Tensor<T>> grads(bias.defined() ? 3 : 2);
        if (x.requires_grad()) {
            xt::xarray<T> dx = xt::xarray<T>::from_shape(x.shape());  // [..., in]
            detail::gemm<T>(false, false, rows, in(), out(), T(1), gp, out(), weight.value().data(),
                            in(), T(0), dx.data(), in());
            grads[0] = Tensor<T>(std::move(dx));
        }
        if (weight.requires_grad()) {
            xt::xarray<T> dw = xt::xarray<T>::from_shape(weight.shape());  // [out, in]
            detail::gemm<T>(true, false, out(), in(), rows, T(1), gp, out(), x.value().data(), in(),
                            T(0), dw.data(), in());
            grads[1] = Tensor<T>(std::move(dw));
        }
        if (bias.defined() && bias.requires_grad()) {
            const std::size_t n = out();           // hoisted, so the column sum vectorises
            xt::xarray<T> db = xt::zeros<T>({n});  // [out]
            T* d = db.data();
            for (std::size_t i = 0; i < rows; ++i) {
                const T* row = gp + i * n;
                for (std::size_t j = 0; j < n; ++j)
                    d[j] += row[j];
            }
            grads[2] = Tensor<T>(std::move(db));
        }
        return grads;
    }
};

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, bool transpose_a, bool transpose_b) {
    return record(ops::MatMul<T>{transpose_a, transpose_b, {}, {}}, a, b);
}

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
    if (a.dim() == 0 || b.dim() == 0) {
        throw ShapeError(
            fmt::format("matmul: expected [..., m, k] @ [..., k, n] or 1-D operands "
                        "(use mul to scale by a scalar); got a={}, b={}",
                        shape_str(a.shape()), shape_str(b.shape())));
    }
    if (a.dim() >= 2 && b.dim() >= 2) return matmul(a, b, false, false);

    // NumPy's 1-D rules: a [k] is a row [1, k], b [k] is a column [k, 1]; the added axis is
    // dropped from the result.
    const Shape a2 = a.dim() == 1 ? Shape{1, a.shape()[0]} : a.shape();  // [1, k]
    const Shape b2 = b.dim() == 1 ? Shape{b.shape()[0], 1} : b.shape();  // [k, 1]
    const Shape product =
        ops::product_shape(a2, b2, false, false, a.shape(), b.shape(),
                           "[..., m, k] @ [..., k, n] (1-D: [k] @ [..., k, n], [..., m, k] @ [k])");
    std::vector<std::ptrdiff_t> out(product.begin(), product.end() - 2);  // batch axes
    if (a.dim() != 1) out.push_back(static_cast<std::ptrdiff_t>(product[product.size() - 2]));
    if (b.dim() != 1) out.push_back(static_cast<std::ptrdiff_t>(product[product.size() - 1]));

    const Tensor<T> a_mat = a.dim() == 1 ? unsqueeze(a, 0) : a;   // [1, k]
    const Tensor<T> b_mat = b.dim() == 1 ? unsqueeze(b, -1) : b;  // [k, 1]
    return reshape(matmul(a_mat, b_mat, false, false), out);
}

template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias) {
    const bool bias_ok = !bias.defined() || (bias.dim() == 1 && weight.dim() == 2 &&
                                             bias.shape()[0] == weight.shape()[0]);
    if (x.dim() == 0 || weight.dim() != 2 || x.shape()[x.dim() - 1] != weight.shape()[1] ||
        !bias_ok) {
        throw ShapeError(fmt::format(
            "linear: expected x [..., in], weight [out, in], bias [out]; got x={}, weight={}{}",
            shape_str(x.shape()), shape_str(weight.shape()),
            bias.defined() ? ", bias=" + shape_str(bias.shape()) : std::string()));
    }
    // One op either way (Note [fused linear]); without a bias it has two inputs.
    return bias.defined() ? record(ops::Linear<T>{}, x, weight, bias)
                          : record(ops::Linear<T>{}, x, weight);
}

#define XGRAD_INSTANTIATE(T)                                                   \
    template Tensor<T> matmul(const Tensor<T>&, const Tensor<T>&);             \
    template Tensor<T> matmul(const Tensor<T>&, const Tensor<T>&, bool, bool); \
    template Tensor<T> linear(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
