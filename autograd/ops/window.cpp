#include "autograd/ops/window.hpp"

#include "autograd/ops/conv.hpp"  // size2_str

#include <fmt/format.h>

#include <algorithm>

namespace xgrad::detail {

std::string ConvGeometry::attributes() const {
    return fmt::format("stride={}, padding={}, dilation={}, groups={}", size2_str({sh, sw}),
                       size2_str({ph, pw}), size2_str({dh, dw}), groups);
}

ColumnRange valid_range(std::ptrdiff_t off, std::size_t stride, std::size_t in, std::size_t out) {
    const auto s = static_cast<std::ptrdiff_t>(stride);
    const auto ow = static_cast<std::ptrdiff_t>(out);
    std::ptrdiff_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
    std::ptrdiff_t last = static_cast<std::ptrdiff_t>(in) - 1 - off;  // j·s ≤ last
    std::ptrdiff_t hi = last < 0 ? 0 : last / s + 1;
    lo = std::min(lo, ow);
    hi = std::clamp(hi, lo, ow);
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
}

}  // namespace xgrad::detail
