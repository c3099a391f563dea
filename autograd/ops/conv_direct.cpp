#include "autograd/ops/conv_direct.hpp"

#include "autograd/parallel.hpp"
#include "autograd/tuning.hpp"

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace xgrad::detail {

// Note [direct conv]: im2col + gemm copies every pixel kh·kw times into a matrix that BLAS then
// copies again into its packed panels, and the input gradient's gemm writes a [c·kh·kw, P]
// matrix only to add it back with col2im. The direct kernels read the image itself: each image
// is copied once into a zero-padded buffer, and one register-blocked micro-kernel computes a
// block of 2 SIMD vectors of channels (16 floats with AVX2) × 6 positions,
//   out[r][v] = Σ_l a[l][v] · base_r[off[l]],
// with a[l] a contiguous packed row (vector loads) and base_r[off[l]] a broadcast from the
// padded image (12 FMAs per 2 loads and 6 broadcasts: all 16 vector registers in use).
// - conv2d (any stride and dilation) and conv_transpose2d at stride 1 are both a correlation
//   of a padded source with packed weights: r runs over 6 output pixels (base_r = the pixel's
//   window corner), l over the taps (channel, p, q) of the window (off[l] = the tap's offset in the
//   padded source), v over output channels. The transposed conv reads g padded by (k − 1)·d − pad
//   with the kernel flipped and its channel axes swapped (docs/convolution.md, "Backward").
// - conv2d_weight swaps the roles: r runs over 6 taps (base_r = the tap's offset), l over the
//   output pixels (off[l] = the pixel's window corner), v over output channels of g, whose
//   image is transposed to [pixel, channel] first.
// Blocks of channels are zero-padded to the vector width, so a layer with few channels per
// group (a first layer's 1-3 input channels in the input gradient, depthwise convs) wastes
// lanes, and the transposed conv of a "valid" conv multiplies the zeros around g: `automatic`
// keeps those, and 1×1 kernels (plain gemms), on the im2col path (useful_enough below).
// Measured (bench/conv_paths, docs/convolution.md "Speed"): the bench's 32 → 64 5×5 conv on
// one thread at 87 / 82 / 92 GFLOP/s (forward / input / weight gradient) against 66 / 58 / 65
// for im2col + OpenBLAS, on a core whose FMA peak is 99.

namespace {

constexpr std::size_t kRows = 6;  // broadcast rows of the micro-kernel

template <class T>
constexpr std::size_t block_width() {
    return 2 * xsimd::batch<T>::size;  // channels of the micro-kernel
}

std::size_t blocks_of(std::size_t channels, std::size_t width) {
    return (channels + width - 1) / width;
}

// The share of the micro-kernel's lanes that hold a real channel.
double lane_fill(std::size_t channels) {
    constexpr std::size_t width = block_width<float>();
    return static_cast<double>(channels) / static_cast<double>(blocks_of(channels, width) * width);
}

// The direct kernel pays while at least 3/8 of its multiply-adds are useful: 6 channels of 16
// still beat im2col (LeNet's first conv, 1 → 6: 21 GFLOP/s forward against 19 on one thread,
// bench/conv_paths; docs/convolution.md, "Speed").
bool useful_enough(double share) {
    return share >= 0.375;
}

bool choose(bool applies, bool pays) {
    switch (tuning::conv_path()) {
        case tuning::ConvPath::im2col:
            return false;
        case tuning::ConvPath::direct:
            return applies;
        case tuning::ConvPath::automatic:
            break;
    }
    return applies && pays;
}

bool stride_one(const ConvGeometry& g) {
    return g.sh == 1 && g.sw == 1;
}

}  // namespace

bool direct_forward(const ConvGeometry& g) {
    return choose(true, !g.pointwise() && useful_enough(lane_fill(g.og())));
}

// The transposed conv also multiplies the zeros around g: it computes h·w outputs from windows
// over g padded to [h + kh − 1, w + kw − 1], where im2col + col2im touch only g's oh·ow pixels.
// A "valid" conv's input gradient does about h·w / (oh·ow) times the work (LeNet's second conv:
// 196 / 100, 17 GFLOP/s direct against 26 with im2col on one thread).
bool direct_input_grad(const ConvGeometry& g) {
    const double pixels =
        std::min(1.0, static_cast<double>(g.out_plane()) / static_cast<double>(g.in_plane()));
    return choose(stride_one(g), !g.pointwise() && useful_enough(lane_fill(g.cg()) * pixels));
}

bool direct_weight_grad(const ConvGeometry& g) {
    return choose(true, !g.pointwise() && useful_enough(lane_fill(g.og())));
}

namespace {

// out[r·ld + v] (+)= Σ_{l < len} a[l·W + v] · base[r][off[l]] for r < kRows, v < W =
// block_width; `Accumulate` adds to out instead of overwriting it.
template <bool Accumulate, class T>
void micro_kernel(const T* __restrict a, const T* const* base, const std::ptrdiff_t* off,
                  std::size_t len, T* out, std::size_t ld) {
    using B = xsimd::batch<T>;
    constexpr std::size_t N = B::size;
    B acc0[kRows], acc1[kRows];
    const T* b[kRows];
    for (std::size_t r = 0; r < kRows; ++r) {
        acc0[r] = Accumulate ? B::load_unaligned(out + r * ld) : B(T(0));
        acc1[r] = Accumulate ? B::load_unaligned(out + r * ld + N) : B(T(0));
        b[r] = base[r];
    }
    for (std::size_t l = 0; l < len; ++l) {
        const B a0 = B::load_unaligned(a + l * 2 * N);
        const B a1 = B::load_unaligned(a + l * 2 * N + N);
        const std::ptrdiff_t o = off[l];
        for (std::size_t r = 0; r < kRows; ++r) {
            const B s(b[r][o]);
            acc0[r] = xsimd::fma(a0, s, acc0[r]);
            acc1[r] = xsimd::fma(a1, s, acc1[r]);
        }
    }
    for (std::size_t r = 0; r < kRows; ++r) {
        acc0[r].store_unaligned(out + r * ld);
        acc1[r].store_unaligned(out + r * ld + N);
    }
}

// dst [cs, hs, ws] = src [cs, h, w] with its pixel (0, 0) at (top, left), zeros elsewhere;
// rows and columns that fall outside dst (negative top or left, or past the end) are dropped.
template <class T>
void place(const T* src, std::size_t cs, std::size_t h, std::size_t w, std::ptrdiff_t top,
           std::ptrdiff_t left, T* dst, std::size_t hs, std::size_t ws) {
    std::fill(dst, dst + cs * hs * ws, T(0));
    const auto sh = static_cast<std::ptrdiff_t>(h), sw = static_cast<std::ptrdiff_t>(w);
    const std::ptrdiff_t r0 = std::max<std::ptrdiff_t>(0, -top);
    const std::ptrdiff_t r1 = std::min(sh, static_cast<std::ptrdiff_t>(hs) - top);
    const std::ptrdiff_t c0 = std::max<std::ptrdiff_t>(0, -left);
    const std::ptrdiff_t c1 = std::min(sw, static_cast<std::ptrdiff_t>(ws) - left);
    if (r0 >= r1 || c0 >= c1) return;
    for (std::size_t ci = 0; ci < cs; ++ci) {
        for (std::ptrdiff_t r = r0; r < r1; ++r) {
            std::memcpy(
                dst + (ci * hs + static_cast<std::size_t>(r + top)) * ws +
                    static_cast<std::size_t>(c0 + left),
                src + (ci * h + static_cast<std::size_t>(r)) * w + static_cast<std::size_t>(c0),
                static_cast<std::size_t>(c1 - c0) * sizeof(T));
        }
    }
}

// One op of the family seen as a correlation of a padded source with packed weights:
//   out[n, gi·out_g + v, i, j] = Σ_{u < in_g, p, q} a[gi, v, (u, p, q)] ·
//       src_padded[n, gi·in_g + u, i·sh + p·dh, j·sw + q·dw]
struct Correlation {
    std::size_t cs = 0, src_h = 0, src_w = 0;  // source [n, cs, src_h, src_w]
    std::ptrdiff_t top = 0, left = 0;          // where its pixel (0, 0) sits in the padding
    std::size_t hs = 0, ws = 0;                // padded source plane
    std::size_t groups = 1, in_g = 0, out_g = 0;
    std::size_t kh = 0, kw = 0, dh = 1, dw = 1;
    std::size_t oh = 0, ow = 0, sh = 1, sw = 1;

    std::size_t taps() const { return in_g * kh * kw; }
    // Offsets of the taps (u, p, q) in the padded source, relative to a window's corner.
    std::vector<std::ptrdiff_t> tap_offsets() const {
        std::vector<std::ptrdiff_t> off(taps());
        for (std::size_t u = 0; u < in_g; ++u)
            for (std::size_t p = 0; p < kh; ++p)
                for (std::size_t q = 0; q < kw; ++q)
                    off[(u * kh + p) * kw + q] =
                        static_cast<std::ptrdiff_t>((u * hs + p * dh) * ws + q * dw);
        return off;
    }
    // The corner of output pixel `pix`'s window in the padded source.
    std::size_t corner(std::size_t pix) const { return (pix / ow) * sh * ws + (pix % ow) * sw; }
};

double work_of(const Correlation& k, std::size_t n) {
    return static_cast<double>(n) * static_cast<double>(k.groups * k.out_g) *
           static_cast<double>(k.taps()) * static_cast<double>(k.oh * k.ow);
}

// out [n, groups·out_g, oh, ow] = the correlation of src with `packed` [groups, blocks, taps, W]
// (+ bias[channel]). Images are split over the batch workers (Note [batch threads] in
// autograd/parallel.cpp).
template <class T>
void correlate(const T* src, const T* packed, const T* bias, T* out, std::size_t n,
               const Correlation& k) {
    constexpr std::size_t W = block_width<T>();
    const std::size_t blocks = blocks_of(k.out_g, W), taps = k.taps(), P = k.oh * k.ow;
    const std::size_t ld = k.groups * blocks * W, channels = k.groups * k.out_g;
    const std::size_t src_size = k.cs * k.src_h * k.src_w, pad_size = k.cs * k.hs * k.ws;
    const auto off = k.tap_offsets();
    const std::size_t workers = batch_workers(n, work_of(k, n));
    parallel_batch(n, workers, 1, [&](std::size_t, std::size_t b0, std::size_t b1) {
        T* pad = thread_buffer<T, Scratch::padded_source>(pad_size);
        T* scratch = thread_buffer<T, Scratch::block_outputs>((P + kRows) *
                                                              ld);  // [P, ld]; kRows rows of slack
        for (std::size_t i = b0; i < b1; ++i) {
            place(src + i * src_size, k.cs, k.src_h, k.src_w, k.top, k.left, pad, k.hs, k.ws);
            for (std::size_t p0 = 0; p0 < P; p0 += kRows) {
                // Rows past the last pixel repeat it (valid reads); their results are not used.
                std::size_t corner[kRows];
                for (std::size_t r = 0; r < kRows; ++r)
                    corner[r] = k.corner(std::min(p0 + r, P - 1));
                for (std::size_t gi = 0; gi < k.groups; ++gi) {
                    const T* base[kRows];
                    for (std::size_t r = 0; r < kRows; ++r)
                        base[r] = pad + gi * k.in_g * k.hs * k.ws + corner[r];
                    for (std::size_t ob = 0; ob < blocks; ++ob) {
                        const std::size_t blk = gi * blocks + ob;
                        micro_kernel<false>(packed + blk * taps * W, base, off.data(), taps,
                                            scratch + p0 * ld + blk * W, ld);
                    }
                }
            }
            // scratch [P, ld] → out [channels, P], in tiles of pixels that stay in L1.
            T* y = out + i * channels * P;
            constexpr std::size_t tile = 16;
            for (std::size_t t0 = 0; t0 < P; t0 += tile) {
                const std::size_t t1 = std::min(t0 + tile, P);
                for (std::size_t co = 0; co < channels; ++co) {
                    const std::size_t gi = co / k.out_g, col = gi * blocks * W + co % k.out_g;
                    const T v = bias ? bias[co] : T(0);
                    T* row = y + co * P;
                    for (std::size_t pix = t0; pix < t1; ++pix)
                        row[pix] = scratch[pix * ld + col] + v;
                }
            }
        }
    });
}

// packed [groups, blocks, taps, W] with packed[gi, ob, t, v] = weight(gi, ob·W + v, t) for the
// channels ob·W + v < out_g of each group, 0 in the lanes past them.
template <class T, class Weight>
std::vector<T> pack(std::size_t groups, std::size_t out_g, std::size_t taps, Weight weight) {
    constexpr std::size_t W = block_width<T>();
    const std::size_t blocks = blocks_of(out_g, W);
    std::vector<T> packed(groups * blocks * taps * W, T(0));
    for (std::size_t gi = 0; gi < groups; ++gi)
        for (std::size_t oc = 0; oc < out_g; ++oc) {
            T* dst = packed.data() + ((gi * blocks + oc / W) * taps) * W + oc % W;
            for (std::size_t t = 0; t < taps; ++t)
                dst[t * W] = weight(gi, oc, t);
        }
    return packed;
}

// The conv itself (its padded input holds every window of every output pixel) or, with
// `transposed`, its stride-1 input gradient (g padded by (k − 1)·d − pad, whose windows give the
// h×w pixels of dx; Note [direct conv]).
Correlation correlation_of(const ConvGeometry& g, bool transposed) {
    Correlation k;
    k.groups = g.groups;
    k.kh = g.kh;
    k.kw = g.kw;
    k.dh = g.dh;
    k.dw = g.dw;
    const std::size_t span_h = (g.kh - 1) * g.dh, span_w = (g.kw - 1) * g.dw;
    if (!transposed) {
        k.cs = g.c, k.src_h = g.h, k.src_w = g.w, k.in_g = g.cg(), k.out_g = g.og();
        k.top = static_cast<std::ptrdiff_t>(g.ph);
        k.left = static_cast<std::ptrdiff_t>(g.pw);
        k.oh = g.oh, k.ow = g.ow, k.sh = g.sh, k.sw = g.sw;
    } else {
        k.cs = g.o, k.src_h = g.oh, k.src_w = g.ow, k.in_g = g.og(), k.out_g = g.cg();
        k.top = static_cast<std::ptrdiff_t>(span_h) - static_cast<std::ptrdiff_t>(g.ph);
        k.left = static_cast<std::ptrdiff_t>(span_w) - static_cast<std::ptrdiff_t>(g.pw);
        k.oh = g.h, k.ow = g.w;  // stride 1
    }
    k.hs = (k.oh - 1) * k.sh + span_h + 1;
    k.ws = (k.ow - 1) * k.sw + span_w + 1;
    return k;
}

}  // namespace

// y = conv(x, w) + b: taps (c/G, kh, kw) of the padded x, weights as stored ([o, taps] rows).
template <class T>
void conv_forward_direct(const T* x, const T* w, const T* b, T* y, std::size_t n,
                         const ConvGeometry& g) {
    const Correlation k = correlation_of(g, false);
    const std::size_t taps = k.taps(), og = g.og();
    const auto packed =
        pack<T>(g.groups, og, taps, [&](std::size_t gi, std::size_t oc, std::size_t t) {
            return w[(gi * og + oc) * taps + t];
        });
    correlate(x, packed.data(), b, y, n, k);
}

// dx = conv_transpose(g, w) + b at stride 1: g padded by (k − 1)·d − pad on the top/left, taps
// (o/G, kh, kw) with the kernel flipped, dx[c] gathering w[o, c] (Note [direct conv]).
template <class T>
void conv_input_grad_direct(const T* gy, const T* w, const T* b, T* dx, std::size_t n,
                            const ConvGeometry& g) {
    const Correlation k = correlation_of(g, true);
    const std::size_t og = g.og(), cg = g.cg(), kk = g.kh * g.kw;
    const auto packed =
        pack<T>(g.groups, cg, k.taps(), [&](std::size_t gi, std::size_t ci, std::size_t t) {
            const std::size_t u = t / kk,
                              pq = t % kk;  // tap (u, p, q) reads w[., ., kh−1−p, kw−1−q]
            return w[((gi * og + u) * cg + ci) * kk + (kk - 1 - pq)];
        });
    correlate(gy, packed.data(), b, dx, n, k);
}

// dw[o, (c, p, q)] = Σ_{n, pixels} g[n, o, pixel] · x_padded[n, c, corner(pixel) + (p, q)]: the
// micro-kernel with the roles swapped (Note [direct conv]). Each reduction chunk of the batch
// accumulates its images in order in its own buffer laid out like the packed weights, [groups,
// blocks, taps, W] (taps rounded up to whole micro-kernel blocks, so every block adds in place);
// the buffers are summed into dw last, in chunk order (Note [fixed reduction order] in
// autograd/parallel.cpp): the same bits with any number of workers.
template <class T>
void conv_weight_grad_direct(const T* x, const T* gy, T* dw, std::size_t n, const ConvGeometry& g) {
    constexpr std::size_t W = block_width<T>();
    const Correlation k = correlation_of(g, false);
    const std::size_t og = g.og(), blocks = blocks_of(og, W), taps = k.taps(), P = k.oh * k.ow;
    const std::size_t taps_up = blocks_of(taps, kRows) * kRows, in_size = g.c * g.h * g.w;
    const std::size_t pad_size = k.cs * k.hs * k.ws, gt_size = g.groups * blocks * P * W;
    const std::size_t acc_size = g.groups * blocks * taps_up * W;
    const auto tap_off = k.tap_offsets();
    std::vector<std::ptrdiff_t> corner(P);
    for (std::size_t pix = 0; pix < P; ++pix)
        corner[pix] = static_cast<std::ptrdiff_t>(k.corner(pix));
    const std::size_t workers = batch_workers(n, work_of(k, n));
    const std::size_t chunks = reduction_chunks(n, acc_size);
    std::vector<std::vector<T>> partial(chunks, std::vector<T>(acc_size, T(0)));
    parallel_chunks(
        n, chunks, workers, [&](std::size_t, std::size_t c, std::size_t b0, std::size_t b1) {
            T* acc = partial[c].data();
            T* pad = thread_buffer<T, Scratch::padded_source>(pad_size);
            T* gt = thread_buffer<T, Scratch::block_outputs>(
                gt_size);  // g transposed: [groups, blocks, P, W]
            for (std::size_t i = b0; i < b1; ++i) {
                place(x + i * in_size, k.cs, k.src_h, k.src_w, k.top, k.left, pad, k.hs, k.ws);
                if (og % W != 0) std::fill(gt, gt + gt_size, T(0));
                const T* g_img = gy + i * g.o * P;
                for (std::size_t gi = 0; gi < g.groups; ++gi)
                    for (std::size_t oc = 0; oc < og; ++oc) {
                        const T* src = g_img + (gi * og + oc) * P;
                        T* dst = gt + ((gi * blocks + oc / W) * P) * W + oc % W;
                        for (std::size_t pix = 0; pix < P; ++pix)
                            dst[pix * W] = src[pix];
                    }
                for (std::size_t gi = 0; gi < g.groups; ++gi) {
                    const T* pad_g = pad + gi * k.in_g * k.hs * k.ws;
                    for (std::size_t t0 = 0; t0 < taps; t0 += kRows) {
                        // Taps past the last repeat it; they add into the rounding rows of acc.
                        const T* base[kRows];
                        for (std::size_t r = 0; r < kRows; ++r)
                            base[r] = pad_g + tap_off[std::min(t0 + r, taps - 1)];
                        for (std::size_t ob = 0; ob < blocks; ++ob) {
                            const std::size_t blk = gi * blocks + ob;
                            micro_kernel<true>(gt + blk * P * W, base, corner.data(), P,
                                               acc + (blk * taps_up + t0) * W, W);
                        }
                    }
                }
            }
        });
    // [groups, blocks, taps_up, W] → dw [groups·og, taps], summed over the chunks in order.
    for (std::size_t gi = 0; gi < g.groups; ++gi)
        for (std::size_t oc = 0; oc < og; ++oc) {
            T* row = dw + (gi * og + oc) * taps;
            const std::size_t from = ((gi * blocks + oc / W) * taps_up) * W + oc % W;
            for (std::size_t t = 0; t < taps; ++t) {
                T s = T(0);
                for (const auto& p : partial)
                    s += p[from + t * W];
                row[t] = s;
            }
        }
}

#define XGRAD_INSTANTIATE(T)                                                               \
    template void conv_forward_direct<T>(const T*, const T*, const T*, T*, std::size_t,    \
                                         const ConvGeometry&);                             \
    template void conv_input_grad_direct<T>(const T*, const T*, const T*, T*, std::size_t, \
                                            const ConvGeometry&);                          \
    template void conv_weight_grad_direct<T>(const T*, const T*, T*, std::size_t,          \
                                             const ConvGeometry&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::detail
