// Bad files, one table: each row writes a file (or a few) into a fresh directory, hands it to a
// reader and names the exception type and the key words the message must hold. Every message
// also begins with the reader's name and names the file. See docs/reliability.md, "Files".

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "nn/data.hpp"
#include "nn/linear.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

using namespace xgrad;
namespace fs = std::filesystem;

// The byte builders shared with tests/autograd/test_io.cpp (tests/testing.hpp).
using testing::npy;
using testing::put;
using testing::raw;

namespace {

// ---- bytes of small files, laid out as their writers lay them out ----

// An IDX file: 0x00 0x00, type, the dimension count, each dimension big-endian, the data.
std::string idx(const std::vector<std::uint32_t>& dims, const std::string& data,
                char type = '\x08') {
    std::string s{'\0', '\0', type, char(dims.size())};
    for (const std::uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8)
            s.push_back(char((d >> shift) & 0xFF));
    }
    return s + data;
}

// gzip (RFC 1952) of `in`, as gzip(1) and zlib's gzwrite make it.
std::string gzip(const std::string& in) {
    return testing::deflate_bytes(in, MAX_WBITS + 16);
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
    return fmt::format("{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}", descr,
                       fortran ? "True" : "False", shape);
}

// A zip of stored members, as np.savez writes for small arrays (no zip64). `method` and `flags`
// go into both headers as given; the data are stored whatever they say.
std::string zip(const std::vector<std::pair<std::string, std::string>>& members, int method = 0,
                int flags = 0) {
    std::string file, dir;
    for (const auto& [name, data] : members) {
        const auto crc = crc32(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
        const std::size_t offset = file.size();
        put(file, 0x04034b50, 4);
        put(file, 20, 2);
        put(file, flags, 2);
        put(file, method, 2);
        put(file, 0, 4);  // time, date
        put(file, crc, 4);
        put(file, data.size(), 4);
        put(file, data.size(), 4);
        put(file, name.size(), 2);
        put(file, 0, 2);
        file += name + data;
        put(dir, 0x02014b50, 4);
        put(dir, 20, 2);
        put(dir, 20, 2);
        put(dir, flags, 2);
        put(dir, method, 2);
        put(dir, 0, 4);
        put(dir, crc, 4);
        put(dir, data.size(), 4);
        put(dir, data.size(), 4);
        put(dir, name.size(), 2);
        put(dir, 0, 12);  // extra, comment, disk, internal and external attributes
        put(dir, offset, 4);
        dir += name;
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

// ---- the table ----

enum class Reader {
    read_idx,
    load_mnist,
    load_npy,
    load_npy_int32,
    load_npy_uint8,
    load_npz,
    load_npz_w,
    load_npz_int64,
    module_load
};

struct Row {
    std::string name;
    Reader reader;
    // Files written into the row's own directory; nullopt: not created. A name ending in '/' is
    // made a directory. The first one is the file the message must name ("": the directory).
    std::vector<std::pair<std::string, std::optional<std::string>>> files;
    const std::type_info* type;
    std::string op;                  // the message begins with "<op>: "
    std::vector<std::string> words;  // and holds each of these
};

// The model Module::load rows load into: weight [3, 2], bias [3].
nn::Linear<float> model() {
    return nn::Linear<float>(2, 3);
}

void run(Reader reader, const std::string& dir, const std::string& path) {
    switch (reader) {
        case Reader::read_idx:
            nn::read_idx(path);
            return;
        case Reader::load_mnist:
            nn::load_mnist<float>(dir, false);
            return;
        case Reader::load_npy:
            load_npy<float>(path);
            return;
        case Reader::load_npy_int32:
            load_npy<std::int32_t>(path);
            return;
        case Reader::load_npy_uint8:
            load_npy<std::uint8_t>(path);
            return;
        case Reader::load_npz:
            load_npz<float>(path);
            return;
        case Reader::load_npz_int64:
            load_npz<std::int64_t>(path);
            return;
        case Reader::load_npz_w:
            load_npz<float>(path, "w");
            return;
        case Reader::module_load:
            model().load(path);
            return;
    }
}

void check_row(const Row& row, const testing::TempDir& root, std::size_t index) {
    CAPTURE(row.name);
    const fs::path dir = root.path / std::to_string(index);
    fs::create_directories(dir);
    for (const auto& [name, bytes] : row.files) {
        if (!name.empty() && name.back() == '/') {
            fs::create_directories(dir / name);
        } else if (bytes) {
            testing::write_file((dir / name).string(), *bytes);
        }
    }
    std::string path = (dir / row.files.at(0).first).string();
    if (!path.empty() && path.back() == '/') path.pop_back();
    try {
        run(row.reader, dir.string(), path);
        FAIL_CHECK("no exception");
    } catch (const Error& e) {
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(typeid(e) == *row.type);
        CHECK(what.rfind(row.op + ": ", 0) == 0);
        CHECK(what.find(path) != std::string::npos);
        for (const std::string& word : row.words) {
            CAPTURE(word);
            CHECK(what.find(word) != std::string::npos);
        }
    } catch (const std::exception& e) {
        FAIL_CHECK("not an xgrad::Error: ", typeid(e).name(), ": ", e.what());
    }
}

const std::type_info* const io = &typeid(IoError);

std::vector<Row> idx_rows() {
    const std::string images = idx({3, 2, 4}, std::string(24, '\x07'));
    const std::string labels = idx({3}, std::string("\x01\x02\x03", 3));
    const auto f = [](std::string bytes) {
        return std::vector<std::pair<std::string, std::optional<std::string>>>{{"x", bytes}};
    };
    // The test set's two files; `named` is the one the message must name: the images file, the
    // labels file, or the directory ("").
    enum Named { images_file, labels_file, directory };
    const auto mnist = [](std::optional<std::string> images, std::optional<std::string> labels,
                          Named named) {
        std::vector<std::pair<std::string, std::optional<std::string>>> files{
            {"t10k-images-idx3-ubyte", std::move(images)},
            {"t10k-labels-idx1-ubyte", std::move(labels)}};
        if (named == labels_file) std::swap(files[0], files[1]);
        if (named == directory) files.insert(files.begin(), {"", std::nullopt});
        return files;
    };
    return {
        {"idx: a file that does not exist",
         Reader::read_idx,
         {{"absent", std::nullopt}},
         io,
         "read_idx",
         {"cannot open", "No such file or directory"}},
        {"idx: a directory",
         Reader::read_idx,
         {{"dir/", std::nullopt}},
         io,
         "read_idx",
         {"cannot read", "Is a directory"}},
        {"idx: an empty file",
         Reader::read_idx,
         f(""),
         io,
         "read_idx",
         {"truncated header: expected 4 bytes of magic", "got 0"}},
        {"idx: a wrong magic number",
         Reader::read_idx,
         f("\x01\x02\x08\x03" + images.substr(4)),
         io,
         "read_idx",
         {"bad magic 0x01020803", "not an IDX file"}},
        {"idx: a text file",
         Reader::read_idx,
         f("hello, world\n"),
         io,
         "read_idx",
         {"bad magic 0x68656c6c"}},
        {"idx: an unsupported data type (0x0d, float)",
         Reader::read_idx,
         f(idx({1}, "abcd", '\x0d')),
         io,
         "read_idx",
         {"unsupported IDX data type 0x0d"}},
        {"idx: no dimensions",
         Reader::read_idx,
         f(idx({}, "")),
         io,
         "read_idx",
         {"the dimension count is 0"}},
        {"idx: a truncated header",
         Reader::read_idx,
         f(images.substr(0, 12)),
         io,
         "read_idx",
         {"truncated header: expected 12 bytes for 3 dimensions", "got 8"}},
        {"idx: truncated data",
         Reader::read_idx,
         f(images.substr(0, images.size() - 4)),
         io,
         "read_idx",
         {"truncated data: expected 24 bytes for shape [3, 2, 4]", "got 20"}},
        {"idx: bytes after the data",
         Reader::read_idx,
         f(images + "xyz"),
         io,
         "read_idx",
         {"3 unexpected bytes after the 24 bytes of data"}},
        {"idx: a header claiming terabytes",
         Reader::read_idx,
         f(idx({100000, 100000, 1000}, "abc")),
         io,
         "read_idx",
         {"truncated data: expected 10000000000000 bytes for shape [100000, 100000, 1000]",
          "got 3"}},
        {"idx: gzip, truncated data",
         Reader::read_idx,
         f(gzip(images.substr(0, images.size() - 4))),
         io,
         "read_idx",
         {"truncated data: expected 24 bytes for shape [3, 2, 4] (after gunzip)", "got 20"}},
        {"idx: gzip, the stream cut before its trailer",
         Reader::read_idx,
         f(gzip(images).substr(0, gzip(images).size() - 8)),
         io,
         "read_idx",
         {"truncated gzip stream"}},
        {"idx: gzip, a CRC that does not match",
         Reader::read_idx,
         f([&] {
             std::string gz = gzip(images);
             gz[gz.size() - 8] ^= 0x01;
             return gz;
         }()),
         io,
         "read_idx",
         {"corrupt gzip data"}},
        // Issue 16: a zero extent beside huge ones passed the size check (the product is 0) and
        // overflowed xtensor's stride computation; in another order the product overflowed.
        {"idx: [0, 2^32-1, 2^32-1] (regression, stride overflow)",
         Reader::read_idx,
         f(idx({0, 0xFFFFFFFF, 0xFFFFFFFF}, "")),
         io,
         "read_idx",
         {"shape [0, 4294967295, 4294967295] is too large"}},
        {"idx: [2^32-1, 2^32-1, 0] (the same extents, the zero last)",
         Reader::read_idx,
         f(idx({0xFFFFFFFF, 0xFFFFFFFF, 0}, "")),
         io,
         "read_idx",
         {"shape [4294967295, 4294967295, 0] is too large"}},
        // Found by fuzz_read_idx in 197 executions with the fix above reverted (scripts/fuzz.sh;
        // tests/data/fuzz-regressions/README.md): rank 4, extents 0 and three large ones.
        {"idx: fuzz finding, a zero extent beside large ones",
         Reader::read_idx,
         f(testing::read_file(
             testing::data_path("fuzz-regressions/read_idx-zero-extent-stride-overflow"))),
         io,
         "read_idx",
         {"shape [0, 134218241, 5767168, 198400] is too large"}},
        {"mnist: image and label counts disagree",
         Reader::load_mnist,
         mnist(images, idx({2}, std::string("\x01\x02", 2)), images_file),
         io,
         "load_mnist",
         {"do not match", "expected labels [3] for images [3, 2, 4]", "got labels [2]"}},
        {"mnist: ... and the labels file is named too",
         Reader::load_mnist,
         mnist(images, idx({2}, std::string("\x01\x02", 2)), labels_file),
         io,
         "load_mnist",
         {"t10k-images-idx3-ubyte", "do not match"}},
        {"mnist: images that are not [n, rows, cols]",
         Reader::load_mnist,
         mnist(idx({3, 8}, std::string(24, '\0')), labels, images_file),
         io,
         "load_mnist",
         {"expected images [n, rows, cols]; got [3, 8]"}},
        {"mnist: a label outside 0..9",
         Reader::load_mnist,
         mnist(idx({1, 1, 1}, "\x05"), idx({1}, "\x0c"), labels_file),
         io,
         "load_mnist",
         {"t10k-labels-idx1-ubyte", "label 12 of example 0 is outside 0..9"}},
        {"mnist: a truncated labels file",
         Reader::load_mnist,
         mnist(images, labels.substr(0, labels.size() - 1), labels_file),
         io,
         "read_idx",
         {"t10k-labels-idx1-ubyte", "truncated data: expected 3 bytes for shape [3]", "got 2"}},
        {"mnist: no labels file",
         Reader::load_mnist,
         mnist(images, std::nullopt, directory),
         io,
         "load_mnist",
         {"holds neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz"}},
    };
}

std::vector<Row> npy_rows() {
    const auto f = [](std::string bytes) {
        return std::vector<std::pair<std::string, std::optional<std::string>>>{{"x.npy", bytes}};
    };
    const std::string good = npy(dict("<f4", "(2, 3)"), std::string(24, '\0'));
    std::string v4 = good;
    v4[6] = '\x04';
    return {
        {"npy: a file that does not exist",
         Reader::load_npy,
         {{"absent.npy", std::nullopt}},
         io,
         "load_npy",
         {"cannot open", "No such file or directory"}},
        {"npy: a directory",
         Reader::load_npy,
         {{"dir.npy/", std::nullopt}},
         io,
         "load_npy",
         {"is a directory, not a file"}},
        {"npy: an empty file",
         Reader::load_npy,
         f(""),
         io,
         "load_npy",
         {"bad magic: not a .npy file", "got ''"}},
        {"npy: a text file",
         Reader::load_npy,
         f("hello, world\n"),
         io,
         "load_npy",
         {"bad magic: not a .npy file", "got 'hello,'"}},
        {"npy: a .npz given to load_npy",
         Reader::load_npy,
         f(zip({{"w.npy", good}})),
         io,
         "load_npy",
         {"it is a zip file: read it with load_npz"}},
        {"npy: format version 4.0",
         Reader::load_npy,
         f(v4),
         io,
         "load_npy",
         {"unsupported .npy format version 4.0"}},
        {"npy: the header cut short",
         Reader::load_npy,
         f(good.substr(0, 50)),
         io,
         "load_npy",
         {"truncated header: expected 128 bytes, got 50"}},
        {"npy: only the magic",
         Reader::load_npy,
         f("\x93NUMPY\x01"),
         io,
         "load_npy",
         {"truncated header: expected at least 10 bytes, got 7"}},
        {"npy: a garbled header",
         Reader::load_npy,
         f(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", "")),
         io,
         "load_npy",
         {"unparsable header (expected a non-negative integer"}},
        {"npy: a header that is not a dict",
         Reader::load_npy,
         f(npy("[1, 2, 3]", "")),
         io,
         "load_npy",
         {"unparsable header (expected '{'"}},
        {"npy: no 'shape' key",
         Reader::load_npy,
         f(npy("{'descr': '<f4', 'fortran_order': False}", "")),
         io,
         "load_npy",
         {"unparsable header (no 'shape' key"}},
        {"npy: an unknown key",
         Reader::load_npy,
         f(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", "")),
         io,
         "load_npy",
         {"unexpected key 'x'"}},
        {"npy: a negative extent",
         Reader::load_npy,
         f(npy(dict("<f4", "(-1,)"), "")),
         io,
         "load_npy",
         {"expected a non-negative integer"}},
        {"npy: an extent of 2^64",
         Reader::load_npy,
         f(npy(dict("<f4", "(18446744073709551616,)"), "")),
         io,
         "load_npy",
         {"integer too large"}},
        {"npy: unsupported dtype '<c16'",
         Reader::load_npy,
         f(npy(dict("<c16", "(1,)"), std::string(16, '\0'))),
         io,
         "load_npy",
         {"unsupported dtype '<c16'", "supported: little-endian f4 f8"}},
        {"npy: unsupported dtype '<U5' (strings)",
         Reader::load_npy,
         f(npy(dict("<U5", "(1,)"), std::string(20, '\0'))),
         io,
         "load_npy",
         {"unsupported dtype '<U5'"}},
        {"npy: Python objects ('|O')",
         Reader::load_npy,
         f(npy(dict("|O", "(1,)"), std::string(8, '\0'))),
         io,
         "load_npy",
         {"unsupported dtype 'O': Python objects"}},
        {"npy: a structured dtype",
         Reader::load_npy,
         f(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
               std::string(4, '\0'))),
         io,
         "load_npy",
         {"unsupported dtype: a structured dtype"}},
        {"npy: big-endian data ('>f8')",
         Reader::load_npy,
         f(npy(dict(">f8", "(1,)"), std::string(8, '\0'))),
         io,
         "load_npy",
         {"unsupported dtype '>f8': big-endian data", "a.astype('<f8')"}},
        {"npy: big-endian data ('>i4')",
         Reader::load_npy,
         f(npy(dict(">i4", "(1,)"), std::string(4, '\0'))),
         io,
         "load_npy",
         {"unsupported dtype '>i4': big-endian data"}},
        {"npy: a truncated payload",
         Reader::load_npy,
         f(good.substr(0, good.size() - 4)),
         io,
         "load_npy",
         {"truncated data: expected 24 bytes for shape [2, 3] of '<f4'", "got 20"}},
        {"npy: no payload at all",
         Reader::load_npy,
         f(good.substr(0, 128)),
         io,
         "load_npy",
         {"truncated data: expected 24 bytes for shape [2, 3] of '<f4'", "got 0"}},
        {"npy: a truncated Fortran-order payload",
         Reader::load_npy,
         f(npy(dict("<f8", "(2, 3)", true), std::string(40, '\0'))),
         io,
         "load_npy",
         {"truncated data: expected 48 bytes for shape [2, 3] of '<f8'", "got 40"}},
        {"npy: bytes after the payload",
         Reader::load_npy,
         f(good + "ab"),
         io,
         "load_npy",
         {"2 unexpected bytes after the 24 bytes of data"}},
        // Issue 16: a zero extent beside huge ones passed the size check (the product is 0) and
        // overflowed xtensor's stride computation; [4, 2^62, 0] overflowed the product.
        {"npy: [0, 2^62, 4] (regression, stride overflow)",
         Reader::load_npy,
         f(npy(dict("<f4", "(0, 4611686018427387904, 4)"), "")),
         io,
         "load_npy",
         {"shape [0, 4611686018427387904, 4] is too large"}},
        {"npy: [2^62, 0, 4]",
         Reader::load_npy,
         f(npy(dict("<f4", "(4611686018427387904, 0, 4)"), "")),
         io,
         "load_npy",
         {"shape [4611686018427387904, 0, 4] is too large"}},
        {"npy: [4, 2^62, 0]",
         Reader::load_npy,
         f(npy(dict("<f4", "(4, 4611686018427387904, 0)"), "")),
         io,
         "load_npy",
         {"shape [4, 4611686018427387904, 0] is too large"}},
        {"npy: [0, 2^61] of '<f4' (2^63 bytes)",
         Reader::load_npy,
         f(npy(dict("<f4", "(0, 2305843009213693952)"), "")),
         io,
         "load_npy",
         {"shape [0, 2305843009213693952] is too large"}},
        // The integer readers (Note [integer arrays]): exactly or not at all.
        {"npy: '<f8' read as int32",
         Reader::load_npy_int32,
         f(npy(dict("<f8", "(2,)"), raw<double>({1, 2}))),
         io,
         "load_npy",
         {"dtype '<f8' (floating point) cannot be read as int32", "load it as float or double"}},
        {"npy: an int64 beyond int32",
         Reader::load_npy_int32,
         f(npy(dict("<i8", "(3,)"), raw<std::int64_t>({0, 1, std::int64_t(1) << 40}))),
         io,
         "load_npy",
         {"value 1099511627776 (element 2 in file order) is outside the range of int32"}},
        {"npy: a uint64 beyond int32",
         Reader::load_npy_int32,
         f(npy(dict("<u8", "(1,)"), raw<std::uint64_t>({~std::uint64_t(0)}))),
         io,
         "load_npy",
         {"value 18446744073709551615 (element 0 in file order)", "range of int32"}},
        {"npy: a negative int8 read as uint8",
         Reader::load_npy_uint8,
         f(npy(dict("|i1", "(2, 2)"), std::string("\x01\x02\x03\xff", 4))),
         io,
         "load_npy",
         {"value -1 (element 3 in file order) is outside the range of uint8 (0 to 255)"}},
        {"npy: '<f4' read as uint8, cut short",  // the dtype is refused before the data are read
         Reader::load_npy_uint8,
         f(npy(dict("<f4", "(2, 3)"), std::string(5, '\0'))),
         io,
         "load_npy",
         {"dtype '<f4' (floating point) cannot be read as uint8"}},
    };
}

std::vector<Row> npz_rows() {
    const auto f = [](std::string bytes) {
        return std::vector<std::pair<std::string, std::optional<std::string>>>{{"x.npz", bytes}};
    };
    const std::string w = npy(dict("<f4", "(2, 3)"), std::string(24, '\0'));
    const std::string good = zip({{"w.npy", w}});
    std::string bad_crc = good;
    bad_crc[30 + 5 + 128] ^= 0x40;  // a byte of the data: after the local header, name, header
    std::string claims_more = good;
    const std::size_t dir_at = claims_more.find("PK\x01\x02");
    for (const std::size_t field : {dir_at + 20, dir_at + 24})  // compressed, uncompressed size
        claims_more.replace(field, 4, raw<std::uint32_t>({100000}));
    return {
        {"npz: a file that does not exist",
         Reader::load_npz,
         {{"absent.npz", std::nullopt}},
         io,
         "load_npz",
         {"cannot open", "No such file or directory"}},
        {"npz: an empty file (zero bytes)",
         Reader::load_npz,
         f(""),
         io,
         "load_npz",
         {"no end-of-central-directory record", "not a .npz file or truncated"}},
        {"npz: not a zip at all",
         Reader::load_npz,
         f("hello, world\n"),
         io,
         "load_npz",
         {"no end-of-central-directory record", "not a .npz file"}},
        {"npz: a .npy given to load_npz",
         Reader::load_npz,
         f(w),
         io,
         "load_npz",
         {"not a .npz file but a .npy file: read it with load_npy"}},
        {"npz: truncated to half",
         Reader::load_npz,
         f(good.substr(0, good.size() / 2)),
         io,
         "load_npz",
         {"no end-of-central-directory record"}},
        {"npz: the last byte missing",
         Reader::load_npz,
         f(good.substr(0, good.size() - 1)),
         io,
         "load_npz",
         {"no end-of-central-directory record"}},
        {"npz: a member claims more bytes than the file holds",
         Reader::load_npz,
         f(claims_more),
         io,
         "load_npz",
         {"entry 'w.npy': truncated data: expected 100000 bytes"}},
        {"npz: a CRC that does not match",
         Reader::load_npz,
         f(bad_crc),
         io,
         "load_npz",
         {"entry 'w.npy': CRC mismatch"}},
        {"npz: a member that is not a .npy (bad magic)",
         Reader::load_npz,
         f(zip({{"w.npy", "not an array"}})),
         io,
         "load_npz",
         {"entry 'w.npy': bad magic"}},
        {"npz: a member with a garbled header",
         Reader::load_npz,
         f(zip({{"w.npy", npy("{'descr': '<f4', 'fortran", "")}})),
         io,
         "load_npz",
         {"entry 'w.npy': unparsable header"}},
        {"npz: a big-endian member",
         Reader::load_npz,
         f(zip({{"w.npy", npy(dict(">f8", "(1,)"), std::string(8, '\0'))}})),
         io,
         "load_npz",
         {"entry 'w.npy': unsupported dtype '>f8': big-endian"}},
        {"npz: a member with a truncated payload",
         Reader::load_npz,
         f(zip({{"w.npy", w.substr(0, w.size() - 1)}})),
         io,
         "load_npz",
         {"entry 'w.npy': truncated data: expected 24 bytes", "got 23"}},
        {"npz: a member [0, 2^62, 4] (regression, stride overflow)",
         Reader::load_npz,
         f(zip({{"w.npy", npy(dict("<f4", "(0, 4611686018427387904, 4)"), "")}})),
         io,
         "load_npz",
         {"entry 'w.npy': shape [0, 4611686018427387904, 4] is too large"}},
        {"npz: a member not named .npy",
         Reader::load_npz,
         f(zip({{"notes.txt", "hello"}})),
         io,
         "load_npz",
         {"entry 'notes.txt': not a .npy array"}},
        {"npz: two members of one name",
         Reader::load_npz,
         f(zip({{"w.npy", w}, {"w.npy", w}})),
         io,
         "load_npz",
         {"entry 'w.npy': duplicate entry"}},
        {"npz: an unsupported compression method (bzip2)",
         Reader::load_npz,
         f(zip({{"w.npy", w}}, 12)),
         io,
         "load_npz",
         {"entry 'w.npy': unsupported zip compression method 12"}},
        {"npz: an encrypted member",
         Reader::load_npz,
         f(zip({{"w.npy", w}}, 0, 1)),
         io,
         "load_npz",
         {"entry 'w.npy': unsupported zip: the entry is encrypted"}},
        {"npz: a missing name",
         Reader::load_npz_w,
         f(zip({{"b.npy", w}, {"c.npy", w}})),
         io,
         "load_npz",
         {"missing entry 'w.npy' (the file holds: b.npy, c.npy)"}},
        {"npz: a missing name in an empty archive",
         Reader::load_npz_w,
         f(zip({})),
         io,
         "load_npz",
         {"missing entry 'w.npy' (the file holds: nothing)"}},
        {"npz: a float member read as int64",
         Reader::load_npz_int64,
         f(zip({{"labels.npy", npy(dict("<i8", "(1,)"), raw<std::int64_t>({3}))}, {"w.npy", w}})),
         io,
         "load_npz",
         {"entry 'w.npy': dtype '<f4' (floating point) cannot be read as int64"}},
        {"npz: a uint64 member beyond int64",
         Reader::load_npz_int64,
         f(zip({{"w.npy", npy(dict("<u8", "(2,)"), raw<std::uint64_t>({5, ~std::uint64_t(0)}))}})),
         io,
         "load_npz",
         {"entry 'w.npy': value 18446744073709551615 (element 1 in file order) is outside the "
          "range of int64"}},
    };
}

std::vector<Row> module_rows() {
    const auto f = [](std::string bytes) {
        return std::vector<std::pair<std::string, std::optional<std::string>>>{{"m.npz", bytes}};
    };
    const std::string weight = npy(dict("<f4", "(3, 2)"), std::string(24, '\0'));
    const std::string bias = npy(dict("<f4", "(3,)"), std::string(12, '\0'));
    const std::string good = zip({{"bias.npy", bias}, {"weight.npy", weight}});
    return {
        {"load: a file that does not exist",
         Reader::module_load,
         {{"absent.npz", std::nullopt}},
         io,
         "load_npz",
         {"cannot open", "No such file or directory"}},
        {"load: a truncated checkpoint",
         Reader::module_load,
         f(good.substr(0, good.size() / 2)),
         io,
         "load_npz",
         {"no end-of-central-directory record"}},
        {"load: a missing entry",
         Reader::module_load,
         f(zip({{"weight.npy", weight}})),
         &typeid(ValueError),
         "load",
         {"missing", "'bias'"}},
        {"load: an unexpected entry",
         Reader::module_load,
         f(zip({{"bias.npy", bias}, {"extra.npy", bias}, {"weight.npy", weight}})),
         &typeid(ValueError),
         "load",
         {"unexpected", "'extra'"}},
        {"load: a wrong-shaped entry",
         Reader::module_load,
         f(zip({{"bias.npy", bias},
                {"weight.npy", npy(dict("<f4", "(2, 3)"), std::string(24, '\0'))}})),
         &typeid(ShapeError),
         "load",
         {"'weight'", "[2, 3]", "[3, 2]"}},
    };
}

}  // namespace

TEST_CASE("read_idx and load_mnist: every bad file is an IoError naming the file and the fault") {
    testing::TempDir root;
    const std::vector<Row> rows = idx_rows();
    for (std::size_t i = 0; i < rows.size(); ++i)
        check_row(rows[i], root, i);
}

TEST_CASE("load_npy: every bad file is an IoError naming the file and the fault") {
    testing::TempDir root;
    const std::vector<Row> rows = npy_rows();
    for (std::size_t i = 0; i < rows.size(); ++i)
        check_row(rows[i], root, i);
}

TEST_CASE("load_npz: every bad archive is an IoError naming the file, the entry and the fault") {
    testing::TempDir root;
    const std::vector<Row> rows = npz_rows();
    for (std::size_t i = 0; i < rows.size(); ++i)
        check_row(rows[i], root, i);
}

TEST_CASE("Module::load: every error names the file, the entry and the fault") {
    testing::TempDir root;
    const std::vector<Row> rows = module_rows();
    for (std::size_t i = 0; i < rows.size(); ++i)
        check_row(rows[i], root, i);
}

TEST_CASE(
    "file readers: the files the table damages load when whole, empty arrays up to the bound") {
    testing::TempDir dir;
    const std::string w = npy(dict("<f4", "(2, 3)"), raw<float>({1, 2, 3, 4, 5, 6}));
    testing::write_file(dir / "w.npy", w);
    CHECK(load_npy<float>(dir / "w.npy") == xt::xarray<float>{{1, 2, 3}, {4, 5, 6}});
    testing::write_file(dir / "w.npz", zip({{"w.npy", w}}));
    CHECK(load_npz<float>(dir / "w.npz", "w") == xt::xarray<float>{{1, 2, 3}, {4, 5, 6}});
    testing::write_file(
        dir / "m.npz",
        zip({{"bias.npy", npy(dict("<f4", "(3,)"), raw<float>({7, 8, 9}))},
             {"weight.npy", npy(dict("<f4", "(3, 2)"), raw<float>({1, 2, 3, 4, 5, 6}))}}));
    auto m = model();
    m.load(dir / "m.npz");
    CHECK(m.state_dict().at("bias") == xt::xarray<float>{7, 8, 9});
    testing::write_file(dir / "t10k-images-idx3-ubyte", idx({2, 1, 1}, std::string("\x00\xff", 2)));
    testing::write_file(dir / "t10k-labels-idx1-ubyte", idx({2}, "\x03\x09"));
    const auto mnist = nn::load_mnist<float>(dir.path.string(), false);
    CHECK(mnist.inputs.shape() == Shape{2, 1});
    CHECK(mnist.inputs(0, 0) == 0.0f);  // 0 / 255
    CHECK(mnist.inputs(1, 0) == 1.0f);  // 255 / 255
    CHECK(mnist.targets == xt::xarray<float>{3, 9});
    // The largest empty shapes an array can index: 2^61 - 1 floats, 2^62 bytes.
    testing::write_file(dir / "e.npy", npy(dict("<f4", "(0, 2305843009213693951)"), ""));
    CHECK(load_npy<float>(dir / "e.npy").shape() == Shape{0, 2305843009213693951});
    testing::write_file(dir / "e.idx", idx({0, 0x80000000, 0x80000000}, ""));
    CHECK(nn::read_idx(dir / "e.idx").shape() == Shape{0, 0x80000000, 0x80000000});
}
