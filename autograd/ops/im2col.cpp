#include "autograd/ops/im2col.hpp"

#include "autograd/ops/blas.hpp"
#include "autograd/parallel.hpp"
#include "autograd/tuning.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace xgrad::detail {

// Note [conv chunks]: im2col writes, for a chunk of nb images, the matrix
//   cols [c·kh·kw, nb·oh·ow],  cols[(ci·kh + p)·kw + q][b·P + i·ow + j] = x[b, ci, i·sh − ph +
//   p·dh, j·sw − pw + q·dw]
// (0 where that falls in the padding), so the conv of the whole chunk is one gemm per group:
//   Y_g [o/G, nb·P] = W_g [o/G, k] · cols_g [k, nb·P]
// whose columns are then scattered to NCHW. One large gemm runs at BLAS speed where a gemm per
// image (P = oh·ow columns) does not; the chunk is bounded by tuning::conv_workspace_limit so
// the buffer stays in a few MB. A chunk of one image needs no scatter: the gemm writes y directly.

namespace {

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

}  // namespace

std::vector<ColumnRange> column_ranges(const ConvGeometry& g) {
    std::vector<ColumnRange> r(g.kw);
    for (std::size_t q = 0; q < g.kw; ++q) {
        const auto off = static_cast<std::ptrdiff_t>(q * g.dw) - static_cast<std::ptrdiff_t>(g.pw);
        r[q] = valid_range(off, g.sw, g.w, g.ow);
    }
    return r;
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

namespace {

// Scratch buffers of the calling thread, one set per worker, reused across calls (a fresh
// multi-MB allocation per call costs page faults on every conv). Kind 0: im2col matrix; kind 1:
// the chunk's gathered g or gemm output (both per worker); kind 2: the partial weight gradient
// of a reduction chunk (Note [fixed reduction order] in autograd/parallel.cpp).
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

// Images per chunk: as many as fit the workspace limit, at least one, and at most `most`. The
// chunks do not depend on the number of workers: how an image's product is cut into gemms
// changes its last bits (a one-image chunk adds the bias inside the gemm), and results must not
// depend on the thread count.
std::size_t images_fitting(const ConvGeometry& g, std::size_t most) {
    const std::size_t per_image = std::max<std::size_t>(g.rows() * g.out_plane(), 1);
    return std::clamp<std::size_t>(tuning::conv_workspace_limit() / per_image, 1,
                                   std::max<std::size_t>(most, 1));
}

// For the forward and input-gradient products, an eighth of the batch at most, so the chunks
// can balance between 2-8 workers.
std::size_t chunk_images(const ConvGeometry& g, std::size_t n) {
    return images_fitting(g, n / 8);
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

}  // namespace

// y = conv(x, w) + b: x [n, c, h, w], w [o, c/G, kh, kw], b [o] or null → [n, o, oh, ow].
template <class T>
void conv_forward_im2col(const T* xd, const T* wd, const T* b, T* yd, std::size_t n,
                         const ConvGeometry& g) {
    const std::size_t P = g.out_plane(), K = g.k(), og = g.og();
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
        return;
    }
    const auto ranges = column_ranges(g);
    const std::size_t nb_max = chunk_images(g, n);
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
}

// Ft(g, w) + b: the conv's input gradient, i.e. conv_transpose2d. g [n, o, oh, ow], w [o, c/G,
// kh, kw], b [c] or null → [n, c, h, w].
template <class T>
void conv_input_grad_im2col(const T* gd, const T* wd, const T* b, T* dxd, std::size_t n,
                            const ConvGeometry& g) {
    const std::size_t P = g.out_plane(), K = g.k(), og = g.og();
    const std::size_t in_size = g.c * g.in_plane();
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
        return;
    }
    const auto ranges = column_ranges(g);
    const std::size_t nb_max = chunk_images(g, n);
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
}

// Fw(x, g): the conv's weight gradient. x [n, c, h, w], g [n, o, oh, ow] → [o, c/G, kh, kw].
// The batch is cut into fixed reduction chunks; each sums its images in order into its own
// buffer (chunk 0 into dw itself), and the chunk sums are added in chunk order last (Note [fixed
// reduction order] in autograd/parallel.cpp): the same bits with any number of workers.
template <class T>
void conv_weight_grad_im2col(const T* xd, const T* gd, T* dwd, std::size_t n,
                             const ConvGeometry& g) {
    const std::size_t P = g.out_plane(), K = g.k(), og = g.og();
    const std::size_t w_size = g.o * K;
    std::fill(dwd, dwd + w_size, T(0));
    if (n == 0) return;
    const std::size_t workers = detail::batch_workers(n, conv_work(g, n));
    const std::size_t chunks = detail::reduction_chunks(n, w_size);
    std::vector<T*> partial(chunks, dwd);
    for (std::size_t c = 1; c < chunks; ++c) {
        partial[c] = workspace<T>(c, 2, w_size);
        std::fill(partial[c], partial[c] + w_size, T(0));
    }
    if (g.pointwise()) {
        detail::parallel_chunks(
            n, chunks, workers, [&](std::size_t, std::size_t c, std::size_t b0, std::size_t b1) {
                for (std::size_t i = b0; i < b1; ++i) {
                    for (std::size_t gi = 0; gi < g.groups; ++gi) {
                        // [o/G, c/G] += [o/G, P] · [c/G, P]ᵀ
                        detail::gemm<T>(false, true, og, g.cg(), P, T(1),
                                        gd + (i * g.o + gi * og) * P, P,
                                        xd + (i * g.c + gi * g.cg()) * P, P, T(1),
                                        partial[c] + gi * og * g.cg(), g.cg());
                    }
                }
            });
    } else {
        const auto ranges = column_ranges(g);
        const std::size_t nb_max = images_fitting(g, (n + chunks - 1) / chunks);
        const WorkerBuffers<T> buf(workers, g.rows() * nb_max * P,
                                   nb_max > 1 ? g.o * nb_max * P : 0);
        detail::parallel_chunks(
            n, chunks, workers, [&](std::size_t wk, std::size_t c, std::size_t b0, std::size_t b1) {
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
                                        cols + gi * K * ld, ld, T(1), partial[c] + gi * og * K, K);
                    }
                }
            });
    }
    for (std::size_t c = 1; c < chunks; ++c) {
        const T* p = partial[c];
        for (std::size_t j = 0; j < w_size; ++j)
            dwd[j] += p[j];
    }
}

#define XGRAD_INSTANTIATE(T)                                                                    \
    template void im2col<T>(const T*, const ConvGeometry&, const std::vector<ColumnRange>&, T*, \
                            std::size_t);                                                       \
    template void col2im<T>(const T*, std::size_t, const ConvGeometry&,                         \
                            const std::vector<ColumnRange>&, T*);                               \
    template void conv_forward_im2col<T>(const T*, const T*, const T*, T*, std::size_t,         \
                                         const ConvGeometry&);                                  \
    template void conv_input_grad_im2col<T>(const T*, const T*, const T*, T*, std::size_t,      \
                                            const ConvGeometry&);                               \
    template void conv_weight_grad_im2col<T>(const T*, const T*, T*, std::size_t,               \
                                             const ConvGeometry&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::detail
