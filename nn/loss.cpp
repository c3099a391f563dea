#include "nn/loss.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/softmax.hpp"

#include <fmt/format.h>

#include <algorithm>
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
    }
    return losses;
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

// Checks [n, classes] against n labels in [0, classes).
template <class T>
void check_labels(const char* op, const Tensor<T>& scores, const Index& labels) {
    if (scores.dim() != 2 || labels.dimension() != 1 || labels.size() != scores.shape()[0]) {
        throw ShapeError(
            fmt::format("{}: expected scores [n, classes] and labels [n]; got "
                        "scores={}, labels={}",
                        op, shape_str(scores.shape()), shape_str(labels.shape())));
    }
    const auto classes = static_cast<std::int64_t>(scores.shape()[1]);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels(i) < 0 || labels(i) >= classes) {
            throw ValueError(fmt::format("{}: label {} at position {} is outside [0, {})", op,
                                         labels(i), i, classes));
        }
    }
}

// −scores[i, labels[i]] for each i: [n].
template <class T>
Tensor<T> pick_negative(const Tensor<T>& scores, const Index& labels) {
    Index index = labels;
    index.reshape({labels.size(), 1});
    return neg(reshape(gather(scores, 1, index), {-1}));
}

// Note [fused cross-entropy]
// sparse_categorical_cross_entropy is one op, not log_softmax → gather → neg → mean: in a small
// model's training step those four ops, their results and their VJPs are a visible share of the
// time (docs/performance.md, MLP training step). Forward: per row the max-shifted
// lse = m + log Σ_j e^(z_j − m) and the loss lse − z_label (stable for any finite z), then the
// reduction. VJP: ∂L/∂z_ij = s_i·(softmax(z)_ij − [j = label_i]) with s_i = g/n (mean), g (sum)
// or g_i (none); with grad mode off (the ordinary backward) one pass over [n, classes] reusing
// the saved lse, with grad mode on (create_graph) the same formula from xgrad ops, so it is
// differentiable again. The op harness checks both paths for every reduction.
template <class T>
struct SparseCrossEntropy {
    static constexpr const char* name = "sparse_categorical_cross_entropy";
    Index labels;         // [n], checked in [0, classes)
    Reduction reduction;  // mean, sum or none
    Tensor<T> logits;     // [n, classes]: the composed VJP differentiates softmax(logits)
    xt::xarray<T> lse;    // [n]: log Σ_j e^z_ij, so the raw VJP's softmax is e^(z − lse)

    std::string attributes() const {
        return reduction == Reduction::mean  ? "reduction=mean"
               : reduction == Reduction::sum ? "reduction=sum"
                                             : "reduction=none";
    }

    xt::xarray<T> forward(const Tensor<T>& z_in) {
        logits = z_in;
        const std::size_t n = logits.shape()[0], c = logits.shape()[1];
        const T* z = logits.value().data();
        lse = xt::xarray<T>::from_shape({n});
        xt::xarray<T> losses = xt::xarray<T>::from_shape({n});  // [n]
        double total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const T* row = z + i * c;
            // NOTE: max-shifted, so e^(z − m) <= 1 and the sum cannot overflow.
            const T m = *std::max_element(row, row + c);
            T s = 0;
            for (std::size_t j = 0; j < c; ++j)
                s += std::exp(row[j] - m);
            lse(i) = m + std::log(s);
            losses(i) = lse(i) - row[labels(i)];
            total += double(losses(i));
        }
        if (reduction == Reduction::none) return losses;
        xt::xarray<T> y = xt::xarray<T>::from_shape(Shape{});  // []
        y() = T(reduction == Reduction::mean ? total / double(n) : total);
        return y;
    }

    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& /*y*/) const {
        const std::size_t n = logits.shape()[0], c = logits.shape()[1];
        if (grad_enabled()) return {composed(g)};
        const T* z = logits.value().data();
        const T* gv = g.value().data();
        xt::xarray<T> dz = xt::xarray<T>::from_shape(logits.shape());  // [n, classes]
        T* d = dz.data();
        for (std::size_t i = 0; i < n; ++i) {
            const T s = reduction == Reduction::none   ? gv[i]
                        : reduction == Reduction::mean ? gv[0] / T(n)
                                                       : gv[0];
            for (std::size_t j = 0; j < c; ++j)
                d[i * c + j] = s * std::exp(z[i * c + j] - lse(i));
            d[i * c + static_cast<std::size_t>(labels(i))] -= s;
        }
        return {Tensor<T>(std::move(dz))};
    }

    Tensor<T> composed(const Tensor<T>& g) const {
        const std::size_t n = logits.shape()[0], c = logits.shape()[1];
        xt::xarray<T> one_hot = xt::zeros<T>({n, c});  // [n, classes]
        for (std::size_t i = 0; i < n; ++i)
            one_hot(i, static_cast<std::size_t>(labels(i))) = T(1);
        const Tensor<T> d = sub(softmax(logits, 1), Tensor<T>(std::move(one_hot)));
        switch (reduction) {
            case Reduction::mean:
                return mul(d, div(g, scalar(T(n))));
            case Reduction::sum:
                return mul(d, g);
            case Reduction::none:
                return mul(d, unsqueeze(g, 1));  // g [n] → [n, 1]
        }
        return d;
    }
};

}  // namespace

template <class T>
Tensor<T> mse_loss(const Tensor<T>& pred, const Tensor<T>& target, Reduction reduction) {
    check_same_shape("mse_loss", pred, "pred", target, "target");
    auto d = pred - target;
    return reduce(d * d, reduction);
}

template <class T>
Tensor<T> binary_cross_entropy(const Tensor<T>& prob, const Tensor<T>& target,
                               Reduction reduction) {
    check_same_shape("binary_cross_entropy", prob, "prob", target, "target");
    const T eps = T(1e-7);
    auto p = clamp(prob, eps, T(1) - eps);
    return reduce(neg(target * log(p) + (T(1) - target) * log(T(1) - p)), reduction);
}

template <class T>
Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& logits, const Tensor<T>& target,
                                           Reduction reduction) {
    check_same_shape("binary_cross_entropy_with_logits", logits, "logits", target, "target");
    return reduce(softplus(logits) - target * logits, reduction);
}

template <class T>
Tensor<T> categorical_cross_entropy(const Tensor<T>& input, const Tensor<T>& target,
                                    bool from_logits, Reduction reduction) {
    check_same_shape("categorical_cross_entropy", input, "input", target, "target");
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
    check_labels("sparse_categorical_cross_entropy", logits, labels);
    return record(SparseCrossEntropy<T>{labels, reduction, {}, {}}, logits);
}

template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Tensor<T>& labels,
                                           Reduction reduction) {
    return sparse_categorical_cross_entropy(logits, to_index(labels), reduction);
}

template <class T>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Index& labels, Reduction reduction) {
    check_labels("nll_loss", log_probs, labels);
    return reduce(pick_negative(log_probs, labels), reduction);
}

template <class T>
Index to_index(const Tensor<T>& labels) {
    Index out = Index::from_shape(labels.shape());
    const T* v = labels.value().data();
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (v[i] != std::floor(v[i])) {
            throw ValueError(
                fmt::format("to_index: label {} at position {} is not a whole number", v[i], i));
        }
        out.data()[i] = static_cast<std::int64_t>(v[i]);
    }
    return out;
}

#define XGRAD_INSTANTIATE(T)                                                                \
    template Tensor<T> mse_loss(const Tensor<T>&, const Tensor<T>&, Reduction);             \
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
    template Index to_index(const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn
