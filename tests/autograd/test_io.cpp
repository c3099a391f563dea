#include "autograd/io.hpp"

#include "autograd/errors.hpp"
#include "autograd/shape.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>
#include <zlib.h>
#include <xtensor/xmath.hpp>

#include <sys/resource.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

using namespace xgrad;
namespace fs = std::filesystem;
using namespace testing;  // TempDir, read_file, write_file, raw, npy, put, deflate_bytes

namespace {

template <class T>
bool bit_equal(const xt::xarray<T>& a, const xt::xarray<T>& b) {
    return a.shape() == b.shape() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Values that a text or rounding round trip would damage.
template <class T>
xt::xarray<T> awkward(const Shape& shape) {
    xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
    const T specials[] = {T(0.1),
                          -T(0),
                          std::numeric_limits<T>::quiet_NaN(),
                          std::numeric_limits<T>::infinity(),
                          std::numeric_limits<T>::denorm_min(),
                          std::numeric_limits<T>::max(),
                          T(1) / T(3)};
    for (std::size_t i = 0; i < a.size(); ++i)
        a.data()[i] = specials[i % 7] * T(i % 5 + 1);
    return a;
}

// One zip entry as np.savez / np.savez_compressed write it (Python's zipfile with
// force_zip64=True: local sizes 0xFFFFFFFF and a zip64 extra field holding the real ones).
struct Member {
    std::string name, data;
    bool deflate = false;
};

std::string deflate_raw(const std::string& in) {
    return deflate_bytes(in, -MAX_WBITS);
}

std::string zip(const std::vector<Member>& members) {
    std::string file, dir;
    for (const Member& m : members) {
        const std::string body = m.deflate ? deflate_raw(m.data) : m.data;
        const auto crc = crc32(0, reinterpret_cast<const Bytef*>(m.data.data()), m.data.size());
        const std::size_t offset = file.size();
        put(file, 0x04034b50, 4);
        put(file, 45, 2);  // version needed: zip64
        put(file, 0, 2);
        put(file, m.deflate ? 8 : 0, 2);
        put(file, 0, 4);  // time, date
        put(file, crc, 4);
        put(file, 0xFFFFFFFF, 4);
        put(file, 0xFFFFFFFF, 4);
        put(file, m.name.size(), 2);
        put(file, 20, 2);
        file += m.name;
        put(file, 1, 2);  // zip64 extra: uncompressed, compressed size
        put(file, 16, 2);
        put(file, m.data.size(), 8);
        put(file, body.size(), 8);
        file += body;
        put(dir, 0x02014b50, 4);
        put(dir, 45, 2);
        put(dir, 45, 2);
        put(dir, 0, 2);
        put(dir, m.deflate ? 8 : 0, 2);
        put(dir, 0, 4);
        put(dir, crc, 4);
        put(dir, body.size(), 4);
        put(dir, m.data.size(), 4);
        put(dir, m.name.size(), 2);
        put(dir, 0, 12);  // extra, comment, disk, internal and external attributes
        put(dir, offset, 4);
        dir += m.name;
    }
    std::string end;
    put(end, 0x06054b50, 4);
    put(end, 0, 4);
    put(end, members.size(), 2);
    put(end, members.size(), 2);
    put(end, dir.size(), 4);
    put(end, file.size(), 4);
    put(end, 0, 2);
    return file + dir + end;
}

}  // namespace

TEST_CASE("save_npy: float and double round trips are bit-exact, 0-d and empty included") {
    TempDir dir;
    for (const Shape& shape : {Shape{2, 3, 4}, Shape{}, Shape{0}, Shape{2, 0, 3}, Shape{7}}) {
        CAPTURE(shape_str(shape));
        const auto f = awkward<float>(shape);
        const auto d = awkward<double>(shape);
        save_npy(dir / "f.npy", f);
        save_npy(dir / "d.npy", d);
        CHECK(bit_equal(load_npy<float>(dir / "f.npy"), f));
        CHECK(bit_equal(load_npy<double>(dir / "d.npy"), d));
        CHECK(load_npy<double>(dir / "f.npy").shape() == shape);  // '<f4' widened to double
    }
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 2);
}

TEST_CASE("save_npy: writes the header np.save writes") {
    TempDir dir;
    save_npy(dir / "a.npy", xt::xarray<float>{{1, 2, 3}, {4, 5, 6}});
    const std::string bytes = read_file(dir / "a.npy");
    // np.save(f, np.ones((2, 3), '<f4')): 10 bytes of prefix, then the dict with 20 spaces of
    // growth room for the first axis, padded so that the data start at byte 128.
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    REQUIRE(bytes.size() == 128 + 6 * 4);
    CHECK(bytes.substr(0, 10) == std::string("\x93NUMPY\x01\x00\x76\x00", 10));  // 0x76 = 118
    CHECK(bytes.substr(10, dict.size()) == dict);
    CHECK(bytes.substr(10 + dict.size()) ==
          std::string(127 - 10 - dict.size(), ' ') + "\n" + raw<float>({1, 2, 3, 4, 5, 6}));
}

TEST_CASE("load_npy: reads the ex4 weights numpy wrote and saves them back byte for byte") {
    TempDir dir;
    for (const char* name : {"Theta1.npy", "Theta2.npy"}) {
        const std::string shipped = testing::data_path(std::string("ex4/") + name);
        const auto theta = load_npy<double>(shipped);
        save_npy(dir / name, theta);
        CHECK(read_file(dir / name) == read_file(shipped));
    }
    const auto theta1 = load_npy<double>(testing::data_path("ex4/Theta1.npy"));
    CHECK(theta1.shape() == Shape{25, 401});
    CHECK(theta1(0, 0) == -0.022562389859934213);  // the README's spot checks
    CHECK(xt::sum(theta1)() == doctest::Approx(9.242643928120085).epsilon(1e-12));
}

TEST_CASE("load_npy: reads a '<i4' file as NumPy writes it") {
    TempDir dir;
    // np.save(f, np.array([[1, -2, 3], [-4, 5, 2**31 - 1]], dtype='<i4')) writes
    //   \x93NUMPY \x01\x00 \x76\x00 {'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }
    //   + 58 spaces + '\n' (128 bytes in all), then six little-endian int32.
    const std::string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
    const std::string bytes = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict +
                              std::string(58, ' ') + "\n" +
                              raw<std::int32_t>({1, -2, 3, -4, 5, 2147483647});
    REQUIRE(bytes.size() == 128 + 24);
    write_file(dir / "i4.npy", bytes);
    CHECK(load_npy<double>(dir / "i4.npy") ==
          xt::xarray<double>{{1, -2, 3}, {-4, 5, 2147483647.0}});
}

TEST_CASE("load_npy: a Fortran-order file is converted to row-major") {
    TempDir dir;
    // np.save(f, np.asfortranarray(np.arange(6.).reshape(2, 3))) stores the columns one after
    // the other: 0 3 | 1 4 | 2 5.
    write_file(dir / "f.npy", npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                                  raw<double>({0, 3, 1, 4, 2, 5})));
    CHECK(load_npy<double>(dir / "f.npy") == xt::xarray<double>{{0, 1, 2}, {3, 4, 5}});
    // [2, 2, 2]: element (i, j, k) sits at i + 2j + 4k.
    write_file(dir / "f3.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }",
                                   raw<float>({0, 4, 2, 6, 1, 5, 3, 7})));
    CHECK(load_npy<float>(dir / "f3.npy") == xt::xarray<float>{{{0, 1}, {2, 3}}, {{4, 5}, {6, 7}}});
}

TEST_CASE("load_npy: every integer and bool dtype converts to T") {
    TempDir dir;
    const std::string p = dir / "x.npy";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"|i1", raw<std::int8_t>({-128, 0, 127})},
        {"<i2", raw<std::int16_t>({-32768, 0, 32767})},
        {"<i4", raw<std::int32_t>({-2147483647 - 1, 0, 2147483647})},
        {"<i8", raw<std::int64_t>({-(1LL << 40), 0, 1LL << 40})},
        {"|u1", raw<std::uint8_t>({0, 128, 255})},
        {"<u2", raw<std::uint16_t>({0, 1, 65535})},
        {"<u4", raw<std::uint32_t>({0, 1, 4294967295u})},
        {"<u8", raw<std::uint64_t>({0, 1, 1ULL << 53})},
        {"|b1", raw<std::uint8_t>({0, 1, 1})},
        {"<f4", raw<float>({0.5f, -1.5f, 3.25f})},
    };
    const std::vector<xt::xarray<double>> expected = {{-128, 0, 127},
                                                      {-32768, 0, 32767},
                                                      {-2147483648.0, 0, 2147483647.0},
                                                      {-1099511627776.0, 0, 1099511627776.0},
                                                      {0, 128, 255},
                                                      {0, 1, 65535},
                                                      {0, 1, 4294967295.0},
                                                      {0, 1, 9007199254740992.0},
                                                      {0, 1, 1},
                                                      {0.5, -1.5, 3.25}};
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(cases[i].first);
        write_file(
            p, npy("{'descr': '" + cases[i].first + "', 'fortran_order': False, 'shape': (3,), }",
                   cases[i].second));
        CHECK(load_npy<double>(p) == expected[i]);
    }
}

TEST_CASE("load_npy: format 2.0 and 3.0 headers, Python 2 longs, other key orders") {
    TempDir dir;
    const std::string p = dir / "x.npy";
    write_file(p, npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                      raw<double>({1, 2}), 2));
    CHECK(load_npy<double>(p) == xt::xarray<double>{1, 2});
    write_file(p, npy("{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"<f8\"}",
                      raw<double>({3, 4}), 3));
    CHECK(load_npy<double>(p) == xt::xarray<double>{{3, 4}});
    write_file(p, npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", raw<double>({5})));
    CHECK(load_npy<double>(p).dimension() == 0);
    CHECK(load_npy<double>(p)() == 5);
}

TEST_CASE("load_npy: each bad file is an IoError naming the file and what is wrong") {
    TempDir dir;
    const std::string p = dir / "bad.npy";
    const auto header = [](const std::string& descr, const std::string& shape) {
        return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    };
    CHECK_IO_ERROR(load_npy<float>(dir / "missing.npy"), dir / "missing.npy",
                   "No such file or directory");
    CHECK_IO_ERROR(load_npy<float>(dir.path.string()), dir.path.string(), "is a directory");
    write_file(p, "hello, world");
    CHECK_IO_ERROR(load_npy<float>(p), p, "bad magic");
    write_file(p, npy(header("<f4", "(1,)"), raw<float>({1})).replace(6, 1, "\x04"));
    CHECK_IO_ERROR(load_npy<float>(p), p, "unsupported .npy format version 4.0");
    write_file(p, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,", raw<float>({1})));
    CHECK_IO_ERROR(load_npy<float>(p), p, "unparsable header (expected a non-negative integer");
    write_file(p,
               npy("{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,), }", raw<float>({1})));
    CHECK_IO_ERROR(load_npy<float>(p), p, "unparsable header (expected True or False");
    write_file(p, npy(header("<c16", "(1,)"), std::string(16, '\0')));
    CHECK_IO_ERROR(load_npy<float>(p), p, "unsupported dtype '<c16'");
    write_file(p, npy(header(">f8", "(1,)"), std::string(8, '\0')));
    CHECK_IO_ERROR(load_npy<float>(p), p, "unsupported dtype '>f8': big-endian");
    write_file(p, npy(header("<f4", "(2, 3)"), std::string(20, '\0')));
    CHECK_IO_ERROR(load_npy<float>(p), p, "truncated data: expected 24 bytes for shape [2, 3]");
    CHECK_IO_ERROR(load_npy<float>(p), p, "got 20");
    write_file(p, npy(header("<f4", "(1,)"), std::string(6, '\0')));
    CHECK_IO_ERROR(load_npy<float>(p), p, "2 unexpected bytes after the 4 bytes of data");
    write_file(p, npy(header("<f4", "(1,)"), "").substr(0, 50));
    CHECK_IO_ERROR(load_npy<float>(p), p, "truncated header: expected 128 bytes, got 50");
    save_npz<float>(p, {{"a", xt::xarray<float>{1}}});
    CHECK_IO_ERROR(load_npy<float>(p), p, "it is a zip file: read it with load_npz");
}

namespace {

// Makes every write past `bytes` in a file fail (EFBIG) while it lives: a full disk, for tests.
struct FileSizeLimit {
    rlimit old{};
    void (*old_handler)(int);
    explicit FileSizeLimit(rlim_t bytes) : old_handler(std::signal(SIGXFSZ, SIG_IGN)) {
        getrlimit(RLIMIT_FSIZE, &old);
        rlimit limit = old;
        limit.rlim_cur = bytes;
        REQUIRE(setrlimit(RLIMIT_FSIZE, &limit) == 0);
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, old_handler);
    }
};

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        names.push_back(entry.path().filename().string());
    return names;
}

}  // namespace

TEST_CASE("save_npy: a failed save leaves the previous file intact") {
    TempDir dir;
    const std::string p = dir / "w.npy";
    save_npy(p, xt::xarray<double>{1, 2, 3});
    {
        FileSizeLimit limit(64);  // the 128-byte header cannot be written
        CHECK_IO_ERROR(save_npy(p, xt::xarray<double>{9, 9}), p,
                       "writing the temporary file for '" + p + "' failed (File too large); '" + p +
                           "' is left unchanged");
    }
    CHECK(load_npy<double>(p) == xt::xarray<double>{1, 2, 3});
    CHECK(names_in(dir.path) == std::vector<std::string>{"w.npy"});  // no temporary file left
    save_npy(p, xt::xarray<double>{9, 9});
    CHECK(load_npy<double>(p) == xt::xarray<double>{9, 9});
    CHECK(names_in(dir.path) == std::vector<std::string>{"w.npy"});
}

TEST_CASE("save_npy: a missing directory is named with the temporary file") {
    TempDir dir;
    const std::string p = dir / "missing/w.npy";
    CHECK_IO_ERROR(save_npy(p, xt::xarray<double>{1}), p + ".tmp.",
                   "cannot create the temporary file");
    CHECK_IO_ERROR(save_npy(p, xt::xarray<double>{1}), p, "No such file or directory");
}

TEST_CASE("save_npz: several arrays round trip bit-exactly, keyed by name") {
    TempDir dir;
    const std::map<std::string, xt::xarray<double>> d = {{"fc1.weight", awkward<double>({3, 4})},
                                                         {"fc1.bias", awkward<double>({4})},
                                                         {"step", awkward<double>({})},
                                                         {"empty", awkward<double>({0, 2})}};
    save_npz(dir / "d.npz", d);
    const auto back = load_npz<double>(dir / "d.npz");
    REQUIRE(back.size() == d.size());
    for (const auto& [name, a] : d)
        CHECK(bit_equal(back.at(name), a));
    const std::map<std::string, xt::xarray<float>> f = {{"x", awkward<float>({2, 3, 2})}};
    save_npz(dir / "f.npz", f);
    CHECK(bit_equal(load_npz<float>(dir / "f.npz", "x"), f.at("x")));
    const std::string bytes = read_file(dir / "f.npz");
    CHECK(bytes.substr(0, 4) == "PK\x03\x04");
    CHECK(bytes.substr(30, 5) == "x.npy");  // the entry name follows the 30-byte local header
    save_npz(dir / "none.npz", std::map<std::string, xt::xarray<float>>{});
    CHECK(load_npz<float>(dir / "none.npz").empty());
}

TEST_CASE("load_npz: reads np.savez and np.savez_compressed archives (zip64 local headers)") {
    TempDir dir;
    const std::string a = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
                              raw<double>({1, 2, 3, 4}));
    const std::string b = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                              raw<std::int64_t>({7, 8, 9}));
    for (const bool compressed : {false, true}) {
        CAPTURE(compressed);
        write_file(dir / "x.npz", zip({{"a.npy", a, compressed}, {"b.npy", b, compressed}}));
        const auto arrays = load_npz<float>(dir / "x.npz");
        REQUIRE(arrays.size() == 2);
        CHECK(arrays.at("a") == xt::xarray<float>{{1, 2}, {3, 4}});
        CHECK(arrays.at("b") == xt::xarray<float>{7, 8, 9});
    }
}

TEST_CASE("load_npz: a missing entry is named with the entries the file holds") {
    TempDir dir;
    save_npz<float>(dir / "m.npz", {{"w", xt::xarray<float>{1}}, {"b", xt::xarray<float>{2}}});
    CHECK(load_npz<float>(dir / "m.npz", "b") == xt::xarray<float>{2});
    CHECK_IO_ERROR(load_npz<float>(dir / "m.npz", "bias"), dir / "m.npz",
                   "missing entry 'bias.npy' (the file holds: b.npy, w.npy)");
}

TEST_CASE("load_npz: a corrupt archive is an IoError naming the file, the entry and the fault") {
    TempDir dir;
    const std::string p = dir / "c.npz";
    const std::string a =
        npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", raw<double>({1, 2}));
    const std::string good = zip({{"a.npy", a}});
    CHECK_IO_ERROR(load_npz<float>(dir / "none.npz"), dir / "none.npz", "No such file");
    std::string bytes = good;
    bytes[bytes.find("a.npy") + 5 + 20 + a.size() - 1] ^= 0x40;  // a bit of the data flips
    write_file(p, bytes);
    CHECK_IO_ERROR(load_npz<float>(p), p, "entry 'a.npy': CRC mismatch");
    write_file(p, "PK\x05\x05" + good.substr(4));
    CHECK_IO_ERROR(load_npz<float>(p), p, "entry 'a.npy': corrupt zip: bad local header signature");
    write_file(p, good.substr(0, good.size() - 10));
    CHECK_IO_ERROR(load_npz<float>(p), p, "no end-of-central-directory record (bad signature)");
    write_file(p, a);
    CHECK_IO_ERROR(load_npz<float>(p), p, "not a .npz file but a .npy file: read it with load_npy");
    bytes = zip({{"a.npy", a, true}});
    bytes[bytes.find("a.npy") + 5 + 20] ^= 0xFF;  // the first byte of the deflate stream
    write_file(p, bytes);
    CHECK_IO_ERROR(load_npz<float>(p), p, "entry 'a.npy': corrupt zip: bad deflate data");
    write_file(p, zip({{"notes.txt", "hello"}}));
    CHECK_IO_ERROR(load_npz<float>(p), p, "entry 'notes.txt': not a .npy array");
    write_file(p, zip({{"a.npy", "\x93NUMPY\x01\x00"}}));
    CHECK_IO_ERROR(load_npz<float>(p), p, "entry 'a.npy': truncated header");
}

TEST_CASE("load_npz: an entry cut short gives the expected and actual byte counts") {
    TempDir dir;
    const std::string p = dir / "t.npz";
    const std::string a =
        npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", raw<double>({1, 2}));
    std::string bytes = zip({{"a.npy", a}});
    // Drop 8 bytes of entry data, keep the directory: the entry then overlaps the directory,
    // and the directory points past the end of the file.
    const std::size_t data_end = bytes.find("PK\x01\x02");
    bytes.erase(data_end - 8, 8);
    write_file(p, bytes);
    CHECK_IO_ERROR(load_npz<float>(p), p, "corrupt zip: the central directory");
    // A directory that claims more data than the file holds.
    bytes = zip({{"a.npy", a}});
    const std::size_t dir_at = bytes.find("PK\x01\x02");
    const std::uint32_t claimed = 100000;
    std::memcpy(&bytes[dir_at + 20], &claimed, 4);  // compressed size
    std::memcpy(&bytes[dir_at + 24], &claimed, 4);  // uncompressed size
    write_file(p, bytes);
    CHECK_IO_ERROR(load_npz<float>(p), p,
                   fmt::format("entry 'a.npy': truncated data: expected 100000 bytes, got {}",
                               bytes.size() - (30 + 5 + 20))
                       .c_str());
}

TEST_CASE("save_npz: a failed save leaves the previous archive intact") {
    TempDir dir;
    const std::string p = dir / "state.npz";
    save_npz<double>(p, {{"w", xt::xarray<double>{1, 2}}});
    {
        FileSizeLimit limit(64);
        CHECK_IO_ERROR(save_npz<double>(p, {{"w", xt::xarray<double>{3}}}), p,
                       "writing the temporary file for '" + p + "' failed");
    }
    CHECK(load_npz<double>(p, "w") == xt::xarray<double>{1, 2});
    CHECK(names_in(dir.path) == std::vector<std::string>{"state.npz"});
}

TEST_CASE("save_npz: an archive that would need zip64 fails before writing anything") {
    TempDir dir;
    std::map<std::string, xt::xarray<float>> many;
    for (int i = 0; i < 0xFFFF; ++i)
        many.emplace(std::to_string(i), xt::xarray<float>(0.0f));
    CHECK_IO_ERROR(save_npz(dir / "big.npz", many), dir / "big.npz", "need zip64");
    CHECK(names_in(dir.path).empty());
}
