#pragma once

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

#include "autograd/tensor.hpp"

#include <xtensor/xarray.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace xgrad::nn {

/// Reads an IDX file of unsigned bytes (type 0x08: MNIST and Fashion-MNIST images 0x00000803,
/// labels 0x00000801, any number of dimensions), plain or gzip-compressed (detected by its 1f 8b
/// magic). The result has the header's shape, e.g. [60000, 28, 28] or [60000]. Throws IoError
/// naming the file for a bad magic, an unsupported type, a truncated header or data (expected and
/// actual byte counts), bytes after the data, and a shape too large to index (checked_size).
xt::xarray<std::uint8_t> read_idx(const std::string& path);

/// Examples along the first axis: inputs [n, ...] and targets [n, ...] (class indices stored as
/// T, or one-hot / real-valued targets).
template <class T = float>
struct Dataset {
    xt::xarray<T> inputs;
    xt::xarray<T> targets;

    /// Number of examples: the length of the first axis of `inputs` (0 for a 0-d array).
    std::size_t size() const { return inputs.dimension() == 0 ? 0 : inputs.shape()[0]; }
};

/// One mini-batch: x = inputs [b, ...], y = targets [b, ...], both leaves without grad.
template <class T = float>
struct Batch {
    Tensor<T> x;
    Tensor<T> y;
};

/// What a DataLoader does to each example's inputs as it builds a batch (torchvision's
/// `transform`): changes `example` (one row of Dataset::inputs, shape inputs.shape[1:]) in place,
/// possibly to another shape, the same for every example of a batch. Random draws come from `rng`
/// only (Note [augmentation seeds]). nn/transforms.hpp has the image augmentations.
template <class T>
using Transform = std::function<void(xt::xarray<T>& example, std::mt19937_64& rng)>;

/// The example indices of each epoch, in the order a DataLoader batches them
/// (torch.utils.data.Sampler): SequentialSampler, RandomSampler, SubsetRandomSampler,
/// WeightedRandomSampler (nn/sampler.hpp), or one of your own.
class Sampler {
public:
    virtual ~Sampler() = default;
    /// The indices of one epoch for a dataset of n examples, each < n; `rng` is the loader's
    /// generator (its own when DataLoaderOptions::seed is set, else xgrad::generator()).
    virtual std::vector<std::size_t> indices(std::size_t n, std::mt19937_64& rng) const = 0;
    /// How many indices indices(n, ...) returns.
    virtual std::size_t size(std::size_t n) const = 0;
    /// The class name, for messages ("SubsetRandomSampler").
    virtual std::string name() const = 0;
};

/// How a DataLoader batches: `DataLoaderOptions(64).shuffle(true).seed(7)`.
/// batch_size >= 1; shuffle (default off) draws a fresh order every epoch; drop_last (default off)
/// skips a final batch smaller than batch_size; seed (default none) gives the loader its own
/// generator instead of xgrad::generator(); sampler (default none) picks each epoch's indices
/// instead (mutually exclusive with shuffle, as in PyTorch); transform (default none) is applied
/// to every example's inputs (Note [augmentation seeds]), set for float or for double data.
class DataLoaderOptions {
public:
    explicit DataLoaderOptions(std::size_t batch_size) : batch_size_(batch_size) {}

    DataLoaderOptions& batch_size(std::size_t v) {
        batch_size_ = v;
        return *this;
    }
    std::size_t batch_size() const { return batch_size_; }
    DataLoaderOptions& shuffle(bool on) {
        shuffle_ = on;
        return *this;
    }
    bool shuffle() const { return shuffle_; }
    DataLoaderOptions& drop_last(bool on) {
        drop_last_ = on;
        return *this;
    }
    bool drop_last() const { return drop_last_; }
    DataLoaderOptions& seed(std::uint64_t v) {
        seed_ = v;
        return *this;
    }
    const std::optional<std::uint64_t>& seed() const { return seed_; }
    DataLoaderOptions& sampler(std::shared_ptr<const Sampler> s) {
        sampler_ = std::move(s);
        return *this;
    }
    /// `sampler(nn::SubsetRandomSampler({0, 2, 4}))`: the sampler is copied into shared ownership.
    template <class S, class = std::enable_if_t<std::is_base_of_v<Sampler, std::decay_t<S>>>>
    DataLoaderOptions& sampler(S&& s) {
        return sampler(std::make_shared<const std::decay_t<S>>(std::forward<S>(s)));
    }
    const std::shared_ptr<const Sampler>& sampler() const { return sampler_; }
    DataLoaderOptions& transform(Transform<float> f) {
        transform_float_ = std::move(f);
        return *this;
    }
    DataLoaderOptions& transform(Transform<double> f) {
        transform_double_ = std::move(f);
        return *this;
    }
    /// The transform set for T (empty when none is).
    template <class T>
    const Transform<T>& transform() const {
        if constexpr (std::is_same_v<T, float>) {
            return transform_float_;
        } else {
            return transform_double_;
        }
    }

private:
    std::size_t batch_size_;
    bool shuffle_ = false;
    bool drop_last_ = false;
    std::optional<std::uint64_t> seed_;
    std::shared_ptr<const Sampler> sampler_;
    Transform<float> transform_float_;
    Transform<double> transform_double_;
};

/// Mini-batches of a Dataset, for a range-for over one epoch:
///
///     nn::DataLoader<float> loader(train, nn::DataLoaderOptions(64).shuffle(true));
///     for (int epoch = 0; epoch < 10; ++epoch)
///         for (const auto& [x, y] : loader) { ... }   // x [64, 784], y [64]
///
/// Every begin() starts an epoch (with a fresh permutation when shuffling, the sampler's indices
/// when one is set), so without a sampler each example appears exactly once per epoch. Batches
/// are copied row by row into contiguous arrays; the transform, when set, then runs on each row.
template <class T = float>
class DataLoader {
public:
    /// Input iterator over the batches of the current epoch.
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Batch<T>;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = Batch<T>;

        iterator() = default;
        Batch<T> operator*() const { return loader_->batch(index_); }
        iterator& operator++() {
            ++index_;
            return *this;
        }
        bool operator==(const iterator& other) const { return index_ == other.index_; }
        bool operator!=(const iterator& other) const { return index_ != other.index_; }

    private:
        friend class DataLoader;
        iterator(const DataLoader* loader, std::size_t index) : loader_(loader), index_(index) {}
        const DataLoader* loader_ = nullptr;
        std::size_t index_ = 0;
    };

    /// Batches `dataset` without copying it: the dataset must outlive the loader. Throws
    /// ShapeError when inputs and targets differ in their first axis, ValueError for batch_size
    /// 0, for shuffle together with a sampler, and for a transform set only for the other type.
    DataLoader(const Dataset<T>& dataset, DataLoaderOptions options);
    /// Takes ownership of a temporary dataset (`DataLoader(load_mnist(dir), ...)`).
    DataLoader(Dataset<T>&& dataset, DataLoaderOptions options);

    /// Starts an epoch: draws a new permutation when shuffling (or the sampler's indices), then the
    /// epoch's transform seed when a transform is set. Invalidates running iterators. Throws
    /// ValueError when the sampler returns an index >= size().
    iterator begin();
    iterator end() const { return iterator(this, num_batches()); }

    /// Batches per epoch: ceil(m / batch_size), or floor with drop_last, where m is the number of
    /// examples (or of the sampler's indices) per epoch.
    std::size_t num_batches() const;
    /// Number of examples in the dataset.
    std::size_t size() const { return data_->size(); }
    /// Batch i (0 <= i < num_batches()) of the current epoch; throws ValueError out of range, and
    /// Error before the first begin() when a sampler is set (its indices are drawn there). With a
    /// transform the same i of the same epoch always gives the same batch.
    Batch<T> batch(std::size_t i) const;
    const DataLoaderOptions& options() const { return options_; }

private:
    void init();
    void check() const;
    xt::xarray<T> transform_rows(const xt::xarray<T>& x, const Transform<T>& transform,
                                 std::size_t first) const;

    std::shared_ptr<const Dataset<T>> owned_;  // set when constructed from a temporary
    const Dataset<T>* data_;
    DataLoaderOptions options_;
    std::mt19937_64 rng_;             // the loader's own generator, when options_.seed() is set
    std::vector<std::size_t> order_;  // example indices of the current epoch
    bool started_ = false;            // begin() has drawn an epoch
    std::uint64_t epoch_seed_ = 0;    // the transform's seed this epoch (Note [augmentation seeds])
};

/// labels [...] of class indices stored as T → [..., num_classes] with a 1 at each label.
/// Throws ValueError naming the first label that is not an integer in [0, num_classes).
template <class T>
xt::xarray<T> one_hot(const xt::xarray<T>& labels, std::size_t num_classes);

/// Splits off `validation_size` examples, returning (train, validation). Without shuffling the
/// validation set is the LAST validation_size examples (Keras' validation_split); with shuffling a
/// random subset, drawn from xgrad::generator() or from `seed` when given. Order is otherwise kept.
/// Throws ValueError when validation_size > data.size(), ShapeError for mismatched inputs/targets.
template <class T>
std::pair<Dataset<T>, Dataset<T>> train_validation_split(
    const Dataset<T>& data, std::size_t validation_size, bool shuffle = false,
    std::optional<std::uint64_t> seed = std::nullopt);

/// MNIST or Fashion-MNIST from `dir` in the four standard IDX files (train-images-idx3-ubyte,
/// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or .gz):
/// inputs [n, rows·cols] scaled to [0, 1], targets [n] class indices 0..9 as T. `train` picks
/// the training set (60000) or the test set (10000). A missing directory or file is an IoError
/// that says how to install the data (Fashion-MNIST: `apt-get install dataset-fashion-mnist`,
/// into /usr/share/datasets/fashion-mnist; MNIST: `bash scripts/setup-data.sh`).
template <class T = float>
Dataset<T> load_mnist(const std::string& dir, bool train = true);

}  // namespace xgrad::nn
