// The vanishing gradient, made visible (the TensorFlow lecture's figure of sigmoid and tanh
// saturating): the same deep MLP, 784 → 8 hidden layers of 64 → 10, trained on 10,000
// Fashion-MNIST images with sigmoid, tanh and ReLU. A gradient hook on each layer's weight
// (Tensor::register_hook) records the norm of the gradient that reaches it, averaged over each
// epoch's batches. Prints the norms per layer for the first and last epoch and the ratio of the
// first layer's to the last's; draws log10 of the norms per layer and epoch, one chart per
// run (vanishing_gradients.svg). Runs: sigmoid, tanh (Glorot init), tanh from N(0, 1) weights,
// ReLU (He init). Exits non-zero unless, in the last epoch, the first layer's gradient is under
// a tenth of the last layer's with sigmoid and with N(0, 1) tanh, and within a factor of ten of
// it with ReLU.
//
//   ./vanishing_gradients [--epochs N] [--data DIR] [--out DIR] [--seed S]   (default 5 epochs)

#include "fashion.hpp"

#include <xgrad.hpp>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

constexpr std::size_t kHidden = 8, kWidth = 64;

// An activation and the initialisation of the weights before it.
struct Run {
    const char* name;  // sigmoid, tanh or relu
    const char* init;  // glorot, he or normal (N(0, 1))
};

std::shared_ptr<nn::Module<>> activation(const std::string& name) {
    if (name == "sigmoid") return std::make_shared<nn::Sigmoid<>>();
    if (name == "tanh") return std::make_shared<nn::Tanh<>>();
    return std::make_shared<nn::ReLU<>>();
}

// Layer l's mean gradient norm in each epoch: norms[l][epoch].
using Norms = std::vector<std::vector<double>>;

Norms train_one(const std::string& act, const std::string& init, const nn::Dataset<>& train,
                std::size_t epochs, std::uint64_t seed) {
    manual_seed(seed);
    nn::Sequential<> model;
    std::vector<std::shared_ptr<nn::Linear<>>> layers;
    std::size_t in = 784;
    for (std::size_t l = 0; l <= kHidden; ++l) {
        const std::size_t out = l < kHidden ? kWidth : 10;
        auto fc = model.add(nn::Linear<>(in, out));
        if (init == "he") {
            nn::init::he_uniform_(fc->weight());
        } else if (init == "glorot") {
            nn::init::glorot_uniform_(fc->weight());
        } else {
            nn::init::normal_(fc->weight(), 0.0f, 1.0f);
        }
        nn::init::zeros_(fc->bias());
        layers.push_back(fc);
        if (l < kHidden) model.add(activation(act));
        in = out;
    }
    // The hooks: each adds the norm of its layer's weight gradient to the epoch's sum.
    std::vector<double> sums(layers.size(), 0.0);
    std::size_t batches = 0;
    std::vector<HookHandle> hooks;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        Tensor<> weight = layers[l]->weight();  // a handle to the same tensor
        hooks.push_back(weight.register_hook([&sums, l](const Tensor<>& g) {
            sums[l] += std::sqrt(xt::sum(g.value() * g.value())());
        }));
    }
    Norms norms(layers.size());
    optim::SGD<> sgd(model.parameters(), optim::SGDOptions(0.05));
    const train::LossFn<> loss = [&batches](const Tensor<>& logits, const Tensor<>& labels) {
        ++batches;
        return nn::sparse_categorical_cross_entropy(logits, labels);
    };
    train::fit(model, sgd, loss, train,
               train::FitOptions(epochs)
                   .batch_size(64)
                   .seed(seed)
                   .progress(train::Progress::none)
                   .on_epoch_end([&](std::size_t, const train::History&) {
                       for (std::size_t l = 0; l < layers.size(); ++l) {
                           norms[l].push_back(sums[l] / static_cast<double>(batches));
                           sums[l] = 0;
                       }
                       batches = 0;
                   }));
    for (auto& h : hooks)
        h.remove();
    return norms;
}

}  // namespace

int main(int argc, char** argv) {
    fashion::Args args{5};
    if (!fashion::parse_args("vanishing_gradients", argc, argv, args)) return 2;
    const auto data = fashion::load("vanishing_gradients", args.data_dir, /*as_images=*/false);
    if (!data) return 2;
    const nn::Dataset<> train = fashion::rows(data->train, 0, 10000);

    // The usual initialisation for each (Glorot for sigmoid and tanh, He for ReLU), and tanh
    // from N(0, 1) weights, which saturate its units as the lecture's figure shows.
    const Run runs[] = {
        {"sigmoid", "glorot"}, {"tanh", "glorot"}, {"tanh", "normal"}, {"relu", "he"}};
    std::vector<plot::Panel> panels;
    std::vector<double> ratios;
    for (const Run& r : runs) {
        const std::string name = fmt::format("{}_{}", r.name, r.init);
        const Norms norms = train_one(r.name, r.init, train, args.epochs, args.seed);
        fmt::print(
            "{} ({} init): mean gradient norm of each layer's weight\n  {:<7} {:>12} {:>12}\n",
            r.name, r.init, "layer", "epoch 1", fmt::format("epoch {}", args.epochs));
        plot::Panel panel{fmt::format("{}, {} init: log10 |dL/dW|", r.name, r.init), {}};
        for (std::size_t l = 0; l < norms.size(); ++l) {
            fmt::print("  {:<7} {:>12.3e} {:>12.3e}\n", l + 1, norms[l].front(), norms[l].back());
            std::vector<double> logs;
            for (double v : norms[l])
                logs.push_back(std::log10(v));
            // Input layer darkest, output layer lightest.
            const int shade = static_cast<int>(200 * l / (norms.size() - 1));
            panel.series.push_back({fmt::format("layer {}", l + 1), logs,
                                    fmt::format("rgb({},{},{})", shade, shade, 255 - shade / 2)});
        }
        // The first layer's gradient over the last layer's, in the first and the last epoch.
        const double first = norms.front().front() / norms.back().front();
        const double last = norms.front().back() / norms.back().back();
        ratios.push_back(last);
        fmt::print("{}_first_to_last_layer_epoch_1: {:.3g}\n{}_first_to_last_layer: {:.3g}\n\n",
                   name, first, name, last);
        panels.push_back(std::move(panel));
    }
    std::filesystem::create_directories(args.out_dir);
    const std::string svg = args.out_dir + "/vanishing_gradients.svg";
    save_text("vanishing_gradients", svg, plot::curves_svg(panels, args.epochs));
    fmt::print("wrote {}\n", svg);
    const bool ok = ratios[0] < 0.1 && ratios[2] < 0.1 && ratios[3] > 0.1 && ratios[3] < 10;
    return ok ? 0 : 1;
}
