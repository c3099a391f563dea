// The adding problem (Hochreiter & Schmidhuber, 1997): each sequence holds T pairs (a number in
// [0, 1), a marker); exactly two markers are 1, one in each half, and the target is the sum of
// the two marked numbers. Predicting the mean, 1, costs an MSE of 1/6; doing better means
// carrying the first number across T/2 steps. A plain tanh RNN and an LSTM of the same size train
// side by side on the same batches; the program prints both errors and how much gradient reaches
// the first step of the sequence from the loss, against the last step: the vanishing gradient the
// LSTM's cell state was made to avoid.
//
//   ./adding_problem [--length T] [--steps N] [--hidden H] [--seed S]
//   (defaults: T = 50, 3000 Adam steps of 64 sequences, H = 32, seed 1; about a minute)

#include <xgrad.hpp>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>

using namespace xgrad;

namespace {

struct Batch {
    Tensor<> x;  // [T, B, 2]: (number, marker)
    Tensor<> y;  // [B, 1]: the sum of the two marked numbers
};

Batch make_batch(std::size_t length, std::size_t batch, std::mt19937& rng) {
    std::uniform_real_distribution<float> number(0.0f, 1.0f);
    std::uniform_int_distribution<std::size_t> first(0, length / 2 - 1),
        second(length / 2, length - 1);
    xt::xarray<float> x = xt::zeros<float>({length, batch, std::size_t(2)});
    xt::xarray<float> y = xt::zeros<float>({batch, std::size_t(1)});
    for (std::size_t b = 0; b < batch; ++b) {
        for (std::size_t t = 0; t < length; ++t)
            x(t, b, 0) = number(rng);
        for (const std::size_t t : {first(rng), second(rng)}) {
            x(t, b, 1) = 1.0f;
            y(b, 0) += x(t, b, 0);
        }
    }
    return {Tensor<>(std::move(x)), Tensor<>(std::move(y))};
}

// A recurrent layer read at its last step, then a linear head: [T, B, 2] → [B, 1].
struct Regressor : nn::Module<> {
    std::shared_ptr<nn::RNNBase<>> rnn;
    std::shared_ptr<nn::Linear<>> head;
    Regressor(std::shared_ptr<nn::RNNBase<>> r, std::size_t hidden)
        : rnn(register_module("rnn", std::move(r))),
          head(register_module("head", std::make_shared<nn::Linear<>>(hidden, 1))) {}
    Tensor<> forward(const Tensor<>& x) override {
        const std::size_t steps = x.shape()[0], batch = x.shape()[1];
        const Tensor<> last = narrow((*rnn)(x), 0, static_cast<std::ptrdiff_t>(steps - 1), 1);
        return (*head)(reshape(last, {static_cast<std::ptrdiff_t>(batch), -1}));
    }
    std::string type_name() const override { return "Regressor"; }
};

// ‖∂L/∂x_t‖ at the first and at the last step, L the MSE on `batch`.
std::pair<double, double> gradient_reach(Regressor& model, const Batch& batch) {
    const Tensor<> x = batch.x.detach().requires_grad_();
    const Tensor<> dx = grad(nn::mse_loss(model(x), batch.y), x);
    const std::size_t steps = x.shape()[0];
    const auto norm = [&](std::size_t t) {
        return std::sqrt(double(xt::sum(xt::square(xt::view(dx.value(), t)))()));
    };
    return {norm(0), norm(steps - 1)};
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t length = 50, steps = 3000, hidden = 32;
    unsigned seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        const auto value = static_cast<std::size_t>(std::strtoul(argv[i + 1], nullptr, 10));
        if (arg == "--length") length = std::max<std::size_t>(value, 2);
        if (arg == "--steps") steps = value;
        if (arg == "--hidden") hidden = std::max<std::size_t>(value, 1);
        if (arg == "--seed") seed = static_cast<unsigned>(value);
    }

    // Two models, the same head and budget; each layer gets PyTorch's default init.
    manual_seed(seed);
    Regressor rnn(std::make_shared<nn::RNN<>>(nn::RNNOptions(2, hidden)), hidden);
    Regressor lstm(std::make_shared<nn::LSTM<>>(nn::LSTMOptions(2, hidden)), hidden);
    std::mt19937 rng(seed);
    const Batch probe = make_batch(length, 256, rng), test = make_batch(length, 1000, rng);
    const auto rnn_reach0 = gradient_reach(rnn, probe), lstm_reach0 = gradient_reach(lstm, probe);

    optim::Adam<> rnn_opt(rnn.parameters(), optim::AdamOptions(1e-3));
    optim::Adam<> lstm_opt(lstm.parameters(), optim::AdamOptions(1e-3));
    for (std::size_t step = 1; step <= steps; ++step) {
        const Batch b = make_batch(length, 64, rng);
        double losses[2];
        int k = 0;
        for (auto [model, opt] : {std::pair{&rnn, &rnn_opt}, std::pair{&lstm, &lstm_opt}}) {
            opt->zero_grad();
            const Tensor<> loss = nn::mse_loss((*model)(b.x), b.y);
            loss.backward();
            optim::clip_grad_norm(model->parameters(), 1.0);  // the RNN's gradients can explode
            opt->step();
            losses[k++] = loss.item();
        }
        if (step % 200 == 0 || step == steps) {
            fmt::print("step {:>5}: rnn mse {:.4f}  lstm mse {:.4f}\n", step, losses[0], losses[1]);
            std::fflush(stdout);
        }
    }

    NoGradGuard no_grad;
    const double rnn_mse = nn::mse_loss(rnn(test.x), test.y).item();
    const double lstm_mse = nn::mse_loss(lstm(test.x), test.y).item();
    const auto rnn_reach = [&] {
        GradModeGuard on(true);
        return gradient_reach(rnn, probe);
    }();
    const auto lstm_reach = [&] {
        GradModeGuard on(true);
        return gradient_reach(lstm, probe);
    }();
    fmt::print(
        "\nlength: {}\nsteps: {}\nbaseline_mse: {:.4f}\nrnn_test_mse: {:.4f}\n"
        "lstm_test_mse: {:.4f}\n"
        "rnn_grad_first_over_last_at_init: {:.3g}\nlstm_grad_first_over_last_at_init: {:.3g}\n"
        "rnn_grad_first_over_last_trained: {:.3g}\nlstm_grad_first_over_last_trained: {:.3g}\n",
        length, steps, 1.0 / 6.0, rnn_mse, lstm_mse, rnn_reach0.first / rnn_reach0.second,
        lstm_reach0.first / lstm_reach0.second, rnn_reach.first / rnn_reach.second,
        lstm_reach.first / lstm_reach.second);
    // The LSTM must have learned the task (well under the baseline's 1/6).
    return lstm_mse < 0.05 ? 0 : 1;
}
