// The backpropagation lecture's network (Nielsen, "Neural Networks and Deep Learning", ch. 1):
// 784-30-10 with sigmoid units everywhere, weights and biases drawn from N(0, 1), the quadratic
// cost C = 1/(2n) Σ_x ‖y(x) − a(x)‖² against one-hot targets, mini-batch SGD with batch 10 and
// η = 3.0 for 30 epochs, on the first 50,000 MNIST training images (the other 10,000 are Nielsen's
// validation set). After every epoch it prints the accuracy on the 10,000 test images, as the
// book's "Epoch 0: 9129 / 10000" (which ends near 95%).
//
//   ./mnist_mlp [--epochs N] [--data DIR] [--seed S]   (defaults: 30 epochs, $XGRAD_MNIST_DIR or
//                                                        /usr/share/datasets/mnist, seed 1)

#include <xgrad.hpp>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace xgrad;

namespace {

// Fraction of `data` whose largest output is the label.
double accuracy(nn::Module<>& model, const nn::Dataset<>& data) {
    const std::vector<std::size_t> predicted =
        nn::argmax_rows(train::predict(model, data.inputs, 1000));
    std::size_t right = 0;
    for (std::size_t i = 0; i < predicted.size(); ++i)
        right += static_cast<float>(predicted[i]) == data.targets(i);
    return static_cast<double>(right) / static_cast<double>(predicted.size());
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t epochs = 30;
    std::uint64_t seed = 1;
    const char* env = std::getenv("XGRAD_MNIST_DIR");
    std::string data_dir = env != nullptr ? env : "/usr/share/datasets/mnist";
    for (int i = 1; i < argc; i += 2) {
        const std::string arg = argv[i];
        if (i + 1 < argc && arg == "--epochs") {
            epochs = std::strtoul(argv[i + 1], nullptr, 10);
        } else if (i + 1 < argc && arg == "--data") {
            data_dir = argv[i + 1];
        } else if (i + 1 < argc && arg == "--seed") {
            seed = std::strtoull(argv[i + 1], nullptr, 10);
        } else {
            epochs = 0;
        }
        if (epochs == 0) {
            fmt::print(stderr, "usage: mnist_mlp [--epochs N] [--data DIR] [--seed S]\n");
            return 2;
        }
    }

    // Data: training_data = the first 50,000 images, test_data = the 10,000 test images.
    nn::Dataset<> full, test;
    try {
        full =
            nn::load_mnist<float>(data_dir, true);  // inputs [60000, 784] in [0, 1], labels [60000]
        test = nn::load_mnist<float>(data_dir, false);
    } catch (const IoError& e) {
        fmt::print(stderr, "mnist_mlp: {}\n", e.what());
        return 2;
    }
    const nn::Dataset<> train{xt::view(full.inputs, xt::range(0, 50000)),
                              xt::view(full.targets, xt::range(0, 50000))};
    fmt::print("train: {}  test: {}\n", train.size(), test.size());

    // Model: Network([784, 30, 10]) with every weight and bias from N(0, 1).
    manual_seed(seed);
    nn::Sequential<> model;
    model.add(nn::Linear<>(784, 30));
    model.add(nn::Sigmoid<>());
    model.add(nn::Linear<>(30, 10));
    model.add(nn::Sigmoid<>());
    for (const auto& p : model.parameters())
        nn::init::normal_(p, 0.0f, 1.0f);

    // Optimizer: w ← w − (η/m) Σ_x ∇C_x over a mini-batch of m = 10; the 1/m sits in the loss.
    optim::SGD<> sgd(model.parameters(), optim::SGDOptions(3.0));
    nn::DataLoader<> loader(train, nn::DataLoaderOptions(10).shuffle(true).seed(seed));

    double seconds = 0, test_accuracy = 0;
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        for (const auto& [x, labels] : loader) {
            const Tensor<> y(nn::one_hot(labels.value(), 10));  // [m, 10]
            const auto m = static_cast<float>(labels.size());
            sgd.zero_grad();
            // C = (1/m) Σ_x ½‖y − a‖²: half the summed squared error, averaged over the batch
            // (not mse_loss's mean over all m·10 elements, which would scale η by 1/10).
            const Tensor<> cost = nn::mse_loss(model(x), y, nn::Reduction::sum) * (0.5f / m);
            cost.backward();
            sgd.step();
        }
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        test_accuracy = accuracy(model, test);
        fmt::print("epoch {}: test_accuracy: {:.4f}\n", epoch + 1, test_accuracy);
        std::fflush(stdout);
    }
    fmt::print(
        "test_accuracy: {:.4f}\nepochs: {}\nseconds_per_epoch: {:.2f}\n"
        "nielsen_test_accuracy_30_epochs: 0.95\n",
        test_accuracy, epochs, seconds / static_cast<double>(epochs));
    // One epoch gives about 0.9 (the book: 0.9129), or about 0.8 when an output unit starts
    // saturated (seed 1, which recovers in epoch 17); 30 epochs end at 0.943-0.952
    // (docs/results.md).
    return test_accuracy >= (epochs >= 10 ? 0.93 : 0.75) ? 0 : 1;
}
