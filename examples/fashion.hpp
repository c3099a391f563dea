#pragma once

// What the Fashion-MNIST examples (fashion_mlp, fashion_cnn, lenet) share: the class names, the
// command line, the lecture's split of the data, and the picture of misclassified test images.

#include <xgrad.hpp>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fashion {

inline const char* const kClassNames[] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                          "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                          "Bag",         "Ankle boot"};

struct Args {
    std::size_t epochs;
    std::uint64_t seed = 42;
    std::string data_dir = "/usr/share/datasets/fashion-mnist";
    std::string out_dir = ".";
};

// Reads `--epochs N --data DIR --out DIR --seed S` over the defaults in `args`; prints the usage
// and returns false for anything else (or epochs 0).
inline bool parse_args(const char* program, int argc, char** argv, Args& args) {
    for (int i = 1; i < argc; ++i) {
        const bool has_value = i + 1 < argc;
        bool ok = has_value;
        if (has_value && std::strcmp(argv[i], "--epochs") == 0) {
            args.epochs = std::strtoul(argv[++i], nullptr, 10);
            ok = args.epochs > 0;
        } else if (has_value && std::strcmp(argv[i], "--data") == 0) {
            args.data_dir = argv[++i];
        } else if (has_value && std::strcmp(argv[i], "--seed") == 0) {
            args.seed = std::strtoull(argv[++i], nullptr, 10);
        } else if (has_value && std::strcmp(argv[i], "--out") == 0) {
            args.out_dir = argv[++i];
        } else {
            ok = false;
        }
        if (!ok) {
            fmt::print(stderr, "usage: {} [--epochs N] [--data DIR] [--out DIR] [--seed S]\n",
                       program);
            return false;
        }
    }
    return true;
}

// Rows [begin, end) of a data set.
inline xgrad::nn::Dataset<> rows(const xgrad::nn::Dataset<>& d, std::size_t begin,
                                 std::size_t end) {
    return {xt::view(d.inputs, xt::range(begin, end)), xt::view(d.targets, xt::range(begin, end))};
}

struct Split {
    xgrad::nn::Dataset<> train, valid, test;
};

// The lecture's split: X_valid, X_train = X_train_full[:5000], X_train_full[5000:]; the 10,000
// test images. Inputs in [0, 1], flat [n, 784], or [n, 1, 28, 28] for a convolutional net.
// A missing data set prints how to install it and gives nullopt.
inline std::optional<Split> load(const char* program, const std::string& dir, bool as_images) {
    xgrad::nn::Dataset<> full, test;
    try {
        full = xgrad::nn::load_mnist<float>(dir, true);  // inputs [60000, 784]
        test = xgrad::nn::load_mnist<float>(dir, false);
    } catch (const xgrad::IoError& e) {
        fmt::print(stderr,
                   "{}: cannot read Fashion-MNIST from {}\n  {}\nInstall it with "
                   "`sudo bash scripts/setup-data.sh` (or `sudo apt install "
                   "dataset-fashion-mnist`), or pass --data DIR.\n",
                   program, dir, e.what());
        return std::nullopt;
    }
    if (as_images) {
        full.inputs.reshape({full.size(), 1, 28, 28});
        test.inputs.reshape({test.size(), 1, 28, 28});
    }
    Split s{rows(full, 5000, full.size()), rows(full, 0, 5000), std::move(test)};
    fmt::print("train: {}  validation: {}  test: {}\n", s.train.size(), s.valid.size(),
               s.test.size());
    return s;
}

// Data parallelism (docs/distributed.md): started by mpirun, the examples train on every process,
// each on its shard of every batch, with the same effective batch as alone (the batch is divided
// between the processes); process 0 alone prints and writes files. Started alone, or built
// without MPI, they train on one process as before.
class Processes {
public:
    Processes(int* argc, char*** argv) {
#if __has_include("dist/dist.hpp")
        if (xgrad::dist::launched_by_mpirun()) {
            session_.emplace(argc, argv);
            rank_ = std::size_t(xgrad::dist::rank());
            size_ = std::size_t(xgrad::dist::size());
            // The other processes compute the same results: only process 0's output is shown.
            if (rank_ != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) std::exit(1);
        }
#else
        (void)argc;
        (void)argv;
#endif
    }
    // Process 0 (or the only one): the one that writes files.
    bool main() const {
        return rank_ == 0;
    }
    std::size_t size() const {
        return size_;
    }
    // Waits for every process (after process 0 wrote a file the others read).
    void barrier() const {
#if __has_include("dist/dist.hpp")
        if (session_) xgrad::dist::barrier();
#endif
    }

    // What fit() trains: `model` alone; under mpirun a DistributedDataParallel of it (every
    // process starts from process 0's weights), with options.data_parallel set and a batch of
    // batch_size / size() per process (exits with status 2 when it does not divide evenly).
    xgrad::nn::Module<>& wrap(const std::shared_ptr<xgrad::nn::Module<>>& model,
                              xgrad::train::FitOptions& options) {
#if __has_include("dist/dist.hpp")
        if (session_) {
            if (options.batch_size() % size_ != 0) {
                fmt::print(stderr, "batch {} does not divide between {} processes\n",
                           options.batch_size(), size_);
                std::exit(2);
            }
            ddp_ = std::make_shared<xgrad::dist::DistributedDataParallel<>>(model);
            options.batch_size(options.batch_size() / size_)
                .data_parallel(xgrad::dist::data_parallel(*ddp_));
            fmt::print("data-parallel on {} processes: batch {} per process\n", size_,
                       options.batch_size());
            return *ddp_;
        }
#else
        (void)options;
#endif
        return *model;
    }

private:
#if __has_include("dist/dist.hpp")
    std::optional<xgrad::dist::Session> session_;
    std::shared_ptr<xgrad::dist::DistributedDataParallel<>> ddp_;
#endif
    std::size_t rank_ = 0, size_ = 1;
};

// Mean wall time of the epochs fit() ran (training and validation).
inline double seconds_per_epoch(const xgrad::train::History& h) {
    double seconds = 0;
    for (double s : h.seconds)
        seconds += s;
    return seconds / double(h.epochs());
}

// Writes the first `count` misclassified test images, captioned "true → predicted", as SVG (not
// for an empty path). Returns how many of the test images were misclassified.
inline std::size_t save_misclassified(const std::string& path, const xgrad::nn::Dataset<>& test,
                                      const std::vector<std::size_t>& predicted,
                                      std::size_t count = 32) {
    std::vector<std::size_t> wrong;
    for (std::size_t i = 0; i < predicted.size(); ++i)
        if (predicted[i] != static_cast<std::size_t>(test.targets(i))) wrong.push_back(i);
    if (path.empty()) return wrong.size();
    const std::size_t shown = std::min(count, wrong.size());
    xt::xarray<float> images = xt::xarray<float>::from_shape({shown, 28, 28});
    std::vector<std::string> captions;
    for (std::size_t k = 0; k < shown; ++k) {
        const float* image = test.inputs.data() + wrong[k] * 784;
        std::copy(image, image + 784, images.data() + k * 784);
        captions.push_back(fmt::format("{} → {}",
                                       kClassNames[static_cast<int>(test.targets(wrong[k]))],
                                       kClassNames[predicted[wrong[k]]]));
    }
    xgrad::plot::save_image_grid_svg(
        path, images, captions,
        xgrad::plot::ImageGridOptions()
            .title(fmt::format("the first {} of {} misclassified test images: true → predicted",
                               shown, wrong.size()))
            .columns(8)
            .scale(3));
    return wrong.size();
}

}  // namespace fashion
