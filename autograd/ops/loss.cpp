#include "autograd/ops/loss.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/softmax.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace xgrad {
namespace ops {
namespace {

// Note [fused cross-entropy]
// cross_entropy is one op, not log_softmax → gather → neg → mean: in a small model's training
// step those four ops, their results and their VJPs are a visible share of the time
// (docs/performance.md, MLP training step). Forward: per row the max-shifted
// lse = m + log Σ_j e^(z_j − m) and the loss lse − z_label (stable for any finite z), then the
// reduction. VJP: ∂L/∂z_ij = s_i·(softmax(z)_ij − [j = label_i]) with s_i = g/n (mean), g (sum)
// or g_i (none); fast_vjp (Note [fast VJP]) is one pass over [n, classes] reusing the saved lse,
// vjp the same formula from xgrad ops, so it is differentiable again.
template <class T>
struct CrossEntropy {
    static constexpr const char* name = "cross_entropy";
    Index labels;         // [n], checked in [0, classes)
    Reduction reduction;  // mean, sum or none
    Tensor<T> logits;     // [n, classes]: vjp differentiates softmax(logits)
    xt::xarray<T> lse;    // [n]: log Σ_j e^z_ij, so fast_vjp's softmax is e^(z − lse)

    std::string attributes() const {
        return reduction == Reduction::mean  ? "reduction=mean"
               : reduction == Reduction::sum ? "reduction=sum"
                                             : "reduction=none";
    }

    xt::xarray<T> forward(const Tensor<T>& z_in) {
        check_class_labels(name, z_in, labels);
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
        xt::xarray<T> one_hot = xt::zeros<T>({n, c});  // [n, classes]
        for (std::size_t i = 0; i < n; ++i)
            one_hot(i, static_cast<std::size_t>(labels(i))) = T(1);
        const Tensor<T> d = sub(softmax(logits, 1), Tensor<T>(std::move(one_hot)));
        switch (reduction) {
            case Reduction::mean:
                return {mul(d, div(g, scalar(T(n))))};
            case Reduction::sum:
                return {mul(d, g)};
            case Reduction::none:
                return {mul(d, unsqueeze(g, 1))};  // g [n] → [n, 1]
        }
        return {d};
    }

    Grads<T, 1> fast_vjp(const Tensor<T>& g, const Tensor<T>& /*y*/) const {
        const std::size_t n = logits.shape()[0], c = logits.shape()[1];
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
};

}  // namespace
}  // namespace ops

template <class T>
void check_class_labels(const char* op, const Tensor<T>& scores, const Index& labels) {
    if (scores.dim() != 2 || labels.dimension() != 1 || labels.size() != scores.shape()[0]) {
        throw ShapeError(
            fmt::format("{}: expected scores [n, classes] and labels [n]; got scores={}, labels={}",
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

template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Index& labels, Reduction reduction) {
    return record(ops::CrossEntropy<T>{labels, reduction, {}, {}}, logits);
}

#define XGRAD_INSTANTIATE(T)                                                     \
    template Tensor<T> cross_entropy(const Tensor<T>&, const Index&, Reduction); \
    template void check_class_labels(const char*, const Tensor<T>&, const Index&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
