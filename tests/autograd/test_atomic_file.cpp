#include "autograd/atomic_file.hpp"

#include "autograd/errors.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <string>

using namespace xgrad;
using testing::read_file;
using testing::TempDir;
using testing::write_file;
namespace fs = std::filesystem;

namespace {

// The names in `dir` other than `keep` (a temporary file left behind would be one).
int strays(const fs::path& dir, const std::string& keep) {
    int n = 0;
    for (const auto& entry : fs::directory_iterator(dir))
        n += entry.path().filename() != keep;
    return n;
}

}  // namespace

TEST_CASE("AtomicFile: commit replaces the file, both temporary file kinds, nothing left over") {
    for (const bool anonymous : {true, false}) {
        CAPTURE(anonymous);
        detail::set_anonymous_temp_files(anonymous);
        TempDir dir;
        const std::string path = (dir.path / "out.txt").string();
        write_file(path, "old contents");
        detail::AtomicFile file("save_text", path);
        file.write("new ");
        file.write("contents", 8);
        CHECK(read_file(path) == "old contents");  // not visible before commit
        file.commit();
        CHECK(read_file(path) == "new contents");
        CHECK(strays(dir.path, "out.txt") == 0);
    }
    detail::set_anonymous_temp_files(true);
}

TEST_CASE("AtomicFile: without commit the old file stays and the temporary file is removed") {
    for (const bool anonymous : {true, false}) {
        CAPTURE(anonymous);
        detail::set_anonymous_temp_files(anonymous);
        TempDir dir;
        const std::string path = (dir.path / "out.txt").string();
        write_file(path, "old contents");
        {
            detail::AtomicFile file("save_text", path);
            file.write("half a fi");
        }
        CHECK(read_file(path) == "old contents");
        CHECK(strays(dir.path, "out.txt") == 0);
    }
    detail::set_anonymous_temp_files(true);
}

TEST_CASE("AtomicFile: a missing directory is an IoError naming the caller and the file") {
    TempDir dir;
    const std::string path = (dir.path / "no" / "out.txt").string();
    CHECK_THROWS_WITH_AS(
        detail::AtomicFile("save_text", path),
        doctest::Contains(("save_text: cannot create the temporary file '" + path).c_str()),
        IoError);
}

TEST_CASE("errno_str: strerror, and a name for errno 0") {
    CHECK(detail::errno_str(ENOENT) == "No such file or directory");
    CHECK(detail::errno_str(0) == "unknown error");
}
