#include "testing.hpp"

#include <fmt/format.h>
#include <zlib.h>

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

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
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

std::string npy(const std::string& dict, const std::string& data, int major) {
    const std::size_t prefix = major == 1 ? 10 : 12;
    const std::size_t len = (prefix + dict.size() + 1 + 63) / 64 * 64 - prefix;
    std::string out = "\x93NUMPY" + std::string{char(major), '\0'};
    for (std::size_t i = 0; i < prefix - 8; ++i)
        out.push_back(char((len >> (8 * i)) & 0xFF));
    return out + dict + std::string(len - dict.size() - 1, ' ') + "\n" + data;
}

void put(std::string& s, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
        s.push_back(i < 8 ? char((v >> (8 * i)) & 0xFF) : '\0');
}

std::string deflate_bytes(const std::string& in, int window_bits) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&zs, in.size()) + 32, '\0');  // + the gzip header and trailer
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

}  // namespace testing
