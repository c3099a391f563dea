#include "autograd/io.hpp"

#include "autograd/atomic_file.hpp"
#include "autograd/errors.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>
#include <zlib.h>
#include <xtensor/xmanipulation.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

// Data are read and written with memcpy, which is only correct on a little-endian host.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "autograd/io.cpp assumes a little-endian host"
#endif

namespace xgrad {
namespace {

using detail::AtomicFile;
using detail::errno_str;

using Bytes = std::vector<unsigned char>;

constexpr std::size_t kAlign = 64;         // numpy's ARRAY_ALIGN
constexpr std::size_t kGrowthDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS
constexpr std::uint64_t kZip32Max = 0xFFFFFFFFu;
constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;

[[noreturn]] void fail(const char* op, const std::string& where, const std::string& what) {
    throw IoError(fmt::format("{}: {}: {}", op, where, what));
}

std::uint16_t le16(const unsigned char* p) {
    return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
std::uint32_t le32(const unsigned char* p) {
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
           std::uint32_t(p[3]) << 24;
}
std::uint64_t le64(const unsigned char* p) {
    return le32(p) | std::uint64_t(le32(p + 4)) << 32;
}

void put16(std::string& s, std::uint64_t v) {
    for (int i = 0; i < 2; ++i)
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put32(std::string& s, std::uint64_t v) {
    for (int i = 0; i < 4; ++i)
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Up to `n` leading bytes, printable ones as is, the others as \xNN (for "bad magic" messages).
std::string printable(const unsigned char* p, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\') {
            s.push_back(static_cast<char>(p[i]));
        } else {
            s += fmt::format("\\x{:02x}", p[i]);
        }
    }
    return s;
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Random-access bytes: a file on disk, or an npz entry already in memory.
class Source {
public:
    virtual ~Source() = default;
    virtual std::uint64_t size() const = 0;
    // Exactly n bytes at `offset`; callers check the range against size() first.
    virtual void read(std::uint64_t offset, void* dst, std::size_t n) const = 0;
};

class FileSource final : public Source {
public:
    FileSource(const char* op, const std::string& path) : op_(op), path_(path) {
        file_.reset(std::fopen(path.c_str(), "rb"));
        if (!file_) {
            throw IoError(fmt::format("{}: cannot open '{}' ({})", op, path, errno_str(errno)));
        }
        struct stat st {};
        if (fstat(fileno(file_.get()), &st) != 0) {
            throw IoError(fmt::format("{}: cannot stat '{}' ({})", op, path, errno_str(errno)));
        }
        if (S_ISDIR(st.st_mode)) {
            throw IoError(fmt::format("{}: '{}' is a directory, not a file", op, path));
        }
        size_ = static_cast<std::uint64_t>(st.st_size);
    }
    std::uint64_t size() const override { return size_; }
    void read(std::uint64_t offset, void* dst, std::size_t n) const override {
        if (n == 0) return;
        errno = 0;
        if (fseeko(file_.get(), static_cast<off_t>(offset), SEEK_SET) != 0 ||
            std::fread(dst, 1, n, file_.get()) != n) {
            throw IoError(fmt::format("{}: reading {} bytes at offset {} of '{}' failed ({})", op_,
                                      n, offset, path_,
                                      errno != 0 ? errno_str(errno) : "the file shrank"));
        }
    }

private:
    const char* op_;
    std::string path_;
    FilePtr file_;
    std::uint64_t size_ = 0;
};

class MemorySource final : public Source {
public:
    explicit MemorySource(const Bytes& bytes) : bytes_(bytes) {}
    std::uint64_t size() const override { return bytes_.size(); }
    void read(std::uint64_t offset, void* dst, std::size_t n) const override {
        if (n != 0) std::memcpy(dst, bytes_.data() + offset, n);
    }

private:
    const Bytes& bytes_;
};

// ---- the .npy header ----

struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
};

// The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
// Keys in any order, either quote style, Python 2's "3L" integers, a trailing comma.
class HeaderParser {
public:
    HeaderParser(const char* op, const std::string& where, std::string_view text)
        : op_(op), where_(where), s_(text) {}

    NpyHeader parse() {
        NpyHeader h;
        bool has_descr = false, has_fortran = false, has_shape = false;
        expect('{');
        while (!at('}')) {
            const std::string key = string_literal();
            expect(':');
            if (key == "descr") {
                if (at('[')) {
                    fail(op_, where_,
                         "unsupported dtype: a structured dtype (a list of fields); only plain "
                         "numeric arrays can be read");
                }
                h.descr = string_literal();
                has_descr = true;
            } else if (key == "fortran_order") {
                h.fortran_order = boolean();
                has_fortran = true;
            } else if (key == "shape") {
                h.shape = tuple();
                has_shape = true;
            } else {
                error(fmt::format("unexpected key '{}'", key));
            }
            if (!at(',')) break;
            ++pos_;
        }
        expect('}');
        skip_space();
        if (pos_ != s_.size()) error("text after the closing brace");
        if (!has_descr) error("no 'descr' key");
        if (!has_fortran) error("no 'fortran_order' key");
        if (!has_shape) error("no 'shape' key");
        return h;
    }

private:
    [[noreturn]] void error(const std::string& what) const {
        std::string text(s_.substr(0, 200));
        while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
            text.pop_back();
        fail(op_, where_,
             fmt::format(
                 "unparsable header ({} at character {}): {}", what, pos_,
                 printable(reinterpret_cast<const unsigned char*>(text.data()), text.size())));
    }
    void skip_space() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
            ++pos_;
        }
    }
    bool at(char c) {
        skip_space();
        return pos_ < s_.size() && s_[pos_] == c;
    }
    void expect(char c) {
        if (!at(c)) error(fmt::format("expected '{}'", c));
        ++pos_;
    }
    std::string string_literal() {
        skip_space();
        if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) error("expected a string");
        const char quote = s_[pos_++];
        const std::size_t end = s_.find(quote, pos_);
        if (end == std::string_view::npos) error("unterminated string");
        std::string out(s_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return out;
    }
    bool boolean() {
        skip_space();
        for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
            if (s_.substr(pos_, std::strlen(word)) == word) {
                pos_ += std::strlen(word);
                return value;
            }
        }
        error("expected True or False");
    }
    std::size_t integer() {
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
            error("expected a non-negative integer");
        }
        std::size_t v = 0;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
            if (__builtin_mul_overflow(v, std::size_t(10), &v) ||
                __builtin_add_overflow(v, std::size_t(s_[pos_] - '0'), &v)) {
                error("integer too large");
            }
            ++pos_;
        }
        if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l')) ++pos_;
        return v;
    }
    Shape tuple() {
        Shape shape;
        expect('(');
        while (!at(')')) {
            shape.push_back(integer());
            if (!at(',')) break;
            ++pos_;
        }
        expect(')');
        return shape;
    }

    const char* op_;
    const std::string& where_;
    std::string_view s_;
    std::size_t pos_ = 0;
};

struct DType {
    char kind;  // 'f', 'i', 'u', 'b'
    std::size_t size;
};

DType parse_descr(const char* op, const std::string& where, const std::string& descr) {
    std::string_view d(descr);
    char order = '=';
    if (!d.empty() && std::strchr("<>|=", d[0]) != nullptr) {
        order = d[0];
        d.remove_prefix(1);
    }
    for (const char* known : {"f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"}) {
        if (d != known) continue;
        const DType dt{d[0], static_cast<std::size_t>(d[1] - '0')};
        if (order == '>' && dt.size > 1) {
            fail(op, where,
                 fmt::format("unsupported dtype '{}': big-endian data; save it little-endian "
                             "(a.astype('<{}'))",
                             descr, d));
        }
        return dt;
    }
    if (d == "O") {
        fail(op, where, "unsupported dtype 'O': Python objects (pickled) cannot be read");
    }
    fail(op, where,
         fmt::format("unsupported dtype '{}' (supported: little-endian f4 f8 i1 i2 i4 i8 u1 u2 "
                     "u4 u8 b1)",
                     descr));
}

// The name in messages of a type T can be read as.
template <class T>
constexpr const char* type_name() {
    if constexpr (std::is_same_v<T, float>) return "float";
    if constexpr (std::is_same_v<T, double>) return "double";
    if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
    if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
    if constexpr (std::is_same_v<T, std::uint8_t>) return "uint8";
    return "?";
}

// Whether the integer v is a value of the integer type T.
template <class T, class S>
bool fits(S v) {
    if constexpr (std::is_signed_v<S>) {
        if (v < 0) {
            return std::is_signed_v<T> &&
                   std::int64_t(v) >= std::int64_t(std::numeric_limits<T>::min());
        }
    }
    return std::uint64_t(v) <= std::uint64_t(std::numeric_limits<T>::max());
}

// See Note [integer arrays]: a value an integer T cannot hold is refused, never wrapped.
template <class T, class S>
void convert(const char* op, const std::string& where, const unsigned char* src, T* dst,
             std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        S v;
        std::memcpy(&v, src + i * sizeof(S), sizeof(S));
        if constexpr (std::is_integral_v<T> && std::is_integral_v<S>) {
            if (!fits<T>(v)) {
                fail(op, where,
                     fmt::format(
                         "value {} (element {} in file order) is outside the range of "
                         "{} ({} to {}); load it as a wider type",
                         std::conditional_t<std::is_signed_v<S>, std::int64_t, std::uint64_t>(v), i,
                         type_name<T>(), std::int64_t(std::numeric_limits<T>::min()),
                         std::uint64_t(std::numeric_limits<T>::max())));
            }
        }
        dst[i] = static_cast<T>(v);
    }
}

template <class T>
void convert(const char* op, const std::string& where, DType dt, const unsigned char* src, T* dst,
             std::size_t count) {
    switch (dt.kind) {
        case 'f':
            if constexpr (std::is_floating_point_v<T>) {
                if (dt.size == 4) return convert<T, float>(op, where, src, dst, count);
                return convert<T, double>(op, where, src, dst, count);
            } else {
                return;  // refused by read_npy before any data is read
            }
        case 'i':
            if (dt.size == 1) return convert<T, std::int8_t>(op, where, src, dst, count);
            if (dt.size == 2) return convert<T, std::int16_t>(op, where, src, dst, count);
            if (dt.size == 4) return convert<T, std::int32_t>(op, where, src, dst, count);
            return convert<T, std::int64_t>(op, where, src, dst, count);
        case 'u':
            if (dt.size == 1) return convert<T, std::uint8_t>(op, where, src, dst, count);
            if (dt.size == 2) return convert<T, std::uint16_t>(op, where, src, dst, count);
            if (dt.size == 4) return convert<T, std::uint32_t>(op, where, src, dst, count);
            return convert<T, std::uint64_t>(op, where, src, dst, count);
        default:  // 'b': one byte, any non-zero value is True
            for (std::size_t i = 0; i < count; ++i)
                dst[i] = src[i] != 0 ? T(1) : T(0);
    }
}

// Whether the file's dtype is T's own: its bytes are copied as they are.
template <class T>
bool same_dtype(DType dt) {
    if (dt.size != sizeof(T)) return false;
    if constexpr (std::is_floating_point_v<T>) return dt.kind == 'f';
    if constexpr (std::is_signed_v<T>) return dt.kind == 'i';
    return dt.kind == 'u';
}

// Reads a whole .npy image from `src`; `where` names it in errors ("'w.npz' entry 'w.npy'").
template <class T>
xt::xarray<T> read_npy(const char* op, const std::string& where, const Source& src) {
    const std::uint64_t size = src.size();
    unsigned char prefix[12] = {};
    const auto got = static_cast<std::size_t>(std::min<std::uint64_t>(size, sizeof prefix));
    src.read(0, prefix, got);
    if (got < 6 || std::memcmp(prefix, "\x93NUMPY", 6) != 0) {
        const bool zip = got >= 4 && std::memcmp(prefix, "PK\x03\x04", 4) == 0;
        fail(op, where,
             fmt::format("bad magic: not a .npy file (expected \\x93NUMPY, got '{}'){}",
                         printable(prefix, std::min<std::size_t>(got, 6)),
                         zip ? "; it is a zip file: read it with load_npz" : ""));
    }
    if (got < 10) {
        fail(op, where, fmt::format("truncated header: expected at least 10 bytes, got {}", got));
    }
    const unsigned major = prefix[6], minor = prefix[7];
    if (major < 1 || major > 3 || minor != 0) {
        fail(op, where,
             fmt::format("unsupported .npy format version {}.{} (supported: 1.0, 2.0, 3.0)", major,
                         minor));
    }
    const std::size_t prefix_len = major == 1 ? 10 : 12;
    if (got < prefix_len) {
        fail(op, where,
             fmt::format("truncated header: expected at least {} bytes, got {}", prefix_len, got));
    }
    const std::uint64_t header_len = major == 1 ? le16(prefix + 8) : le32(prefix + 8);
    const std::uint64_t data_offset = prefix_len + header_len;
    if (data_offset > size) {
        fail(op, where,
             fmt::format("truncated header: expected {} bytes, got {}", data_offset, size));
    }
    std::string text(static_cast<std::size_t>(header_len), '\0');
    src.read(prefix_len, text.data(), text.size());
    const NpyHeader h = HeaderParser(op, where, text).parse();
    const DType dt = parse_descr(op, where, h.descr);
    if (std::is_integral_v<T> && dt.kind == 'f') {
        fail(op, where,
             fmt::format("dtype '{}' (floating point) cannot be read as {}: an integer "
                         "type holds only integer arrays (i1 i2 i4 i8 u1 u2 u4 u8 b1); load it "
                         "as float or double, or save it as integers (a.astype(np.int64))",
                         h.descr, type_name<T>()));
    }

    // Every extent is checked, not only the product of all (which is 0 for an empty array):
    // the array must be one xtensor can index, in memory (T) and on disk (dt.size).
    const std::optional<std::size_t> count_or = checked_size(h.shape, std::max(sizeof(T), dt.size));
    if (!count_or) {
        fail(op, where,
             fmt::format("shape {} is too large: its non-zero extents multiply to more than an "
                         "array can index",
                         shape_str(h.shape)));
    }
    const std::size_t count = *count_or, nbytes = count * dt.size;
    const std::uint64_t available = size - data_offset;
    if (available < nbytes) {
        fail(op, where,
             fmt::format("truncated data: expected {} bytes for shape {} of '{}', got {}", nbytes,
                         shape_str(h.shape), h.descr, available));
    }
    if (available > nbytes) {
        fail(op, where,
             fmt::format("{} unexpected bytes after the {} bytes of data for shape {} of '{}'",
                         available - nbytes, nbytes, shape_str(h.shape), h.descr));
    }

    // Fortran order stores the transpose of the C-order array with the reversed shape.
    Shape stored = h.shape;
    if (h.fortran_order) std::reverse(stored.begin(), stored.end());
    xt::xarray<T> out = xt::xarray<T>::from_shape(stored);
    if (same_dtype<T>(dt)) {
        src.read(data_offset, out.data(), nbytes);
    } else {
        Bytes buffer(nbytes);
        src.read(data_offset, buffer.data(), nbytes);
        convert(op, where, dt, buffer.data(), out.data(), count);
    }
    if (h.fortran_order && h.shape.size() > 1) {
        xt::xarray<T> c_order = xt::transpose(out);  // h.shape, row-major
        return c_order;
    }
    return out;
}

template <class T>
constexpr const char* npy_descr() {
    if constexpr (std::is_same_v<T, float>) return "<f4";
    if constexpr (std::is_same_v<T, double>) return "<f8";
    if constexpr (std::is_same_v<T, std::int32_t>) return "<i4";
    if constexpr (std::is_same_v<T, std::int64_t>) return "<i8";
    if constexpr (std::is_same_v<T, std::uint8_t>) return "|u1";  // one byte: no byte order
    return "?";
}

// Magic, version, length and padded dict, byte for byte what np.save writes for a C-order array.
std::string npy_header(const char* descr, const Shape& shape) {
    std::string dims;
    if (shape.size() == 1) {
        dims = fmt::format("({},)", shape[0]);
    } else {
        dims = fmt::format("({})", fmt::join(shape.begin(), shape.end(), ", "));
    }
    std::string dict =
        fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, dims);
    // numpy leaves room to grow the first axis in place.
    if (!shape.empty()) {
        const std::size_t digits = std::to_string(shape[0]).size();
        if (digits < kGrowthDigits) dict.append(kGrowthDigits - digits, ' ');
    }
    const std::size_t text_len = dict.size() + 1;  // + '\n'
    std::size_t prefix_len = 10;
    std::size_t pad = kAlign - (prefix_len + text_len) % kAlign;
    const bool v2 = text_len + pad > 0xFFFF;
    if (v2) {
        prefix_len = 12;
        pad = kAlign - (prefix_len + text_len) % kAlign;
    }
    std::string out("\x93NUMPY", 6);
    out.push_back(v2 ? '\x02' : '\x01');
    out.push_back('\0');
    if (v2) {
        put32(out, text_len + pad);
    } else {
        put16(out, text_len + pad);
    }
    out += dict;
    out.append(pad, ' ');
    out.push_back('\n');
    return out;
}

std::uint32_t crc32_of(std::uint32_t crc, const void* p, std::size_t n) {
    if (n == 0) return crc;  // an empty array's data() may be null, and crc32(crc, null) is 0
    return static_cast<std::uint32_t>(
        crc32_z(crc, static_cast<const Bytef*>(p), static_cast<z_size_t>(n)));
}

// ---- zip (the .npz container) ----

struct ZipEntry {
    std::string name;
    std::uint16_t flags = 0, method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed = 0, uncompressed = 0, offset = 0;
};

std::string entry_where(const std::string& path, const std::string& name) {
    return fmt::format("'{}' entry '{}'", path, name);
}

std::vector<ZipEntry> read_directory(const char* op, const std::string& path, const Source& src) {
    const std::string where = fmt::format("'{}'", path);
    const std::uint64_t size = src.size();
    // The end record (22 bytes + a comment of up to 65535) closes the archive.
    const auto tail_len = static_cast<std::size_t>(std::min<std::uint64_t>(size, 22 + 0xFFFF));
    Bytes tail(tail_len);
    src.read(size - tail_len, tail.data(), tail_len);
    std::size_t end_pos = tail_len;
    for (std::size_t i = tail_len >= 22 ? tail_len - 22 + 1 : 0; i-- > 0;) {
        if (le32(&tail[i]) == kEndSig && i + 22 + le16(&tail[i + 20]) <= tail_len) {
            end_pos = i;
            break;
        }
    }
    if (end_pos == tail_len) {
        Bytes head(static_cast<std::size_t>(std::min<std::uint64_t>(size, 6)));
        src.read(0, head.data(), head.size());
        const bool npy = head.size() == 6 && std::memcmp(head.data(), "\x93NUMPY", 6) == 0;
        fail(op, where,
             fmt::format("corrupt zip: no end-of-central-directory record (bad signature); not a "
                         ".npz file{}",
                         npy ? " but a .npy file: read it with load_npy" : " or truncated"));
    }
    const unsigned char* e = &tail[end_pos];
    const std::uint64_t end_offset = size - tail_len + end_pos;
    std::uint64_t count = le16(e + 10), dir_size = le32(e + 12), dir_offset = le32(e + 16);
    if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != count) {
        fail(op, where, "unsupported zip: the archive spans several disks");
    }
    if (count == 0xFFFF || dir_size == kZip32Max || dir_offset == kZip32Max) {
        // zip64: a locator just before the end record points at the zip64 end record.
        unsigned char loc[20], rec[56];
        if (end_offset < 20) fail(op, where, "corrupt zip: zip64 locator missing");
        src.read(end_offset - 20, loc, 20);
        const std::uint64_t rec_offset = le64(loc + 8);
        if (le32(loc) != kZip64LocatorSig || rec_offset + 56 > end_offset) {
            fail(op, where, "corrupt zip: bad zip64 locator signature");
        }
        src.read(rec_offset, rec, 56);
        if (le32(rec) != kZip64EndSig) {
            fail(op, where, "corrupt zip: bad zip64 end-of-central-directory signature");
        }
        count = le64(rec + 32);
        dir_size = le64(rec + 40);
        dir_offset = le64(rec + 48);
    }
    if (dir_offset > end_offset || dir_size > end_offset - dir_offset) {
        fail(op, where,
             fmt::format("corrupt zip: the central directory (offset {}, {} bytes) lies outside "
                         "the file ({} bytes)",
                         dir_offset, dir_size, size));
    }
    Bytes dir(static_cast<std::size_t>(dir_size));
    src.read(dir_offset, dir.data(), dir.size());

    std::vector<ZipEntry> entries;
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (pos + 46 > dir.size() || le32(&dir[pos]) != kCentralSig) {
            fail(op, where,
                 fmt::format("corrupt zip: bad central directory signature for entry {} of {}",
                             i + 1, count));
        }
        const unsigned char* c = &dir[pos];
        const std::size_t name_len = le16(c + 28), extra_len = le16(c + 30),
                          comment_len = le16(c + 32);
        if (pos + 46 + name_len + extra_len + comment_len > dir.size()) {
            fail(op, where,
                 fmt::format("corrupt zip: central directory entry {} of {} is cut short", i + 1,
                             count));
        }
        ZipEntry z;
        z.flags = le16(c + 8);
        z.method = le16(c + 10);
        z.crc = le32(c + 16);
        z.compressed = le32(c + 20);
        z.uncompressed = le32(c + 24);
        z.offset = le32(c + 42);
        z.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
        // The zip64 extra field holds, in this order, the 32-bit fields that overflowed.
        const unsigned char* x = c + 46 + name_len;
        for (std::size_t j = 0; j + 4 <= extra_len;) {
            const std::size_t id = le16(x + j), len = le16(x + j + 2);
            if (j + 4 + len > extra_len) break;
            if (id == 0x0001) {
                std::size_t k = j + 4;
                for (std::uint64_t* field : {&z.uncompressed, &z.compressed, &z.offset}) {
                    if (*field != kZip32Max) continue;
                    if (k + 8 > j + 4 + len) {
                        fail(op, where,
                             fmt::format("corrupt zip: short zip64 field for entry '{}'", z.name));
                    }
                    *field = le64(x + k);
                    k += 8;
                }
            }
            j += 4 + len;
        }
        entries.push_back(std::move(z));
        pos += 46 + name_len + extra_len + comment_len;
    }
    return entries;
}

Bytes inflate_raw(const char* op, const std::string& where, const Bytes& in, std::size_t out_size) {
    Bytes out(out_size);
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail(op, where, "zlib inflateInit2 failed");
    struct End {
        z_stream* zs;
        ~End() { inflateEnd(zs); }
    } end{&zs};
    constexpr std::size_t kChunk = std::size_t(1) << 30;  // avail_in/out are 32-bit
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.next_out = out.data();
    std::size_t in_left = in.size(), out_left = out.size();
    for (;;) {
        if (zs.avail_in == 0 && in_left > 0) {
            zs.avail_in = static_cast<uInt>(std::min(in_left, kChunk));
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0 && out_left > 0) {
            zs.avail_out = static_cast<uInt>(std::min(out_left, kChunk));
            out_left -= zs.avail_out;
        }
        const int rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR && zs.avail_out == 0 && out_left == 0) {
            fail(op, where,
                 fmt::format("corrupt zip: the entry inflates to more than the {} bytes the "
                             "directory records",
                             out_size));
        }
        if (rc == Z_BUF_ERROR) {
            fail(op, where,
                 fmt::format("truncated data: the deflate stream of {} bytes ends early",
                             in.size()));
        }
        fail(op, where,
             fmt::format("corrupt zip: bad deflate data ({})", zs.msg ? zs.msg : "zlib error"));
    }
    const std::size_t produced = out_size - out_left - zs.avail_out;
    if (produced != out_size) {
        fail(op, where,
             fmt::format("corrupt zip: the entry inflates to {} bytes, the directory records {}",
                         produced, out_size));
    }
    return out;
}

// The uncompressed bytes of one entry, checked against its CRC-32.
Bytes read_entry(const char* op, const std::string& path, const Source& src, const ZipEntry& z) {
    const std::string where = entry_where(path, z.name);
    const std::uint64_t size = src.size();
    if (z.flags & 0x1) fail(op, where, "unsupported zip: the entry is encrypted");
    if (z.method != 0 && z.method != 8) {
        fail(op, where,
             fmt::format("unsupported zip compression method {} (supported: 0 stored, 8 "
                         "deflated)",
                         z.method));
    }
    unsigned char local[30];
    if (z.offset >= size || size - z.offset < 30) {
        fail(op, where,
             fmt::format("corrupt zip: the local header at offset {} lies past the end of the "
                         "file ({} bytes)",
                         z.offset, size));
    }
    src.read(z.offset, local, 30);
    if (le32(local) != kLocalSig) {
        fail(op, where,
             fmt::format("corrupt zip: bad local header signature at offset {}", z.offset));
    }
    const std::uint64_t data_offset = z.offset + 30 + le16(local + 26) + le16(local + 28);
    const std::uint64_t available = data_offset < size ? size - data_offset : 0;
    if (available < z.compressed) {
        fail(op, where,
             fmt::format("truncated data: expected {} bytes, got {}", z.compressed, available));
    }
    // Deflate cannot expand data more than ~1032 times; a bigger claim is a corrupt directory
    // (and would otherwise be an absurd allocation).
    if ((z.method == 0 && z.compressed != z.uncompressed) ||
        (z.method == 8 && z.uncompressed / 1032 > z.compressed + 1024)) {
        fail(op, where,
             fmt::format("corrupt zip: sizes {} (compressed) and {} (uncompressed) do not fit "
                         "the method",
                         z.compressed, z.uncompressed));
    }
    Bytes data(static_cast<std::size_t>(z.compressed));
    src.read(data_offset, data.data(), data.size());
    if (z.method == 8)
        data = inflate_raw(op, where, data, static_cast<std::size_t>(z.uncompressed));
    const std::uint32_t crc = crc32_of(0, data.data(), data.size());
    if (crc != z.crc) {
        fail(op, where,
             fmt::format("CRC mismatch: the directory records 0x{:08x}, the data give 0x{:08x}",
                         z.crc, crc));
    }
    return data;
}

bool is_npy_entry(const std::string& name) {
    return name.size() >= 4 && name.compare(name.size() - 4, 4, ".npy") == 0;
}

template <class T>
xt::xarray<T> read_npz_entry(const std::string& path, const Source& src, const ZipEntry& z) {
    const Bytes bytes = read_entry("load_npz", path, src, z);
    return read_npy<T>("load_npz", entry_where(path, z.name), MemorySource(bytes));
}

}  // namespace

template <class T>
xt::xarray<T> load_npy(const std::string& path) {
    const FileSource src("load_npy", path);
    return read_npy<T>("load_npy", fmt::format("'{}'", path), src);
}

template <class T>
void save_npy(const std::string& path, const xt::xarray<T>& a) {
    const std::string header = npy_header(npy_descr<T>(), a.shape());
    AtomicFile file("save_npy", path);
    file.write(header);
    file.write(a.data(), a.size() * sizeof(T));
    file.commit();
}

template <class T>
std::map<std::string, xt::xarray<T>> load_npz(const std::string& path) {
    const FileSource src("load_npz", path);
    std::map<std::string, xt::xarray<T>> out;
    for (const ZipEntry& z : read_directory("load_npz", path, src)) {
        if (!is_npy_entry(z.name)) {
            fail("load_npz", entry_where(path, z.name),
                 "not a .npy array (np.savez names each array '<key>.npy')");
        }
        const std::string key = z.name.substr(0, z.name.size() - 4);
        if (out.count(key) != 0) fail("load_npz", entry_where(path, z.name), "duplicate entry");
        out.emplace(key, read_npz_entry<T>(path, src, z));
    }
    return out;
}

template <class T>
xt::xarray<T> load_npz(const std::string& path, const std::string& name) {
    const FileSource src("load_npz", path);
    const std::vector<ZipEntry> entries = read_directory("load_npz", path, src);
    for (const ZipEntry& z : entries) {
        if (z.name == name + ".npy") return read_npz_entry<T>(path, src, z);
    }
    std::vector<std::string> names;
    for (std::size_t i = 0; i < entries.size() && i < 20; ++i)
        names.push_back(entries[i].name);
    if (entries.size() > 20) names.push_back("...");
    throw IoError(
        fmt::format("load_npz: '{}': missing entry '{}.npy' (the file holds: {})", path, name,
                    names.empty() ? "nothing" : fmt::format("{}", fmt::join(names, ", "))));
}

template <class T>
void save_npz(const std::string& path, const std::map<std::string, xt::xarray<T>>& arrays) {
    struct Entry {
        std::string name, header;
        const xt::xarray<T>* array;
        std::uint64_t size, offset;
        std::uint32_t crc;
        std::uint16_t flags;
    };
    std::vector<Entry> entries;
    std::uint64_t offset = 0, dir_size = 0;
    for (const auto& [key, a] : arrays) {
        Entry e{key + ".npy", npy_header(npy_descr<T>(), a.shape()), &a, 0, offset, 0, 0};
        if (e.name.size() > 0xFFFF) {
            throw IoError(
                fmt::format("save_npz: '{}': the key '{}...' is longer than a zip entry "
                            "name can be (65531 bytes)",
                            path, key.substr(0, 40)));
        }
        const std::size_t data_bytes = a.size() * sizeof(T);
        e.size = e.header.size() + data_bytes;
        e.crc = crc32_of(crc32_of(0, e.header.data(), e.header.size()), a.data(), data_bytes);
        // Bit 11: the name is UTF-8 (set, as Python's zipfile does, when it is not ASCII).
        e.flags = std::any_of(e.name.begin(), e.name.end(),
                              [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; })
                      ? 0x0800
                      : 0;
        offset += 30 + e.name.size() + e.size;
        dir_size += 46 + e.name.size();
        entries.push_back(std::move(e));
    }
    // Everything must be addressable with 32-bit fields; checked before anything is written.
    if (entries.size() >= 0xFFFF || offset + dir_size + 22 >= kZip32Max) {
        throw IoError(
            fmt::format("save_npz: '{}': {} arrays in {} bytes need zip64 (4 GiB or "
                        "65535 entries), which save_npz does not write; split them "
                        "over several files",
                        path, entries.size(), offset + dir_size + 22));
    }

    AtomicFile file("save_npz", path);
    std::string dir;
    for (const Entry& e : entries) {
        // Stored entries, dated 1980-01-01 00:00 (zip's epoch) so equal arrays give equal files.
        std::string local;
        put32(local, kLocalSig);
        put16(local, 20);  // version needed: 2.0
        put16(local, e.flags);
        put16(local, 0);     // method: stored
        put16(local, 0);     // time
        put16(local, 0x21);  // date: 1980-01-01
        put32(local, e.crc);
        put32(local, e.size);
        put32(local, e.size);
        put16(local, e.name.size());
        put16(local, 0);  // extra field length
        local += e.name;
        file.write(local);
        file.write(e.header);
        file.write(e.array->data(), e.array->size() * sizeof(T));

        put32(dir, kCentralSig);
        put16(dir, 3 << 8 | 20);  // made by: Unix, zip 2.0
        put16(dir, 20);
        put16(dir, e.flags);
        put16(dir, 0);
        put16(dir, 0);
        put16(dir, 0x21);
        put32(dir, e.crc);
        put32(dir, e.size);
        put32(dir, e.size);
        put16(dir, e.name.size());
        put16(dir, 0);                             // extra
        put16(dir, 0);                             // comment
        put16(dir, 0);                             // disk
        put16(dir, 0);                             // internal attributes
        put32(dir, std::uint64_t(0100644) << 16);  // external: a regular file, rw-r--r--
        put32(dir, e.offset);
        dir += e.name;
    }
    std::string end;
    put32(end, kEndSig);
    put16(end, 0);
    put16(end, 0);
    put16(end, entries.size());
    put16(end, entries.size());
    put32(end, dir.size());
    put32(end, offset);
    put16(end, 0);  // comment length
    file.write(dir);
    file.write(end);
    file.commit();
}

#define XGRAD_IO_INSTANTIATE(T)                                                    \
    template xt::xarray<T> load_npy<T>(const std::string&);                        \
    template void save_npy<T>(const std::string&, const xt::xarray<T>&);           \
    template std::map<std::string, xt::xarray<T>> load_npz<T>(const std::string&); \
    template xt::xarray<T> load_npz<T>(const std::string&, const std::string&);    \
    template void save_npz<T>(const std::string&, const std::map<std::string, xt::xarray<T>>&);
XGRAD_IO_INSTANTIATE(float)
XGRAD_IO_INSTANTIATE(double)
XGRAD_IO_INSTANTIATE(std::int32_t)
XGRAD_IO_INSTANTIATE(std::int64_t)
XGRAD_IO_INSTANTIATE(std::uint8_t)
#undef XGRAD_IO_INSTANTIATE

void save_text(const char* op, const std::string& path, const std::string& text) {
    AtomicFile file(op, path);
    file.write(text);
    file.commit();
}

}  // namespace xgrad
