#pragma once

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

// Internal loops shared by the elementwise and reduction ops: broadcasting binary maps, blocked
// sums and broadcast copies over contiguous row-major buffers. They replace xtensor's generic
// broadcasting assignment and reducers on the hot paths (Note [raw kernels]).

#include "autograd/shape.hpp"

#include <xtensor/xstorage.hpp>

#include <cstddef>
#include <vector>

namespace xgrad::kernels {

// Note [raw kernels]: every tensor value is a contiguous row-major xarray, so a broadcast
// operand is fully described by its strides in the output's index space (0 on a broadcast
// axis). Adjacent axes that are contiguous in every operand are merged first, so the common
// cases (equal shapes, scalar ∘ tensor, row ∘ matrix) become one or two flat loops whose inner
// loop the compiler vectorises. xtensor's broadcasting assignment costs ~1 µs of setup per call
// and runs the generic stepper loop per element; these loops cost a few ns of setup.

/// Per-axis strides or extents; inline up to rank 6, so building a loop nest allocates nothing.
using Strides = xt::svector<std::ptrdiff_t, 6>;
using Extents = xt::svector<std::size_t, 6>;

/// Strides (in elements) of `from` read in the index space of `to`: 0 along broadcast axes.
/// `from` must broadcast to `to` (callers check it first).
Strides broadcast_strides(const Shape& from, const Shape& to);

/// A loop nest over `shape` with one stride vector per operand, after merging axes that are
/// contiguous for every operand and dropping axes of extent 1.
struct LoopNest {
    Extents extent;     // outermost first
    Strides stride[2];  // stride[operand][axis]
};
LoopNest make_loop_nest(const Shape& shape, const Strides& s0, const Strides& s1);

/// A row-major shape seen as [outer, n, inner] around axis `axis`: element (o, i, k) sits at
/// (o·n + i)·inner + k, so each of the outer·inner slices along the axis holds n values, `inner`
/// apart in memory.
struct AxisSplit {
    std::size_t outer = 1, n = 1, inner = 1;
};
inline AxisSplit split_at(const Shape& shape, std::size_t axis) {
    AxisSplit s;
    s.n = shape[axis];
    for (std::size_t i = 0; i < axis; ++i)
        s.outer *= shape[i];
    for (std::size_t i = axis + 1; i < shape.size(); ++i)
        s.inner *= shape[i];
    return s;
}

/// Number of elements of `shape`.
inline std::size_t out_size(const Shape& shape) {
    std::size_t n = 1;
    for (std::size_t d : shape)
        n *= d;
    return n;
}

/// Calls run(pos, off0, off1, n) for every innermost run of the loop nest of two operands:
/// `pos` is the run's start in the (contiguous) index space, off0/off1 the operands' offsets;
/// the run has n elements with the operands' innermost strides nest.stride[k].back().
template <class F>
void walk(const LoopNest& nest, F run) {
    const std::size_t rank = nest.extent.size();
    for (std::size_t e : nest.extent) {
        if (e == 0) return;  // an empty tensor
    }
    if (rank == 0) {
        run(std::size_t(0), std::ptrdiff_t(0), std::ptrdiff_t(0), std::size_t(1));
        return;
    }
    const std::size_t n = nest.extent[rank - 1];
    Extents idx(rank, 0);
    std::size_t pos = 0;
    std::ptrdiff_t o0 = 0, o1 = 0;
    for (;;) {
        run(pos, o0, o1, n);
        pos += n;
        std::size_t d = rank - 1;
        for (;;) {
            if (d == 0) return;
            --d;
            o0 += nest.stride[0][d];
            o1 += nest.stride[1][d];
            if (++idx[d] < nest.extent[d]) break;
            o0 -= nest.stride[0][d] * std::ptrdiff_t(nest.extent[d]);
            o1 -= nest.stride[1][d] * std::ptrdiff_t(nest.extent[d]);
            idx[d] = 0;
        }
    }
}

/// out[i] = f(a[..], b[..]) over the broadcast shape `shape` (out is contiguous, a and b
/// broadcast to `shape`; callers check that first).
template <class T, class F>
void binary(const Shape& shape, const T* a, const Shape& a_shape, const T* b, const Shape& b_shape,
            T* out, F f) {
    // The common cases without a loop nest: equal shapes, and a one-element operand.
    const std::size_t size = out_size(shape);
    if (a_shape == b_shape) {
        for (std::size_t i = 0; i < size; ++i)
            out[i] = f(a[i], b[i]);
        return;
    }
    if (b_shape.size() <= shape.size() && out_size(b_shape) == 1 && a_shape == shape) {
        const T vb = b[0];
        for (std::size_t i = 0; i < size; ++i)
            out[i] = f(a[i], vb);
        return;
    }
    if (a_shape.size() <= shape.size() && out_size(a_shape) == 1 && b_shape == shape) {
        const T va = a[0];
        for (std::size_t i = 0; i < size; ++i)
            out[i] = f(va, b[i]);
        return;
    }
    const LoopNest nest =
        make_loop_nest(shape, broadcast_strides(a_shape, shape), broadcast_strides(b_shape, shape));
    const std::ptrdiff_t sa = nest.extent.empty() ? 1 : nest.stride[0].back();
    const std::ptrdiff_t sb = nest.extent.empty() ? 1 : nest.stride[1].back();
    walk(nest, [&](std::size_t pos, std::ptrdiff_t oa, std::ptrdiff_t ob, std::size_t n) {
        const T* pa = a + oa;
        const T* pb = b + ob;
        T* po = out + pos;
        if (sa == 1 && sb == 1) {
            for (std::size_t i = 0; i < n; ++i)
                po[i] = f(pa[i], pb[i]);
        } else if (sb == 0) {
            const T vb = *pb;
            if (sa == 1) {
                for (std::size_t i = 0; i < n; ++i)
                    po[i] = f(pa[i], vb);
            } else {
                for (std::size_t i = 0; i < n; ++i)
                    po[i] = f(pa[std::ptrdiff_t(i) * sa], vb);
            }
        } else if (sa == 0) {
            const T va = *pa;
            for (std::size_t i = 0; i < n; ++i)
                po[i] = f(va, pb[std::ptrdiff_t(i) * sb]);
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                po[i] = f(pa[std::ptrdiff_t(i) * sa], pb[std::ptrdiff_t(i) * sb]);
            }
        }
    });
}

/// Copies `x` (shape `from`) broadcast to shape `to` into the contiguous buffer `out`.
template <class T>
void broadcast_copy(const T* x, const Shape& from, const Shape& to, T* out);

/// Sums `x` (shape `shape`) over `axes` (sorted, unique) into the contiguous buffer `out`, whose
/// size is the product of the kept extents. A reduction over contiguous memory is summed in
/// vectorised blocks whose sums are accumulated in double, so float error does not grow with n.
template <class T>
void sum_axes(const T* x, const Shape& shape, const std::vector<std::size_t>& axes, T* out);

}  // namespace xgrad::kernels
