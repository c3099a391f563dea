#pragma once

// Shapes: the type every tensor's shape has, how it prints, and the NumPy rules ops share
// (broadcasting two shapes, normalising a negative axis).

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

#include <xtensor/xarray.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace xgrad {

/// Shape of a tensor: xtensor's own shape type, so no conversion happens on the hot path.
using Shape = xt::xarray<double>::shape_type;

/// "[2, 3]" for a shape, "[]" for a scalar.
std::string shape_str(const Shape& shape);

/// The NumPy broadcast of two shapes; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

/// Normalises a possibly negative axis into [0, rank); throws ShapeError naming `op` and the shape.
std::size_t normalize_axis(const char* op, std::ptrdiff_t axis, const Shape& shape);

/// The axes of a reduction, each normalised, sorted; every axis of `shape` when `axes` is empty.
/// An axis out of range or given twice raises ShapeError naming `op` and the shape.
std::vector<std::size_t> normalize_axes(const char* op, const std::vector<std::ptrdiff_t>& axes,
                                        const Shape& shape);

/// The number of elements of an array of `shape` with `item_size`-byte elements, or nullopt when
/// xtensor cannot hold such an array: when the product of the non-zero extents, times item_size,
/// exceeds PTRDIFF_MAX. That product bounds every stride and backstride xtensor computes, whatever
/// the order of the axes, so an empty shape such as [0, 2^62, 4] is refused as [4, 2^62, 0] is
/// (xtensor's stride computation would overflow a signed integer). Readers check a shape read
/// from a file with it before allocating; it never overflows.
std::optional<std::size_t> checked_size(const Shape& shape, std::size_t item_size);

/// The largest extent, and the largest element count, xgrad accepts for one tensor: 2^40 (4 TiB
/// of float). A size above it cannot be allocated, and is nearly always a negative number that
/// became a std::size_t (−1 turns into 18446744073709551615). See Note [size limit].
inline constexpr std::size_t max_elements = std::size_t(1) << 40;

/// Throws ValueError "op: what N is too large ..." when value > max_elements: the check every
/// size given by a user (features, channels, kernel size, padding, ...) goes through before it
/// is used in arithmetic or an allocation.
void check_size(const char* op, const char* what, std::size_t value);

/// The number of elements of `shape`, computed without overflow; throws ValueError naming `op`,
/// `what` ("weight", "output") and the shape when an extent or the product exceeds max_elements.
std::size_t checked_numel(const char* op, const char* what, const Shape& shape);

/// The shape as signed extents, the argument type of reshape.
std::vector<std::ptrdiff_t> signed_shape(const Shape& shape);

}  // namespace xgrad
