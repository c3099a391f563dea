#pragma once

#include <stdexcept>
#include <string>

namespace xgrad {

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

}  // namespace xgrad
