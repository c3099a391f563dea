#pragma once

#include "autograd/tensor.hpp"

#include <cstdint>
#include <random>

namespace xgrad {

/// The one generator behind every random draw in xgrad (initialisers, dropout, shuffling), so a
/// program that calls manual_seed once is reproducible. Not shared between threads safely.
std::mt19937_64& generator();

/// Reseeds the generator.
void manual_seed(std::uint64_t seed);

/// Uniform values in [lo, hi).
template <class T = float>
Tensor<T> rand(const Shape& shape, T lo = T(0), T hi = T(1), bool requires_grad = false);

/// Normal values with the given mean and standard deviation.
template <class T = float>
Tensor<T> randn(const Shape& shape, T mean = T(0), T stddev = T(1), bool requires_grad = false);

}  // namespace xgrad
