#include "autograd/ops/shape.hpp"

#include <fmt/format.h>

#include <xtensor/xmanipulation.hpp>

#include <algorithm>
#include <numeric>

namespace xgrad {
namespace ops {
namespace {

template <class T>
struct Reshape {
    static constexpr const char* name = "reshape";
    Shape to;        // attribute: the target shape (−1 already resolved)
    Shape in_shape;  // the VJP reshapes back to this

    std::string attributes() const { return fmt::format("shape={}", shape_str(to)); }
    xt::xarray<T> forward(const Tensor<T>& x) {
        in_shape = x.shape();
        xt::xarray<T> out = xt::xarray<T>::from_shape(to);
        std::copy(x.value().data(), x.value().data() + x.size(), out.data());
        return out;
    }
    // y = reshape(x)  ⇒  ∂L/∂x = reshape(g, shape x)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {reshape(g, std::vector<std::ptrdiff_t>(in_shape.begin(), in_shape.end()))};
    }
};

template <class T>
struct Permute {
    static constexpr const char* name = "permute";
    std::vector<std::size_t> dims;

    std::string attributes() const { return fmt::format("dims=[{}]", fmt::join(dims, ", ")); }
    xt::xarray<T> forward(const Tensor<T>& x) {
        std::vector<std::size_t> sorted = dims;
        std::sort(sorted.begin(), sorted.end());
        bool ok = sorted.size() == x.dim();
        for (std::size_t i = 0; ok && i < sorted.size(); ++i)
            ok = sorted[i] == i;
        if (!ok) {
            throw ShapeError(
                fmt::format("permute: dims must be a permutation of the {} axes; got "
                            "dims=[{}] for x={}",
                            x.dim(), fmt::join(dims, ", "), shape_str(x.shape())));
        }
        return xt::transpose(x.value(), dims);
    }
    // y = permute(x, d)  ⇒  ∂L/∂x = permute(g, d⁻¹)
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        std::vector<std::size_t> inverse(dims.size());
        for (std::size_t i = 0; i < dims.size(); ++i)
            inverse[dims[i]] = i;
        return {permute(g, inverse)};
    }
};

Shape resolve_shape(const Shape& from, const std::vector<std::ptrdiff_t>& to) {
    std::size_t total = 1;
    for (auto d : from)
        total *= d;
    std::size_t known = 1;
    std::ptrdiff_t infer = -1;
    Shape out(to.size());
    for (std::size_t i = 0; i < to.size(); ++i) {
        if (to[i] == -1 && infer < 0) {
            infer = static_cast<std::ptrdiff_t>(i);
        } else if (to[i] < 0) {
            throw ShapeError(
                fmt::format("reshape: invalid target shape [{}] for x={} (at most one "
                            "-1, no other negative sizes)",
                            fmt::join(to, ", "), shape_str(from)));
        } else {
            out[i] = static_cast<std::size_t>(to[i]);
            known *= out[i];
        }
    }
    if (infer >= 0 && known != 0 && total % known == 0) out[infer] = total / known;
    std::size_t result = 1;
    for (auto d : out)
        result *= d;
    if (result != total || (infer >= 0 && known == 0)) {
        throw ShapeError(fmt::format("reshape: cannot reshape x={} ({} elements) into [{}]",
                                     shape_str(from), total, fmt::join(to, ", ")));
    }
    return out;
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> reshape(const Tensor<T>& x, const std::vector<std::ptrdiff_t>& shape) {
    Shape to = ops::resolve_shape(x.shape(), shape);
    if (to == x.shape()) return x;
    return record(ops::Reshape<T>{std::move(to), {}}, x);
}

template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<std::size_t>& dims) {
    return record(ops::Permute<T>{dims}, x);
}

template <class T>
Tensor<T> transpose(const Tensor<T>& x, std::ptrdiff_t dim0, std::ptrdiff_t dim1) {
    const std::size_t a = normalize_axis("transpose", dim0, x.shape());
    const std::size_t b = normalize_axis("transpose", dim1, x.shape());
    std::vector<std::size_t> dims(x.dim());
    std::iota(dims.begin(), dims.end(), 0);
    std::swap(dims[a], dims[b]);
    return permute(x, dims);
}

template <class T>
Tensor<T> flatten(const Tensor<T>& x, std::ptrdiff_t start, std::ptrdiff_t end) {
    if (x.dim() == 0) return reshape(x, {1});
    const std::size_t s = normalize_axis("flatten", start, x.shape());
    const std::size_t e = normalize_axis("flatten", end, x.shape());
    if (s > e) {
        throw ShapeError(fmt::format("flatten: start axis {} comes after end axis {} for x={}",
                                     start, end, shape_str(x.shape())));
    }
    std::vector<std::ptrdiff_t> to;
    std::ptrdiff_t merged = 1;
    for (std::size_t i = 0; i < x.dim(); ++i) {
        const auto d = static_cast<std::ptrdiff_t>(x.shape()[i]);
        if (i < s || i > e) {
            to.push_back(d);
        } else {
            merged *= d;
            if (i == e) to.push_back(merged);
        }
    }
    return reshape(x, to);
}

template <class T>
Tensor<T> squeeze(const Tensor<T>& x, std::ptrdiff_t dim) {
    const std::size_t d = normalize_axis("squeeze", dim, x.shape());
    if (x.shape()[d] != 1) {
        throw ShapeError(fmt::format("squeeze: axis {} must have length 1; got x={}", dim,
                                     shape_str(x.shape())));
    }
    std::vector<std::ptrdiff_t> to;
    for (std::size_t i = 0; i < x.dim(); ++i) {
        if (i != d) to.push_back(static_cast<std::ptrdiff_t>(x.shape()[i]));
    }
    return reshape(x, to);
}

template <class T>
Tensor<T> squeeze(const Tensor<T>& x) {
    std::vector<std::ptrdiff_t> to;
    for (auto d : x.shape()) {
        if (d != 1) to.push_back(static_cast<std::ptrdiff_t>(d));
    }
    return reshape(x, to);
}

template <class T>
Tensor<T> unsqueeze(const Tensor<T>& x, std::ptrdiff_t dim) {
    const auto rank = static_cast<std::ptrdiff_t>(x.dim());
    if (dim < -rank - 1 || dim > rank) {
        throw ShapeError(
            fmt::format("unsqueeze: axis {} is out of range for x={} (expected an "
                        "axis in [{}, {}])",
                        dim, shape_str(x.shape()), -rank - 1, rank));
    }
    const auto at = static_cast<std::size_t>(dim < 0 ? dim + rank + 1 : dim);
    std::vector<std::ptrdiff_t> to(x.shape().begin(), x.shape().end());
    to.insert(to.begin() + static_cast<std::ptrdiff_t>(at), 1);
    return reshape(x, to);
}

#define XGRAD_INSTANTIATE(T)                                                          \
    template Tensor<T> reshape(const Tensor<T>&, const std::vector<std::ptrdiff_t>&); \
    template Tensor<T> permute(const Tensor<T>&, const std::vector<std::size_t>&);    \
    template Tensor<T> transpose(const Tensor<T>&, std::ptrdiff_t, std::ptrdiff_t);   \
    template Tensor<T> flatten(const Tensor<T>&, std::ptrdiff_t, std::ptrdiff_t);     \
    template Tensor<T> squeeze(const Tensor<T>&, std::ptrdiff_t);                     \
    template Tensor<T> squeeze(const Tensor<T>&);                                     \
    template Tensor<T> unsqueeze(const Tensor<T>&, std::ptrdiff_t);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
