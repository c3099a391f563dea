#include "testing.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <system_error>

namespace testing {

TempDir::TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           fmt::format("xgrad_test_{}_{}", ::getpid(), ++counter);
    std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string data_path(const std::string& name) {
    return (std::filesystem::path(XGRAD_TEST_DATA_DIR) / name).string();
}

bool exists_or_skip(const std::string& path, const std::string& how_to_get_it) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return true;
    MESSAGE(fmt::format("{}: {} is absent; {}", skip_marker, path, how_to_get_it));
    return false;
}

}  // namespace testing
