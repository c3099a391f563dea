#pragma once

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

// Internal: the transcendental functions of the elementwise and recurrent kernels on xsimd
// batches, and the loops that run them over a buffer (Note [one formula per value]).

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace xgrad::simd {

// Note [one formula per value]: xsimd's exp, log, tanh, ... and glibc's scalar ones round
// differently in the last bit for some inputs. xtensor's SIMD assignment computes the elements
// before the first aligned address and after the last whole batch with the scalar function and
// the rest with the batch one, so where an element fell depended on the heap address of the
// result: the same values gave results 1 ulp apart from run to run, and an example's figures
// moved with the working directory. Here a value is always computed by the batch function:
// - map() runs whole batches with unaligned loads and copies the tail into one padded batch;
// - a scalar argument (the tail of for_lanes, recurrent.cpp's gate loops) goes through a batch
//   of copies of itself (lanewise), so it gets the bits a batch lane gets.
// A result then depends on the value alone, never on its position or address. (+, −, ×, ÷ and
// sqrt are correctly rounded in both forms and need none of this.) Across machines the batch
// width and xsimd's kernels may differ: docs/reliability.md, "Threads and reproducibility".

template <class V>
inline constexpr bool is_batch = false;
template <class T, class A>
inline constexpr bool is_batch<xsimd::batch<T, A>> = true;

/// f on a batch, or on a scalar through a batch of copies of it (lane 0 of the result).
template <class V, class F>
V lanewise(V x, F f) {
    if constexpr (is_batch<V>) {
        return f(x);
    } else {
        return f(xsimd::batch<V>(x)).get(0);
    }
}

template <class V>
V exp(V x) {
    return lanewise(x, [](auto b) { return xsimd::exp(b); });
}
template <class V>
V log(V x) {
    return lanewise(x, [](auto b) { return xsimd::log(b); });
}
template <class V>
V log1p(V x) {
    return lanewise(x, [](auto b) { return xsimd::log1p(b); });
}
template <class V>
V tanh(V x) {
    return lanewise(x, [](auto b) { return xsimd::tanh(b); });
}
template <class V, class T>
V pow(V x, T p) {
    return lanewise(x, [p](auto b) { return xsimd::pow(b, decltype(b)(p)); });
}

/// σ(a) = 1/(1 + e^−a) (the recurrent gates). NOTE: e^−a overflows to inf for a very negative
/// a and σ is then 0, never NaN.
template <class V>
V sigmoid_of(V a) {
    return V(1) / (V(1) + exp(-a));
}

/// σ(x) with e = e^−|x| ≤ 1: 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise (the sigmoid op).
/// NOTE: the exponential never overflows and tiny outputs keep their precision.
template <class V>
V stable_sigmoid(V x) {
    return lanewise(x, [](auto b) {
        using B = decltype(b);
        const B e = xsimd::exp(-xsimd::abs(b));
        return xsimd::select(b >= B(0), B(1) / (B(1) + e), e / (B(1) + e));
    });
}

/// Loads and stores one V (an xsimd batch, or a scalar) at an address of any alignment.
template <class V>
struct Lanes {
    template <class T>
    static V load(const T* p) {
        return *p;
    }
    template <class T>
    static void store(T* p, V v) {
        *p = v;
    }
};
template <class T, class A>
struct Lanes<xsimd::batch<T, A>> {
    static xsimd::batch<T, A> load(const T* p) { return xsimd::batch<T, A>::load_unaligned(p); }
    static void store(T* p, xsimd::batch<T, A> v) { v.store_unaligned(p); }
};

/// Calls step(V(), j) for every position j of [0, n): V = xsimd::batch<T> over whole batches,
/// then V = T over the tail. With the functions above, a scalar gets a batch lane's bits.
template <class T, class Step>
void for_lanes(std::size_t n, Step&& step) {
    using B = xsimd::batch<T>;
    std::size_t j = 0;
    for (; j + B::size <= n; j += B::size)
        step(B(), j);
    for (; j < n; ++j)
        step(T(), j);
}

/// out[i] = f(x[i]) for i < n, with f called on batches only: whole batches, then the tail
/// copied into one batch padded with its last value. x and out may be the same buffer.
template <class T, class F>
void map(const T* x, T* out, std::size_t n, F f) {
    using B = xsimd::batch<T>;
    std::size_t j = 0;
    for (; j + B::size <= n; j += B::size)
        f(B::load_unaligned(x + j)).store_unaligned(out + j);
    if (j == n) return;
    alignas(B::arch_type::alignment()) T tail[B::size];
    std::fill(std::copy(x + j, x + n, tail), tail + B::size, x[n - 1]);
    f(B::load_aligned(tail)).store_aligned(tail);
    std::copy(tail, tail + (n - j), out + j);
}

}  // namespace xgrad::simd
