#include "autograd/ops/conv.hpp"

#include "autograd/ops/blas.hpp"
#include "autograd/ops/conv_direct.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/parallel.hpp"
#include "autograd/tuning.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace xgrad {

std::string size2_str(const Size2& s) {
    return fmt::format("[{}, {}]", s.h, s.w);
}

std::string detail::ConvGeometry::attributes() const {
    return fmt::format("stride={}, padding={}, dilation={}, groups={}", size2_str({sh, sw}),
                       size2_str({ph, pw}), size2_str({dh, dw}), groups);
}

namespace ops {
namespace {

// Note [conv family]: conv2d F(x, w), its input gradient Ft(g, w) (= conv_transpose2d) and its
// weight gradient Fw(x, g) (= conv2d_weight) are the three partial derivatives of one trilinear
// form B(x, w, g) = ⟨g, F(x, w)⟩. Each one's VJP is made of the other two:
//   F:  dx = Ft(g, w),   dw = Fw(x, g)
//   Ft: dg = F(gx, w),   dw = Fw(gx, g)
//   Fw: dx = Ft(g, gw),  dg = F(x, gw)
// so the family is closed under differentiation and create_graph works to any order. All three
// share one ConvGeometry: the shapes of the *convolution* (x → y), whichever op runs.
using detail::ConvGeometry;

// ---- kernels over raw buffers (Note [conv chunks]) ----

// Note [conv chunks]: im2col writes, for a chunk of nb images, the matrix
//   cols [c·kh·kw, nb·oh·ow],  cols[(ci·kh + p)·kw + q][b·P + i·ow + j] = x[b, ci, i·sh − ph +
//   p·dh, j·sw − pw + q·dw]
// (0 where that falls in the padding), so the conv of the whole chunk is one gemm per group:
//   Y_g [o/G, nb·P] = W_g [o/G, k] · cols_g [k, nb·P]
// whose columns are then scattered to NCHW. One large gemm runs at BLAS speed where a gemm per
// image (P = oh·ow columns) does not; the chunk is bounded by conv_workspace_limit so the
// buffer stays in a few MB. A chunk of one image needs no scatter: the gemm writes y directly.

// The output columns j whose input column j·s − pad + q·d lies in [0, w): [lo, hi).
struct ColumnRange {
    std::size_t lo, hi;
};
ColumnRange valid_columns(std::size_t q, const ConvGeometry& g) {
    const auto off = static_cast<std::ptrdiff_t>(q * g.dw) - static_cast<std::ptrdiff_t>(g.pw);
    const auto s = static_cast<std::ptrdiff_t>(g.sw);
    const auto ow = static_cast<std::ptrdiff_t>(g.ow);
    std::ptrdiff_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
    std::ptrdiff_t last = static_cast<std::ptrdiff_t>(g.w) - 1 - off;  // j·s ≤ last
    std::ptrdiff_t hi = last < 0 ? 0 : last / s + 1;
    lo = std::min(lo, ow);
    hi = std::clamp(hi, lo, ow);
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
}

// x: one image [c, h, w]; cols: its P columns of the chunk matrix, rows `ld` apart.
template <class T>
void im2col_general(const T* x, const ConvGeometry& g, const std::vector<ColumnRange>& ranges,
                    T* cols, std::size_t ld) {
    for (std::size_t ci = 0; ci < g.c; ++ci) {
        const T* plane = x + ci * g.in_plane();
        for (std::size_t p = 0; p < g.kh; ++p) {
            for (std::size_t q = 0; q < g.kw; ++q) {
                T* row = cols + ((ci * g.kh + p) * g.kw + q) * ld;
                const auto [lo, hi] = ranges[q];
                const std::ptrdiff_t col_off =
                    static_cast<std::ptrdiff_t>(q * g.dw) - static_cast<std::ptrdiff_t>(g.pw);
                for (std::size_t i = 0; i < g.oh; ++i) {
                    T* out = row + i * g.ow;
                    const std::ptrdiff_t hi_in = static_cast<std::ptrdiff_t>(i * g.sh + p * g.dh) -
                                                 static_cast<std::ptrdiff_t>(g.ph);
                    if (hi_in < 0 || hi_in >= static_cast<std::ptrdiff_t>(g.h)) {
                        std::fill(out, out + g.ow, T(0));
                        continue;
                    }
                    const T* src = plane + hi_in * static_cast<std::ptrdiff_t>(g.w) + col_off;
                    std::fill(out, out + lo, T(0));
                    if (g.sw == 1) {
                        std::memcpy(out + lo, src + lo, (hi - lo) * sizeof(T));
                    } else {
                        for (std::size_t j = lo; j < hi; ++j)
                            out[j] = src[j * g.sw];
                    }
                    std::fill(out + hi, out + g.ow, T(0));
                }
            }
        }
    }
}

// The adjoint of im2col: adds each column entry back to the pixel it was read from. x must be
// zeroed (or hold what the result is added to).
template <class T>
void col2im_general(const T* cols, std::size_t ld, const ConvGeometry& g,
                    const std::vector<ColumnRange>& ranges, T* x) {
    for (std::size_t ci = 0; ci < g.c; ++ci) {
        T* plane = x + ci * g.in_plane();
        for (std::size_t p = 0; p < g.kh; ++p) {
            for (std::size_t q = 0; q < g.kw; ++q) {
                const T* row = cols + ((ci * g.kh + p) * g.kw + q) * ld;
                const auto [lo, hi] = ranges[q];
                const std::ptrdiff_t col_off =
                    static_cast<std::ptrdiff_t>(q * g.dw) - static_cast<std::ptrdiff_t>(g.pw);
                for (std::size_t i = 0; i < g.oh; ++i) {
                    const std::ptrdiff_t hi_in = static_cast<std::ptrdiff_t>(i * g.sh + p * g.dh) -
                                                 static_cast<std::ptrdiff_t>(g.ph);
                    if (hi_in < 0 || hi_in >= static_cast<std::ptrdiff_t>(g.h)) continue;
                    const T* src = row + i * g.ow;
                    T* dst = plane + hi_in * static_cast<std::ptrdiff_t>(g.w) + col_off;
                    if (g.sw == 1) {
                        for (std::size_t j = lo; j < hi; ++j)
                            dst[j] += src[j];
                    } else {
                        for (std::size_t j = lo; j < hi; ++j)
                            dst[j * g.sw] += src[j];
                    }
                }
            }
        }
    }
}

// Note [stride-1 im2col]: with stride and dilation 1 (most convolutions), row i of block
// (ci, p, q) of the im2col matrix is ow consecutive pixels of the channel padded to
// [oh + kh − 1, ow + kw − 1], starting at (i + p, q). Padding the channel once into a small
// per-thread plane removes every bounds test from the copies, which the general loop pays per
// row of a few dozen bytes (callgrind: ~80 instructions a row, more than the copy itself).
// col2im runs the same walk backwards: it adds into the padded plane and then adds its interior
// to the image.

// d[0..n) = s[0..n) for the short rows of a conv: 8 at a time (one vector), then the rest.
// (An extra step of 4 measured more instructions, not fewer: callgrind, conv 32 → 64 on 14×14.)
template <class T>
inline void copy_row(T* __restrict d, const T* __restrict s, std::size_t n) {
    std::size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (std::size_t k = 0; k < 8; ++k)
            d[j + k] = s[j + k];
    for (; j < n; ++j)
        d[j] = s[j];
}

// d[0..n) += s[0..n), blocked like copy_row.
template <class T>
inline void add_row(T* __restrict d, const T* __restrict s, std::size_t n) {
    std::size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (std::size_t k = 0; k < 8; ++k)
            d[j + k] += s[j + k];
    for (; j < n; ++j)
        d[j] += s[j];
}

bool unit_stride(const ConvGeometry& g) {
    return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1;
}

// The padded plane of the calling thread, [oh + kh − 1, ow + kw − 1].
template <class T>
T* padded_plane(const ConvGeometry& g) {
    return detail::thread_buffer<T, detail::Scratch::im2col_plane>((g.oh + g.kh - 1) *
                                                                   (g.ow + g.kw - 1));
}

template <class T>
void im2col(const T* x, const ConvGeometry& g, const std::vector<ColumnRange>& ranges, T* cols,
            std::size_t ld) {
    if (!unit_stride(g)) return im2col_general(x, g, ranges, cols, ld);
    const std::size_t hp = g.oh + g.kh - 1, wp = g.ow + g.kw - 1;
    // Padded row r holds input row r − ph, columns from −pw (those outside the image stay 0).
    const std::size_t r_end = std::min(hp, g.ph + g.h), cols_in = std::min(g.w, wp - g.pw);
    T* pad = padded_plane<T>(g);
    std::fill(pad, pad + hp * wp, T(0));
    for (std::size_t ci = 0; ci < g.c; ++ci) {
        const T* plane = x + ci * g.in_plane();
        for (std::size_t r = g.ph; r < r_end; ++r)
            copy_row(pad + r * wp + g.pw, plane + (r - g.ph) * g.w, cols_in);
        for (std::size_t p = 0; p < g.kh; ++p) {
            for (std::size_t q = 0; q < g.kw; ++q) {
                T* row = cols + ((ci * g.kh + p) * g.kw + q) * ld;
                for (std::size_t i = 0; i < g.oh; ++i)
                    copy_row(row + i * g.ow, pad + (i + p) * wp + q, g.ow);
            }
        }
    }
}

template <class T>
void col2im(const T* cols, std::size_t ld, const ConvGeometry& g,
            const std::vector<ColumnRange>& ranges, T* x) {
    if (!unit_stride(g)) return col2im_general(cols, ld, g, ranges, x);
    const std::size_t hp = g.oh + g.kh - 1, wp = g.ow + g.kw - 1;
    const std::size_t r_end = std::min(hp, g.ph + g.h), cols_in = std::min(g.w, wp - g.pw);
    T* pad = padded_plane<T>(g);
    for (std::size_t ci = 0; ci < g.c; ++ci) {
        std::fill(pad, pad + hp * wp, T(0));
        for (std::size_t p = 0; p < g.kh; ++p) {
            for (std::size_t q = 0; q < g.kw; ++q) {
                const T* row = cols + ((ci * g.kh + p) * g.kw + q) * ld;
                for (std::size_t i = 0; i < g.oh; ++i)
                    add_row(pad + (i + p) * wp + q, row + i * g.ow, g.ow);
            }
        }
        T* plane = x + ci * g.in_plane();
        for (std::size_t r = g.ph; r < r_end; ++r)
            add_row(plane + (r - g.ph) * g.w, pad + r * wp + g.pw, cols_in);
    }
}

// Scratch buffers of the calling thread, one set per worker, reused across calls (a fresh
// multi-MB allocation per call costs page faults on every conv). Kind 0: im2col matrix; kind 1:
// the chunk's gathered g or gemm output; kind 2: a worker's partial weight gradient.
// Call only from the thread that runs the op, before parallel_batch starts its workers.
template <class T>
T* workspace(std::size_t worker, std::size_t kind, std::size_t size) {
    struct Buffer {
        std::unique_ptr<T[]> data;
        std::size_t capacity = 0;
    };
    thread_local std::vector<Buffer> buffers;
    const std::size_t slot = worker * 3 + kind;
    if (buffers.size() <= slot) buffers.resize(slot + 1);
    Buffer& b = buffers[slot];
    if (b.capacity < size) {
        b.data.reset();
        b.data.reset(new T[size]);
        b.capacity = size;
    }
    return b.data.get();
}

// Images per chunk: as many as fit the workspace limit, at least one, and with several workers
// at most a quarter of a worker's share, so chunks can balance between them.
std::size_t chunk_images(const ConvGeometry& g, std::size_t n, std::size_t workers) {
    const std::size_t per_image = std::max<std::size_t>(g.rows() * g.out_plane(), 1);
    const std::size_t most = workers > 1 ? n / (4 * workers) : n;
    return std::clamp<std::size_t>(tuning::conv_workspace_limit() / per_image, 1,
                                   std::max<std::size_t>(most, 1));
}

std::vector<ColumnRange> column_ranges(const ConvGeometry& g) {
    std::vector<ColumnRange> r(g.kw);
    for (std::size_t q = 0; q < g.kw; ++q)
        r[q] = valid_columns(q, g);
    return r;
}

// Multiply-adds of one of the three products over a batch of n.
double conv_work(const ConvGeometry& g, std::size_t n) {
    return static_cast<double>(n) * static_cast<double>(g.o) * static_cast<double>(g.k()) *
           static_cast<double>(g.out_plane());
}

// Per-worker buffers, taken before the workers start (workspace is not thread-safe).
template <class T>
struct WorkerBuffers {
    std::vector<T*> cols, chunk;
    WorkerBuffers(std::size_t workers, std::size_t cols_size, std::size_t chunk_size)
        : cols(workers, nullptr), chunk(workers, nullptr) {
        for (std::size_t wk = 0; wk < workers; ++wk) {
            if (cols_size) cols[wk] = workspace<T>(wk, 0, cols_size);
            if (chunk_size) chunk[wk] = workspace<T>(wk, 1, chunk_size);
        }
    }
};

// y = conv(x, w) + b: x [n, c, h, w], w [o, c/G, kh, kw], b [o] or null → [n, o, oh, ow].
template <class T>
xt::xarray<T> conv_forward(const xt::xarray<T>& x, const xt::xarray<T>& w, const T* b,
                           const ConvGeometry& g) {
    const std::size_t n = x.shape()[0], P = g.out_plane(), K = g.k(), og = g.og();
    xt::xarray<T> y = xt::xarray<T>::from_shape(g.y_shape(n));
    const T* xd = x.data();
    const T* wd = w.data();
    T* yd = y.data();
    if (detail::direct_forward(g)) {  // Note [direct conv]
        detail::conv_forward_direct(xd, wd, b, yd, n, g);
        return y;
    }
    auto add_bias = [&](T* y_img) {
        if (!b) return;
        for (std::size_t oc = 0; oc < g.o; ++oc) {
            T* row = y_img + oc * P;
            const T v = b[oc];
            for (std::size_t i = 0; i < P; ++i)
                row[i] += v;
        }
    };
    const std::size_t workers = detail::batch_workers(n, conv_work(g, n));
    if (g.pointwise()) {
        detail::parallel_batch(n, workers, 1, [&](std::size_t, std::size_t b0, std::size_t b1) {
            for (std::size_t i = b0; i < b1; ++i) {
                for (std::size_t gi = 0; gi < g.groups; ++gi) {
                    // [o/G, P] = [o/G, c/G] · [c/G, P]
                    detail::gemm<T>(false, false, og, P, g.cg(), T(1), wd + gi * og * g.cg(),
                                    g.cg(), xd + (i * g.c + gi * g.cg()) * P, P, T(0),
                                    yd + (i * g.o + gi * og) * P, P);
                }
                add_bias(yd + i * g.o * P);
            }
        });
        return y;
    }
    const auto ranges = column_ranges(g);
    const std::size_t nb_max = chunk_images(g, n, workers);
    const WorkerBuffers<T> buf(workers, g.rows() * nb_max * P, nb_max > 1 ? g.o * nb_max * P : 0);
    detail::parallel_batch(n, workers, nb_max, [&](std::size_t wk, std::size_t b0, std::size_t b1) {
        for (std::size_t n0 = b0; n0 < b1; n0 += nb_max) {
            const std::size_t nb = std::min(nb_max, b1 - n0), ld = nb * P;
            T* cols = buf.cols[wk];  // [c·kh·kw, nb·P]
            for (std::size_t i = 0; i < nb; ++i) {
                im2col(xd + (n0 + i) * g.c * g.in_plane(), g, ranges, cols + i * P, ld);
            }
            // One image: the gemm adds to y preloaded with the bias (beta = 1 spares BLAS its
            // pass zeroing the result, and us a pass adding the bias); several: into
            // [o, nb·P], then scattered with the bias.
            T* out = nb == 1 ? yd + n0 * g.o * P : buf.chunk[wk];
            if (nb == 1) {
                for (std::size_t oc = 0; oc < g.o; ++oc)
                    std::fill(out + oc * P, out + (oc + 1) * P, b ? b[oc] : T(0));
            }
            for (std::size_t gi = 0; gi < g.groups; ++gi) {
                // [o/G, nb·P] = [o/G, k] · [k, nb·P] (+ the preloaded y when nb = 1)
                detail::gemm<T>(false, false, og, ld, K, T(1), wd + gi * og * K, K,
                                cols + gi * K * ld, ld, nb == 1 ? T(1) : T(0), out + gi * og * ld,
                                ld);
            }
            if (nb == 1) continue;
            for (std::size_t i = 0; i < nb; ++i) {
                T* y_img = yd + (n0 + i) * g.o * P;
                for (std::size_t oc = 0; oc < g.o; ++oc) {
                    const T* src = out + oc * ld + i * P;
                    T* dst = y_img + oc * P;
                    const T v = b ? b[oc] : T(0);
                    for (std::size_t j = 0; j < P; ++j)
                        dst[j] = src[j] + v;
                }
            }
        }
    });
    return y;
}

// The chunk of g [n, o, oh, ow] for images n0..n0+nb as one [o, nb·P] matrix with rows `ld`
// apart: the images' own rows when nb = 1, else a gathered copy in `scratch`.
template <class T>
const T* gather_chunk(const T* gd, const ConvGeometry& g, std::size_t n0, std::size_t nb,
                      T* scratch, std::size_t& ld) {
    const std::size_t P = g.out_plane();
    if (nb == 1) {
        ld = P;
        return gd + n0 * g.o * P;
    }
    ld = nb * P;
    for (std::size_t i = 0; i < nb; ++i) {
        const T* g_img = gd + (n0 + i) * g.o * P;
        for (std::size_t oc = 0; oc < g.o; ++oc) {
            std::memcpy(scratch + oc * ld + i * P, g_img + oc * P, P * sizeof(T));
        }
    }
    return scratch;
}

// Ft(g, w) + b: the conv's input gradient, i.e. conv_transpose2d. g [n, o, oh, ow], w [o, c/G,
// kh, kw], b [c] or null → [n, c, h, w].
template <class T>
xt::xarray<T> conv_input_grad(const xt::xarray<T>& gy, const xt::xarray<T>& w, const T* b,
                              const ConvGeometry& g) {
    const std::size_t n = gy.shape()[0], P = g.out_plane(), K = g.k(), og = g.og();
    const std::size_t in_size = g.c * g.in_plane();
    xt::xarray<T> dx = xt::xarray<T>::from_shape(g.x_shape(n));
    const T* gd = gy.data();
    const T* wd = w.data();
    T* dxd = dx.data();
    if (detail::direct_input_grad(g)) {  // Note [direct conv]
        detail::conv_input_grad_direct(gd, wd, b, dxd, n, g);
        return dx;
    }
    auto add_bias = [&](std::size_t i) {
        if (!b) return;
        for (std::size_t ci = 0; ci < g.c; ++ci) {
            T* plane = dxd + i * in_size + ci * g.in_plane();
            const T v = b[ci];
            for (std::size_t j = 0; j < g.in_plane(); ++j)
                plane[j] += v;
        }
    };
    const std::size_t workers = detail::batch_workers(n, conv_work(g, n));
    if (g.pointwise()) {
        detail::parallel_batch(n, workers, 1, [&](std::size_t, std::size_t b0, std::size_t b1) {
            for (std::size_t i = b0; i < b1; ++i) {
                for (std::size_t gi = 0; gi < g.groups; ++gi) {
                    // [c/G, P] = [o/G, c/G]ᵀ · [o/G, P]
                    detail::gemm<T>(true, false, g.cg(), P, og, T(1), wd + gi * og * g.cg(), g.cg(),
                                    gd + (i * g.o + gi * og) * P, P, T(0),
                                    dxd + i * in_size + gi * g.cg() * P, P);
                }
                add_bias(i);
            }
        });
        return dx;
    }
    const auto ranges = column_ranges(g);
    const std::size_t nb_max = chunk_images(g, n, workers);
    const WorkerBuffers<T> buf(workers, g.rows() * nb_max * P, nb_max > 1 ? g.o * nb_max * P : 0);
    detail::parallel_batch(n, workers, nb_max, [&](std::size_t wk, std::size_t b0, std::size_t b1) {
        std::fill(dxd + b0 * in_size, dxd + b1 * in_size, T(0));  // col2im adds
        for (std::size_t n0 = b0; n0 < b1; n0 += nb_max) {
            const std::size_t nb = std::min(nb_max, b1 - n0), ld = nb * P;
            std::size_t ldg = 0;
            const T* gchunk = gather_chunk(gd, g, n0, nb, buf.chunk[wk], ldg);  // [o, nb·P]
            T* cols = buf.cols[wk];  // [c·kh·kw, nb·P]
            for (std::size_t gi = 0; gi < g.groups; ++gi) {
                // [k, nb·P] = [o/G, k]ᵀ · [o/G, nb·P]
                detail::gemm<T>(true, false, K, ld, og, T(1), wd + gi * og * K, K,
                                gchunk + gi * og * ldg, ldg, T(0), cols + gi * K * ld, ld);
            }
            for (std::size_t i = 0; i < nb; ++i) {
                col2im(cols + i * P, ld, g, ranges, dxd + (n0 + i) * in_size);
                add_bias(n0 + i);
            }
        }
    });
    return dx;
}

// Fw(x, g): the conv's weight gradient. x [n, c, h, w], g [n, o, oh, ow] → [o, c/G, kh, kw].
// Each worker sums its share of the batch into its own buffer; the partial sums are added last.
template <class T>
xt::xarray<T> conv_weight_grad(const xt::xarray<T>& x, const xt::xarray<T>& gy,
                               const ConvGeometry& g) {
    const std::size_t n = x.shape()[0], P = g.out_plane(), K = g.k(), og = g.og();
    xt::xarray<T> dw = xt::xarray<T>::from_shape(g.w_shape());
    const T* xd = x.data();
    const T* gd = gy.data();
    T* dwd = dw.data();
    if (detail::direct_weight_grad(g)) {  // Note [direct conv]
        detail::conv_weight_grad_direct(xd, gd, dwd, n, g);
        return dw;
    }
    const std::size_t w_size = dw.size();
    std::fill(dwd, dwd + w_size, T(0));
    if (n == 0) return dw;
    const std::size_t workers = detail::batch_workers(n, conv_work(g, n));
    std::vector<T*> partial(workers, dwd);  // worker 0 sums into dw itself
    for (std::size_t wk = 1; wk < workers; ++wk) {
        partial[wk] = workspace<T>(wk, 2, w_size);
        std::fill(partial[wk], partial[wk] + w_size, T(0));
    }
    if (g.pointwise()) {
        detail::parallel_batch(n, workers, 1, [&](std::size_t wk, std::size_t b0, std::size_t b1) {
            for (std::size_t i = b0; i < b1; ++i) {
                for (std::size_t gi = 0; gi < g.groups; ++gi) {
                    // [o/G, c/G] += [o/G, P] · [c/G, P]ᵀ
                    detail::gemm<T>(false, true, og, g.cg(), P, T(1), gd + (i * g.o + gi * og) * P,
                                    P, xd + (i * g.c + gi * g.cg()) * P, P, T(1),
                                    partial[wk] + gi * og * g.cg(), g.cg());
                }
            }
        });
    } else {
        const auto ranges = column_ranges(g);
        const std::size_t nb_max = chunk_images(g, n, workers);
        const WorkerBuffers<T> buf(workers, g.rows() * nb_max * P,
                                   nb_max > 1 ? g.o * nb_max * P : 0);
        detail::parallel_batch(
            n, workers, nb_max, [&](std::size_t wk, std::size_t b0, std::size_t b1) {
                for (std::size_t n0 = b0; n0 < b1; n0 += nb_max) {
                    const std::size_t nb = std::min(nb_max, b1 - n0), ld = nb * P;
                    T* cols = buf.cols[wk];  // [c·kh·kw, nb·P]
                    for (std::size_t i = 0; i < nb; ++i) {
                        im2col(xd + (n0 + i) * g.c * g.in_plane(), g, ranges, cols + i * P, ld);
                    }
                    std::size_t ldg = 0;
                    const T* gchunk = gather_chunk(gd, g, n0, nb, buf.chunk[wk], ldg);  // [o, nb·P]
                    for (std::size_t gi = 0; gi < g.groups; ++gi) {
                        // [o/G, k] += [o/G, nb·P] · [k, nb·P]ᵀ
                        detail::gemm<T>(false, true, og, K, ld, T(1), gchunk + gi * og * ldg, ldg,
                                        cols + gi * K * ld, ld, T(1), partial[wk] + gi * og * K, K);
                    }
                }
            });
    }
    for (std::size_t wk = 1; wk < workers; ++wk) {
        const T* p = partial[wk];
        for (std::size_t j = 0; j < w_size; ++j)
            dwd[j] += p[j];
    }
    return dw;
}

// ---- the three ops of the family (Note [conv family]) ----

template <class T>
Tensor<T> run_conv(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                   const ConvGeometry& g);
template <class T>
Tensor<T> run_conv_input(const Tensor<T>& gy, const Tensor<T>& w, const Tensor<T>& b,
                         const ConvGeometry& g);
template <class T>
Tensor<T> run_conv_weight(const Tensor<T>& x, const Tensor<T>& gy, const ConvGeometry& g);

template <class T>
Tensor<T> channel_sum(const Tensor<T>& t) {
    return sum(t, Axes{0, 2, 3});
}

template <class T>
struct Conv2d {
    static constexpr const char* name = "conv2d";
    ConvGeometry geo;
    Tensor<T> x, w;  // each gradient reads the other operand
    bool has_bias = false;
    bool bias_requires_grad = false;

    std::string attributes() const { return geo.attributes(); }
    xt::xarray<T> forward(const std::vector<Tensor<T>>& in) {
        x = in[0];
        w = in[1];
        has_bias = in.size() > 2;
        bias_requires_grad = has_bias && in[2].requires_grad();
        return conv_forward(x.value(), w.value(), has_bias ? in[2].value().data() : nullptr, geo);
    }
    // y = F(x, w) + b  ⇒  dx = Ft(g, w) (conv_transpose2d), dw = Fw(x, g) (conv2d_weight),
    // db = Σ_{n, i, j} g
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        std::vector<Tensor<T>> out(has_bias ? 3 : 2);
        if (x.requires_grad()) out[0] = run_conv_input(g, w, Tensor<T>(), geo);
        if (w.requires_grad()) out[1] = run_conv_weight(x, g, geo);
        if (bias_requires_grad) out[2] = channel_sum(g);
        return out;
    }
};

template <class T>
struct ConvTranspose2d {
    static constexpr const char* name = "conv_transpose2d";
    ConvGeometry geo;
    Tensor<T> gy, w;
    bool has_bias = false;
    bool bias_requires_grad = false;

    std::string attributes() const { return geo.attributes(); }
    xt::xarray<T> forward(const std::vector<Tensor<T>>& in) {
        gy = in[0];
        w = in[1];
        has_bias = in.size() > 2;
        bias_requires_grad = has_bias && in[2].requires_grad();
        return conv_input_grad(gy.value(), w.value(), has_bias ? in[2].value().data() : nullptr,
                               geo);
    }
    // z = Ft(u, w) + b  ⇒  du = F(g, w) (conv2d), dw = Fw(g, u) (conv2d_weight), db = Σ_{n, i, j} g
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        std::vector<Tensor<T>> out(has_bias ? 3 : 2);
        if (gy.requires_grad()) out[0] = run_conv(g, w, Tensor<T>(), geo);
        if (w.requires_grad()) out[1] = run_conv_weight(g, gy, geo);
        if (bias_requires_grad) out[2] = channel_sum(g);
        return out;
    }
};

template <class T>
struct Conv2dWeight {
    static constexpr const char* name = "conv2d_weight";
    ConvGeometry geo;
    Tensor<T> x, gy;

    std::string attributes() const { return geo.attributes(); }
    xt::xarray<T> forward(const Tensor<T>& x_in, const Tensor<T>& gy_in) {
        x = x_in;
        gy = gy_in;
        return conv_weight_grad(x.value(), gy.value(), geo);
    }
    // dw = Fw(x, u)  ⇒  dx = Ft(u, g) (conv_transpose2d), du = F(x, g) (conv2d)
    Grads<T, 2> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return {x.requires_grad() ? run_conv_input(gy, g, Tensor<T>(), geo) : Tensor<T>(),
                gy.requires_grad() ? run_conv(x, g, Tensor<T>(), geo) : Tensor<T>()};
    }
};

template <class T>
std::vector<Tensor<T>> operands(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& bias) {
    std::vector<Tensor<T>> in{a, b};
    if (bias.defined()) in.push_back(bias);
    return in;
}

template <class T>
Tensor<T> run_conv(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                   const ConvGeometry& g) {
    return record_list(Conv2d<T>{g, {}, {}, false, false}, operands(x, w, b));
}

template <class T>
Tensor<T> run_conv_input(const Tensor<T>& gy, const Tensor<T>& w, const Tensor<T>& b,
                         const ConvGeometry& g) {
    return record_list(ConvTranspose2d<T>{g, {}, {}, false, false}, operands(gy, w, b));
}

template <class T>
Tensor<T> run_conv_weight(const Tensor<T>& x, const Tensor<T>& gy, const ConvGeometry& g) {
    return record(Conv2dWeight<T>{g, {}, {}}, x, gy);
}

// ---- shape checks: each public op builds its ConvGeometry here ----

// "x=[..], weight=[..]" plus the bias when there is one: every message names all operands.
std::string operand_list(const Shape& x, const Shape& w, const Shape* b, const char* x_name = "x",
                         const char* w_name = "weight") {
    std::string s = fmt::format("{}={}, {}={}", x_name, shape_str(x), w_name, shape_str(w));
    if (b) s += fmt::format(", bias={}", shape_str(*b));
    return s;
}

void check_attributes(const char* op, const ConvOptions& opt) {
    if (opt.stride().h == 0 || opt.stride().w == 0 || opt.dilation().h == 0 ||
        opt.dilation().w == 0 || opt.groups() == 0) {
        throw ValueError(
            fmt::format("{}: stride, dilation and groups must be >= 1; got stride={}, "
                        "dilation={}, groups={}",
                        op, size2_str(opt.stride()), size2_str(opt.dilation()), opt.groups()));
    }
}

// Spatial output size of a conv along one axis, or throws when the (dilated) kernel does not
// fit the padded input. `pad_total` is before + after.
std::size_t conv_out(std::size_t in, std::size_t pad_total, std::size_t k, std::size_t s,
                     std::size_t d) {
    return (in + pad_total - d * (k - 1) - 1) / s + 1;
}

// conv2d's geometry for x [n, c, h, w] and w [o, c/G, kh, kw] (shapes already of rank 4);
// `op`, `x_user`, `w_user` are what the user called and passed (conv1d passes its 3-D shapes).
ConvGeometry conv2d_geometry(const char* op, const Shape& xs, const Shape& ws, const Shape* bs,
                             const ConvOptions& opt, const Shape& x_user, const Shape& w_user) {
    check_attributes(op, opt);
    const std::string names = operand_list(x_user, w_user, bs);
    const std::size_t G = opt.groups();
    if (ws[0] % G != 0 || xs[1] % G != 0) {
        throw ShapeError(
            fmt::format("{}: input channels {} and output channels {} must both be "
                        "divisible by groups={}; got {}",
                        op, xs[1], ws[0], G, names));
    }
    if (xs[1] != ws[1] * G) {
        throw ShapeError(
            fmt::format("{}: input {} has {} channels but weight {} expects {} "
                        "(groups={})",
                        op, shape_str(x_user), xs[1], shape_str(w_user), ws[1] * G, G));
    }
    if (bs && (bs->size() != 1 || (*bs)[0] != ws[0])) {
        throw ShapeError(fmt::format("{}: bias must be [{}] (one per output channel); got {}", op,
                                     ws[0], names));
    }
    ConvGeometry g;
    g.n = xs[0];
    g.c = xs[1];
    g.h = xs[2];
    g.w = xs[3];
    g.o = ws[0];
    g.kh = ws[2];
    g.kw = ws[3];
    g.sh = opt.stride().h;
    g.sw = opt.stride().w;
    g.dh = opt.dilation().h;
    g.dw = opt.dilation().w;
    g.groups = G;
    if (g.kh == 0 || g.kw == 0) {
        throw ShapeError(fmt::format("{}: the kernel must not be empty; got {}", op, names));
    }
    std::size_t pad_h = 2 * opt.padding().h, pad_w = 2 * opt.padding().w;
    g.ph = opt.padding().h;
    g.pw = opt.padding().w;
    if (opt.padding_same()) {
        if (g.sh != 1 || g.sw != 1) {
            throw ValueError(fmt::format("{}: padding 'same' needs stride 1; got stride={}", op,
                                         size2_str(opt.stride())));
        }
        pad_h = g.dh * (g.kh - 1);
        pad_w = g.dw * (g.kw - 1);
        g.ph = pad_h / 2;  // NOTE: an odd total puts the extra row/column after (bottom/right)
        g.pw = pad_w / 2;
    }
    const std::size_t eh = g.dh * (g.kh - 1) + 1, ew = g.dw * (g.kw - 1) + 1;  // dilated kernel
    if (g.h + pad_h < eh || g.w + pad_w < ew) {
        throw ShapeError(
            fmt::format("{}: kernel {}x{} (dilation {}, so {}x{}) is larger than the "
                        "padded input {}x{} (padding {}); got {}",
                        op, g.kh, g.kw, size2_str(opt.dilation()), eh, ew, g.h + pad_h, g.w + pad_w,
                        size2_str({g.ph, g.pw}), names));
    }
    g.oh = conv_out(g.h, pad_h, g.kh, g.sh, g.dh);
    g.ow = conv_out(g.w, pad_w, g.kw, g.sw, g.dw);
    return g;
}

}  // namespace
}  // namespace ops

template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                 const ConvOptions& options) {
    const Shape* bs = bias.defined() ? &bias.shape() : nullptr;
    if (x.dim() != 4 || weight.dim() != 4) {
        throw ShapeError(
            fmt::format("conv2d: expected x [n, c, h, w] and weight [o, c/groups, "
                        "kh, kw]; got {}",
                        ops::operand_list(x.shape(), weight.shape(), bs)));
    }
    const auto g = ops::conv2d_geometry("conv2d", x.shape(), weight.shape(), bs, options, x.shape(),
                                        weight.shape());
    return ops::run_conv(x, weight, bias, g);
}

template <class T>
Tensor<T> conv_transpose2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                           const ConvOptions& opt) {
    const char* op = "conv_transpose2d";
    const Shape* bs = bias.defined() ? &bias.shape() : nullptr;
    const std::string names = ops::operand_list(x.shape(), weight.shape(), bs);
    if (x.dim() != 4 || weight.dim() != 4) {
        throw ShapeError(
            fmt::format("{}: expected x [n, c_in, h, w] and weight [c_in, "
                        "c_out/groups, kh, kw]; got {}",
                        op, names));
    }
    ops::check_attributes(op, opt);
    if (opt.padding_same()) {
        throw ValueError(
            fmt::format("{}: padding 'same' is not supported; give the padding as "
                        "numbers",
                        op));
    }
    const Size2 s = opt.stride(), p = opt.padding(), d = opt.dilation(),
                op_pad = opt.output_padding();
    if ((op_pad.h >= s.h && op_pad.h >= d.h) || (op_pad.w >= s.w && op_pad.w >= d.w)) {
        throw ValueError(
            fmt::format("{}: output_padding must be smaller than the stride or the "
                        "dilation; got output_padding={}, stride={}, dilation={}",
                        op, size2_str(op_pad), size2_str(s), size2_str(d)));
    }
    const Shape& xs = x.shape();
    const Shape& ws = weight.shape();
    const std::size_t G = opt.groups();
    if (xs[1] != ws[0]) {
        throw ShapeError(
            fmt::format("{}: input {} has {} channels but weight {} expects {} "
                        "(weight is [c_in, c_out/groups, kh, kw])",
                        op, shape_str(xs), xs[1], shape_str(ws), ws[0]));
    }
    if (ws[0] % G != 0) {
        throw ShapeError(fmt::format("{}: input channels {} must be divisible by groups={}; got {}",
                                     op, ws[0], G, names));
    }
    const std::size_t c_out = ws[1] * G;
    if (bs && (bs->size() != 1 || (*bs)[0] != c_out)) {
        throw ShapeError(fmt::format("{}: bias must be [{}] (one per output channel); got {}", op,
                                     c_out, names));
    }
    if (ws[2] == 0 || ws[3] == 0) {
        throw ShapeError(fmt::format("{}: the kernel must not be empty; got {}", op, names));
    }
    // out = (in − 1)·s − 2p + d·(k − 1) + output_padding + 1, computed signed: it may be ≤ 0.
    auto out_size = [](std::size_t in, std::size_t s_, std::size_t p_, std::size_t d_,
                       std::size_t k, std::size_t op_) {
        return static_cast<std::ptrdiff_t>((in - 1) * s_ + d_ * (k - 1) + op_ + 1) -
               static_cast<std::ptrdiff_t>(2 * p_);
    };
    const std::ptrdiff_t oh = xs[2] == 0 ? 0 : out_size(xs[2], s.h, p.h, d.h, ws[2], op_pad.h);
    const std::ptrdiff_t ow = xs[3] == 0 ? 0 : out_size(xs[3], s.w, p.w, d.w, ws[3], op_pad.w);
    if (oh <= 0 || ow <= 0) {
        throw ShapeError(
            fmt::format("{}: the output would be {}x{} (padding {} is too large for "
                        "the input and kernel); got {}",
                        op, oh, ow, size2_str(p), names));
    }
    // The geometry of the conv this op is the adjoint of: its input is our output.
    detail::ConvGeometry g;
    g.n = xs[0];
    g.c = c_out;
    g.h = static_cast<std::size_t>(oh);
    g.w = static_cast<std::size_t>(ow);
    g.o = ws[0];
    g.kh = ws[2];
    g.kw = ws[3];
    g.oh = xs[2];
    g.ow = xs[3];
    g.sh = s.h;
    g.sw = s.w;
    g.ph = p.h;
    g.pw = p.w;
    g.dh = d.h;
    g.dw = d.w;
    g.groups = G;
    return ops::run_conv_input(x, weight, bias, g);
}

template <class T>
Tensor<T> conv2d_weight(const Tensor<T>& x, const Tensor<T>& grad_out, Size2 kernel_size,
                        const ConvOptions& options) {
    const char* op = "conv2d_weight";
    const std::string names =
        ops::operand_list(x.shape(), grad_out.shape(), nullptr, "x", "grad_out");
    if (x.dim() != 4 || grad_out.dim() != 4 || x.shape()[0] != grad_out.shape()[0]) {
        throw ShapeError(
            fmt::format("{}: expected x [n, c, h, w] and grad_out [n, o, oh, ow]; "
                        "got {}",
                        op, names));
    }
    const std::size_t G = options.groups() == 0 ? 1 : options.groups();
    if (x.shape()[1] % G != 0) {
        throw ShapeError(fmt::format("{}: input channels {} must be divisible by groups={}; got {}",
                                     op, x.shape()[1], G, names));
    }
    const Shape ws{grad_out.shape()[1], x.shape()[1] / G, kernel_size.h, kernel_size.w};
    const auto g = ops::conv2d_geometry(op, x.shape(), ws, nullptr, options, x.shape(), ws);
    if (grad_out.shape() != g.y_shape(g.n)) {
        throw ShapeError(fmt::format("{}: grad_out must have the conv2d output shape {}; got {}",
                                     op, shape_str(g.y_shape(g.n)), names));
    }
    return ops::run_conv_weight(x, grad_out, g);
}

template <class T>
Tensor<T> conv1d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                 const ConvOptions& options) {
    const Shape* bs = bias.defined() ? &bias.shape() : nullptr;
    if (x.dim() != 3 || weight.dim() != 3) {
        throw ShapeError(
            fmt::format("conv1d: expected x [n, c, l] and weight [o, c/groups, k]; "
                        "got {}",
                        ops::operand_list(x.shape(), weight.shape(), bs)));
    }
    // A height-1 image: x [n, c, 1, l], weight [o, c/G, 1, k], only the width options.
    ConvOptions opt2;
    opt2.stride({1, options.stride().w})
        .dilation({1, options.dilation().w})
        .groups(options.groups());
    if (options.padding_same()) {
        opt2.padding(Padding::same);
    } else {
        opt2.padding({0, options.padding().w});
    }
    const Shape xs{x.shape()[0], x.shape()[1], 1, x.shape()[2]};
    const Shape ws{weight.shape()[0], weight.shape()[1], 1, weight.shape()[2]};
    const auto g = ops::conv2d_geometry("conv1d", xs, ws, bs, opt2, x.shape(), weight.shape());
    const Tensor<T> y = ops::run_conv(unsqueeze(x, 2), unsqueeze(weight, 2), bias, g);
    return squeeze(y, 2);  // [n, o, ol]
}

#define XGRAD_INSTANTIATE(T)                                                                  \
    template Tensor<T> conv2d(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,           \
                              const ConvOptions&);                                            \
    template Tensor<T> conv_transpose2d(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
                                        const ConvOptions&);                                  \
    template Tensor<T> conv2d_weight(const Tensor<T>&, const Tensor<T>&, Size2,               \
                                     const ConvOptions&);                                     \
    template Tensor<T> conv1d(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,           \
                              const ConvOptions&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
