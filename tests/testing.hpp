#pragma once

// Helpers shared by the test files: scratch directories and raw files, the data the repository
// ships for tests (tests/data), and skipping a test whose outside data is absent.

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

/// What a test prints when it skips; tests/CMakeLists.txt makes ctest report a test whose output
/// holds it as skipped, not passed.
inline constexpr const char* skip_marker = "XGRAD_TEST_SKIPPED";

/// True when `path` exists. Otherwise prints the skip marker, the path and `how_to_get_it`, and
/// returns false; the test then returns and ctest reports it as skipped:
///   if (!testing::exists_or_skip(dir, "`bash scripts/setup-data.sh` installs it")) return;
bool exists_or_skip(const std::string& path, const std::string& how_to_get_it);

}  // namespace testing

/// Checks that `expr` throws IoError whose message holds both `path` and `reason`.
#define CHECK_IO_ERROR(expr, path, reason)                                                        \
    do {                                                                                          \
        CHECK_THROWS_WITH_AS(expr, doctest::Contains(std::string(path).c_str()), xgrad::IoError); \
        CHECK_THROWS_WITH_AS(expr, doctest::Contains(std::string(reason).c_str()),                \
                             xgrad::IoError);                                                     \
    } while (0)
