#pragma once

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

#include <xtensor/xarray.hpp>

#include <map>
#include <string>

namespace xgrad {

// Note [tensor files]
// Arrays move to and from NumPy as .npy (np.save / np.load) and .npz (np.savez, a zip of
// "<name>.npy" entries). Reading accepts little-endian f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, C or
// Fortran order (Fortran is converted to row-major), format versions 1.0 to 3.0, and npz entries
// stored or deflated (np.savez_compressed). Writing produces what np.save would: '<f4' for float,
// '<f8' for double, '<i4' int32, '<i8' int64, '|u1' uint8, C order, format 1.0 (2.0 when the
// header needs it), entries stored with their CRC-32. Every save writes a temporary file of its
// own in the same directory, syncs it, renames it over `path` and syncs the directory (Note
// [atomic save] in atomic_file.cpp), so a crash, a power loss or an error never leaves a
// half-written file where the last good one was, and concurrent saves to one path leave one of
// them whole. Every failure is an IoError that names the file (and the npz entry) and what is
// wrong; a shape is refused before anything is allocated when its non-zero extents multiply past
// what an array can index (checked_size in autograd/shape.hpp), even if another extent is 0.
//
// Note [integer arrays]
// T is float, double (any dtype is converted: an integer beyond 2^24 or 2^53 rounds), or one of
// the integer types std::int32_t, std::int64_t, std::uint8_t, for labels and indices. An integer
// T reads exactly or not at all: integer and bool (0/1) dtypes are accepted when every value is
// one of T's values; a floating-point dtype is refused even when its values are whole numbers
// ("dtype '<f4' (floating point) cannot be read as int64"), and a value out of T's range is
// refused naming the value and its position ("value 3000000000 (element 2 in file order) is
// outside the range of int32"), never wrapped or clamped.

/// Reads a .npy file as T (Note [integer arrays]: what converts to which T). The result is
/// row-major with the file's shape ([] for a 0-d array). T: float, double, std::int32_t,
/// std::int64_t or std::uint8_t.
template <class T>
xt::xarray<T> load_npy(const std::string& path);

/// Writes `a` (any shape, including 0-d and empty) as a .npy file in T's dtype ('<f4', '<f8',
/// '<i4', '<i8', '|u1'), C order. Atomic: see Note [tensor files]. T: as for load_npy.
template <class T>
void save_npy(const std::string& path, const xt::xarray<T>& a);

/// Reads every array of a .npz file, keyed by entry name without ".npy". Throws IoError for an
/// entry that is not a .npy array. T: as for load_npy (Note [integer arrays]).
template <class T>
std::map<std::string, xt::xarray<T>> load_npz(const std::string& path);

/// Reads the array `name` ("<name>.npy" in the zip) of a .npz file; a missing entry is an IoError
/// listing the entries the file holds. T: as for load_npy (Note [integer arrays]).
template <class T>
xt::xarray<T> load_npz(const std::string& path, const std::string& name);

/// Writes `arrays` as a .npz file that np.load reads: one stored (uncompressed) entry
/// "<name>.npy" per array, in key order. No zip64: an archive of 4 GiB or more is an IoError
/// raised before anything is written. Atomic: see Note [tensor files]. T: as for save_npy.
template <class T>
void save_npz(const std::string& path, const std::map<std::string, xt::xarray<T>>& arrays);

/// Writes `text` to `path` atomically (Note [tensor files]: a temporary file, synced, renamed), for
/// text outputs such as DOT graphs, CSV histories and SVG pictures. `op` names the caller in the
/// IoError raised on failure ("save_dot: cannot create ..."); `path` then keeps its old contents.
void save_text(const char* op, const std::string& path, const std::string& text);

}  // namespace xgrad
