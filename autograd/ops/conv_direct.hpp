#pragma once

// The shapes of one convolution, shared by the ops (conv.cpp), the im2col path (im2col.cpp) and
// the direct kernels of conv_direct.cpp (Note [direct conv]), and the direct kernels themselves.
// Internal: the public API is conv.hpp.

#include "autograd/shape.hpp"

#include <cstddef>
#include <string>
#include <vector>

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

/// The scratch buffers of the convolution kernels, one of each per thread (a helper thread of
/// the batch pool keeps its own between calls; a fresh multi-MB allocation per call costs page
/// faults on every conv).
enum class Scratch { padded_source, block_outputs, im2col_plane };

/// The calling thread's buffer of kind `K`, grown to at least `size` elements.
template <class T, Scratch K>
T* thread_buffer(std::size_t size) {
    thread_local std::vector<T> buffer;
    if (buffer.size() < size) buffer.resize(size);
    return buffer.data();
}

/// Whether the direct kernel runs y = conv(x, w) / dx = conv_transpose(g, w) / dw for this shape
/// (Note [direct conv]; tuning::conv_path forces one path).
bool direct_forward(const ConvGeometry& g);
bool direct_input_grad(const ConvGeometry& g);
bool direct_weight_grad(const ConvGeometry& g);

/// The direct kernels over raw NCHW / OIHW buffers of a batch of n; b (per output channel of
/// the op) may be null. `dw` is overwritten.
template <class T>
void conv_forward_direct(const T* x, const T* w, const T* b, T* y, std::size_t n,
                         const ConvGeometry& g);
template <class T>
void conv_input_grad_direct(const T* gy, const T* w, const T* b, T* dx, std::size_t n,
                            const ConvGeometry& g);
template <class T>
void conv_weight_grad_direct(const T* x, const T* gy, T* dw, std::size_t n, const ConvGeometry& g);

}  // namespace xgrad::detail
