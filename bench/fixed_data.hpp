#pragma once

// Fixed inputs, labels, upstream gradients and initial weights shared by xgrad_bench and
// torch_bench for the convolution and recurrent workloads (no xgrad or LibTorch types here). Each
// library's own random generator would give the two programs different numbers; drawing them here
// makes both sides compute on the same values, so their `# check` lines can be compared digit by
// digit.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

/// splitmix64: a tiny, portable generator (the standard distributions are not portable).
class FixedRandom {
public:
    explicit FixedRandom(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, 1), 24 random bits (exact in float).
    float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }

private:
    std::uint64_t state_;
};

/// n values uniform in [lo, hi).
inline std::vector<float> uniform(std::size_t n, float lo, float hi, std::uint64_t seed) {
    FixedRandom r(seed);
    std::vector<float> v(n);
    for (auto& x : v)
        x = lo + (hi - lo) * r.uniform();
    return v;
}

/// n class labels uniform in 0..classes-1.
inline std::vector<std::int64_t> labels(std::size_t n, std::int64_t classes, std::uint64_t seed) {
    FixedRandom r(seed);
    std::vector<std::int64_t> v(n);
    for (auto& y : v)
        y = std::int64_t(r.next() % std::uint64_t(classes));
    return v;
}

/// Initial values of the k-th parameter of a model, in registration order (weight, then bias,
/// layer by layer), PyTorch's default bounds: U(±1/√fan_in) for a weight [out, fan_in...] and for
/// the bias that follows it. `fan_in` carries the last weight's fan-in over to its bias.
inline std::vector<float> init_parameter(const std::vector<std::size_t>& shape, std::size_t k,
                                         std::size_t& fan_in) {
    std::size_t n = 1;
    for (auto d : shape)
        n *= d;
    if (shape.size() > 1) fan_in = n / shape[0];
    const float bound = 1.0f / std::sqrt(float(fan_in));
    return uniform(n, -bound, bound, 1000 + k);
}

/// Initial values of the recurrent-layer parameter `name` (PyTorch's names: weight_ih_l0,
/// bias_hh_l1, ...) with n elements: PyTorch's U(±1/√hidden) for every weight and bias, drawn
/// from a seed made from the name (FNV-1a), so each program fills its parameters by name,
/// whatever order its module lists them in.
inline std::vector<float> init_recurrent(const std::string& name, std::size_t n,
                                         std::size_t hidden) {
    std::uint64_t seed = 0xCBF29CE484222325ull;
    for (const unsigned char ch : name)
        seed = (seed ^ ch) * 0x100000001B3ull;
    const float bound = 1.0f / std::sqrt(float(hidden));
    return uniform(n, -bound, bound, seed);
}

/// Σ x, accumulated in double in index order (the same summation on both sides).
inline double sum(const float* x, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
        s += double(x[i]);
    return s;
}

/// Σ x·y, accumulated in double in index order.
inline double dot(const float* x, const float* y, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
        s += double(x[i]) * double(y[i]);
    return s;
}

}  // namespace bench
