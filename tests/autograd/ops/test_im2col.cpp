// im2col and col2im (the im2col path of the convolutions) on raw buffers; the products built on
// them are checked through the conv ops (test_conv.cpp, and against the direct kernels in
// test_conv_direct.cpp).

#include "autograd/ops/im2col.hpp"

#include "autograd/ops/conv.hpp"  // Size2

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

using namespace xgrad;
using detail::ConvGeometry;

namespace {

// One image [c, h, w] under a kh×kw kernel; padding ph, pw before and pah, paw after.
ConvGeometry geometry(std::size_t c, std::size_t h, std::size_t w, std::size_t kh, std::size_t kw,
                      Size2 stride, Size2 pad, Size2 dilation, Size2 pad_after) {
    ConvGeometry g;
    g.n = 1, g.c = c, g.h = h, g.w = w, g.o = 1, g.kh = kh, g.kw = kw;
    g.sh = stride.h, g.sw = stride.w, g.ph = pad.h, g.pw = pad.w, g.dh = dilation.h;
    g.dw = dilation.w;
    g.oh = (h + pad.h + pad_after.h - g.dh * (kh - 1) - 1) / g.sh + 1;
    g.ow = (w + pad.w + pad_after.w - g.dw * (kw - 1) - 1) / g.sw + 1;
    return g;
}

std::vector<double> im2col_of(const std::vector<double>& x, const ConvGeometry& g) {
    std::vector<double> cols(g.rows() * g.out_plane());
    detail::im2col(x.data(), g, detail::column_ranges(g), cols.data(), g.out_plane());
    return cols;
}

}  // namespace

TEST_CASE("im2col: a 2x2 kernel over a 3x3 image, worked by hand") {
    const std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
    // Stride 1 (the padded-plane path): row (p, q) holds x[i + p][j + q] for the 2×2 outputs.
    CHECK(im2col_of(x, geometry(1, 3, 3, 2, 2, 1, 0, 1, 0)) ==
          std::vector<double>{1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9});
    // Stride 2, padding 1 (the general path): row (p, q) reads x[2i − 1 + p][2j − 1 + q], 0 off
    // the image; (p, q) = (0, 0) reads (−1, −1), (−1, 1), (1, −1), (1, 1): 0, 0, 0, 5.
    CHECK(im2col_of(x, geometry(1, 3, 3, 2, 2, 2, 1, 1, 1)) ==
          std::vector<double>{0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9});
}

TEST_CASE("col2im: the adjoint of im2col, <im2col(x), c> = <x, col2im(c)>") {
    const std::vector<ConvGeometry> cases = {
        geometry(2, 5, 6, 3, 3, 1, 0, 1, 0),                      // stride 1, no padding
        geometry(3, 5, 5, 3, 2, 1, 1, 1, 1),                      // stride 1, padding
        geometry(2, 4, 5, 2, 4, 1, {0, 1}, 1, {1, 2}),            // "same" with even kernels
        geometry(2, 6, 7, 3, 3, 1, 5, 1, 5),                      // padding past the kernel
        geometry(2, 7, 8, 3, 2, {2, 1}, {1, 0}, {1, 2}, {1, 0}),  // general: stride, dilation
        geometry(1, 9, 9, 3, 3, 2, 2, 2, 2),                      // general: both axes
    };
    std::mt19937_64 rng(5);
    std::normal_distribution<double> normal;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const auto& g : cases) {
        const std::size_t P = g.out_plane(), ld = P + 5, at = 2;  // a block inside wider rows
        INFO("h, w ", g.h, ", ", g.w, "; kernel ", g.kh, "x", g.kw, "; oh, ow ", g.oh, ", ", g.ow);
        std::vector<double> x(g.c * g.in_plane()), c(g.rows() * ld, nan), cols(g.rows() * ld, nan);
        for (auto& v : x)
            v = normal(rng);
        for (std::size_t r = 0; r < g.rows(); ++r)
            for (std::size_t j = 0; j < P; ++j)
                c[r * ld + at + j] = normal(rng);
        const auto ranges = detail::column_ranges(g);
        detail::im2col(x.data(), g, ranges, cols.data() + at, ld);
        std::vector<double> back(x.size(), 0.0);
        detail::col2im(c.data() + at, ld, g, ranges, back.data());
        double lhs = 0, rhs = 0;
        for (std::size_t r = 0; r < g.rows(); ++r)
            for (std::size_t j = 0; j < P; ++j)
                lhs += cols[r * ld + at + j] * c[r * ld + at + j];
        for (std::size_t i = 0; i < x.size(); ++i)
            rhs += x[i] * back[i];
        CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
        CHECK(std::isnan(cols[at - 1]));  // nothing written outside the block
        CHECK(std::isnan(cols[g.rows() * ld - 1]));
    }
}
