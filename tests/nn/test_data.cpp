#include "nn/data.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "autograd/random.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <zlib.h>
#include <xtensor/xadapt.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

using namespace xgrad;
namespace fs = std::filesystem;
using namespace testing;  // TempDir, read_file, write_file

namespace {

// An IDX image: 0x00 0x00, type 0x08 (unsigned byte), the dimension count, each dimension as a
// big-endian uint32, then the bytes.
std::string idx(const std::vector<std::uint32_t>& dims, const std::string& data) {
    std::string s{'\0', '\0', '\x08', char(dims.size())};
    for (const std::uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8)
            s.push_back(char((d >> shift) & 0xFF));
    }
    return s + data;
}

std::string bytes_0_to(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = char(i * 7 % 256);
    return s;
}

void write_gzip(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == int(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

// n examples: inputs [n, 2] with row i = (10i, 10i + 1), targets [n] = i.
nn::Dataset<float> numbered(std::size_t n) {
    nn::Dataset<float> d{xt::xarray<float>::from_shape(Shape{n, 2}),
                         xt::xarray<float>::from_shape(Shape{n})};
    for (std::size_t i = 0; i < n; ++i) {
        d.inputs(i, 0) = float(10 * i);
        d.inputs(i, 1) = float(10 * i + 1);
        d.targets(i) = float(i);
    }
    return d;
}

// The targets of one epoch, in visiting order; checks that x rows belong to their targets.
std::vector<int> epoch(nn::DataLoader<float>& loader) {
    std::vector<int> order;
    for (const auto& [x, y] : loader) {
        for (std::size_t i = 0; i < y.size(); ++i) {
            CHECK(x(i, 0) == 10 * y(i));
            order.push_back(int(y(i)));
        }
    }
    return order;
}

}  // namespace

TEST_CASE("read_idx: plain and gzipped files round trip") {
    TempDir dir;
    const std::string images = idx({3, 2, 4}, bytes_0_to(24));  // magic 0x00000803
    const std::string labels = idx({5}, std::string("\x00\x09\x03\x07\x01", 5));  // 0x00000801
    write_file(dir / "images", images);
    write_gzip(dir / "images.gz", images);
    write_gzip(dir / "labels.gz", labels);
    for (const char* name : {"images", "images.gz"}) {
        CAPTURE(name);
        const auto a = nn::read_idx(dir / name);
        REQUIRE(a.shape() == Shape{3, 2, 4});
        CHECK(a(0, 0, 1) == 7);
        CHECK(a(2, 1, 3) == 23 * 7 % 256);  // flat index 23
    }
    CHECK(nn::read_idx(dir / "labels.gz") == xt::xarray<std::uint8_t>{0, 9, 3, 7, 1});
}

TEST_CASE("read_idx: a bad magic, an unsupported type or no dimensions is named") {
    TempDir dir;
    const std::string p = dir / "bad";
    write_file(p, std::string("\x1f\x00\x08\x01", 4) + std::string(8, '\0'));
    CHECK_IO_ERROR(nn::read_idx(p), p, "bad magic 0x1f000801");
    write_file(p, std::string("\0\0\x0d\x01\0\0\0\x01\0\0\0\0", 12));
    CHECK_IO_ERROR(nn::read_idx(p), p, "unsupported IDX data type 0x0d");
    write_file(p, std::string("\0\0\x08\x00", 4));
    CHECK_IO_ERROR(nn::read_idx(p), p, "the dimension count is 0");
    CHECK_IO_ERROR(nn::read_idx(dir / "absent"), dir / "absent", "No such file or directory");
}

TEST_CASE("read_idx: truncated files give the expected and actual byte counts") {
    TempDir dir;
    const std::string full = idx({3, 2, 4}, bytes_0_to(24));
    for (const bool gzip : {false, true}) {
        CAPTURE(gzip);
        const std::string p = dir / (gzip ? "t.gz" : "t");
        const auto write = [&](const std::string& s) {
            gzip ? write_gzip(p, s) : write_file(p, s);
        };
        write(full.substr(0, full.size() - 4));
        CHECK_IO_ERROR(nn::read_idx(p), p, "truncated data: expected 24 bytes for shape [3, 2, 4]");
        CHECK_IO_ERROR(nn::read_idx(p), p, "got 20");
        write(full.substr(0, 10));
        CHECK_IO_ERROR(nn::read_idx(p), p, "truncated header: expected 12 bytes for 3 dimensions");
        write(idx({4000000000u, 2000000000u}, "abc"));  // a corrupt header is not allocated
        CHECK_IO_ERROR(nn::read_idx(p), p, "expected 8000000000000000000 bytes for shape");
        write(idx({4000000000u, 4000000000u}, "abc"));  // more than an array can index
        CHECK_IO_ERROR(nn::read_idx(p), p, "shape [4000000000, 4000000000] is too large");
        write(full.substr(0, 2));
        CHECK_IO_ERROR(nn::read_idx(p), p, "truncated header: expected 4 bytes of magic");
    }
    // A gzip stream cut in the middle: the data end early.
    write_gzip(dir / "whole.gz", idx({4000}, bytes_0_to(4000)));
    const std::string gz = read_file(dir / "whole.gz");
    write_file(dir / "cut.gz", gz.substr(0, gz.size() / 2));
    CHECK_IO_ERROR(nn::read_idx(dir / "cut.gz"), dir / "cut.gz",
                   "truncated data: expected 4000 bytes for shape [4000] (after gunzip)");
    write_file(dir / "cut.gz", gz.substr(0, gz.size() - 8));  // all the data, no trailer
    CHECK_IO_ERROR(nn::read_idx(dir / "cut.gz"), dir / "cut.gz", "truncated gzip stream");
}

TEST_CASE("read_idx: bytes after the data are an error") {
    TempDir dir;
    write_file(dir / "x", idx({2, 2}, bytes_0_to(4)) + "abc");
    CHECK_IO_ERROR(nn::read_idx(dir / "x"), dir / "x",
                   "3 unexpected bytes after the 4 bytes of data for shape [2, 2]");
}

TEST_CASE("read_idx: a gzip file failing its CRC check is corrupt") {
    TempDir dir;
    write_gzip(dir / "x.gz", idx({4}, "abcd"));
    std::string gz = read_file(dir / "x.gz");
    gz[gz.size() - 8] ^= 0x01;  // the trailer: CRC-32, then the length
    write_file(dir / "x.gz", gz);
    CHECK_IO_ERROR(nn::read_idx(dir / "x.gz"), dir / "x.gz", "corrupt gzip data");
}

TEST_CASE("DataLoader: batch shapes, num_batches and drop_last") {
    nn::Dataset<float> d{xt::zeros<float>({10, 2, 3}), xt::zeros<float>({10})};
    nn::DataLoader<float> loader(d, nn::DataLoaderOptions(4));
    CHECK(loader.num_batches() == 3);  // 4 + 4 + 2
    std::vector<std::size_t> sizes;
    for (const auto& batch : loader) {
        CHECK(batch.x.shape() == Shape{batch.y.size(), 2, 3});
        sizes.push_back(batch.y.size());
    }
    CHECK(sizes == std::vector<std::size_t>{4, 4, 2});
    nn::DataLoader<float> dropping(d, nn::DataLoaderOptions(4).drop_last(true));
    CHECK(dropping.num_batches() == 2);
    CHECK(std::distance(dropping.begin(), dropping.end()) == 2);
    CHECK(nn::DataLoader<float>(d, nn::DataLoaderOptions(11).drop_last(true)).num_batches() == 0);
    CHECK(nn::DataLoader<float>(d, nn::DataLoaderOptions(10)).num_batches() == 1);
}

TEST_CASE("DataLoader: without shuffling the batches follow the dataset order") {
    const auto d = numbered(5);
    nn::DataLoader<float> loader(d, nn::DataLoaderOptions(2));
    CHECK(epoch(loader) == std::vector<int>{0, 1, 2, 3, 4});
    const auto last = loader.batch(2);
    CHECK(last.x.value() == xt::xarray<float>{{40, 41}});
    CHECK(!last.x.requires_grad());
    CHECK_THROWS_AS(loader.batch(3), ValueError);
}

TEST_CASE("DataLoader: shuffling visits every example exactly once per epoch") {
    const auto d = numbered(103);
    nn::DataLoader<float> loader(d, nn::DataLoaderOptions(10).shuffle(true));
    std::vector<int> all(103);
    std::iota(all.begin(), all.end(), 0);
    for (int e = 0; e < 3; ++e) {
        auto order = epoch(loader);
        CHECK(order != all);  // 1/103! chance of a false failure
        std::sort(order.begin(), order.end());
        CHECK(order == all);
    }
}

TEST_CASE("DataLoader: the same seed gives the same orders, each epoch a new one") {
    const auto d = numbered(50);
    nn::DataLoader<float> a(d, nn::DataLoaderOptions(8).shuffle(true).seed(7));
    nn::DataLoader<float> b(d, nn::DataLoaderOptions(8).shuffle(true).seed(7));
    const auto a1 = epoch(a), a2 = epoch(a);
    CHECK(a1 == epoch(b));
    CHECK(a2 == epoch(b));
    CHECK(a1 != a2);
    // Without a seed the order comes from xgrad::generator().
    nn::DataLoader<float> c(d, nn::DataLoaderOptions(8).shuffle(true));
    manual_seed(3);
    const auto c1 = epoch(c);
    manual_seed(3);
    CHECK(epoch(c) == c1);
}

TEST_CASE("DataLoader: mismatched examples and batch_size 0 are errors, temporaries are owned") {
    nn::Dataset<float> bad{xt::zeros<float>({4, 2}), xt::zeros<float>({3})};
    CHECK_THROWS_WITH_AS(nn::DataLoader<float>(bad, nn::DataLoaderOptions(2)),
                         doctest::Contains("got inputs=[4, 2], targets=[3]"), ShapeError);
    CHECK_THROWS_WITH_AS(nn::DataLoader<float>(numbered(3), nn::DataLoaderOptions(0)),
                         doctest::Contains("batch_size >= 1"), ValueError);
    nn::DataLoader<float> owning(numbered(3), nn::DataLoaderOptions(2));
    CHECK(epoch(owning) == std::vector<int>{0, 1, 2});
}

TEST_CASE("one_hot: class indices become rows with a single 1") {
    const xt::xarray<float> labels{2, 0, 1};
    CHECK(nn::one_hot(labels, 3) == xt::xarray<float>{{0, 0, 1}, {1, 0, 0}, {0, 1, 0}});
    xt::xarray<double> column{1, 0};
    column.reshape({2, 1});
    CHECK(nn::one_hot(column, 2) == xt::xarray<double>{{{0, 1}}, {{1, 0}}});
    CHECK_THROWS_WITH_AS(nn::one_hot(xt::xarray<float>{0, 3}, 3),
                         doctest::Contains("got label 3 at flat index 1"), ValueError);
    CHECK_THROWS_WITH_AS(nn::one_hot(xt::xarray<float>{1.5}, 3), doctest::Contains("label 1.5"),
                         ValueError);
    CHECK_THROWS_WITH_AS(nn::one_hot(xt::xarray<float>{-1}, 3), doctest::Contains("label -1"),
                         ValueError);
}

TEST_CASE("train_validation_split: without shuffling the last examples are held out") {
    const auto [train, validation] = nn::train_validation_split(numbered(10), 3);
    CHECK(train.targets == xt::xarray<float>{0, 1, 2, 3, 4, 5, 6});
    CHECK(validation.targets == xt::xarray<float>{7, 8, 9});
    CHECK(validation.inputs == xt::xarray<float>{{70, 71}, {80, 81}, {90, 91}});
    CHECK(nn::train_validation_split(numbered(4), 0).second.size() == 0);
    CHECK_THROWS_WITH_AS(nn::train_validation_split(numbered(4), 5),
                         doctest::Contains("validation_size=5"), ValueError);
}

TEST_CASE("train_validation_split: shuffling draws a seeded random subset, disjoint and complete") {
    const auto d = numbered(40);
    const auto [train, validation] = nn::train_validation_split(d, 10, true, 11);
    REQUIRE(train.size() == 30);
    REQUIRE(validation.size() == 10);
    CHECK(validation.targets != xt::arange<float>(30, 40));  // not the last ten (1 in 8·10⁸)
    CHECK(xt::all(xt::equal(
        validation.inputs,
        10.0f * xt::view(validation.targets, xt::all(), xt::newaxis()) + xt::xarray<float>{0, 1})));
    std::vector<float> all(train.targets.begin(), train.targets.end());
    all.insert(all.end(), validation.targets.begin(), validation.targets.end());
    std::sort(all.begin(), all.end());
    CHECK(xt::adapt(all) == xt::arange<float>(0, 40));
    CHECK(nn::train_validation_split(d, 10, true, 11).second.targets == validation.targets);
}

TEST_CASE("load_mnist: a missing directory or file says how to install the data") {
    TempDir dir;
    const std::string absent = dir / "nowhere";
    CHECK_IO_ERROR(nn::load_mnist<float>(absent), absent, "apt-get install dataset-fashion-mnist");
    CHECK_IO_ERROR(nn::load_mnist<float>(absent), absent, "bash scripts/setup-data.sh");
    write_file(dir / "t10k-images-idx3-ubyte", idx({1, 1, 1}, "x"));
    CHECK_IO_ERROR(nn::load_mnist<float>(dir.path.string(), false), dir.path.string(),
                   "neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz");
}

TEST_CASE("load_mnist: reads the four-file layout into n × rows·cols values from 0 to 1") {
    TempDir dir;
    write_gzip(dir / "train-images-idx3-ubyte.gz", idx({2, 2, 2}, std::string("\0\xff\x33\x66"
                                                                              "\x99\xcc\0\0",
                                                                              8)));
    write_file(dir / "train-labels-idx1-ubyte", idx({2}, std::string("\x07\x00", 2)));
    const auto d = nn::load_mnist<double>(dir.path.string());
    CHECK(d.inputs == xt::xarray<double>{{0, 1, 0.2, 0.4}, {0.6, 0.8, 0, 0}});  // 51/255 = 0.2
    CHECK(d.targets == xt::xarray<double>{7, 0});
    write_file(dir / "train-labels-idx1-ubyte", idx({2}, std::string("\x07\x0a", 2)));
    CHECK_IO_ERROR(nn::load_mnist<float>(dir.path.string()), "train-labels-idx1-ubyte",
                   "label 10 of example 1 is outside 0..9");
}

TEST_CASE("load_mnist: the Fashion-MNIST test set has 1000 images of each of 10 classes") {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    if (!testing::exists_or_skip(dir, "`apt-get install dataset-fashion-mnist` installs it")) {
        return;
    }
    const auto test = nn::load_mnist<float>(dir, false);
    REQUIRE(test.inputs.shape() == Shape{10000, 784});
    REQUIRE(test.targets.shape() == Shape{10000});
    CHECK(xt::amin(test.inputs)() == 0.0f);
    CHECK(xt::amax(test.inputs)() == 1.0f);
    std::vector<int> per_class(10, 0);
    std::size_t outside = 0;
    for (const float label : test.targets) {
        if (label >= 0 && label <= 9) {
            ++per_class[static_cast<std::size_t>(label)];
        } else {
            ++outside;
        }
    }
    CHECK(outside == 0);
    CHECK(per_class == std::vector<int>(10, 1000));
}

TEST_CASE("read_idx: a gzip stream with a damaged deflate block is corrupt, not short") {
    TempDir dir;
    write_gzip(dir / "x.gz", idx({4000}, bytes_0_to(4000)));
    std::string gz = read_file(dir / "x.gz");
    for (std::size_t i = 10; i < 14; ++i)
        gz[i] = char(0xFF);  // the first bytes of the deflate data
    write_file(dir / "x.gz", gz);
    CHECK_IO_ERROR(nn::read_idx(dir / "x.gz"), dir / "x.gz", "corrupt gzip data");
}

TEST_CASE("read_idx and load_npz: every truncation of a file is an IoError naming the file") {
    TempDir dir;
    const std::string images = idx({2, 3, 3}, bytes_0_to(18));
    write_gzip(dir / "full.gz", images);
    const std::string gz = read_file(dir / "full.gz");
    save_npz<float>(dir / "full.npz",
                    {{"w", xt::xarray<float>{{1, 2}, {3, 4}}}, {"b", xt::xarray<float>{5}}});
    const std::string npz = read_file(dir / "full.npz");
    const std::string p = dir / "cut";
    for (std::size_t n = 0; n < images.size(); ++n) {
        CAPTURE(n);
        write_file(p, images.substr(0, n));
        CHECK_THROWS_WITH_AS(nn::read_idx(p), doctest::Contains(p.c_str()), IoError);
    }
    for (std::size_t n = 0; n < gz.size(); ++n) {
        CAPTURE(n);
        write_file(p, gz.substr(0, n));
        CHECK_THROWS_WITH_AS(nn::read_idx(p), doctest::Contains(p.c_str()), IoError);
    }
    for (std::size_t n = 0; n < npz.size(); ++n) {
        CAPTURE(n);
        write_file(p, npz.substr(0, n));
        CHECK_THROWS_WITH_AS(load_npz<float>(p), doctest::Contains(p.c_str()), IoError);
    }
}

TEST_CASE("load_mnist: a truncated images file is named with the byte counts") {
    TempDir dir;
    for (const bool gzip : {false, true}) {
        CAPTURE(gzip);
        fs::remove_all(dir.path);
        fs::create_directories(dir.path);
        const std::string images =
            idx({3, 2, 2}, bytes_0_to(12)).substr(0, 16 + 10);  // 2 bytes short
        const std::string path =
            dir / (gzip ? "t10k-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte");
        gzip ? write_gzip(path, images) : write_file(path, images);
        write_file(dir / "t10k-labels-idx1-ubyte", idx({3}, std::string("\x01\x02\x03", 3)));
        CHECK_IO_ERROR(nn::load_mnist<float>(dir.path.string(), false), path,
                       "truncated data: expected 12 bytes for shape [3, 2, 2]");
    }
}
