#pragma once

// The im2col path of the convolutions (Note [conv chunks] in im2col.cpp): im2col, its adjoint
// col2im, and the three products of a convolution as im2col + BLAS gemm over chunks of the
// batch, over raw NCHW / OIHW buffers like the direct kernels of conv_direct.hpp. conv.cpp picks
// one path or the other per product. Internal: the public API is conv.hpp.

#include "autograd/ops/window.hpp"

#include <cstddef>
#include <vector>

namespace xgrad::detail {

/// The valid_range of every kernel column q < kw: the `ranges` that im2col and col2im take.
std::vector<ColumnRange> column_ranges(const ConvGeometry& g);

/// The im2col columns of one image x [c, h, w]:
///   cols[(ci·kh + p)·kw + q][i·ow + j] = x[ci, i·sh − ph + p·dh, j·sw − pw + q·dw]
/// (0 where that falls in the padding), a [c·kh·kw, oh·ow] block whose rows are `ld` apart
/// (ld ≥ oh·ow: the image's columns of a chunk's matrix).
template <class T>
void im2col(const T* x, const ConvGeometry& g, const std::vector<ColumnRange>& ranges, T* cols,
            std::size_t ld);

/// The adjoint of im2col: adds each entry of cols back to the pixel of x [c, h, w] it was read
/// from. x must be zeroed (or hold what the result is added to).
template <class T>
void col2im(const T* cols, std::size_t ld, const ConvGeometry& g,
            const std::vector<ColumnRange>& ranges, T* x);

/// The three products on the im2col path, over raw NCHW / OIHW buffers of a batch of n, with
/// the shapes and conventions of the direct kernels (conv_direct.hpp): b (per output channel of
/// the op) may be null; `dw` is overwritten.
template <class T>
void conv_forward_im2col(const T* x, const T* w, const T* b, T* y, std::size_t n,
                         const ConvGeometry& g);
template <class T>
void conv_input_grad_im2col(const T* gy, const T* w, const T* b, T* dx, std::size_t n,
                            const ConvGeometry& g);
template <class T>
void conv_weight_grad_im2col(const T* x, const T* gy, T* dw, std::size_t n, const ConvGeometry& g);

}  // namespace xgrad::detail
