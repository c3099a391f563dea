#include "nn/loss.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/loss.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/softmax.hpp"

#include <fmt/format.h>

#include <cmath>

namespace xgrad::nn {
namespace {

template <class T>
Tensor<T> reduce(const Tensor<T>& losses, Reduction reduction) {
    switch (reduction) {
        case Reduction::mean:
            return mean(losses);
        case Reduction::sum:
            return sum(losses);
        case Reduction::none:
            return losses;
        case Reduction::batchmean:  // kl_div only: Σ / batch size (axis 0; 1 for a 0-d input)
            return div(sum(losses),
                       scalar<T>(static_cast<T>(losses.dim() == 0 ? 1 : losses.shape()[0])));
    }
    return losses;
}

// Reduction::batchmean is kl_div's (as in PyTorch); every other loss refuses it at its entry.
void refuse_batchmean(const char* op, Reduction reduction) {
    if (reduction == Reduction::batchmean) {
        throw ValueError(
            fmt::format("{}: reduction batchmean is for kl_div; use mean, sum or none", op));
    }
}

template <class T>
void check_same_shape(const char* op, const Tensor<T>& a, const char* a_name, const Tensor<T>& b,
                      const char* b_name) {
    if (a.shape() != b.shape()) {
        throw ShapeError(fmt::format("{}: {} and {} must have the same shape; got {}={}, {}={}", op,
                                     a_name, b_name, a_name, shape_str(a.shape()), b_name,
                                     shape_str(b.shape())));
    }
}

// −scores[i, labels[i]] for each i: [n].
template <class T>
Tensor<T> pick_negative(const Tensor<T>& scores, const Index& labels) {
    Index index = labels;
    index.reshape({labels.size(), 1});
    return neg(reshape(gather(scores, 1, index), {-1}));
}

}  // namespace

template <class T>
Tensor<T> mse_loss(const Tensor<T>& pred, const Tensor<T>& target, Reduction reduction) {
    check_same_shape("mse_loss", pred, "pred", target, "target");
    refuse_batchmean("mse_loss", reduction);
    auto d = pred - target;
    return reduce(d * d, reduction);
}

template <class T>
Tensor<T> l1_loss(const Tensor<T>& pred, const Tensor<T>& target, Reduction reduction) {
    check_same_shape("l1_loss", pred, "pred", target, "target");
    refuse_batchmean("l1_loss", reduction);
    return reduce(abs(pred - target), reduction);
}

template <class T>
Tensor<T> huber_loss(const Tensor<T>& pred, const Tensor<T>& target, Reduction reduction, T delta) {
    check_same_shape("huber_loss", pred, "pred", target, "target");
    refuse_batchmean("huber_loss", reduction);
    if (!(delta > 0)) {
        throw ValueError(fmt::format("huber_loss: delta must be > 0; got delta={}", delta));
    }
    auto d = pred - target;
    auto a = abs(d);
    // NOTE: the two pieces meet with equal value and slope at |d| = delta.
    return reduce(where(le(a, scalar(delta)), T(0.5) * d * d, delta * (a - T(0.5) * delta)),
                  reduction);
}

template <class T>
Tensor<T> smooth_l1_loss(const Tensor<T>& pred, const Tensor<T>& target, Reduction reduction,
                         T beta) {
    check_same_shape("smooth_l1_loss", pred, "pred", target, "target");
    refuse_batchmean("smooth_l1_loss", reduction);
    if (!(beta >= 0)) {
        throw ValueError(fmt::format("smooth_l1_loss: beta must be >= 0; got beta={}", beta));
    }
    auto d = pred - target;
    auto a = abs(d);
    if (beta == T(0)) return reduce(a, reduction);
    return reduce(where(lt(a, scalar(beta)), (T(0.5) / beta) * d * d, a - T(0.5) * beta),
                  reduction);
}

template <class T>
Tensor<T> kl_div(const Tensor<T>& input, const Tensor<T>& target, Reduction reduction,
                 bool log_target) {
    check_same_shape("kl_div", input, "input", target, "target");
    if (log_target) return reduce(exp(target) * (target - input), reduction);
    // NOTE: p·log p is 0 at p = 0 (PyTorch's xlogy): log reads 1 there, so no 0·(−inf).
    const auto safe = where(gt(target, scalar(T(0))), target, scalar(T(1)));
    return reduce(target * log(safe) - target * input, reduction);
}

template <class T>
Tensor<T> binary_cross_entropy(const Tensor<T>& prob, const Tensor<T>& target,
                               Reduction reduction) {
    check_same_shape("binary_cross_entropy", prob, "prob", target, "target");
    refuse_batchmean("binary_cross_entropy", reduction);
    const T eps = T(1e-7);
    auto p = clamp(prob, eps, T(1) - eps);
    return reduce(neg(target * log(p) + (T(1) - target) * log(T(1) - p)), reduction);
}

template <class T>
Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& logits, const Tensor<T>& target,
                                           Reduction reduction) {
    check_same_shape("binary_cross_entropy_with_logits", logits, "logits", target, "target");
    refuse_batchmean("binary_cross_entropy_with_logits", reduction);
    return reduce(softplus(logits) - target * logits, reduction);
}

template <class T>
Tensor<T> categorical_cross_entropy(const Tensor<T>& input, const Tensor<T>& target,
                                    bool from_logits, Reduction reduction) {
    check_same_shape("categorical_cross_entropy", input, "input", target, "target");
    refuse_batchmean("categorical_cross_entropy", reduction);
    if (input.dim() != 2) {
        throw ShapeError(
            fmt::format("categorical_cross_entropy: expected input [n, classes]; got "
                        "input={}",
                        shape_str(input.shape())));
    }
    auto log_p = from_logits ? log_softmax(input, 1) : log(clamp(input, T(1e-7), T(1)));
    return reduce(neg(sum(target * log_p, {1})), reduction);
}

template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Index& labels,
                                           Reduction reduction) {
    // cross_entropy checks too, but an error should name the function the user called.
    check_class_labels("sparse_categorical_cross_entropy", logits, labels);
    refuse_batchmean("sparse_categorical_cross_entropy", reduction);
    return cross_entropy(logits, labels, reduction);  // one op (Note [fused cross-entropy])
}

template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Tensor<T>& labels,
                                           Reduction reduction) {
    return sparse_categorical_cross_entropy(
        logits, to_index(labels, "sparse_categorical_cross_entropy"), reduction);
}

template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Index& labels,
                                           const CrossEntropyOptions& options) {
    // cross_entropy checks too, but an error should name the function the user called.
    check_class_labels("sparse_categorical_cross_entropy", logits, labels, options.ignore_index());
    check_cross_entropy_options("sparse_categorical_cross_entropy", logits.shape(), options);
    return xgrad::cross_entropy(logits, labels, options);
}

template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Tensor<T>& labels,
                                           const CrossEntropyOptions& options) {
    return sparse_categorical_cross_entropy(
        logits, to_index(labels, "sparse_categorical_cross_entropy"), options);
}

template <class T>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Index& labels, Reduction reduction) {
    check_class_labels("nll_loss", log_probs, labels);
    refuse_batchmean("nll_loss", reduction);
    return reduce(pick_negative(log_probs, labels), reduction);
}

template <class T>
Index to_index(const Tensor<T>& labels, const char* op) {
    Index out = Index::from_shape(labels.shape());
    const T* v = labels.value().data();
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (v[i] != std::floor(v[i])) {
            throw ValueError(
                fmt::format("{}: value {} at position {} is not a whole number", op, v[i], i));
        }
        out.data()[i] = static_cast<std::int64_t>(v[i]);
    }
    return out;
}

#define XGRAD_INSTANTIATE(T)                                                                \
    template Tensor<T> mse_loss(const Tensor<T>&, const Tensor<T>&, Reduction);             \
    template Tensor<T> l1_loss(const Tensor<T>&, const Tensor<T>&, Reduction);              \
    template Tensor<T> huber_loss(const Tensor<T>&, const Tensor<T>&, Reduction, T);        \
    template Tensor<T> smooth_l1_loss(const Tensor<T>&, const Tensor<T>&, Reduction, T);    \
    template Tensor<T> kl_div(const Tensor<T>&, const Tensor<T>&, Reduction, bool);         \
    template Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>&, const Index&,     \
                                                        const CrossEntropyOptions&);        \
    template Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>&, const Tensor<T>&, \
                                                        const CrossEntropyOptions&);        \
    template Tensor<T> binary_cross_entropy(const Tensor<T>&, const Tensor<T>&, Reduction); \
    template Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>&, const Tensor<T>&, \
                                                        Reduction);                         \
    template Tensor<T> categorical_cross_entropy(const Tensor<T>&, const Tensor<T>&, bool,  \
                                                 Reduction);                                \
    template Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>&, const Index&,     \
                                                        Reduction);                         \
    template Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>&, const Tensor<T>&, \
                                                        Reduction);                         \
    template Tensor<T> nll_loss(const Tensor<T>&, const Index&, Reduction);                 \
    template Index to_index(const Tensor<T>&, const char*);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn
