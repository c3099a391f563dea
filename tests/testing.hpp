#pragma once

// Helpers shared by the test files: scratch directories and raw files, and the data the
// repository ships for tests (tests/data).

#include "autograd/errors.hpp"

#include <doctest/doctest.h>

#include <filesystem>
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

/// The path of `name` in tests/data, the data the repository ships for tests (the folder comes
/// from the compile definition XGRAD_TEST_DATA_DIR that tests/CMakeLists.txt sets).
std::string data_path(const std::string& name);

}  // namespace testing

/// Checks that `expr` throws IoError whose message holds both `path` and `reason`.
#define CHECK_IO_ERROR(expr, path, reason)                                                        \
    do {                                                                                          \
        CHECK_THROWS_WITH_AS(expr, doctest::Contains(std::string(path).c_str()), xgrad::IoError); \
        CHECK_THROWS_WITH_AS(expr, doctest::Contains(std::string(reason).c_str()),                \
                             xgrad::IoError);                                                     \
    } while (0)
