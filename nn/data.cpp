#include "nn/data.hpp"

#include "autograd/atomic_file.hpp"  // errno_str
#include "autograd/errors.hpp"
#include "autograd/random.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <optional>

namespace xgrad::nn {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstallHint =
    "install Fashion-MNIST with `apt-get install dataset-fashion-mnist` (into "
    "/usr/share/datasets/fashion-mnist) or MNIST with `bash scripts/setup-data.sh`, or pass the "
    "directory that holds the IDX files";

using xgrad::detail::errno_str;

// zlib's gz* functions read gzip and, transparently, plain files.
class GzFile {
public:
    explicit GzFile(const std::string& path) : path_(path) {
        // Open with stdio first: it reports a missing file or a directory precisely.
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (f == nullptr) {
            throw IoError(fmt::format("read_idx: cannot open '{}' ({})", path, errno_str(errno)));
        }
        struct stat st {};
        if (fstat(fileno(f), &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
        unsigned char magic[2] = {0, 0};
        const std::size_t got = std::fread(magic, 1, 2, f);
        const bool unreadable = std::ferror(f) != 0;
        const int err = errno;
        std::fclose(f);
        if (unreadable) {
            throw IoError(fmt::format("read_idx: cannot read '{}' ({})", path, errno_str(err)));
        }
        gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file_ = gzopen(path.c_str(), "rb");
        if (file_ == nullptr) {
            throw IoError(fmt::format("read_idx: cannot open '{}' ({})", path, errno_str(errno)));
        }
        gzbuffer(file_, 1u << 17);
    }
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;
    ~GzFile() { gzclose(file_); }

    bool gzip() const { return gzip_; }
    // Size of the file on disk (compressed, for gzip).
    std::uint64_t size() const { return size_; }

    // Reads up to n bytes (fewer only at the end of the data); throws on corrupt gzip data.
    std::size_t read(void* dst, std::size_t n) {
        auto* p = static_cast<unsigned char*>(dst);
        std::size_t total = 0;
        while (total < n) {
            const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
            const int got = gzread(file_, p + total, chunk);
            if (got < 0) corrupt();
            total += static_cast<std::size_t>(got);
            if (static_cast<unsigned>(got) < chunk) break;
        }
        int errnum = Z_OK;
        gzerror(file_, &errnum);
        // Z_BUF_ERROR is a gzip stream that ends early: the caller reports truncated data.
        if (errnum == Z_BUF_ERROR) {
            truncated_ = true;
        } else if (errnum != Z_OK) {
            corrupt();
        }
        return total;
    }

    // True once the gzip stream has ended before its trailer (zlib: "unexpected end of file").
    bool truncated() const { return truncated_; }

    // Text for messages: " (after gunzip)", or "" for a plain file.
    const char* stage() const { return gzip_ ? " (after gunzip)" : ""; }

private:
    [[noreturn]] void corrupt() const {
        int errnum = Z_OK;
        const char* msg = gzerror(file_, &errnum);
        throw IoError(fmt::format("read_idx: '{}': corrupt gzip data ({})", path_,
                                  errnum == Z_ERRNO ? errno_str(errno) : msg));
    }

    std::string path_;
    gzFile file_ = nullptr;
    bool gzip_ = false;
    bool truncated_ = false;
    std::uint64_t size_ = 0;
};

// Rows `idx` of `a` (first axis), copied one row at a time: [idx.size(), a.shape()[1:]...].
template <class T>
xt::xarray<T> take_rows(const xt::xarray<T>& a, const std::size_t* idx, std::size_t count) {
    Shape shape = a.shape();
    const std::size_t row = shape[0] == 0 ? 0 : a.size() / shape[0];
    shape[0] = count;
    xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
    if (row == 0) return out;
    const T* src = a.data();
    T* dst = out.data();
    for (std::size_t i = 0; i < count; ++i) {
        std::memcpy(dst + i * row, src + idx[i] * row, row * sizeof(T));
    }
    return out;
}

template <class T>
void check_dataset(const char* op, const Dataset<T>& d) {
    if (d.inputs.dimension() == 0 || d.targets.dimension() == 0 ||
        d.inputs.shape()[0] != d.targets.shape()[0]) {
        throw ShapeError(
            fmt::format("{}: inputs and targets must have the same first axis (one "
                        "entry per example); got inputs={}, targets={}",
                        op, shape_str(d.inputs.shape()), shape_str(d.targets.shape())));
    }
}

std::string find_idx(const std::string& dir, const std::string& stem) {
    for (const std::string& name : {stem, stem + ".gz"}) {
        const fs::path p = fs::path(dir) / name;
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) return p.string();
    }
    throw IoError(fmt::format("load_mnist: '{}' holds neither {} nor {}.gz; {}", dir, stem, stem,
                              kInstallHint));
}

}  // namespace

xt::xarray<std::uint8_t> read_idx(const std::string& path) {
    GzFile file(path);
    unsigned char magic[4];
    if (const std::size_t got = file.read(magic, 4); got < 4) {
        throw IoError(
            fmt::format("read_idx: '{}': truncated header: expected 4 bytes of magic{}, "
                        "got {}",
                        path, file.stage(), got));
    }
    const std::uint32_t m = std::uint32_t(magic[0]) << 24 | std::uint32_t(magic[1]) << 16 |
                            std::uint32_t(magic[2]) << 8 | magic[3];
    if (magic[0] != 0 || magic[1] != 0) {
        throw IoError(
            fmt::format("read_idx: '{}': bad magic 0x{:08x}: not an IDX file (expected "
                        "0x00000803 for images, 0x00000801 for labels)",
                        path, m));
    }
    if (magic[2] != 0x08) {
        throw IoError(
            fmt::format("read_idx: '{}': unsupported IDX data type 0x{:02x} in magic "
                        "0x{:08x} (only 0x08, unsigned byte, is supported)",
                        path, magic[2], m));
    }
    const std::size_t rank = magic[3];
    if (rank == 0) {
        throw IoError(
            fmt::format("read_idx: '{}': bad magic 0x{:08x}: the dimension count is 0 "
                        "(expected 0x00000803 for images, 0x00000801 for labels)",
                        path, m));
    }
    std::vector<unsigned char> dims(4 * rank);
    if (const std::size_t got = file.read(dims.data(), dims.size()); got < dims.size()) {
        throw IoError(
            fmt::format("read_idx: '{}': truncated header: expected {} bytes for {} "
                        "dimensions{}, got {}",
                        path, dims.size(), rank, file.stage(), got));
    }
    Shape shape(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const unsigned char* p = &dims[4 * i];
        shape[i] =
            std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
    }
    // Every extent is checked, not only the product (0 for an empty array): see checked_size.
    const std::optional<std::size_t> count_or = checked_size(shape, 1);
    if (!count_or) {
        throw IoError(
            fmt::format("read_idx: '{}': shape {} is too large: its non-zero extents multiply "
                        "to more than an array can index",
                        path, shape_str(shape)));
    }
    const std::size_t count = *count_or;
    // Check the size before allocating, so a corrupt header does not ask for terabytes.
    const std::uint64_t header = 4 + 4 * rank;
    const std::uint64_t on_disk = file.size() > header ? file.size() - header : 0;
    if (!file.gzip() && on_disk < count) {
        throw IoError(
            fmt::format("read_idx: '{}': truncated data: expected {} bytes for shape "
                        "{}, got {}",
                        path, count, shape_str(shape), on_disk));
    }
    if (file.gzip() && count / 1032 > file.size()) {  // deflate expands at most ~1032 times
        throw IoError(
            fmt::format("read_idx: '{}': truncated data: expected {} bytes for shape "
                        "{}, more than a gzip file of {} bytes can hold",
                        path, count, shape_str(shape), file.size()));
    }
    xt::xarray<std::uint8_t> out = xt::xarray<std::uint8_t>::from_shape(shape);
    if (const std::size_t got = file.read(out.data(), count); got < count) {
        throw IoError(
            fmt::format("read_idx: '{}': truncated data: expected {} bytes for shape "
                        "{}{}, got {}{}",
                        path, count, shape_str(shape), file.stage(), got,
                        file.truncated() ? " (the gzip stream ends early)" : ""));
    }
    std::size_t extra = 0;
    unsigned char scratch[4096];
    for (std::size_t got; (got = file.read(scratch, sizeof scratch)) > 0;)
        extra += got;
    if (extra != 0) {
        throw IoError(
            fmt::format("read_idx: '{}': {} unexpected bytes after the {} bytes of data "
                        "for shape {}{}",
                        path, extra, count, shape_str(shape), file.stage()));
    }
    if (file.truncated()) {
        throw IoError(
            fmt::format("read_idx: '{}': truncated gzip stream: it ends before its "
                        "trailer (CRC-32 and length), so the data cannot be trusted",
                        path));
    }
    return out;
}

// ---- DataLoader ----

template <class T>
DataLoader<T>::DataLoader(const Dataset<T>& dataset, DataLoaderOptions options)
    : data_(&dataset), options_(std::move(options)) {
    init();
}

template <class T>
DataLoader<T>::DataLoader(Dataset<T>&& dataset, DataLoaderOptions options)
    : owned_(std::make_shared<const Dataset<T>>(std::move(dataset))),
      data_(owned_.get()),
      options_(std::move(options)) {
    init();
}

template <class T>
void DataLoader<T>::init() {
    check();
    if (options_.seed()) rng_.seed(*options_.seed());
    order_.resize(data_->size());
    std::iota(order_.begin(), order_.end(), std::size_t(0));
}

template <class T>
void DataLoader<T>::check() const {
    check_dataset("data_loader", *data_);
    if (options_.batch_size() == 0) {
        throw ValueError("data_loader: expected batch_size >= 1; got batch_size=0");
    }
    if (options_.shuffle() && options_.sampler()) {
        throw ValueError(
            fmt::format("data_loader: the sampler option is mutually exclusive with shuffle; got "
                        "shuffle=true and a {} (a RandomSampler shuffles)",
                        options_.sampler()->name()));
    }
    using Other = std::conditional_t<std::is_same_v<T, float>, double, float>;
    if (!options_.template transform<T>() && options_.template transform<Other>()) {
        throw ValueError(
            fmt::format("data_loader: the transform takes xt::xarray<{}> examples but the "
                        "dataset holds {}; write it for xt::xarray<{}>",
                        std::is_same_v<Other, float> ? "float" : "double",
                        std::is_same_v<T, float> ? "float" : "double",
                        std::is_same_v<T, float> ? "float" : "double"));
    }
}

// Note [augmentation seeds]
// A transform draws its randomness (crop offsets, flips, shifts) from a generator of its own for
// each example, seeded from (the epoch's seed, the example's position in the epoch). begin()
// draws the epoch's seed from the loader's generator, after the epoch's order, so:
// - the same DataLoaderOptions::seed (or the same manual_seed, without one) gives the same
//   augmented batches, epoch after epoch, and a different seed different ones;
// - batch(i) is a pure function of the epoch and i: batches read in any order, or twice, are the
//   same, and whatever else draws from xgrad::generator() in between (dropout) changes nothing;
// - without a transform nothing extra is drawn: orders are bit-identical to a loader without one,
//   and with one the first epoch's order still is (later epochs differ by the one draw).
namespace {
std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}
}  // namespace

template <class T>
typename DataLoader<T>::iterator DataLoader<T>::begin() {
    check();  // the dataset is held by reference: it may have changed since construction
    const std::size_t n = data_->size();
    std::mt19937_64& rng = options_.seed() ? rng_ : generator();
    if (const auto& sampler = options_.sampler()) {
        order_ = sampler->indices(n, rng);
        for (const std::size_t i : order_) {
            if (i >= n) {
                throw ValueError(
                    fmt::format("data_loader: the {} returned index {} for a dataset of {} "
                                "examples; expected indices < {}",
                                sampler->name(), i, n, n));
            }
        }
    } else {
        order_.resize(n);
        std::iota(order_.begin(), order_.end(), std::size_t(0));
        if (options_.shuffle()) std::shuffle(order_.begin(), order_.end(), rng);
    }
    if (options_.template transform<T>()) epoch_seed_ = rng();
    started_ = true;
    return iterator(this, 0);
}

template <class T>
std::size_t DataLoader<T>::num_batches() const {
    const std::size_t b = options_.batch_size();
    const std::size_t n =
        options_.sampler() ? options_.sampler()->size(data_->size()) : data_->size();
    return options_.drop_last() ? n / b : (n + b - 1) / b;
}

template <class T>
Batch<T> DataLoader<T>::batch(std::size_t i) const {
    if (i >= num_batches()) {
        throw ValueError(
            fmt::format("data_loader: batch index {} is out of range (the epoch has "
                        "{} batches)",
                        i, num_batches()));
    }
    if (options_.sampler() && !started_) {
        throw Error(
            fmt::format("data_loader: batch({}) before the first begin(): the {} draws each "
                        "epoch's indices in begin()",
                        i, options_.sampler()->name()));
    }
    const std::size_t b = options_.batch_size();
    const std::size_t first = i * b, count = std::min(b, order_.size() - first);
    xt::xarray<T> x = take_rows(data_->inputs, order_.data() + first, count);
    if (const Transform<T>& transform = options_.template transform<T>()) {
        x = transform_rows(x, transform, first);
    }
    return {Tensor<T>(std::move(x)),
            Tensor<T>(take_rows(data_->targets, order_.data() + first, count))};
}

// x [count, ...] → [count, ...transformed], each row through `transform` with the generator of
// its position in the epoch (Note [augmentation seeds]).
template <class T>
xt::xarray<T> DataLoader<T>::transform_rows(const xt::xarray<T>& x, const Transform<T>& transform,
                                            std::size_t first) const {
    const std::size_t count = x.shape()[0], row = count == 0 ? 0 : x.size() / count;
    const Shape row_shape(x.shape().begin() + 1, x.shape().end());
    xt::xarray<T> out;
    Shape out_row;
    for (std::size_t k = 0; k < count; ++k) {
        xt::xarray<T> example = xt::xarray<T>::from_shape(row_shape);
        std::copy_n(x.data() + k * row, row, example.data());
        std::mt19937_64 rng(splitmix64(epoch_seed_ ^ splitmix64(first + k)));
        transform(example, rng);
        if (k == 0) {
            out_row = Shape(example.shape().begin(), example.shape().end());
            Shape out_shape{count};
            out_shape.insert(out_shape.end(), out_row.begin(), out_row.end());
            out = xt::xarray<T>::from_shape(out_shape);
        } else if (!std::equal(out_row.begin(), out_row.end(), example.shape().begin(),
                               example.shape().end())) {
            throw ShapeError(fmt::format(
                "data_loader: the transform gave examples of different shapes in "
                "one batch: {} (example 0) and {} (example {}); got input rows {}",
                shape_str(out_row), shape_str(example.shape()), k, shape_str(row_shape)));
        }
        std::copy_n(example.data(), example.size(), out.data() + k * example.size());
    }
    return out;
}

// ---- helpers ----

template <class T>
xt::xarray<T> one_hot(const xt::xarray<T>& labels, std::size_t num_classes) {
    if (num_classes == 0) throw ValueError("one_hot: expected num_classes >= 1; got 0");
    Shape shape = labels.shape();
    shape.push_back(num_classes);
    xt::xarray<T> out = xt::zeros<T>(shape);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const T label = labels.data()[i];
        if (!(label >= T(0) && label < T(num_classes) && label == std::floor(label))) {
            throw ValueError(
                fmt::format("one_hot: expected labels that are integers in [0, {}); "
                            "got label {} at flat index {}",
                            num_classes, label, i));
        }
        out.data()[i * num_classes + static_cast<std::size_t>(label)] = T(1);
    }
    return out;
}

template <class T>
std::pair<Dataset<T>, Dataset<T>> train_validation_split(const Dataset<T>& data,
                                                         std::size_t validation_size, bool shuffle,
                                                         std::optional<std::uint64_t> seed) {
    check_dataset("train_validation_split", data);
    const std::size_t n = data.size();
    if (validation_size > n) {
        throw ValueError(
            fmt::format("train_validation_split: expected validation_size <= {} (the "
                        "number of examples); got validation_size={}",
                        n, validation_size));
    }
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    if (shuffle) {
        if (seed) {
            std::mt19937_64 rng(*seed);
            std::shuffle(order.begin(), order.end(), rng);
        } else {
            std::shuffle(order.begin(), order.end(), generator());
        }
        // Keep each part in dataset order: only membership is random.
        std::sort(order.begin(), order.begin() + (n - validation_size));
        std::sort(order.begin() + (n - validation_size), order.end());
    }
    const std::size_t t = n - validation_size;
    Dataset<T> train{take_rows(data.inputs, order.data(), t),
                     take_rows(data.targets, order.data(), t)};
    Dataset<T> validation{take_rows(data.inputs, order.data() + t, validation_size),
                          take_rows(data.targets, order.data() + t, validation_size)};
    return {std::move(train), std::move(validation)};
}

template <class T>
Dataset<T> load_mnist(const std::string& dir, bool train) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw IoError(fmt::format(
            "load_mnist: the data directory '{}' does not exist (or is not a directory); {}", dir,
            kInstallHint));
    }
    const std::string prefix = train ? "train" : "t10k";
    const std::string images_path = find_idx(dir, prefix + "-images-idx3-ubyte");
    const std::string labels_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
    const xt::xarray<std::uint8_t> images = read_idx(images_path);
    const xt::xarray<std::uint8_t> labels = read_idx(labels_path);
    if (images.dimension() != 3) {
        throw IoError(fmt::format("load_mnist: '{}': expected images [n, rows, cols]; got {}",
                                  images_path, shape_str(images.shape())));
    }
    if (labels.dimension() != 1 || labels.shape()[0] != images.shape()[0]) {
        throw IoError(
            fmt::format("load_mnist: '{}' and '{}' do not match: expected labels [{}] "
                        "for images {}; got labels {}",
                        labels_path, images_path, images.shape()[0], shape_str(images.shape()),
                        shape_str(labels.shape())));
    }
    const std::size_t n = images.shape()[0], pixels = images.shape()[1] * images.shape()[2];
    Dataset<T> out{xt::xarray<T>::from_shape(Shape{n, pixels}),
                   xt::xarray<T>::from_shape(Shape{n})};
    const std::uint8_t* src = images.data();
    T* dst = out.inputs.data();
    for (std::size_t i = 0; i < n * pixels; ++i)
        dst[i] = T(src[i]) / T(255);
    for (std::size_t i = 0; i < n; ++i) {
        if (labels(i) > 9) {
            throw IoError(fmt::format("load_mnist: '{}': label {} of example {} is outside 0..9",
                                      labels_path, labels(i), i));
        }
        out.targets(i) = T(labels(i));
    }
    return out;
}

template class DataLoader<float>;
template class DataLoader<double>;
template xt::xarray<float> one_hot<float>(const xt::xarray<float>&, std::size_t);
template xt::xarray<double> one_hot<double>(const xt::xarray<double>&, std::size_t);
template std::pair<Dataset<float>, Dataset<float>> train_validation_split<float>(
    const Dataset<float>&, std::size_t, bool, std::optional<std::uint64_t>);
template std::pair<Dataset<double>, Dataset<double>> train_validation_split<double>(
    const Dataset<double>&, std::size_t, bool, std::optional<std::uint64_t>);
template Dataset<float> load_mnist<float>(const std::string&, bool);
template Dataset<double> load_mnist<double>(const std::string&, bool);

}  // namespace xgrad::nn
