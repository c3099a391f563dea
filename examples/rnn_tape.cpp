// Backpropagation through time is just the tape: three steps of a one-unit RNN cell,
// h_t = tanh(w·x_t + u·h_{t−1} + b), the loss L = h_3, and the tape and backward steps that
// result. The same weights w, u, b are used at every step, so their gradients are sums over the
// steps; the printed figures are checked against the chain rule written out by hand.
//
//   ./rnn_tape

#include <xgrad.hpp>

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

using namespace xgrad;

int main() {
    auto w = scalar(0.5, true).set_name("w");   // input weight
    auto u = scalar(-0.8, true).set_name("u");  // recurrent weight
    auto b = scalar(0.1, true).set_name("b");
    const std::vector<double> xs{1.0, -0.5, 2.0};

    Tensor<double> h = scalar(0.0).set_name("h0");
    for (std::size_t t = 0; t < xs.size(); ++t) {
        auto x = scalar(xs[t]).set_name(fmt::format("x{}", t + 1));
        h = tanh(w * x + u * h + b).set_name(fmt::format("h{}", t + 1));
    }
    fmt::print("forward (the unrolled recurrence on the tape):\n");
    print_tape(h);

    fmt::print("\nbackward (reverse tape order: step 3, then 2, then 1):\n");
    for (const auto& step : trace_backward(h))
        fmt::print("{}\n", format_step(step, h));

    // The chain rule by hand: δ_t = ∂L/∂a_t with a_t = w·x_t + u·h_{t−1} + b, L = h_3;
    // δ_3 = 1 − h_3², δ_t = δ_{t+1}·u·(1 − h_t²); ∂L/∂w = Σ δ_t x_t, ∂L/∂u = Σ δ_t h_{t−1}.
    std::vector<double> hs{0.0};
    for (double x : xs)
        hs.push_back(std::tanh(0.5 * x - 0.8 * hs.back() + 0.1));
    double delta = 1 - hs[3] * hs[3], dw = 0, du = 0, db = 0;
    for (std::size_t t = 3; t >= 1; --t) {
        dw += delta * xs[t - 1];
        du += delta * hs[t - 1];
        db += delta;
        if (t > 1) delta *= -0.8 * (1 - hs[t - 1] * hs[t - 1]);
    }
    fmt::print("\nL: {:.6f}\ndL/dw: {:.6f}\ndL/du: {:.6f}\ndL/db: {:.6f}\nby_hand_dL/dw: {:.6f}\n",
               h.item(), w.grad().item(), u.grad().item(), b.grad().item(), dw);
    const auto close = [](double a, double e) { return std::abs(a - e) < 1e-12; };
    const bool ok = close(h.item(), hs[3]) && close(w.grad().item(), dw) &&
                    close(u.grad().item(), du) && close(b.grad().item(), db);
    return ok ? 0 : 1;
}
