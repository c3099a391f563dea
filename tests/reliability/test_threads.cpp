// Threads and reproducibility (docs/reliability.md, "Threads and reproducibility"): a seeded
// training gives the same bits from run to run, with 2 batch workers or 1, on either
// convolution path; two models trained at once in two threads end exactly where the same runs
// one after the other end. scripts/tsan.sh runs these under ThreadSanitizer.

#include "autograd/random.hpp"
#include "autograd/tuning.hpp"
#include "nn/activation.hpp"
#include "nn/conv.hpp"
#include "nn/data.hpp"
#include "nn/dropout.hpp"
#include "nn/flatten.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/pool.hpp"
#include "nn/sequential.hpp"
#include "optim/adam.hpp"
#include "optim/sgd.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace xgrad;

namespace {

using State = std::map<std::string, xt::xarray<float>>;

// Same names, shapes and bits (memcmp: a −0 or a NaN payload counts too).
bool same_bits(const State& a, const State& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [name, value] : a) {
        const auto it = b.find(name);
        if (it == b.end() || it->second.shape() != value.shape()) return false;
        if (std::memcmp(value.data(), it->second.data(), value.size() * sizeof(float)) != 0)
            return false;
    }
    return true;
}

// Whole numbers in [0, classes), drawn from the calling thread's generator.
Tensor<float> random_labels(std::size_t n, float classes) {
    return Tensor<float>(xt::xarray<float>(xt::floor(rand<float>({n}, 0.0f, classes).value())));
}

// conv 1→8 → ReLU → conv 8→16 → ReLU → 2×2 max pool → dropout → linear: `steps` SGD steps
// (momentum 0.9) on 32 random 16×16 images; every draw (weights, data, dropout masks) comes
// after manual_seed(seed) in the calling thread.
State train_cnn(std::uint64_t seed, int steps) {
    manual_seed(seed);
    nn::Sequential<> model;
    model.add(nn::Conv2d<>(nn::Conv2dOptions(1, 8, 3).padding(1)));
    model.add(nn::ReLU<>());
    model.add(nn::Conv2d<>(nn::Conv2dOptions(8, 16, 3).padding(1)));
    model.add(nn::ReLU<>());
    model.add(nn::MaxPool2d<>(2));
    model.add(nn::Dropout<>(0.25f));
    model.add(nn::Flatten<>());
    model.add(nn::Linear<>(16 * 8 * 8, 10));
    optim::SGD<> sgd(model.parameters(), optim::SGDOptions(0.05).momentum(0.9));
    const Tensor<float> x = randn<float>({32, 1, 16, 16});
    const Tensor<float> labels = random_labels(32, 10);
    for (int s = 0; s < steps; ++s) {
        sgd.zero_grad();
        nn::sparse_categorical_cross_entropy(model(x), labels).backward();
        sgd.step();
    }
    return model.state_dict();
}

// 784 → 256 → tanh → dropout → 10 with Adam, two epochs of shuffled batches of 32 out of 256
// random examples (the shuffles draw from the generator too). The first product's inner
// dimension, 784, is one whose bits depend on OpenBLAS's thread count (Note [BLAS threads]).
State train_mlp(std::uint64_t seed) {
    manual_seed(seed);
    nn::Sequential<> model;
    model.add(nn::Linear<>(784, 256));
    model.add(nn::Tanh<>());
    model.add(nn::Dropout<>(0.2f));
    model.add(nn::Linear<>(256, 10));
    optim::Adam<> adam(model.parameters(), optim::AdamOptions(1e-3));
    nn::Dataset<float> data{randn<float>({256, 784}).value(), random_labels(256, 10).value()};
    nn::DataLoader<float> loader(data, nn::DataLoaderOptions(32).shuffle(true));
    for (int epoch = 0; epoch < 2; ++epoch) {
        for (const auto& [x, y] : loader) {
            adam.zero_grad();
            nn::sparse_categorical_cross_entropy(model(x), y).backward();
            adam.step();
        }
    }
    return model.state_dict();
}

// Runs the jobs at once, one thread each, and rethrows the first error.
void run_at_once(const std::vector<std::function<void()>>& jobs) {
    std::vector<std::exception_ptr> errors(jobs.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        threads.emplace_back([&, i] {
            try {
                jobs[i]();
            } catch (...) {
                errors[i] = std::current_exception();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace

TEST_CASE("conv2d training: the same bits from run to run, with 2 batch workers or 1") {
    // Every conv of this net is split over the workers (no minimum work); the weight gradients
    // then sum the batch in fixed chunks (Note [fixed reduction order]).
    const tuning::Override min_work(tuning::batch_parallel_min_work(), 0.0);
    for (const auto path : {tuning::ConvPath::im2col, tuning::ConvPath::direct}) {
        INFO("path ", path == tuning::ConvPath::im2col ? "im2col" : "direct");
        const tuning::Override forced(tuning::conv_path(), path);
        State two[3], one;
        {
            const tuning::Override threads(tuning::batch_threads(), std::size_t(2));
            for (auto& s : two)
                s = train_cnn(3, 4);
        }
        {
            const tuning::Override threads(tuning::batch_threads(), std::size_t(1));
            one = train_cnn(3, 4);
        }
        CHECK(same_bits(two[0], two[1]));
        CHECK(same_bits(two[0], two[2]));
        CHECK(same_bits(two[0], one));
        CHECK(!same_bits(one, train_cnn(4, 4)));  // another seed: the comparison can fail
    }
}

TEST_CASE("training: two models in two threads at once end as the runs one after the other") {
    // Two CNNs and an MLP at once: the CNNs contend for the batch workers (one runs its convs
    // serially meanwhile), all three for OpenBLAS and the allocator.
    const tuning::Override min_work(tuning::batch_parallel_min_work(), 0.0);
    const State mlp = train_mlp(1), cnn = train_cnn(2, 4), cnn2 = train_cnn(5, 4);
    for (int round = 0; round < 3; ++round) {
        CAPTURE(round);
        State mlp_t, cnn_t, cnn2_t;
        run_at_once({[&] { mlp_t = train_mlp(1); }, [&] { cnn_t = train_cnn(2, 4); },
                     [&] { cnn2_t = train_cnn(5, 4); }});
        CHECK(same_bits(mlp, mlp_t));
        CHECK(same_bits(cnn, cnn_t));
        CHECK(same_bits(cnn2, cnn2_t));
    }
}
