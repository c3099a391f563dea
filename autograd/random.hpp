#pragma once

#include "autograd/tensor.hpp"

#include <cstdint>
#include <random>

namespace xgrad {

// Note [thread generators]: every random draw in xgrad (initialisers, dropout, shuffling) comes
// from generator(), and each thread has its own. A program that calls manual_seed once and
// draws from one thread is reproducible; so is each thread of a program that trains several
// models at once, each thread seeding itself: two models trained in two threads end with the
// same weights as the two runs one after the other (a generator shared behind a mutex would
// interleave their draws by timing). A thread's generator starts, at its first draw, from the
// seed of the last manual_seed called in any thread (std::mt19937_64's default, 5489, before
// any), so `manual_seed(s)` followed by a thread that draws without seeding is reproducible
// too; such threads then all draw the same sequence: seed each one (say, s + thread index) for
// different streams.

/// The calling thread's generator (Note [thread generators]).
std::mt19937_64& generator();

/// Reseeds the calling thread's generator; `seed` is also where the generator of a thread that
/// has not drawn yet starts.
void manual_seed(std::uint64_t seed);

/// Uniform values in [lo, hi).
template <class T = float>
Tensor<T> rand(const Shape& shape, T lo = T(0), T hi = T(1), bool requires_grad = false);

/// Normal values with the given mean and standard deviation.
template <class T = float>
Tensor<T> randn(const Shape& shape, T mean = T(0), T stddev = T(1), bool requires_grad = false);

}  // namespace xgrad
