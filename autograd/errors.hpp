#pragma once

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

#include <cstddef>
#include <stdexcept>
#include <string>

#include <xtensor/xarray.hpp>

namespace xgrad {

/// Shape of a tensor: xtensor's own shape type, so no conversion happens on the hot path.
using Shape = xt::xarray<double>::shape_type;

/// Base of every exception xgrad throws.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Shapes that do not fit an op (names the op and every shape involved).
class ShapeError : public Error {
public:
    using Error::Error;
};

/// A bad attribute or argument value (stride 0, probability outside [0, 1), ...).
class ValueError : public Error {
public:
    using Error::Error;
};

/// A file that cannot be read or written, or whose contents are wrong (names the file).
class IoError : public Error {
public:
    using Error::Error;
};

/// Raised in anomaly mode by the first op whose forward or backward result holds NaN or Inf.
class AnomalyError : public Error {
public:
    using Error::Error;
};

/// "[2, 3]" for a shape, "[]" for a scalar.
std::string shape_str(const Shape& shape);

/// The NumPy broadcast of two shapes; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

/// Normalises a possibly negative axis into [0, rank); throws ShapeError naming `op` and the shape.
std::size_t normalize_axis(const char* op, std::ptrdiff_t axis, const Shape& shape);

}  // namespace xgrad
