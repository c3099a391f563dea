#include "autograd/ops/reduce.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <xtensor/xreducer.hpp>
#include <xtensor/xsort.hpp>

#include <algorithm>

namespace xgrad {
namespace ops {
namespace {

// The input shape with every reduced axis set to 1 (the keepdims shape).
Shape kept_shape(const Shape& shape, const std::vector<std::size_t>& axes) {
    Shape kept = shape;
    for (auto a : axes)
        kept[a] = 1;
    return kept;
}

Shape reduced_shape(const Shape& shape, const std::vector<std::size_t>& axes, bool keepdims) {
    if (keepdims) return kept_shape(shape, axes);
    Shape out;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (!std::binary_search(axes.begin(), axes.end(), i)) out.push_back(shape[i]);
    }
    return out;
}

template <class T, class R>
xt::xarray<T> reduce_axes(const xt::xarray<T>& x, const std::vector<std::size_t>& axes,
                          const Shape& out_shape, R reducer) {
    if (axes.empty()) return x;
    if (x.size() == 0) return xt::zeros<T>(out_shape);  // xtensor's reducer cannot take empty input
    xt::xarray<T> r = reducer(x, axes);
    r.reshape(out_shape);
    return r;
}

// Σ over `axes` (sorted, unique) with the result in `out_shape` (Note [raw kernels]).
template <class T>
xt::xarray<T> sum_over(const xt::xarray<T>& x, const std::vector<std::size_t>& axes,
                       const Shape& out_shape) {
    if (axes.empty()) {
        xt::xarray<T> same = x;
        same.reshape(out_shape);
        return same;
    }
    xt::xarray<T> out = xt::xarray<T>::from_shape(out_shape);
    kernels::sum_axes(x.data(), x.shape(), axes, out.data());
    return out;
}

template <class T>
struct Sum {
    static constexpr const char* name = "sum";
    std::vector<std::size_t> axes;
    bool keepdims;
    Shape in_shape;

    std::string attributes() const {
        return fmt::format("axes=[{}], keepdims={}", fmt::join(axes, ", "), keepdims);
    }
    xt::xarray<T> forward(const Tensor<T>& x) {
        in_shape = x.shape();
        return sum_over(x.value(), axes, reduced_shape(in_shape, axes, keepdims));
    }
    // y = Σ_axes x  ⇒  ∂L/∂x = broadcast(g with the reduced axes kept as 1, shape x)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {broadcast_to(reshape(g, signed_shape(kept_shape(in_shape, axes))), in_shape)};
    }
};

// max and min share one struct: `sense` is +1 for max, −1 for min.
template <class T, int sense>
struct Extreme {
    static constexpr const char* name = sense > 0 ? "max" : "min";
    std::vector<std::size_t> axes;
    bool keepdims;
    Tensor<T> x;

    std::string attributes() const {
        return fmt::format("axes=[{}], keepdims={}", fmt::join(axes, ", "), keepdims);
    }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        if (x_in.size() == 0) {
            throw ShapeError(fmt::format("{}: cannot reduce an empty tensor; got x={}", name,
                                         shape_str(x_in.shape())));
        }
        x = x_in;
        return reduce_axes(x.value(), axes, reduced_shape(x.shape(), axes, keepdims),
                           [](const auto& v, const auto& ax) {
                               if constexpr (sense > 0) {
                                   return xt::amax(v, ax, xt::evaluation_strategy::immediate);
                               } else {
                                   return xt::amin(v, ax, xt::evaluation_strategy::immediate);
                               }
                           });
    }
    // y = max_axes x  ⇒  ∂L/∂x = broadcast(g) ⊙ [x = y] / (number of ties)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        const Shape kept = kept_shape(x.shape(), axes);
        xt::xarray<T> y_kept = y.value();
        y_kept.reshape(kept);
        xt::xarray<T> hit = xt::cast<T>(xt::equal(x.value(), y_kept));
        xt::xarray<T> count = xt::sum(hit, axes, xt::evaluation_strategy::immediate);
        count.reshape(kept);
        Tensor<T> share(xt::xarray<T>(hit / count));
        return {mul(broadcast_to(reshape(g, signed_shape(kept)), x.shape()), share)};
    }
};

template <class T>
struct SumTo {
    static constexpr const char* name = "sum_to";
    Shape to;
    Shape in_shape;

    std::string attributes() const { return fmt::format("shape={}", shape_str(to)); }
    xt::xarray<T> forward(const Tensor<T>& x) {
        in_shape = x.shape();
        const std::size_t lead = in_shape.size() - to.size();
        std::vector<std::size_t> axes;
        for (std::size_t i = 0; i < in_shape.size(); ++i) {
            if (i < lead || (to[i - lead] == 1 && in_shape[i] != 1)) axes.push_back(i);
        }
        return sum_over(x.value(), axes, to);
    }
    // y = sum_to(x, s)  ⇒  ∂L/∂x = broadcast_to(g, shape x)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {broadcast_to(g, in_shape)};
    }
};

template <class T>
struct BroadcastTo {
    static constexpr const char* name = "broadcast_to";
    Shape to;
    Shape in_shape;

    std::string attributes() const { return fmt::format("shape={}", shape_str(to)); }
    xt::xarray<T> forward(const Tensor<T>& x) {
        in_shape = x.shape();
        xt::xarray<T> out = xt::xarray<T>::from_shape(to);
        kernels::broadcast_copy(x.value().data(), in_shape, to, out.data());
        return out;
    }
    // y = broadcast(x, s)  ⇒  ∂L/∂x = sum_to(g, shape x)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const { return {sum_to(g, in_shape)}; }
};

// True when `from` broadcasts to exactly `to`.
bool broadcasts_to(const Shape& from, const Shape& to) {
    if (from.size() > to.size()) return false;
    const std::size_t lead = to.size() - from.size();
    for (std::size_t i = 0; i < from.size(); ++i) {
        if (from[i] != 1 && from[i] != to[i + lead]) return false;
    }
    return true;
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> sum(const Tensor<T>& x, const Axes& axes, bool keepdims) {
    return record(ops::Sum<T>{normalize_axes("sum", axes, x.shape()), keepdims, {}}, x);
}

template <class T>
Tensor<T> mean(const Tensor<T>& x, const Axes& axes, bool keepdims) {
    const auto ax = normalize_axes("mean", axes, x.shape());
    std::size_t n = 1;
    for (auto a : ax)
        n *= x.shape()[a];
    if (n == 0) {
        throw ShapeError(
            fmt::format("mean: cannot average over an empty axis; got x={}", shape_str(x.shape())));
    }
    return mul(sum(x, axes, keepdims), scalar<T>(T(1) / static_cast<T>(n)));
}

template <class T>
Tensor<T> max(const Tensor<T>& x, const Axes& axes, bool keepdims) {
    return record(ops::Extreme<T, 1>{normalize_axes("max", axes, x.shape()), keepdims, {}}, x);
}

template <class T>
Tensor<T> min(const Tensor<T>& x, const Axes& axes, bool keepdims) {
    return record(ops::Extreme<T, -1>{normalize_axes("min", axes, x.shape()), keepdims, {}}, x);
}

template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape) {
    if (x.shape() == shape) return x;
    if (!ops::broadcasts_to(shape, x.shape())) {
        throw ShapeError(fmt::format("sum_to: shape {} does not broadcast to x={}",
                                     shape_str(shape), shape_str(x.shape())));
    }
    return record(ops::SumTo<T>{shape, {}}, x);
}

template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape) {
    if (x.shape() == shape) return x;
    if (!ops::broadcasts_to(x.shape(), shape)) {
        throw ShapeError(fmt::format("broadcast_to: x={} does not broadcast to shape {}",
                                     shape_str(x.shape()), shape_str(shape)));
    }
    checked_numel("broadcast_to", "shape", shape);  // Note [size limit]
    return record(ops::BroadcastTo<T>{shape, {}}, x);
}

#define XGRAD_INSTANTIATE(T)                                      \
    template Tensor<T> sum(const Tensor<T>&, const Axes&, bool);  \
    template Tensor<T> mean(const Tensor<T>&, const Axes&, bool); \
    template Tensor<T> max(const Tensor<T>&, const Axes&, bool);  \
    template Tensor<T> min(const Tensor<T>&, const Axes&, bool);  \
    template Tensor<T> sum_to(const Tensor<T>&, const Shape&);    \
    template Tensor<T> broadcast_to(const Tensor<T>&, const Shape&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
