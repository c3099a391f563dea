#include "autograd/ops/reduce.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xsort.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

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

// Note [prod with zeros]
// y = Π_i x_i along an axis. Its gradient ∂y/∂x_i = Π_{j≠i} x_j is not y / x_i: that divides by
// zero when x holds a zero. prod_others computes Π_{j≠i} x_j for each i from a prefix product
// L_i = Π_{j<i} x_j and a suffix product R_i = Π_{j>i} x_j (out_i = L_i·R_i), so one zero leaves
// the gradient at its own position and two zeros make it zero everywhere, with no division.
// prod_others' own VJP, ∂L/∂x_k = Σ_{i≠k} h_i Π_{j≠i,k} x_j, runs in one pass each way with the
// recurrences A_{k+1} = A_k·x_k + h_k·L_k (terms i < k) and B_{k−1} = B_k·x_k + h_k·R_k (terms
// i > k): out_k = A_k·R_k + B_k·L_k. That kernel works on raw values: it is what a backward
// without create_graph runs. Under create_graph the same sum is composed from recorded ops,
// still without dividing: with the axis moved last, row i of M = x ⊙ (1 − I) + I is x with x_i
// set to 1, so prod_others(M)_{ik} = Π_{j≠i,k} x_j for k ≠ i, and out = Σ_i h_i prod_others(M)_{ik}
// (1 − I)_{ik}. That form costs n² per line, and its own VJP is prod_others' again, so prod is
// differentiable to any order.
template <class T>
Tensor<T> prod_others(const Tensor<T>& x, std::size_t axis);

template <class T>
struct ProdOthers {
    static constexpr const char* name = "prod_others";
    std::size_t axis;
    Tensor<T> x;

    std::string attributes() const { return fmt::format("axis={}", axis); }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        const auto s = kernels::split_at(x.shape(), axis);
        xt::xarray<T> y = xt::xarray<T>::from_shape(x.shape());
        const T* xv = x.value().data();
        T* yv = y.data();
        for (std::size_t o = 0; o < s.outer; ++o) {
            for (std::size_t r = 0; r < s.inner; ++r) {
                const std::size_t base = o * s.n * s.inner + r;
                T left = 1;  // L_i
                for (std::size_t i = 0; i < s.n; ++i) {
                    yv[base + i * s.inner] = left;
                    left *= xv[base + i * s.inner];
                }
                T right = 1;  // R_i
                for (std::size_t i = s.n; i-- > 0;) {
                    yv[base + i * s.inner] *= right;
                    right *= xv[base + i * s.inner];
                }
            }
        }
        return y;
    }
    // y_i = Π_{j≠i} x_j  ⇒  ∂L/∂x_k = Σ_{i≠k} h_i Π_{j≠i,k} x_j (Note [prod with zeros])
    Grads<T, 1> vjp(const Tensor<T>& h, const Tensor<T>&) const {
        if (grad_enabled() && (x.requires_grad() || h.requires_grad())) return {composed(h)};
        const auto s = kernels::split_at(x.shape(), axis);
        const T* xv = x.value().data();
        const T* hv = h.value().data();
        xt::xarray<T> d = xt::xarray<T>::from_shape(x.shape());
        T* dv = d.data();
        std::vector<T> left(s.n), right(s.n);
        for (std::size_t o = 0; o < s.outer; ++o) {
            for (std::size_t r = 0; r < s.inner; ++r) {
                const std::size_t base = o * s.n * s.inner + r;
                auto at = [&](std::size_t i) { return base + i * s.inner; };
                T p = 1;
                for (std::size_t i = 0; i < s.n; ++i) {
                    left[i] = p;
                    p *= xv[at(i)];
                }
                p = 1;
                for (std::size_t i = s.n; i-- > 0;) {
                    right[i] = p;
                    p *= xv[at(i)];
                }
                T a = 0;  // A_k
                for (std::size_t k = 0; k < s.n; ++k) {
                    dv[at(k)] = a * right[k];
                    a = a * xv[at(k)] + hv[at(k)] * left[k];
                }
                T b = 0;  // B_k
                for (std::size_t k = s.n; k-- > 0;) {
                    dv[at(k)] += b * left[k];
                    b = b * xv[at(k)] + hv[at(k)] * right[k];
                }
            }
        }
        return {Tensor<T>(std::move(d))};
    }

    // The VJP from recorded ops, for create_graph (Note [prod with zeros]).
    Tensor<T> composed(const Tensor<T>& h) const {
        const std::size_t rank = x.dim();
        std::vector<std::size_t> last, back(rank);  // axis moved last, and the way back
        for (std::size_t d = 0; d < rank; ++d)
            if (d != axis) last.push_back(d);
        last.push_back(axis);
        for (std::size_t d = 0; d < rank; ++d)
            back[last[d]] = d;
        const std::size_t n = x.shape()[axis];
        const Tensor<T> eye(xt::xarray<T>(xt::eye<T>(n)));
        const Tensor<T> off(xt::xarray<T>(T(1) - xt::eye<T>(n)));
        const Tensor<T> m = unsqueeze(permute(x, last), -2) * off + eye;  // [..., i, j]
        const Tensor<T> q = prod_others(m, rank);                         // [..., i, k]
        const Tensor<T> d = sum(unsqueeze(permute(h, last), -1) * q * off, {-2});
        return permute(d, back);
    }
};

template <class T>
Tensor<T> prod_others(const Tensor<T>& x, std::size_t axis) {
    return record(ProdOthers<T>{axis, {}}, x);
}

template <class T>
struct Prod {
    static constexpr const char* name = "prod";
    std::size_t axis;
    bool keepdim;
    Tensor<T> x;

    std::string attributes() const { return fmt::format("dim={}, keepdim={}", axis, keepdim); }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        const auto s = kernels::split_at(x.shape(), axis);
        xt::xarray<T> y(reduced_shape(x.shape(), {axis}, keepdim), T(1));
        const T* xv = x.value().data();
        T* yv = y.data();
        for (std::size_t o = 0; o < s.outer; ++o)
            for (std::size_t i = 0; i < s.n; ++i)
                for (std::size_t r = 0; r < s.inner; ++r)
                    yv[o * s.inner + r] *= xv[(o * s.n + i) * s.inner + r];
        return y;
    }
    // y = Π_axis x  ⇒  ∂L/∂x = broadcast(g) ⊙ prod_others(x) (Note [prod with zeros])
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const Shape kept = kept_shape(x.shape(), {axis});
        return {mul(broadcast_to(reshape(g, signed_shape(kept)), x.shape()), prod_others(x, axis))};
    }
};

// The 2-norm sqrt(Σ x²) over `axes`: one op, so that its gradient x / y can be defined as 0
// where y = 0 (the composed sqrt(sum(x²)) would give 0·∞ = NaN there).
template <class T>
struct Norm2 {
    static constexpr const char* name = "norm";
    std::vector<std::size_t> axes;
    bool keepdims;
    Tensor<T> x;

    std::string attributes() const {
        return fmt::format("p=2, axes=[{}], keepdims={}", fmt::join(axes, ", "), keepdims);
    }
    xt::xarray<T> forward(const Tensor<T>& x_in) {
        x = x_in;
        xt::xarray<T> squares = x.value() * x.value();
        xt::xarray<T> y = sum_over(squares, axes, reduced_shape(x.shape(), axes, keepdims));
        for (auto& v : y)
            v = std::sqrt(v);
        return y;
    }
    // y = sqrt(Σ x²)  ⇒  ∂L/∂x = broadcast(g) ⊙ x / broadcast(y); NOTE: 0 where y = 0
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& y) const {
        const auto kept = signed_shape(kept_shape(x.shape(), axes));
        const Tensor<T> safe_y = where(eq(y, scalar<T>(0)), scalar<T>(1), y);  // x = 0 where y = 0
        return {mul(broadcast_to(reshape(g, kept), x.shape()),
                    div(x, broadcast_to(reshape(safe_y, kept), x.shape())))};
    }
};

// Running sum along `axis`, from the front or (reverse) from the back: each is the other's VJP.
template <class T>
struct CumSum {
    static constexpr const char* name = "cumsum";
    std::size_t axis;
    bool reverse;

    std::string attributes() const { return fmt::format("dim={}, reverse={}", axis, reverse); }
    xt::xarray<T> forward(const Tensor<T>& x) {
        const auto s = kernels::split_at(x.shape(), axis);
        xt::xarray<T> y = xt::xarray<T>::from_shape(x.shape());
        const T* xv = x.value().data();
        T* yv = y.data();
        for (std::size_t o = 0; o < s.outer; ++o) {
            for (std::size_t r = 0; r < s.inner; ++r) {
                T acc = 0;
                for (std::size_t k = 0; k < s.n; ++k) {
                    const std::size_t i = reverse ? s.n - 1 - k : k;
                    const std::size_t at = (o * s.n + i) * s.inner + r;
                    acc += xv[at];
                    yv[at] = acc;
                }
            }
        }
        return y;
    }
    // y_i = Σ_{j≤i} x_j  ⇒  ∂L/∂x_j = Σ_{i≥j} g_i: the running sum of g from the back
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {record(CumSum<T>{axis, !reverse}, g)};
    }
};

// The first index of the extreme along `axis` (sense +1: max, −1: min); NaN wins, as PyTorch.
template <class T>
Index arg_extreme(const xt::xarray<T>& x, std::size_t axis, const Shape& out_shape, int sense) {
    const auto s = kernels::split_at(x.shape(), axis);
    Index out = Index::from_shape(out_shape);
    const T* xv = x.data();
    for (std::size_t o = 0; o < s.outer; ++o) {
        for (std::size_t r = 0; r < s.inner; ++r) {
            std::size_t best = 0;
            T b = xv[o * s.n * s.inner + r];
            for (std::size_t i = 1; i < s.n && !std::isnan(b); ++i) {
                const T v = xv[(o * s.n + i) * s.inner + r];
                if (std::isnan(v) || (sense > 0 ? v > b : v < b)) {
                    best = i;
                    b = v;
                }
            }
            out.data()[o * s.inner + r] = static_cast<std::int64_t>(best);
        }
    }
    return out;
}

template <class T>
Index arg_extreme_checked(const char* op, const Tensor<T>& x, std::ptrdiff_t dim, bool keepdim,
                          int sense) {
    if (x.dim() == 0 && (dim == 0 || dim == -1)) return Index(std::int64_t(0));  // as PyTorch
    const std::size_t d = normalize_axis(op, dim, x.shape());
    if (x.shape()[d] == 0) {
        throw ShapeError(fmt::format("{}: cannot take the {} of an empty axis {}; got x={}", op,
                                     sense > 0 ? "argmax" : "argmin", dim, shape_str(x.shape())));
    }
    return arg_extreme(x.value(), d, reduced_shape(x.shape(), {d}, keepdim), sense);
}

template <class T>
Index arg_extreme_all(const char* op, const Tensor<T>& x, int sense) {
    if (x.size() == 0) {
        throw ShapeError(fmt::format("{}: cannot take the {} of an empty tensor; got x={}", op,
                                     sense > 0 ? "argmax" : "argmin", shape_str(x.shape())));
    }
    xt::xarray<T> flat = x.value();
    flat.reshape({x.size()});
    return arg_extreme(flat, 0, Shape{}, sense);
}

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
Tensor<T> prod(const Tensor<T>& x) {
    const auto flat = reshape(x, {static_cast<std::ptrdiff_t>(x.size())});  // [numel]
    return record(ops::Prod<T>{0, false, {}}, flat);
}

template <class T>
Tensor<T> prod(const Tensor<T>& x, std::ptrdiff_t dim, bool keepdim) {
    if (x.dim() == 0 && (dim == 0 || dim == -1)) return x;  // PyTorch takes dim 0 of a 0-d tensor
    return record(ops::Prod<T>{normalize_axis("prod", dim, x.shape()), keepdim, {}}, x);
}

namespace {
template <class T>
Tensor<T> variance(const char* op, const Tensor<T>& x, const Axes& axes, bool unbiased,
                   bool keepdims) {
    const auto ax = normalize_axes(op, axes, x.shape());
    std::size_t n = 1;
    for (auto a : ax)
        n *= x.shape()[a];
    if (n == 0) {
        throw ShapeError(fmt::format("{}: cannot take the variance over an empty axis; got x={}",
                                     op, shape_str(x.shape())));
    }
    const Tensor<T> d = sub(x, mean(x, axes, true));
    // NOTE: n − 1 = 0 divides 0 by 0: NaN, as PyTorch.
    return div(sum(mul(d, d), axes, keepdims), scalar<T>(static_cast<T>(unbiased ? n - 1 : n)));
}
}  // namespace

template <class T>
Tensor<T> var(const Tensor<T>& x, const Axes& axes, bool unbiased, bool keepdims) {
    return variance("var", x, axes, unbiased, keepdims);
}

template <class T>
Tensor<T> std(const Tensor<T>& x, const Axes& axes, bool unbiased, bool keepdims) {
    return sqrt(variance("std", x, axes, unbiased, keepdims));
}

template <class T>
Tensor<T> norm(const Tensor<T>& x, double p, const Axes& axes, bool keepdims) {
    const auto ax = normalize_axes("norm", axes, x.shape());
    if (!(p > 0)) {
        throw ValueError(fmt::format("norm: p must be > 0 or inf; got p={}", p));
    }
    if (p == 2) return record(ops::Norm2<T>{ax, keepdims, {}}, x);
    if (p == 1) return sum(abs(x), axes, keepdims);
    if (std::isinf(p)) {
        if (x.size() == 0) return sum(abs(x), axes, keepdims);  // 0, as PyTorch's empty norm
        return max(abs(x), axes, keepdims);
    }
    const T pt = static_cast<T>(p);
    return pow(sum(pow(abs(x), pt), axes, keepdims), T(1) / pt);
}

template <class T>
Tensor<T> cumsum(const Tensor<T>& x, std::ptrdiff_t dim) {
    // A 0-d tensor is its own running sum, along dim 0 or −1 (PyTorch's rule for 0-d dims).
    if (x.dim() == 0 && (dim == 0 || dim == -1)) return reshape(cumsum(reshape(x, {1}), 0), {});
    return record(ops::CumSum<T>{normalize_axis("cumsum", dim, x.shape()), false}, x);
}

template <class T>
Index argmax(const Tensor<T>& x) {
    return ops::arg_extreme_all("argmax", x, 1);
}
template <class T>
Index argmax(const Tensor<T>& x, std::ptrdiff_t dim, bool keepdim) {
    return ops::arg_extreme_checked("argmax", x, dim, keepdim, 1);
}
template <class T>
Index argmin(const Tensor<T>& x) {
    return ops::arg_extreme_all("argmin", x, -1);
}
template <class T>
Index argmin(const Tensor<T>& x, std::ptrdiff_t dim, bool keepdim) {
    return ops::arg_extreme_checked("argmin", x, dim, keepdim, -1);
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

#define XGRAD_INSTANTIATE(T)                                              \
    template Tensor<T> sum(const Tensor<T>&, const Axes&, bool);          \
    template Tensor<T> mean(const Tensor<T>&, const Axes&, bool);         \
    template Tensor<T> max(const Tensor<T>&, const Axes&, bool);          \
    template Tensor<T> min(const Tensor<T>&, const Axes&, bool);          \
    template Tensor<T> prod(const Tensor<T>&);                            \
    template Tensor<T> prod(const Tensor<T>&, std::ptrdiff_t, bool);      \
    template Tensor<T> var(const Tensor<T>&, const Axes&, bool, bool);    \
    template Tensor<T> std(const Tensor<T>&, const Axes&, bool, bool);    \
    template Tensor<T> norm(const Tensor<T>&, double, const Axes&, bool); \
    template Tensor<T> cumsum(const Tensor<T>&, std::ptrdiff_t);          \
    template Index argmax(const Tensor<T>&);                              \
    template Index argmax(const Tensor<T>&, std::ptrdiff_t, bool);        \
    template Index argmin(const Tensor<T>&);                              \
    template Index argmin(const Tensor<T>&, std::ptrdiff_t, bool);        \
    template Tensor<T> sum_to(const Tensor<T>&, const Shape&);            \
    template Tensor<T> broadcast_to(const Tensor<T>&, const Shape&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
