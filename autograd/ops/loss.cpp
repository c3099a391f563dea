#include "autograd/ops/loss.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/softmax.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace xgrad {
namespace ops {
namespace {

// Note [fused cross-entropy]
// cross_entropy is one op, not log_softmax → gather → neg → mean: in a small model's training
// step those four ops, their results and their VJPs are a visible share of the time
// (docs/performance.md, MLP training step). Forward: per row the max-shifted
// lse = m + log Σ_j e^(z_j − m) (stable for any finite z) and the loss
//   ℓ_i = (1 − ε)·w_y·(lse − z_y) + (ε/C)·Σ_j w_j·(lse − z_j)
// with class weights w (all 1 by default), label smoothing ε (0 by default) and y = label_i; an
// ignored row costs 0. The mean divides Σ ℓ_i by D = Σ w_y over the rows not ignored (n by
// default), as PyTorch. VJP: ∂ℓ_i/∂z_ij = a_i·softmax(z)_ij − b_ij with a_i = (1 − ε)·w_y + ε·W/C
// (W = Σ_j w_j) and b_ij = (1 − ε)·w_y·[j = y] + ε·w_j/C (both 0 on an ignored row), times
// s_i = g/D (mean), g (sum) or g_i (none). fast_vjp (Note [fast VJP]) is one pass over
// [n, classes] reusing the saved lse, vjp the same formula from xgrad ops, so it is
// differentiable again.
template <class T>
struct CrossEntropy {
    static constexpr const char* name = "cross_entropy";
    Index labels;                        // [n], checked in [0, classes) unless ignored
    Reduction reduction;                 // mean, sum or none
    std::vector<T> weight;               // [classes], or empty: all 1
    std::optional<std::int64_t> ignore;  // the label of rows that cost 0
    T smoothing;                         // ε
    Tensor<T> logits;                    // [n, classes]: vjp differentiates softmax(logits)
    xt::xarray<T> lse;  // [n]: log Σ_j e^z_ij, so fast_vjp's softmax is e^(z − lse)
    xt::xarray<T> a;    // [n]: the coefficient of softmax(z) in ∂ℓ_i/∂z
    T denominator = 0;  // D, the mean's divisor

    std::string attributes() const {
        std::string r = reduction == Reduction::mean  ? "reduction=mean"
                        : reduction == Reduction::sum ? "reduction=sum"
                                                      : "reduction=none";
        if (!weight.empty()) r += ", weight";
        if (ignore) r += fmt::format(", ignore_index={}", *ignore);
        if (smoothing != T(0)) r += fmt::format(", label_smoothing={}", smoothing);
        return r;
    }
    bool ignored(std::size_t i) const { return ignore && labels(i) == *ignore; }
    T w(std::size_t j) const { return weight.empty() ? T(1) : weight[j]; }
    // b_ij of Note [fused cross-entropy], without the row's ignore test.
    T b(std::size_t i, std::size_t j) const {
        const std::size_t c = logits.shape()[1];
        const auto y = static_cast<std::size_t>(labels(i));
        return (j == y ? (T(1) - smoothing) * w(y) : T(0)) + smoothing * w(j) / T(c);
    }

    xt::xarray<T> forward(const Tensor<T>& z_in) {
        check_class_labels(name, z_in, labels, ignore);
        logits = z_in;
        const std::size_t n = logits.shape()[0], c = logits.shape()[1];
        const T* z = logits.value().data();
        T total_weight = 0;
        for (std::size_t j = 0; j < c; ++j)
            total_weight += w(j);
        lse = xt::zeros<T>({n});
        a = xt::zeros<T>({n});
        xt::xarray<T> losses = xt::zeros<T>({n});  // [n]
        double total = 0, d = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (ignored(i)) continue;
            const T* row = z + i * c;
            // NOTE: max-shifted, so e^(z − m) <= 1 and the sum cannot overflow.
            const T m = *std::max_element(row, row + c);
            T s = 0;
            for (std::size_t j = 0; j < c; ++j)
                s += std::exp(row[j] - m);
            lse(i) = m + std::log(s);
            const auto y = static_cast<std::size_t>(labels(i));
            T loss = (T(1) - smoothing) * w(y) * (lse(i) - row[y]);
            if (smoothing != T(0)) {
                T smooth = 0;
                for (std::size_t j = 0; j < c; ++j)
                    smooth += w(j) * (lse(i) - row[j]);
                loss += smoothing / T(c) * smooth;
            }
            losses(i) = loss;
            a(i) = (T(1) - smoothing) * w(y) + smoothing * total_weight / T(c);
            total += double(loss);
            d += double(w(y));
        }
        denominator = T(d);
        if (reduction == Reduction::none) return losses;
        xt::xarray<T> y = xt::xarray<T>::from_shape(Shape{});  // []
        // NOTE: with every row ignored the mean is 0/0 = NaN, as PyTorch.
        y() = T(reduction == Reduction::mean ? total / d : total);
        return y;
    }

    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& /*y*/) const {
        const std::size_t n = logits.shape()[0], c = logits.shape()[1];
        xt::xarray<T> bs = xt::zeros<T>({n, c});  // [n, classes]
        for (std::size_t i = 0; i < n; ++i) {
            if (ignored(i)) continue;
            for (std::size_t j = 0; j < c; ++j)
                bs(i, j) = b(i, j);
        }
        xt::xarray<T> a_col = a;
        a_col.reshape({n, 1});  // [n, 1]
        const Tensor<T> d =
            sub(mul(softmax(logits, 1), Tensor<T>(std::move(a_col))), Tensor<T>(std::move(bs)));
        switch (reduction) {
            case Reduction::sum:
                return {mul(d, g)};
            case Reduction::none:
                return {mul(d, unsqueeze(g, 1))};  // g [n] → [n, 1]
            case Reduction::mean:
            case Reduction::batchmean:  // refused at the entry
                break;
        }
        return {mul(d, div(g, scalar(denominator)))};
    }

    Grads<T, 1> fast_vjp(const Tensor<T>& g, const Tensor<T>& /*y*/) const {
        const std::size_t n = logits.shape()[0], c = logits.shape()[1];
        const T* z = logits.value().data();
        const T* gv = g.value().data();
        xt::xarray<T> dz = xt::zeros<T>(logits.shape());  // [n, classes]
        T* d = dz.data();
        const bool plain = weight.empty() && smoothing == T(0);
        for (std::size_t i = 0; i < n; ++i) {
            if (ignored(i)) continue;
            const T s = reduction == Reduction::none   ? gv[i]
                        : reduction == Reduction::mean ? gv[0] / denominator
                                                       : gv[0];
            const T sa = s * a(i);
            for (std::size_t j = 0; j < c; ++j)
                d[i * c + j] = sa * std::exp(z[i * c + j] - lse(i));
            if (plain) {
                d[i * c + static_cast<std::size_t>(labels(i))] -= s;
            } else {
                for (std::size_t j = 0; j < c; ++j)
                    d[i * c + j] -= s * b(i, j);
            }
        }
        return {Tensor<T>(std::move(dz))};
    }
};

}  // namespace
}  // namespace ops

template <class T>
void check_class_labels(const char* op, const Tensor<T>& scores, const Index& labels,
                        std::optional<std::int64_t> ignore_index) {
    if (scores.dim() != 2 || labels.dimension() != 1 || labels.size() != scores.shape()[0]) {
        throw ShapeError(
            fmt::format("{}: expected scores [n, classes] and labels [n]; got scores={}, labels={}",
                        op, shape_str(scores.shape()), shape_str(labels.shape())));
    }
    const auto classes = static_cast<std::int64_t>(scores.shape()[1]);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (ignore_index && labels(i) == *ignore_index) continue;
        if (labels(i) < 0 || labels(i) >= classes) {
            throw ValueError(fmt::format("{}: label {} at position {} is outside [0, {})", op,
                                         labels(i), i, classes));
        }
    }
}

void check_cross_entropy_options(const char* op, const Shape& logits,
                                 const CrossEntropyOptions& options) {
    const auto& w = options.weight();
    if (options.has_weight() &&
        (logits.size() != 2 || options.weight_shape().size() != 1 || w.size() != logits[1])) {
        throw ShapeError(
            fmt::format("{}: weight must be [classes], one entry per class; got logits={}, "
                        "weight={}",
                        op, shape_str(logits), shape_str(options.weight_shape())));
    }
    for (std::size_t j = 0; j < w.size(); ++j) {
        if (!(w[j] >= 0)) {
            throw ValueError(fmt::format(
                "{}: class weights must be >= 0; got weight {} for class {}", op, w[j], j));
        }
    }
    const double s = options.label_smoothing();
    if (!(s >= 0 && s <= 1)) {
        throw ValueError(
            fmt::format("{}: label_smoothing must lie in [0, 1]; got label_smoothing={}", op, s));
    }
    if (options.reduction() == Reduction::batchmean) {
        throw ValueError(
            fmt::format("{}: reduction batchmean is for kl_div; use mean, sum or none", op));
    }
}

template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Index& labels, Reduction reduction) {
    return cross_entropy(logits, labels, CrossEntropyOptions().reduction(reduction));
}

template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Index& labels,
                        const CrossEntropyOptions& options) {
    check_cross_entropy_options("cross_entropy", logits.shape(), options);
    const auto& w = options.weight();
    return record(ops::CrossEntropy<T>{labels,
                                       options.reduction(),
                                       std::vector<T>(w.begin(), w.end()),
                                       options.ignore_index(),
                                       static_cast<T>(options.label_smoothing()),
                                       {},
                                       {},
                                       {},
                                       0},
                  logits);
}

#define XGRAD_INSTANTIATE(T)                                                                      \
    template Tensor<T> cross_entropy(const Tensor<T>&, const Index&, Reduction);                  \
    template Tensor<T> cross_entropy(const Tensor<T>&, const Index&, const CrossEntropyOptions&); \
    template void check_class_labels(const char*, const Tensor<T>&, const Index&,                 \
                                     std::optional<std::int64_t>);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
