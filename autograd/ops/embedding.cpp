#include "autograd/ops/embedding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace xgrad {
namespace ops {
namespace {

// Note [embedding backward]: embedding and embedding_backward are each other's VJP, as
// index_select and index_add are (autograd/ops/index.cpp), so create_graph differentiates the
// gradient of an embedding to any order. embedding copies rows of w to the positions of the
// index; embedding_backward adds each position's row of g into the row its index names,
// skipping the positions that hold padding_idx (PyTorch's rule: the padding row gets no
// gradient, though its values are returned). Those skipped positions do not reach
// embedding_backward's result, so its VJP is an embedding that returns zeros there
// (zero_padding). Each is one pass over raw rows even as a composed VJP, so neither has a
// fast_vjp: it would do the same work.

using IndexPtr = std::shared_ptr<const Index>;
using Padding = std::optional<std::size_t>;  // the padding row, normalised to [0, num)

template <class T>
Tensor<T> embedding_raw(const Tensor<T>& w, IndexPtr indices, Padding padding, bool zero_padding);
template <class T>
Tensor<T> embedding_backward(const Tensor<T>& g, std::size_t num, std::size_t dim, IndexPtr indices,
                             Padding padding);

std::string padding_str(const Padding& padding) {
    return padding ? fmt::format(", padding_idx={}", *padding) : std::string();
}

template <class T>
struct Embedding {
    static constexpr const char* name = "embedding";
    IndexPtr indices;  // checked: values in [0, num); shared with the VJP ops
    Padding padding;
    bool zero_padding;  // positions holding padding_idx give zeros (embedding_backward's VJP)
    std::size_t num = 0, dim = 0;  // w's shape, for the VJP

    std::string attributes() const {
        return fmt::format("indices={}{}{}", shape_str(indices->shape()), padding_str(padding),
                           zero_padding ? ", padding rows zero" : "");
    }
    xt::xarray<T> forward(const Tensor<T>& w) {
        num = w.shape()[0];
        dim = w.shape()[1];
        Shape out = indices->shape();
        out.push_back(dim);  // [indices..., dim]
        xt::xarray<T> y = xt::xarray<T>::from_shape(out);
        const T* src = w.value().data();
        const std::int64_t* idx = indices->data();
        T* dst = y.data();
        for (std::size_t p = 0; p < indices->size(); ++p) {
            const auto row = static_cast<std::size_t>(idx[p]);
            if (zero_padding && padding == row) {
                std::fill_n(dst + p * dim, dim, T(0));
            } else {
                std::copy_n(src + row * dim, dim, dst + p * dim);
            }
        }
        return y;
    }
    // y[p] = w[idx[p]]  ⇒  ∂L/∂w[r] = Σ g[p] over the positions p with idx[p] = r ≠ padding_idx
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {embedding_backward(g, num, dim, indices, padding)};
    }
};

template <class T>
struct EmbeddingBackward {
    static constexpr const char* name = "embedding_backward";
    std::size_t num, dim;  // the shape of the weight: [num, dim]
    IndexPtr indices;
    Padding padding;

    std::string attributes() const {
        return fmt::format("shape=[{}, {}], indices={}{}", num, dim, shape_str(indices->shape()),
                           padding_str(padding));
    }
    xt::xarray<T> forward(const Tensor<T>& g) {
        xt::xarray<T> dw(Shape{num, dim}, T(0));
        const T* src = g.value().data();
        const std::int64_t* idx = indices->data();
        T* dst = dw.data();
        for (std::size_t p = 0; p < indices->size(); ++p) {
            const auto row = static_cast<std::size_t>(idx[p]);
            if (padding == row) continue;
            const T* from = src + p * dim;
            T* to = dst + row * dim;
            for (std::size_t j = 0; j < dim; ++j)
                to[j] += from[j];
        }
        return dw;
    }
    // y[r] = Σ g[p] over idx[p] = r ≠ padding_idx  ⇒  ∂L/∂g[p] = upstream[idx[p]], or zeros
    // where idx[p] = padding_idx
    Grads<T, 1> vjp(const Tensor<T>& gg, const Tensor<T>&) const {
        return {embedding_raw(gg, indices, padding, true)};
    }
};

template <class T>
Tensor<T> embedding_raw(const Tensor<T>& w, IndexPtr indices, Padding padding, bool zero_padding) {
    return record(Embedding<T>{std::move(indices), padding, zero_padding, 0, 0}, w);
}

template <class T>
Tensor<T> embedding_backward(const Tensor<T>& g, std::size_t num, std::size_t dim, IndexPtr indices,
                             Padding padding) {
    return record(EmbeddingBackward<T>{num, dim, std::move(indices), padding}, g);
}

// The position of the row-major flat index `flat` in `shape`, as "[1, 0]".
std::string position_str(std::size_t flat, const Shape& shape) {
    std::vector<std::size_t> pos(shape.size());
    for (std::size_t i = shape.size(); i-- > 0;) {
        pos[i] = flat % shape[i];
        flat /= shape[i];
    }
    return fmt::format("[{}]", fmt::join(pos, ", "));
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> embedding(const Tensor<T>& weight, const Index& indices,
                    std::optional<std::int64_t> padding_idx) {
    if (weight.dim() != 2) {
        throw ShapeError(
            fmt::format("embedding: expected weight [num_embeddings, embedding_dim]; got "
                        "weight={}, indices={}",
                        shape_str(weight.shape()), shape_str(indices.shape())));
    }
    const auto n = static_cast<std::int64_t>(weight.shape()[0]);
    ops::Padding padding;
    if (padding_idx) {
        if (*padding_idx < -n || *padding_idx >= n) {
            throw ValueError(
                fmt::format("embedding: padding_idx must lie in [{}, {}) (the rows of weight); got "
                            "padding_idx={}, weight={}",
                            -n, n, *padding_idx, shape_str(weight.shape())));
        }
        padding = static_cast<std::size_t>(*padding_idx < 0 ? *padding_idx + n : *padding_idx);
    }
    const std::int64_t* idx = indices.data();
    for (std::size_t p = 0; p < indices.size(); ++p) {
        if (idx[p] < 0 || idx[p] >= n) {
            throw ValueError(
                fmt::format("embedding: every index must lie in [0, {}) (the rows of weight); got "
                            "index {} at position {} of indices={}, weight={}",
                            n, idx[p], ops::position_str(p, indices.shape()),
                            shape_str(indices.shape()), shape_str(weight.shape())));
        }
    }
    // Copied once here; the op and its VJP ops share the copy.
    return ops::embedding_raw(weight, std::make_shared<const Index>(indices), padding, false);
}

#define XGRAD_INSTANTIATE(T) \
    template Tensor<T> embedding(const Tensor<T>&, const Index&, std::optional<std::int64_t>);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
