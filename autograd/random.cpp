#include "autograd/random.hpp"

#include <fmt/format.h>

#include <atomic>

namespace xgrad {

namespace {
// The seed of the last manual_seed, in any thread: where a new thread's generator starts.
std::atomic<std::uint64_t>& start_seed() {
    static std::atomic<std::uint64_t> seed{std::mt19937_64::default_seed};
    return seed;
}
}  // namespace

std::mt19937_64& generator() {
    thread_local std::mt19937_64 gen(start_seed().load());
    return gen;
}

void manual_seed(std::uint64_t seed) {
    start_seed().store(seed);
    generator().seed(seed);
}

template <class T>
Tensor<T> rand(const Shape& shape, T lo, T hi, bool requires_grad) {
    if (!(lo < hi))
        throw ValueError(fmt::format("rand: expected lo < hi; got lo={}, hi={}", lo, hi));
    std::uniform_real_distribution<T> dist(lo, hi);
    xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
    for (auto& v : a)
        v = dist(generator());
    return Tensor<T>(std::move(a), requires_grad);
}

template <class T>
Tensor<T> randn(const Shape& shape, T mean, T stddev, bool requires_grad) {
    if (!(stddev >= T(0))) {
        throw ValueError(fmt::format("randn: expected stddev >= 0; got stddev={}", stddev));
    }
    std::normal_distribution<T> dist(mean, stddev);
    xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
    for (auto& v : a)
        v = dist(generator());
    return Tensor<T>(std::move(a), requires_grad);
}

template Tensor<float> rand<float>(const Shape&, float, float, bool);
template Tensor<double> rand<double>(const Shape&, double, double, bool);
template Tensor<float> randn<float>(const Shape&, float, float, bool);
template Tensor<double> randn<double>(const Shape&, double, double, bool);

}  // namespace xgrad
