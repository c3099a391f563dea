#include "autograd/ops/dropout.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/random.hpp"

#include <fmt/format.h>

#include <random>

namespace xgrad {
namespace {

// x ⊙ m for a mask of shape `mask_shape` (x's shape, or one entry per channel broadcast over the
// plane) whose entries are 0 with probability p and 1/(1 − p) otherwise, drawn in row-major order.
template <class T>
Tensor<T> apply_random_mask(const Tensor<T>& x, T p, const Shape& mask_shape) {
    std::bernoulli_distribution keep(1.0 - static_cast<double>(p));
    const T scale = T(1) / (T(1) - p);
    xt::xarray<T> mask = xt::xarray<T>::from_shape(mask_shape);
    for (auto& m : mask)
        m = keep(generator()) ? scale : T(0);
    return mul(x, Tensor<T>(std::move(mask)));
}

}  // namespace

template <class T>
void check_dropout_probability(const char* op, T p) {
    if (!(p >= T(0) && p < T(1))) {
        throw ValueError(fmt::format("{}: p must be in [0, 1); got p={}", op, p));
    }
}

template <class T>
Tensor<T> dropout(const Tensor<T>& x, T p, bool training) {
    check_dropout_probability("dropout", p);
    if (!training || p == T(0)) return x;
    return apply_random_mask(x, p, x.shape());
}

template <class T>
Tensor<T> dropout2d(const Tensor<T>& x, T p, bool training) {
    if (x.dim() != 4) {
        throw ShapeError(
            fmt::format("dropout2d: expected x [n, c, h, w]; got x={}", shape_str(x.shape())));
    }
    check_dropout_probability("dropout2d", p);
    if (!training || p == T(0)) return x;
    // One keep/drop per (sample, channel), broadcast over the plane.
    return apply_random_mask(x, p, Shape{x.shape()[0], x.shape()[1], 1, 1});
}

#define XGRAD_INSTANTIATE(T)                                 \
    template Tensor<T> dropout(const Tensor<T>&, T, bool);   \
    template Tensor<T> dropout2d(const Tensor<T>&, T, bool); \
    template void check_dropout_probability(const char*, T);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
