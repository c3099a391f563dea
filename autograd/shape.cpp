#include "autograd/shape.hpp"

#include "autograd/errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace xgrad {

std::string shape_str(const Shape& shape) {
    return fmt::format("[{}]", fmt::join(shape.begin(), shape.end(), ", "));
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
    const std::size_t rank = std::max(a.size(), b.size());
    Shape out(rank, 1);
    for (std::size_t i = 0; i < rank; ++i) {
        // Align from the right, as NumPy does.
        const std::size_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const std::size_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (da != db && da != 1 && db != 1) {
            throw ShapeError(fmt::format("{}: shapes do not broadcast; got a={}, b={}", op,
                                         shape_str(a), shape_str(b)));
        }
        out[i] = da == 1 ? db : da;
    }
    return out;
}

std::size_t normalize_axis(const char* op, std::ptrdiff_t axis, const Shape& shape) {
    const auto rank = static_cast<std::ptrdiff_t>(shape.size());
    if (axis < -rank || axis >= rank) {
        throw ShapeError(
            fmt::format("{}: axis {} is out of range for a tensor of shape {} "
                        "(expected an axis in [{}, {}])",
                        op, axis, shape_str(shape), -rank, rank - 1));
    }
    return static_cast<std::size_t>(axis < 0 ? axis + rank : axis);
}

std::vector<std::size_t> normalize_axes(const char* op, const std::vector<std::ptrdiff_t>& axes,
                                        const Shape& shape) {
    std::vector<std::size_t> out;
    if (axes.empty()) {
        for (std::size_t i = 0; i < shape.size(); ++i)
            out.push_back(i);
        return out;
    }
    for (auto a : axes)
        out.push_back(normalize_axis(op, a, shape));
    std::sort(out.begin(), out.end());
    if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
        throw ShapeError(fmt::format("{}: an axis is repeated in [{}] for x={}", op,
                                     fmt::join(axes, ", "), shape_str(shape)));
    }
    return out;
}

std::optional<std::size_t> checked_size(const Shape& shape, std::size_t item_size) {
    const auto limit = static_cast<std::size_t>(PTRDIFF_MAX) / std::max<std::size_t>(item_size, 1);
    std::size_t nonzero = 1;  // the product of the non-zero extents, at most `limit`
    bool empty = false;
    for (const std::size_t d : shape) {
        if (d == 0) {
            empty = true;
        } else if (d > limit / nonzero) {
            return std::nullopt;
        } else {
            nonzero *= d;
        }
    }
    return empty ? 0 : nonzero;
}

// Note [size limit]
// Sizes reach xgrad as std::size_t, so a negative number a user computed or typed (−1 for "infer",
// a subtraction gone below zero) arrives as a huge one. nn::Linear(-1, 3) asked for a weight of
// 3·(2^64 − 1) elements, whose byte count wrapped around in the allocator
// (std::bad_array_new_length); nn::Conv2d(1, 1, -1) got a weight whose element count wrapped
// around to 1; conv2d with a padding of −1 wrapped its size arithmetic and returned a 1×1 output
// of garbage; pad with −1 corrupted the heap. Every size a user gives is therefore checked against
// max_elements (2^40) before it enters any arithmetic, and every parameter or output shape built
// from such sizes has its element count checked without overflow. The user reads "linear:
// in_features 18446744073709551615 is too large", naming the function and the argument. 2^40
// elements (4 TiB of float) is beyond any one tensor a machine holds, and leaves products of two
// or three checked sizes far from 2^64. (Shapes read from a file go through checked_size above,
// whose bound is what xtensor can index; a file's sizes are not a user's typing mistake.)

void check_size(const char* op, const char* what, std::size_t value) {
    if (value > max_elements) {
        throw ValueError(
            fmt::format("{}: {} {} is too large (at most 2^40; a negative number converted to an "
                        "unsigned size?)",
                        op, what, value));
    }
}

std::size_t checked_numel(const char* op, const char* what, const Shape& shape) {
    bool empty = false, too_large = false;
    for (const std::size_t e : shape) {
        empty = empty || e == 0;
        too_large = too_large || e > max_elements;
    }
    std::size_t n = 1;
    for (auto it = shape.begin(); !empty && !too_large && it != shape.end(); ++it) {
        too_large = n > max_elements / *it;  // n·e > max_elements, without computing n·e
        n *= *it;
    }
    if (too_large) {
        throw ValueError(
            fmt::format("{}: {} {} would hold more than 2^40 elements (a negative size converted "
                        "to an unsigned one?)",
                        op, what, shape_str(shape)));
    }
    return empty ? 0 : n;
}

std::vector<std::ptrdiff_t> signed_shape(const Shape& shape) {
    return std::vector<std::ptrdiff_t>(shape.begin(), shape.end());
}

}  // namespace xgrad
