// Integer arrays (Note [integer arrays] in autograd/io.hpp): files NumPy wrote
// (tests/data/int, made by scripts/make-int-npy-fixtures.py) read as int32, int64 and uint8
// exactly or not at all, and save_npy/save_npz write what np.save writes.

#include "autograd/io.hpp"

#include "autograd/errors.hpp"
#include "autograd/shape.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>

using namespace xgrad;
using testing::data_path;
using testing::read_file;
using testing::TempDir;

namespace {

std::string fixture(const std::string& name) {
    return data_path("int/" + name);
}

}  // namespace

TEST_CASE("load_npy: int64 labels numpy wrote read as int64, int32 and uint8") {
    const xt::xarray<std::int64_t> want{0, 1, 2, 9, 3, 7};
    CHECK(load_npy<std::int64_t>(fixture("labels_i8.npy")) == want);
    CHECK(load_npy<std::int32_t>(fixture("labels_i8.npy")) == xt::xarray<std::int32_t>(want));
    CHECK(load_npy<std::uint8_t>(fixture("labels_i8.npy")) == xt::xarray<std::uint8_t>(want));
    CHECK(load_npy<std::int64_t>(fixture("labels_u1.npy")) == want);  // '|u1' widened
    CHECK(load_npy<float>(fixture("labels_u1.npy")) == xt::xarray<float>(want));
}

TEST_CASE("load_npy: a Fortran-order int32 file reads row-major, bools read as 0 and 1") {
    const xt::xarray<std::int32_t> want{{0, -1, 2}, {30, 40, -50}};
    CHECK(load_npy<std::int32_t>(fixture("indices_i4_f.npy")) == want);
    CHECK(load_npy<std::int64_t>(fixture("indices_i4_f.npy")) == xt::xarray<std::int64_t>(want));
    CHECK(load_npy<std::uint8_t>(fixture("bools.npy")) == xt::xarray<std::uint8_t>{1, 0, 0, 1});
    CHECK(load_npy<std::int32_t>(fixture("bools.npy")) == xt::xarray<std::int32_t>{1, 0, 0, 1});
}

TEST_CASE("load_npy: a floating-point array read as an integer type names the file and dtype") {
    const std::string path = fixture("floats_f4.npy");  // 1 2 3: whole, still refused
    CHECK_THROWS_WITH_AS(load_npy<std::int64_t>(path),
                         doctest::Contains(("load_npy: '" + path +
                                            "': dtype '<f4' (floating point) cannot be read "
                                            "as int64")
                                               .c_str()),
                         IoError);
    CHECK_THROWS_WITH_AS(load_npy<std::uint8_t>(path), doctest::Contains("as uint8"), IoError);
    CHECK(load_npy<double>(path) == xt::xarray<double>{1, 2, 3});
}

TEST_CASE("load_npy: a value outside the integer type's range is refused, naming it") {
    const std::string big = fixture("big_i8.npy");  // 1 -2 3000000000
    CHECK_THROWS_WITH_AS(load_npy<std::int32_t>(big),
                         doctest::Contains(("load_npy: '" + big +
                                            "': value 3000000000 (element 2 in file order) is "
                                            "outside the range of int32 (-2147483648 to "
                                            "2147483647)")
                                               .c_str()),
                         IoError);
    CHECK(load_npy<std::int64_t>(big) == xt::xarray<std::int64_t>{1, -2, 3000000000});
    CHECK_THROWS_WITH_AS(load_npy<std::uint8_t>(big), doctest::Contains("value -2 (element 1"),
                         IoError);
    CHECK_THROWS_WITH_AS(load_npy<std::uint8_t>(fixture("negative_i2.npy")),
                         doctest::Contains("value -1 (element 1 in file order) is outside the "
                                           "range of uint8 (0 to 255)"),
                         IoError);
}

TEST_CASE("save_npy: int64 and uint8 files are byte for byte what np.save wrote") {
    TempDir dir;
    const std::string i8 = (dir.path / "i8.npy").string(), u1 = (dir.path / "u1.npy").string();
    save_npy(i8, xt::xarray<std::int64_t>{0, 1, 2, 9, 3, 7});
    save_npy(u1, xt::xarray<std::uint8_t>{0, 1, 2, 9, 3, 7});
    CHECK(read_file(i8) == read_file(fixture("labels_i8.npy")));
    CHECK(read_file(u1) == read_file(fixture("labels_u1.npy")));
}

TEST_CASE("save_npy: int32, int64 and uint8 round trip, extremes, 0-d and empty included") {
    TempDir dir;
    const std::string path = (dir.path / "a.npy").string();
    using L64 = std::numeric_limits<std::int64_t>;
    const xt::xarray<std::int64_t> i64{{L64::min(), -1, 0}, {1, 42, L64::max()}};
    save_npy(path, i64);
    CHECK(read_file(path).find("'descr': '<i8'") != std::string::npos);
    CHECK(load_npy<std::int64_t>(path) == i64);
    const xt::xarray<std::int32_t> i32{std::numeric_limits<std::int32_t>::min(), 7};
    save_npy(path, i32);
    CHECK(read_file(path).find("'descr': '<i4'") != std::string::npos);
    CHECK(load_npy<std::int32_t>(path) == i32);
    xt::xarray<std::uint8_t> scalar = xt::xarray<std::uint8_t>::from_shape(Shape{});
    scalar() = 255;
    save_npy(path, scalar);
    CHECK(load_npy<std::uint8_t>(path) == scalar);
    save_npy(path, xt::xarray<std::int64_t>::from_shape(Shape{0, 3}));
    CHECK(load_npy<std::int64_t>(path).shape() == Shape{0, 3});
}

TEST_CASE("load_npz: integer entries of a mixed archive, the float entry refused by name") {
    const std::string path = fixture("mixed.npz");
    CHECK(load_npz<std::int64_t>(path, "labels") == xt::xarray<std::int64_t>{3, 1, 4, 1});
    CHECK(load_npz<std::uint8_t>(path, "mask") == xt::xarray<std::uint8_t>{1, 0, 1});
    CHECK(load_npz<float>(path, "weights") == xt::xarray<float>{0.5f, -0.25f});
    CHECK_THROWS_WITH_AS(load_npz<std::int64_t>(path),
                         doctest::Contains(("load_npz: '" + path +
                                            "' entry 'weights.npy': dtype '<f4' (floating "
                                            "point) cannot be read as int64")
                                               .c_str()),
                         IoError);
}

TEST_CASE("save_npz: integer arrays round trip keyed by name") {
    TempDir dir;
    const std::string path = (dir.path / "ints.npz").string();
    const std::map<std::string, xt::xarray<std::int32_t>> arrays{{"labels", {3, 1, 4}},
                                                                 {"indices", {{0, -1}, {2, -3}}}};
    save_npz(path, arrays);
    CHECK(load_npz<std::int32_t>(path) == arrays);
    CHECK(load_npz<std::int64_t>(path, "indices") == xt::xarray<std::int64_t>{{0, -1}, {2, -3}});
}
