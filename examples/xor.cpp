// XOR, the function a single neuron cannot learn: a 2-4-1 sigmoid network trained by full-batch
// gradient descent on the four points, with the binary cross-entropy of its sigmoid output.
// Prints the four predictions, then `loss:` and `accuracy:`; exits non-zero unless all four are
// right.
//
//   ./xor [--epochs N] [--seed S]   (defaults: 2000 epochs, seed 1)

#include <xgrad.hpp>

#include <fmt/format.h>
#include <xtensor/xtensor.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace xgrad;

int main(int argc, char** argv) {
    std::size_t epochs = 2000;
    std::uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--epochs") == 0) {
            epochs = std::strtoul(argv[i + 1], nullptr, 10);
        } else if (std::strcmp(argv[i], "--seed") == 0) {
            seed = std::strtoull(argv[i + 1], nullptr, 10);
        }
    }

    // Data: the four corners of the unit square and their XOR. Fixed-rank xtensor, because a
    // braced column {{0}, {1}} is ambiguous for xt::xarray.
    const xt::xtensor<float, 2> corners{{0, 0}, {0, 1}, {1, 0}, {1, 1}};  // [4, 2]
    const xt::xtensor<float, 2> labels{{0}, {1}, {1}, {0}};               // [4, 1]
    const Tensor<> x(corners), y(labels);

    // Model: 2 → 4 hidden sigmoid units → 1 sigmoid output.
    manual_seed(seed);
    nn::Sequential<> model;
    model.add(nn::Linear<>(2, 4));
    model.add(nn::Sigmoid<>());
    model.add(nn::Linear<>(4, 1));
    model.add(nn::Sigmoid<>());
    for (const auto& p : model.parameters())
        nn::init::uniform_(p, -1.0f, 1.0f);

    // Loss and optimizer: binary cross-entropy, gradient descent with learning rate 2.
    optim::SGD<> sgd(model.parameters(), optim::SGDOptions(2.0));
    Tensor<> loss;
    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
        sgd.zero_grad();
        loss = nn::binary_cross_entropy(model(x), y);
        loss.backward();
        sgd.step();
        if (epoch % 500 == 0) fmt::print("epoch {}: loss {:.5f}\n", epoch, loss.item());
    }

    // Report: the four predictions, the final loss and the fraction right at threshold 0.5.
    NoGradGuard no_grad;
    const Tensor<> p = model(x);
    std::size_t right = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const bool predicted = p(i, 0) > 0.5f, truth = y(i, 0) > 0.5f;
        right += predicted == truth;
        fmt::print("xor({:g}, {:g}) = {:g}: predicted {:.4f}\n", x(i, 0), x(i, 1), y(i, 0),
                   p(i, 0));
    }
    const double accuracy = static_cast<double>(right) / 4;
    fmt::print("loss: {:.6f}\naccuracy: {:.2f}\n", nn::binary_cross_entropy(p, y).item(), accuracy);
    return accuracy == 1.0 ? 0 : 1;
}
