#pragma once

// Note [xtensor allocator]: xgrad's arrays (xt::xarray<T>) allocate with std::allocator<T>, not
// xtensor's default under XTENSOR_USE_XSIMD, xsimd::aligned_allocator. The aligned allocator calls
// posix_memalign(32), which glibc serves by over-allocating and splitting the block: for the
// small arrays of a scalar graph that path, and the fragmentation it leaves, was a fifth of the
// time of a 1000-op chain (callgrind: 114 M → 91 M instructions for 20 chains with
// std::allocator). glibc's malloc aligns to 16 bytes; xtensor then uses unaligned SIMD loads,
// and the hot loops (Note [raw kernels]) and BLAS do not depend on the alignment.
//
// The allocator is part of the type xt::xarray<T>, so it must be the same in every translation
// unit that sees an xgrad header: xgrad's headers include this one before any xtensor header, and
// a file that includes an xtensor header before its first xgrad header fails to compile here
// rather than linking two different Node layouts.

#if defined(XTENSOR_CONFIG_HPP) && !defined(XGRAD_XTENSOR_CONFIGURED)
#error \
    "xgrad: include an xgrad header before any xtensor header (xgrad sets xtensor's default allocator, see autograd/config.hpp)"
#endif

#ifndef XGRAD_XTENSOR_CONFIGURED
#define XGRAD_XTENSOR_CONFIGURED

#include <memory>

#define XTENSOR_DEFAULT_ALLOCATOR(T) std::allocator<T>

#include <xtensor/xtensor_config.hpp>

#endif
