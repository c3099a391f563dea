#pragma once

// Helpers shared by the test files: scratch directories and raw files, the data the repository
// ships for tests (tests/data), and skipping a test whose outside data is absent.

#include "autograd/errors.hpp"

#include <doctest/doctest.h>
#include <xtensor/xarray.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>

namespace testing {

/// A fresh directory under the system's temporary directory, removed with everything in it when
/// the object goes (at the end of the test).
struct TempDir {
    std::filesystem::path path;
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    /// The path of `name` inside the directory.
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

/// Writes `bytes` to `path` as they are (binary), replacing what was there.
void write_file(const std::string& path, const std::string& bytes);

/// The bytes of the file at `path` (empty when it cannot be read).
std::string read_file(const std::string& path);

/// How many times `what` occurs in `text`, overlapping occurrences included.
std::size_t count(const std::string& text, const std::string& what);

/// The path of `name` in tests/data, the data the repository ships for tests (the folder comes
/// from the compile definition XGRAD_TEST_DATA_DIR that tests/CMakeLists.txt sets).
std::string data_path(const std::string& name);

// True in a build with AddressSanitizer, whose malloc is its own: glibc's mallopt and mallinfo2
// then describe an allocator nobody uses, and freed memory waits in ASan's quarantine (256 MB)
// before reuse, so the resident size grows by design.
#if defined(__SANITIZE_ADDRESS__)
#define XGRAD_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XGRAD_TEST_ASAN 1
#endif
#endif
#ifdef XGRAD_TEST_ASAN
inline constexpr bool under_asan = true;
#else
inline constexpr bool under_asan = false;
#endif

/// What a test prints when it skips; tests/CMakeLists.txt makes ctest report a test whose output
/// holds it as skipped, not passed.
inline constexpr const char* skip_marker = "XGRAD_TEST_SKIPPED";

/// True when `path` exists. Otherwise prints the skip marker, the path and `how_to_get_it`, and
/// returns false; the test then returns and ctest reports it as skipped:
///   if (!testing::exists_or_skip(dir, "`bash scripts/setup-data.sh` installs it")) return;
bool exists_or_skip(const std::string& path, const std::string& how_to_get_it);

// ---- bytes of small files, laid out as their writers lay them out ----

/// The bytes of `values` as they lie in memory (little-endian here).
template <class S>
std::string raw(std::initializer_list<S> values) {
    std::string s(values.size() * sizeof(S), '\0');
    std::memcpy(s.data(), values.begin(), s.size());
    return s;
}

/// A .npy file laid out as numpy writes it: magic, version, little-endian header length, the
/// dict, spaces up to a multiple of 64 bytes, '\n', then the data.
std::string npy(const std::string& dict, const std::string& data, int major = 1);

/// Appends v as `bytes` little-endian bytes (zero bytes past the 8 of v).
void put(std::string& s, std::uint64_t v, int bytes);

/// zlib's deflate of `in` at level 6 with `window_bits`: −15 for the raw stream of a zip entry,
/// 15 + 16 for gzip (RFC 1952) as gzip(1) makes it.
std::string deflate_bytes(const std::string& in, int window_bits);

/// True when the two state dicts hold the same names, shapes and bits (a resumed or reloaded
/// model against the one it should equal).
inline bool bit_equal(const std::map<std::string, xt::xarray<float>>& a,
                      const std::map<std::string, xt::xarray<float>>& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [name, x] : a) {
        const auto it = b.find(name);
        if (it == b.end() || it->second.shape() != x.shape() ||
            std::memcmp(it->second.data(), x.data(), x.size() * sizeof(float)) != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace testing

/// Checks that `expr` throws IoError whose message holds both `path` and `reason`.
#define CHECK_IO_ERROR(expr, path, reason)                                                        \
    do {                                                                                          \
        CHECK_THROWS_WITH_AS(expr, doctest::Contains(std::string(path).c_str()), xgrad::IoError); \
        CHECK_THROWS_WITH_AS(expr, doctest::Contains(std::string(reason).c_str()),                \
                             xgrad::IoError);                                                     \
    } while (0)
