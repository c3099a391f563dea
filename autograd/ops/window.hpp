#pragma once

// Sliding-window geometry shared by the convolutions and the pooling ops: the shapes of one
// convolution, and which outputs of a window tap read inside the input. Internal: the public API
// is conv.hpp and pool.hpp.

#include "autograd/shape.hpp"

#include <cstddef>
#include <string>

namespace xgrad::detail {

/// x [n, c, h, w] * w [o, c/groups, kh, kw] → y [n, o, oh, ow], whichever of the three ops of
/// the conv family (Note [conv family] in conv.cpp) runs.
struct ConvGeometry {
    std::size_t n = 0, c = 0, h = 0, w = 0;  // conv input [n, c, h, w]
    std::size_t o = 0, kh = 0, kw = 0;       // weight [o, c/groups, kh, kw]
    std::size_t oh = 0, ow = 0;              // conv output [n, o, oh, ow]
    std::size_t sh = 1, sw = 1;              // stride
    std::size_t ph = 0, pw = 0;  // padding before (top, left); after is implied by oh, ow
    std::size_t dh = 1, dw = 1;  // dilation
    std::size_t groups = 1;

    std::size_t cg() const { return c / groups; }     // input channels per group
    std::size_t og() const { return o / groups; }     // output channels per group
    std::size_t k() const { return cg() * kh * kw; }  // im2col rows of one group
    std::size_t rows() const { return c * kh * kw; }  // im2col rows of all groups
    std::size_t in_plane() const { return h * w; }
    std::size_t out_plane() const { return oh * ow; }
    // A 1×1 kernel with stride 1 and no padding: the image is its own im2col matrix.
    bool pointwise() const {
        return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && oh == h && ow == w;
    }
    Shape x_shape(std::size_t batch) const { return {batch, c, h, w}; }
    Shape w_shape() const { return {o, cg(), kh, kw}; }
    Shape y_shape(std::size_t batch) const { return {batch, o, oh, ow}; }
    std::string attributes() const;  // for the tape listing: stride, padding, dilation, groups
};

/// A range [lo, hi) of output columns.
struct ColumnRange {
    std::size_t lo, hi;
};

/// The output columns j < out whose input column j·stride + off lies in [0, in): where one tap
/// of a sliding window reads the image (kernel column q of a convolution has
/// off = q·dw − pw; pool.cpp asks the same of its window taps).
ColumnRange valid_range(std::ptrdiff_t off, std::size_t stride, std::size_t in, std::size_t out);

}  // namespace xgrad::detail
