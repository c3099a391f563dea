#include "autograd/ops/kernels.hpp"

#include <algorithm>

namespace xgrad::kernels {

Strides broadcast_strides(const Shape& from, const Shape& to) {
    Strides strides(to.size(), 0);
    const std::size_t lead = to.size() - from.size();
    std::ptrdiff_t step = 1;
    for (std::size_t i = from.size(); i-- > 0;) {
        strides[i + lead] = (from[i] == 1 && to[i + lead] != 1) ? 0 : step;
        step *= std::ptrdiff_t(from[i]);
    }
    return strides;
}

LoopNest make_loop_nest(const Shape& shape, const Strides& s0, const Strides& s1) {
    const Strides* strides[2] = {&s0, &s1};
    LoopNest nest;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;  // an axis of extent 1 moves nothing
        // Merge into the previous (outer) kept axis when, for every operand, that axis steps
        // exactly over this axis' whole range.
        bool merge = !nest.extent.empty();
        for (std::size_t k = 0; merge && k < 2; ++k) {
            merge = nest.stride[k].back() == (*strides[k])[d] * std::ptrdiff_t(shape[d]);
        }
        if (merge) {
            nest.extent.back() *= shape[d];
            for (std::size_t k = 0; k < 2; ++k)
                nest.stride[k].back() = (*strides[k])[d];
        } else {
            nest.extent.push_back(shape[d]);
            for (std::size_t k = 0; k < 2; ++k)
                nest.stride[k].push_back((*strides[k])[d]);
        }
    }
    return nest;
}

template <class T>
void broadcast_copy(const T* x, const Shape& from, const Shape& to, T* out) {
    if (out_size(from) == 1) {
        std::fill(out, out + out_size(to), x[0]);
        return;
    }
    const LoopNest nest = make_loop_nest(to, broadcast_strides(from, to), Strides(to.size(), 0));
    const std::ptrdiff_t sx = nest.extent.empty() ? 1 : nest.stride[0].back();
    walk(nest, [&](std::size_t pos, std::ptrdiff_t ox, std::ptrdiff_t, std::size_t n) {
        const T* px = x + ox;
        T* po = out + pos;
        if (sx == 0) {
            std::fill(po, po + n, *px);
        } else if (sx == 1) {
            std::copy(px, px + n, po);
        } else {
            for (std::size_t i = 0; i < n; ++i)
                po[i] = px[std::ptrdiff_t(i) * sx];
        }
    });
}

namespace {
// Σ p[0..n): blocks of 512 summed with 8 independent partial sums (vectorised), block sums
// accumulated in double. Rounding error stays near one float ulp of the result for any n.
template <class T>
T sum_run(const T* p, std::size_t n) {
    constexpr std::size_t kBlock = 512;
    double total = 0;
    for (std::size_t start = 0; start < n; start += kBlock) {
        const std::size_t end = std::min(n, start + kBlock);
        T acc[8] = {};
        std::size_t i = start;
        for (; i + 8 <= end; i += 8) {
            for (std::size_t j = 0; j < 8; ++j)
                acc[j] += p[i + j];
        }
        T tail = 0;
        for (; i < end; ++i)
            tail += p[i];
        total += double(((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                        ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail);
    }
    return static_cast<T>(total);
}
}  // namespace

template <class T>
void sum_axes(const T* x, const Shape& shape, const std::vector<std::size_t>& axes, T* out) {
    // Walk x in memory order; the output's strides in x's index space are 0 on reduced axes.
    Strides out_strides(shape.size(), 0);
    std::ptrdiff_t step = 1;
    std::size_t kept = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
        if (std::binary_search(axes.begin(), axes.end(), i)) continue;
        out_strides[i] = step;
        step *= std::ptrdiff_t(shape[i]);
        kept *= shape[i];
    }
    if (kept == 1) {
        out[0] = sum_run(x, out_size(shape));
        return;
    }
    std::fill(out, out + kept, T(0));
    const LoopNest nest = make_loop_nest(shape, out_strides, Strides(shape.size(), 0));
    const std::ptrdiff_t so = nest.extent.empty() ? 1 : nest.stride[0].back();
    walk(nest, [&](std::size_t pos, std::ptrdiff_t oo, std::ptrdiff_t, std::size_t n) {
        const T* px = x + pos;
        T* po = out + oo;
        if (so == 0) {
            *po += sum_run(px, n);
        } else if (so == 1) {
            for (std::size_t i = 0; i < n; ++i)
                po[i] += px[i];
        } else {
            for (std::size_t i = 0; i < n; ++i)
                po[std::ptrdiff_t(i) * so] += px[i];
        }
    });
}

template void broadcast_copy<float>(const float*, const Shape&, const Shape&, float*);
template void broadcast_copy<double>(const double*, const Shape&, const Shape&, double*);
template void sum_axes<float>(const float*, const Shape&, const std::vector<std::size_t>&, float*);
template void sum_axes<double>(const double*, const Shape&, const std::vector<std::size_t>&,
                               double*);

}  // namespace xgrad::kernels
