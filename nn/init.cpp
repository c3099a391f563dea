#include "nn/init.hpp"

#include "autograd/random.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>

namespace xgrad::nn::init {

std::pair<std::size_t, std::size_t> fans(const Shape& shape) {
    if (shape.size() < 2) {
        throw ValueError(
            fmt::format("init: fan-in and fan-out need a weight of rank >= 2; got "
                        "shape {}",
                        shape_str(shape)));
    }
    std::size_t receptive = 1;
    for (std::size_t i = 2; i < shape.size(); ++i)
        receptive *= shape[i];
    return {shape[1] * receptive, shape[0] * receptive};
}

template <class T>
void uniform_(Tensor<T> t, T lo, T hi) {
    if (!(lo <= hi))
        throw ValueError(fmt::format("uniform_: expected lo <= hi; got lo={}, hi={}", lo, hi));
    std::uniform_real_distribution<T> dist(lo, hi);
    for (auto& v : t.mutable_value())
        v = dist(generator());
}

template <class T>
void normal_(Tensor<T> t, T mean, T stddev) {
    if (!(stddev >= T(0)))
        throw ValueError(fmt::format("normal_: expected stddev >= 0; got {}", stddev));
    std::normal_distribution<T> dist(mean, stddev);
    for (auto& v : t.mutable_value())
        v = dist(generator());
}

template <class T>
void constant_(Tensor<T> t, T value) {
    t.mutable_value().fill(value);
}

template <class T>
void zeros_(Tensor<T> t) {
    constant_(t, T(0));
}

template <class T>
void epsilon_uniform_(Tensor<T> t, T epsilon) {
    uniform_(t, -epsilon, epsilon);
}

template <class T>
void glorot_uniform_(Tensor<T> t, T gain) {
    const auto [in, out] = fans(t.shape());
    const T a = gain * std::sqrt(T(6) / static_cast<T>(in + out));
    uniform_(t, -a, a);
}

template <class T>
void glorot_normal_(Tensor<T> t, T gain) {
    const auto [in, out] = fans(t.shape());
    normal_(t, T(0), gain * std::sqrt(T(2) / static_cast<T>(in + out)));
}

template <class T>
void he_uniform_(Tensor<T> t) {
    const T a = std::sqrt(T(6) / static_cast<T>(fans(t.shape()).first));
    uniform_(t, -a, a);
}

template <class T>
void he_normal_(Tensor<T> t) {
    normal_(t, T(0), std::sqrt(T(2) / static_cast<T>(fans(t.shape()).first)));
}

#define XGRAD_INSTANTIATE(T)                      \
    template void uniform_(Tensor<T>, T, T);      \
    template void normal_(Tensor<T>, T, T);       \
    template void constant_(Tensor<T>, T);        \
    template void zeros_(Tensor<T>);              \
    template void epsilon_uniform_(Tensor<T>, T); \
    template void glorot_uniform_(Tensor<T>, T);  \
    template void glorot_normal_(Tensor<T>, T);   \
    template void he_uniform_(Tensor<T>);         \
    template void he_normal_(Tensor<T>);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn::init
