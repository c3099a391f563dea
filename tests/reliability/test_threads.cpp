// Threads and reproducibility (docs/reliability.md, "Threads and reproducibility"): a seeded
// training gives the same bits from run to run, with 2 batch workers or 1, on either
// convolution path.

#include "autograd/random.hpp"
#include "autograd/tuning.hpp"
#include "nn/activation.hpp"
#include "nn/conv.hpp"
#include "nn/dropout.hpp"
#include "nn/flatten.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/pool.hpp"
#include "nn/sequential.hpp"
#include "optim/sgd.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>

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

// Whole numbers in [0, classes), drawn from xgrad::generator().
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
