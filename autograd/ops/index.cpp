#include "autograd/ops/index.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>

namespace xgrad {
namespace ops {
namespace {

// Every op here is linear, and each VJP is a primitive whose own VJP is the forward op again:
// slice ↔ slice_backward, index_select ↔ index_add, gather ↔ scatter_add, pad ↔ crop, and
// concat's VJP is made of slices. So create_graph differentiates a VJP as far as one likes.

using kernels::AxisSplit;
using kernels::split_at;

Shape with_axis(Shape s, std::size_t dim, std::size_t n) {
    s[dim] = n;
    return s;
}

// Row-major strides (in elements) of a shape.
std::vector<std::size_t> strides_of(const Shape& s) {
    std::vector<std::size_t> stride(s.size(), 1);
    for (std::size_t i = s.size(); i-- > 1;)
        stride[i - 1] = stride[i] * s[i];
    return stride;
}

std::size_t element_count(const Shape& s) {
    std::size_t n = 1;
    for (auto d : s)
        n *= d;
    return n;
}

// "[2, 0, 2]", or the first entries and the count when the list is long (tape listing).
template <class V>
std::string brief_list(const V& v) {
    constexpr std::size_t shown = 8;
    if (v.size() <= shown) return fmt::format("[{}]", fmt::join(v.begin(), v.end(), ", "));
    return fmt::format("[{}, ... ({} entries)]", fmt::join(v.begin(), v.begin() + shown, ", "),
                       v.size());
}

// "xs[0]=[2, 3], xs[1]=[4, 4]" for the messages of concat and stack.
template <class T>
std::string shapes_str(const std::vector<Tensor<T>>& xs) {
    std::string out;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        out += fmt::format("{}xs[{}]={}", i ? ", " : "", i, shape_str(xs[i].shape()));
    }
    return out;
}

// Calls f(e, base) for every element e of `index` (row-major), where `base` is the offset in x of
// e's position with the `dim` coordinate set to 0; `index` may be shorter than x on any axis.
template <class F>
void for_each_gathered(const Shape& x_shape, const Shape& index_shape, std::size_t dim, F f) {
    const std::size_t total = element_count(index_shape);
    if (total == 0) return;
    const auto stride = strides_of(x_shape);
    std::vector<std::size_t> pos(index_shape.size(), 0);
    std::size_t base = 0;
    for (std::size_t e = 0; e < total; ++e) {
        f(e, base);
        for (std::size_t i = index_shape.size(); i-- > 0;) {  // odometer step to element e + 1
            const std::size_t step = i == dim ? 0 : stride[i];
            if (++pos[i] < index_shape[i]) {
                base += step;
                break;
            }
            base -= (index_shape[i] - 1) * step;
            pos[i] = 0;
        }
    }
}

// Calls f(small_offset, big_offset, run) for every last-axis row of the box `small` placed at
// offsets `before` inside the row-major array `big`: the copy loop of pad and crop.
template <class F>
void for_each_box_row(const Shape& small, const Shape& big, const std::vector<std::size_t>& before,
                      F f) {
    const std::size_t rank = small.size();
    if (rank == 0) {
        f(std::size_t(0), std::size_t(0), std::size_t(1));
        return;
    }
    const std::size_t total = element_count(small);
    if (total == 0) return;
    const auto stride = strides_of(big);
    std::size_t big_offset = 0;
    for (std::size_t i = 0; i < rank; ++i)
        big_offset += before[i] * stride[i];
    const std::size_t run = small[rank - 1];
    std::vector<std::size_t> pos(rank - 1, 0);
    for (std::size_t r = 0; r < total / run; ++r) {
        f(r * run, big_offset, run);
        for (std::size_t i = rank - 1; i-- > 0;) {  // odometer over the leading axes
            if (++pos[i] < small[i]) {
                big_offset += stride[i];
                break;
            }
            big_offset -= (small[i] - 1) * stride[i];
            pos[i] = 0;
        }
    }
}

// Recorded primitives without argument checks (the public functions check, the VJPs pass
// values that are valid by construction).
template <class T>
Tensor<T> slice_raw(const Tensor<T>& x, std::size_t dim, std::size_t start, std::size_t length,
                    std::size_t step);
template <class T>
Tensor<T> slice_backward(const Tensor<T>& g, const Shape& in_shape, std::size_t dim,
                         std::size_t start, std::size_t step);
using IndexList = std::shared_ptr<const std::vector<std::size_t>>;
template <class T>
Tensor<T> index_select_raw(const Tensor<T>& x, std::size_t dim, IndexList indices);
template <class T>
Tensor<T> index_add(const Tensor<T>& g, const Shape& in_shape, std::size_t dim, IndexList indices);
using IndexPtr = std::shared_ptr<const Index>;
template <class T>
Tensor<T> gather_raw(const Tensor<T>& x, std::size_t dim, IndexPtr index);
template <class T>
Tensor<T> scatter_add(const Tensor<T>& g, const Shape& in_shape, std::size_t dim, IndexPtr index);
template <class T>
Tensor<T> pad_raw(const Tensor<T>& x, std::vector<std::size_t> before,
                  std::vector<std::size_t> after, T value);
template <class T>
Tensor<T> crop(const Tensor<T>& g, std::vector<std::size_t> before, std::vector<std::size_t> after);

template <class T>
struct Slice {
    static constexpr const char* name = "slice";
    std::size_t dim, start, length, step;  // y takes x[start + j·step] along dim, j < length
    Shape in_shape;

    std::string attributes() const {
        return fmt::format("dim={}, start={}, length={}, step={}", dim, start, length, step);
    }
    xt::xarray<T> forward(const Tensor<T>& x) {
        in_shape = x.shape();
        const AxisSplit a = split_at(in_shape, dim);
        xt::xarray<T> y = xt::xarray<T>::from_shape(with_axis(in_shape, dim, length));
        const T* src = x.value().data();
        T* dst = y.data();
        for (std::size_t o = 0; o < a.outer; ++o) {
            for (std::size_t j = 0; j < length; ++j) {
                std::copy_n(src + (o * a.n + start + j * step) * a.inner, a.inner,
                            dst + (o * length + j) * a.inner);
            }
        }
        return y;
    }
    // y = x[start::step] along dim  ⇒  ∂L/∂x = zeros of shape x with g written at those places
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {slice_backward(g, in_shape, dim, start, step)};
    }
};

template <class T>
struct SliceBackward {
    static constexpr const char* name = "slice_backward";
    Shape out_shape;  // the shape of the sliced tensor x
    std::size_t dim, start, step;
    std::size_t length = 0;  // g's extent along dim, for the VJP

    std::string attributes() const {
        return fmt::format("shape={}, dim={}, start={}, step={}", shape_str(out_shape), dim, start,
                           step);
    }
    xt::xarray<T> forward(const Tensor<T>& g) {
        const AxisSplit a = split_at(out_shape, dim);
        length = g.shape()[dim];
        xt::xarray<T> y(out_shape, T(0));
        const T* src = g.value().data();
        T* dst = y.data();
        for (std::size_t o = 0; o < a.outer; ++o) {
            for (std::size_t j = 0; j < length; ++j) {
                std::copy_n(src + (o * length + j) * a.inner, a.inner,
                            dst + (o * a.n + start + j * step) * a.inner);
            }
        }
        return y;
    }
    // y = scatter of g into zeros  ⇒  ∂L/∂g = the same slice of the upstream gradient
    Grads<T, 1> vjp(const Tensor<T>& gg, const Tensor<T>&) const {
        return {slice_raw(gg, dim, start, length, step)};
    }
};

template <class T>
struct IndexSelect {
    static constexpr const char* name = "index_select";
    std::size_t dim;
    IndexList indices;  // normalised to [0, n); shared with the VJP ops
    Shape in_shape;

    std::string attributes() const {
        return fmt::format("dim={}, indices={}", dim, brief_list(*indices));
    }
    xt::xarray<T> forward(const Tensor<T>& x) {
        in_shape = x.shape();
        const AxisSplit a = split_at(in_shape, dim);
        const auto& idx = *indices;
        const std::size_t k = idx.size();
        xt::xarray<T> y = xt::xarray<T>::from_shape(with_axis(in_shape, dim, k));
        const T* src = x.value().data();
        T* dst = y.data();
        for (std::size_t o = 0; o < a.outer; ++o) {
            for (std::size_t j = 0; j < k; ++j) {
                std::copy_n(src + (o * a.n + idx[j]) * a.inner, a.inner,
                            dst + (o * k + j) * a.inner);
            }
        }
        return y;
    }
    // y = x[indices] along dim  ⇒  ∂L/∂x = zeros with g added at the picked places (repeats sum)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {index_add(g, in_shape, dim, indices)};
    }
};

template <class T>
struct IndexAdd {
    static constexpr const char* name = "index_add";
    Shape out_shape;
    std::size_t dim;
    IndexList indices;

    std::string attributes() const {
        return fmt::format("shape={}, dim={}, indices={}", shape_str(out_shape), dim,
                           brief_list(*indices));
    }
    xt::xarray<T> forward(const Tensor<T>& g) {
        const AxisSplit a = split_at(out_shape, dim);
        const auto& idx = *indices;
        const std::size_t k = idx.size();
        xt::xarray<T> y(out_shape, T(0));
        const T* src = g.value().data();
        T* dst = y.data();
        for (std::size_t o = 0; o < a.outer; ++o) {
            for (std::size_t j = 0; j < k; ++j) {
                const T* from = src + (o * k + j) * a.inner;
                T* to = dst + (o * a.n + idx[j]) * a.inner;
                for (std::size_t t = 0; t < a.inner; ++t)
                    to[t] += from[t];
            }
        }
        return y;
    }
    // y[idx[j]] += g[j] along dim  ⇒  ∂L/∂g = index_select(upstream, dim, idx)
    Grads<T, 1> vjp(const Tensor<T>& gg, const Tensor<T>&) const {
        return {index_select_raw(gg, dim, indices)};
    }
};

template <class T>
struct Gather {
    static constexpr const char* name = "gather";
    std::size_t dim;
    IndexPtr index;  // checked: x's rank, values in [0, n); shared with the VJP ops
    Shape in_shape;

    std::string attributes() const {
        return fmt::format("dim={}, index={}", dim, shape_str(index->shape()));
    }
    xt::xarray<T> forward(const Tensor<T>& x) {
        in_shape = x.shape();
        const std::size_t stride = strides_of(in_shape)[dim];
        xt::xarray<T> y = xt::xarray<T>::from_shape(index->shape());
        const T* src = x.value().data();
        const std::int64_t* idx = index->data();
        T* dst = y.data();
        for_each_gathered(in_shape, index->shape(), dim, [&](std::size_t e, std::size_t base) {
            dst[e] = src[base + static_cast<std::size_t>(idx[e]) * stride];
        });
        return y;
    }
    // y[..j..] = x[..index[..j..]..]  ⇒  ∂L/∂x = zeros with g added at the gathered places
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {scatter_add(g, in_shape, dim, index)};
    }
};

template <class T>
struct ScatterAdd {
    static constexpr const char* name = "scatter_add";
    Shape out_shape;
    std::size_t dim;
    IndexPtr index;

    std::string attributes() const {
        return fmt::format("shape={}, dim={}, index={}", shape_str(out_shape), dim,
                           shape_str(index->shape()));
    }
    xt::xarray<T> forward(const Tensor<T>& g) {
        const std::size_t stride = strides_of(out_shape)[dim];
        xt::xarray<T> y(out_shape, T(0));
        const T* src = g.value().data();
        const std::int64_t* idx = index->data();
        T* dst = y.data();
        for_each_gathered(out_shape, index->shape(), dim, [&](std::size_t e, std::size_t base) {
            dst[base + static_cast<std::size_t>(idx[e]) * stride] += src[e];
        });
        return y;
    }
    // y[..index[..j..]..] += g[..j..]  ⇒  ∂L/∂g = gather(upstream, dim, index)
    Grads<T, 1> vjp(const Tensor<T>& gg, const Tensor<T>&) const {
        return {gather_raw(gg, dim, index)};
    }
};

// Tensors of one shape joined along a new axis `dim`: one copy (not an unsqueeze per input and a
// concat); the VJP is unbind, one op with an output per input (Note [several outputs]).
template <class T>
struct Stack {
    static constexpr const char* name = "stack";
    std::size_t dim;
    std::vector<bool> wants_grad;  // per input

    std::string attributes() const { return fmt::format("dim={}", dim); }
    xt::xarray<T> forward(const std::vector<Tensor<T>>& xs) {
        const Shape& in_shape = xs[0].shape();
        Shape out_shape(in_shape.size() + 1);  // in_shape with xs.size() inserted at dim
        for (std::size_t i = 0; i < out_shape.size(); ++i)
            out_shape[i] = i < dim ? in_shape[i] : i == dim ? xs.size() : in_shape[i - 1];
        const AxisSplit a = split_at(out_shape, dim);  // each input is one [outer, 1, inner] slab
        xt::xarray<T> y = xt::xarray<T>::from_shape(out_shape);
        for (std::size_t k = 0; k < xs.size(); ++k) {
            wants_grad.push_back(xs[k].requires_grad());
            const T* src = xs[k].value().data();
            for (std::size_t o = 0; o < a.outer; ++o)
                std::copy_n(src + o * a.inner, a.inner, y.data() + (o * a.n + k) * a.inner);
        }
        return y;
    }
    // y = stack(x₀, x₁, ...) along dim  ⇒  ∂L/∂xₖ = g[..., k, ...]
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return unbind(g, static_cast<std::ptrdiff_t>(dim));
    }
    // The same, copied straight into the inputs' gradients (Note [fast VJP]).
    std::vector<Tensor<T>> fast_vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const AxisSplit a = split_at(g.shape(), dim);
        Shape in_shape = g.shape();
        in_shape.erase(in_shape.begin() + static_cast<std::ptrdiff_t>(dim));
        std::vector<Tensor<T>> grads(wants_grad.size());
        for (std::size_t k = 0; k < grads.size(); ++k) {
            if (!wants_grad[k]) continue;
            xt::xarray<T> d = xt::xarray<T>::from_shape(in_shape);
            for (std::size_t o = 0; o < a.outer; ++o)
                std::copy_n(g.value().data() + (o * a.n + k) * a.inner, a.inner,
                            d.data() + o * a.inner);
            grads[k] = Tensor<T>(std::move(d));
        }
        return grads;
    }
};

template <class T>
struct Concat {
    static constexpr const char* name = "concat";
    std::size_t dim;
    std::vector<std::size_t> lengths;  // each input's extent along dim
    std::vector<bool> wants_grad;      // per input

    std::string attributes() const { return fmt::format("dim={}", dim); }
    xt::xarray<T> forward(const std::vector<Tensor<T>>& xs) {
        std::size_t total = 0;
        for (const auto& x : xs) {
            lengths.push_back(x.shape()[dim]);
            wants_grad.push_back(x.requires_grad());
            total += x.shape()[dim];
        }
        const Shape out_shape = with_axis(xs[0].shape(), dim, total);
        const AxisSplit a = split_at(out_shape, dim);
        xt::xarray<T> y = xt::xarray<T>::from_shape(out_shape);
        std::size_t offset = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const std::size_t block = lengths[i] * a.inner;  // one outer row of input i
            const T* src = xs[i].value().data();
            for (std::size_t o = 0; o < a.outer; ++o) {
                std::copy_n(src + o * block, block, y.data() + (o * a.n + offset) * a.inner);
            }
            offset += lengths[i];
        }
        return y;
    }
    // y = [x₀ | x₁ | ...] along dim  ⇒  ∂L/∂xᵢ = the slice of g at xᵢ's place
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        std::vector<Tensor<T>> grads(lengths.size());
        std::size_t offset = 0;
        for (std::size_t i = 0; i < lengths.size(); ++i) {
            if (wants_grad[i]) grads[i] = slice_raw(g, dim, offset, lengths[i], 1);
            offset += lengths[i];
        }
        return grads;
    }
};

// One op with several outputs (Note [several outputs] in tape.hpp): the pieces of x along dim,
// `lengths` long; with drop_axis every piece is one long and loses the axis (unbind).
template <class T>
struct Split {
    static constexpr const char* name = "split";
    std::size_t dim;
    std::vector<std::size_t> lengths;
    bool drop_axis;
    Shape in_shape;

    std::string attributes() const {
        return fmt::format("dim={}, sizes=[{}]{}", dim, fmt::join(lengths, ", "),
                           drop_axis ? ", drop_axis" : "");
    }
    std::vector<xt::xarray<T>> forward(const Tensor<T>& x) {
        in_shape = x.shape();
        const AxisSplit a = split_at(in_shape, dim);
        std::vector<xt::xarray<T>> ys;
        ys.reserve(lengths.size());
        std::size_t offset = 0;
        for (const std::size_t len : lengths) {
            Shape shape = with_axis(in_shape, dim, len);
            if (drop_axis) shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(dim));
            xt::xarray<T> y = xt::xarray<T>::from_shape(shape);
            const std::size_t block = len * a.inner;  // one outer row of the piece
            for (std::size_t o = 0; o < a.outer; ++o) {
                std::copy_n(x.value().data() + (o * a.n + offset) * a.inner, block,
                            y.data() + o * block);
            }
            ys.push_back(std::move(y));
            offset += len;
        }
        return ys;
    }
    // y_k = x[offset_k, offset_k + len_k) along dim  ⇒  ∂L/∂x = [g_0 | g_1 | ...] along dim
    Grads<T, 1> vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        return {drop_axis ? stack(gs, static_cast<std::ptrdiff_t>(dim))
                          : concat(gs, static_cast<std::ptrdiff_t>(dim))};
    }
    // The same, copied into one array (Note [fast VJP]).
    Grads<T, 1> fast_vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        const AxisSplit a = split_at(in_shape, dim);
        xt::xarray<T> dx = xt::xarray<T>::from_shape(in_shape);
        std::size_t offset = 0;
        for (std::size_t k = 0; k < lengths.size(); ++k) {
            const std::size_t block = lengths[k] * a.inner;
            for (std::size_t o = 0; o < a.outer; ++o) {
                std::copy_n(gs[k].value().data() + o * block, block,
                            dx.data() + (o * a.n + offset) * a.inner);
            }
            offset += lengths[k];
        }
        return {Tensor<T>(std::move(dx))};
    }
};

std::string pads_str(const std::vector<std::size_t>& before,
                     const std::vector<std::size_t>& after) {
    std::vector<std::string> pairs;
    for (std::size_t i = 0; i < before.size(); ++i) {
        pairs.push_back(fmt::format("({}, {})", before[i], after[i]));
    }
    return fmt::format("[{}]", fmt::join(pairs, ", "));
}

template <class T>
struct Pad {
    static constexpr const char* name = "pad";
    std::vector<std::size_t> before, after;  // one pair per axis of x
    T value;

    std::string attributes() const {
        return fmt::format("pads={}, value={}", pads_str(before, after), value);
    }
    xt::xarray<T> forward(const Tensor<T>& x) {
        Shape out_shape = x.shape();
        for (std::size_t i = 0; i < out_shape.size(); ++i)
            out_shape[i] += before[i] + after[i];
        xt::xarray<T> y(out_shape, value);
        const T* src = x.value().data();
        T* dst = y.data();
        for_each_box_row(x.shape(), out_shape, before,
                         [&](std::size_t s, std::size_t b, std::size_t run) {
                             std::copy_n(src + s, run, dst + b);
                         });
        return y;
    }
    // y = x framed by constants  ⇒  ∂L/∂x = the interior of g (crop)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const { return {crop(g, before, after)}; }
};

template <class T>
struct Crop {
    static constexpr const char* name = "crop";
    std::vector<std::size_t> before, after;  // removed from each axis

    std::string attributes() const { return fmt::format("pads={}", pads_str(before, after)); }
    xt::xarray<T> forward(const Tensor<T>& g) {
        Shape out_shape = g.shape();
        for (std::size_t i = 0; i < out_shape.size(); ++i)
            out_shape[i] -= before[i] + after[i];
        xt::xarray<T> y = xt::xarray<T>::from_shape(out_shape);
        const T* src = g.value().data();
        T* dst = y.data();
        for_each_box_row(out_shape, g.shape(), before,
                         [&](std::size_t s, std::size_t b, std::size_t run) {
                             std::copy_n(src + b, run, dst + s);
                         });
        return y;
    }
    // y = interior of g  ⇒  ∂L/∂g = the upstream gradient padded with zeros
    Grads<T, 1> vjp(const Tensor<T>& gg, const Tensor<T>&) const {
        return {pad_raw(gg, before, after, T(0))};
    }
};

template <class T>
Tensor<T> slice_raw(const Tensor<T>& x, std::size_t dim, std::size_t start, std::size_t length,
                    std::size_t step) {
    return record(Slice<T>{dim, start, length, step, {}}, x);
}

template <class T>
Tensor<T> slice_backward(const Tensor<T>& g, const Shape& in_shape, std::size_t dim,
                         std::size_t start, std::size_t step) {
    return record(SliceBackward<T>{in_shape, dim, start, step, 0}, g);
}

template <class T>
Tensor<T> index_select_raw(const Tensor<T>& x, std::size_t dim, IndexList indices) {
    return record(IndexSelect<T>{dim, std::move(indices), {}}, x);
}

template <class T>
Tensor<T> index_add(const Tensor<T>& g, const Shape& in_shape, std::size_t dim, IndexList indices) {
    return record(IndexAdd<T>{in_shape, dim, std::move(indices)}, g);
}

template <class T>
Tensor<T> gather_raw(const Tensor<T>& x, std::size_t dim, IndexPtr index) {
    return record(Gather<T>{dim, std::move(index), {}}, x);
}

template <class T>
Tensor<T> scatter_add(const Tensor<T>& g, const Shape& in_shape, std::size_t dim, IndexPtr index) {
    return record(ScatterAdd<T>{in_shape, dim, std::move(index)}, g);
}

template <class T>
Tensor<T> pad_raw(const Tensor<T>& x, std::vector<std::size_t> before,
                  std::vector<std::size_t> after, T value) {
    return record(Pad<T>{std::move(before), std::move(after), value}, x);
}

template <class T>
Tensor<T> crop(const Tensor<T>& g, std::vector<std::size_t> before,
               std::vector<std::size_t> after) {
    return record(Crop<T>{std::move(before), std::move(after)}, g);
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> slice(const Tensor<T>& x, std::ptrdiff_t dim, std::ptrdiff_t start, std::ptrdiff_t stop,
                std::ptrdiff_t step) {
    const std::size_t d = normalize_axis("slice", dim, x.shape());
    if (step < 1) {
        throw ValueError(fmt::format("slice: step must be >= 1; got step={}", step));
    }
    // Python's rules: a negative bound counts from the end, then both are clamped to [0, n].
    const auto n = static_cast<std::ptrdiff_t>(x.shape()[d]);
    auto bound = [n](std::ptrdiff_t i) {
        return std::clamp<std::ptrdiff_t>(i < 0 ? i + n : i, 0, n);
    };
    const std::ptrdiff_t lo = bound(start), hi = bound(stop);
    const std::ptrdiff_t length = hi > lo ? (hi - lo + step - 1) / step : 0;
    return ops::slice_raw(x, d, static_cast<std::size_t>(lo), static_cast<std::size_t>(length),
                          static_cast<std::size_t>(step));
}

template <class T>
Tensor<T> narrow(const Tensor<T>& x, std::ptrdiff_t dim, std::ptrdiff_t start, std::size_t length) {
    const std::size_t d = normalize_axis("narrow", dim, x.shape());
    const auto n = static_cast<std::ptrdiff_t>(x.shape()[d]);
    const std::ptrdiff_t s = start < 0 ? start + n : start;
    if (s < 0 || s > n || length > static_cast<std::size_t>(n - s)) {
        throw ShapeError(
            fmt::format("narrow: [start, start + length) must lie inside axis {} "
                        "(length {}); got start={}, length={}, x={}",
                        dim, n, start, length, shape_str(x.shape())));
    }
    return ops::slice_raw(x, d, static_cast<std::size_t>(s), length, 1);
}

template <class T>
Tensor<T> index_select(const Tensor<T>& x, std::ptrdiff_t dim,
                       const std::vector<std::int64_t>& indices) {
    const std::size_t d = normalize_axis("index_select", dim, x.shape());
    const auto n = static_cast<std::int64_t>(x.shape()[d]);
    auto idx = std::make_shared<std::vector<std::size_t>>();
    idx->reserve(indices.size());
    for (const std::int64_t i : indices) {
        if (i < -n || i >= n) {
            throw ValueError(
                fmt::format("index_select: every index must lie in [{}, {}) for "
                            "axis {}; got index {}, x={}",
                            -n, n, dim, i, shape_str(x.shape())));
        }
        idx->push_back(static_cast<std::size_t>(i < 0 ? i + n : i));
    }
    return ops::index_select_raw(x, d, std::move(idx));
}

template <class T>
Tensor<T> gather(const Tensor<T>& x, std::ptrdiff_t dim, const Index& index) {
    const std::size_t d = normalize_axis("gather", dim, x.shape());
    const Shape& xs = x.shape();
    const Shape& is = index.shape();
    if (is.size() != xs.size()) {
        throw ShapeError(fmt::format("gather: index must have the rank of x; got x={}, index={}",
                                     shape_str(xs), shape_str(is)));
    }
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (i != d && is[i] > xs[i]) {
            throw ShapeError(
                fmt::format("gather: index must not be longer than x on any axis but "
                            "{}; got x={}, index={}",
                            dim, shape_str(xs), shape_str(is)));
        }
    }
    const auto n = static_cast<std::int64_t>(xs[d]);
    for (const std::int64_t i : index) {
        if (i < 0 || i >= n) {
            throw ValueError(
                fmt::format("gather: every index must lie in [0, {}) for axis {}; got "
                            "index value {}, x={}, index={}",
                            n, dim, i, shape_str(xs), shape_str(is)));
        }
    }
    // Copied once here; the gather op and its VJP ops share the copy.
    return ops::gather_raw(x, d, std::make_shared<const Index>(index));
}

template <class T>
Tensor<T> scatter_add(const Tensor<T>& x, std::ptrdiff_t dim, const Index& index,
                      const Tensor<T>& src) {
    const Shape& xs = x.shape();
    const Shape& is = index.shape();
    const Shape& ss = src.shape();
    auto shape_error = [&](const char* what) {
        return ShapeError(fmt::format("scatter_add: {}; got x={}, index={}, src={}", what,
                                      shape_str(xs), shape_str(is), shape_str(ss)));
    };
    if (is.size() != xs.size() || ss.size() != xs.size()) {
        throw shape_error("x, index and src must have one rank");
    }
    if (xs.empty()) throw shape_error("expected tensors of rank >= 1");
    const std::size_t d = normalize_axis("scatter_add", dim, xs);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (is[i] > ss[i] || (i != d && is[i] > xs[i])) {
            throw shape_error(
                "index must not be longer than src on any axis, nor than x on any axis but dim");
        }
    }
    const auto n = static_cast<std::int64_t>(xs[d]);
    for (const std::int64_t i : index) {
        if (i < 0 || i >= n) {
            throw ValueError(
                fmt::format("scatter_add: every index must lie in [0, {}) for axis {}; got "
                            "index value {}, x={}, index={}",
                            n, dim, i, shape_str(xs), shape_str(is)));
        }
    }
    Tensor<T> part = src;  // the part of src that index covers: index's shape
    for (std::size_t i = 0; i < ss.size(); ++i) {
        if (ss[i] != is[i]) part = ops::slice_raw(part, i, 0, is[i], 1);
    }
    return add(x, ops::scatter_add(part, xs, d, std::make_shared<const Index>(index)));
}

template <class T>
Tensor<T> concat(const std::vector<Tensor<T>>& xs, std::ptrdiff_t dim) {
    if (xs.empty()) throw ValueError("concat: expected at least one tensor; got an empty list");
    const Shape& first = xs[0].shape();
    for (const auto& x : xs) {
        if (x.dim() != first.size()) {
            throw ShapeError(
                fmt::format("concat: tensors must have one rank; got {}", ops::shapes_str(xs)));
        }
    }
    const std::size_t d = normalize_axis("concat", dim, first);
    for (const auto& x : xs) {
        for (std::size_t i = 0; i < first.size(); ++i) {
            if (i != d && x.shape()[i] != first[i]) {
                throw ShapeError(
                    fmt::format("concat: tensors must agree on every axis but axis {}; got {}", dim,
                                ops::shapes_str(xs)));
            }
        }
    }
    if (xs.size() == 1) return xs[0];
    return record_list(ops::Concat<T>{d, {}, {}}, xs);
}

template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& xs, std::ptrdiff_t dim) {
    if (xs.empty()) throw ValueError("stack: expected at least one tensor; got an empty list");
    for (const auto& x : xs) {
        if (x.shape() != xs[0].shape()) {
            throw ShapeError(
                fmt::format("stack: tensors must have one shape; got {}", ops::shapes_str(xs)));
        }
    }
    const auto rank = static_cast<std::ptrdiff_t>(xs[0].dim());
    if (dim < -rank - 1 || dim > rank) {
        throw ShapeError(
            fmt::format("stack: axis {} is out of range for tensors of shape {} "
                        "(expected an axis in [{}, {}])",
                        dim, shape_str(xs[0].shape()), -rank - 1, rank));
    }
    const std::ptrdiff_t at = dim < 0 ? dim + rank + 1 : dim;
    return record_list(ops::Stack<T>{static_cast<std::size_t>(at), {}}, xs);
}

template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const std::vector<std::size_t>& sizes,
                             std::ptrdiff_t dim) {
    if (x.dim() == 0) {
        throw ShapeError(
            fmt::format("split: expected a tensor of rank >= 1; got x={}", shape_str(x.shape())));
    }
    const std::size_t d = normalize_axis("split", dim, x.shape());
    // Summed without wrapping around: a size of −1 (2^64 − 1) must not make the total fit.
    const std::size_t length = x.shape()[d];
    std::size_t total = 0;
    bool fits = !sizes.empty();
    for (const std::size_t n : sizes) {
        fits = fits && n <= length - total;
        total += fits ? n : 0;
    }
    if (!fits || total != length) {
        throw ShapeError(
            fmt::format("split: sizes [{}] must sum to the length {} of axis {}; got "
                        "x={}",
                        fmt::join(sizes, ", "), x.shape()[d], dim, shape_str(x.shape())));
    }
    return record_multi(ops::Split<T>{d, sizes, false, {}}, x);
}

template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, std::size_t size, std::ptrdiff_t dim) {
    if (size == 0) throw ValueError("split: size must be >= 1; got size=0");
    if (x.dim() == 0) return split(x, std::vector<std::size_t>{}, dim);  // names the rank
    const std::size_t n = x.shape()[normalize_axis("split", dim, x.shape())];
    std::vector<std::size_t> sizes;
    for (std::size_t start = 0; start < n; start += size)
        sizes.push_back(std::min(size, n - start));
    if (sizes.empty()) sizes.push_back(0);  // an empty axis: one empty piece, as PyTorch
    return split(x, sizes, dim);
}

template <class T>
std::vector<Tensor<T>> chunk(const Tensor<T>& x, std::size_t chunks, std::ptrdiff_t dim) {
    if (chunks == 0) throw ValueError("chunk: chunks must be >= 1; got chunks=0");
    if (x.dim() == 0) return split(x, std::vector<std::size_t>{}, dim);  // names the rank
    const std::size_t n = x.shape()[normalize_axis("chunk", dim, x.shape())];
    return split(x, std::max<std::size_t>(1, (n + chunks - 1) / chunks), dim);
}

template <class T>
std::vector<Tensor<T>> unbind(const Tensor<T>& x, std::ptrdiff_t dim) {
    if (x.dim() == 0) {
        throw ShapeError(
            fmt::format("unbind: expected a tensor of rank >= 1; got x={}", shape_str(x.shape())));
    }
    const std::size_t d = normalize_axis("unbind", dim, x.shape());
    if (x.shape()[d] == 0) return {};
    return record_multi(ops::Split<T>{d, std::vector<std::size_t>(x.shape()[d], 1), true, {}}, x);
}

template <class T>
Tensor<T> pad(const Tensor<T>& x, const std::vector<std::pair<std::size_t, std::size_t>>& pads,
              T value) {
    const std::size_t rank = x.dim();
    if (pads.size() > rank) {
        throw ShapeError(fmt::format(
            "pad: expected at most one (before, after) pair per axis; got pairs={}, x={}",
            pads.size(), shape_str(x.shape())));
    }
    std::vector<std::size_t> before(rank, 0), after(rank, 0);
    const std::size_t lead = rank - pads.size();  // pads.back() belongs to the last axis
    Shape out = x.shape();
    for (std::size_t i = 0; i < pads.size(); ++i) {
        check_size("pad", "padding", pads[i].first);  // Note [size limit]
        check_size("pad", "padding", pads[i].second);
        before[lead + i] = pads[i].first;
        after[lead + i] = pads[i].second;
        out[lead + i] += pads[i].first + pads[i].second;
    }
    checked_numel("pad", "output", out);
    return ops::pad_raw(x, std::move(before), std::move(after), value);
}

#define XGRAD_INSTANTIATE(T)                                                                   \
    template Tensor<T> slice(const Tensor<T>&, std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t, \
                             std::ptrdiff_t);                                                  \
    template Tensor<T> narrow(const Tensor<T>&, std::ptrdiff_t, std::ptrdiff_t, std::size_t);  \
    template Tensor<T> index_select(const Tensor<T>&, std::ptrdiff_t,                          \
                                    const std::vector<std::int64_t>&);                         \
    template Tensor<T> gather(const Tensor<T>&, std::ptrdiff_t, const Index&);                 \
    template Tensor<T> scatter_add(const Tensor<T>&, std::ptrdiff_t, const Index&,             \
                                   const Tensor<T>&);                                          \
    template Tensor<T> concat(const std::vector<Tensor<T>>&, std::ptrdiff_t);                  \
    template Tensor<T> stack(const std::vector<Tensor<T>>&, std::ptrdiff_t);                   \
    template std::vector<Tensor<T>> split(const Tensor<T>&, const std::vector<std::size_t>&,   \
                                          std::ptrdiff_t);                                     \
    template std::vector<Tensor<T>> split(const Tensor<T>&, std::size_t, std::ptrdiff_t);      \
    template std::vector<Tensor<T>> chunk(const Tensor<T>&, std::size_t, std::ptrdiff_t);      \
    template std::vector<Tensor<T>> unbind(const Tensor<T>&, std::ptrdiff_t);                  \
    template Tensor<T> pad(const Tensor<T>&,                                                   \
                           const std::vector<std::pair<std::size_t, std::size_t>>&, T);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
