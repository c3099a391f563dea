#pragma once

// Shapes: the type every tensor's shape has, how it prints, and the NumPy rules ops share
// (broadcasting two shapes, normalising a negative axis).

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

#include <xtensor/xarray.hpp>

#include <cstddef>
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

/// The shape as signed extents, the argument type of reshape.
std::vector<std::ptrdiff_t> signed_shape(const Shape& shape);

}  // namespace xgrad
