// The backpropagation lecture, worked end to end on the tape.
//
// 1. Logistic regression on one example: z = w·x + b, ŷ = σ(z), L = −y log ŷ − (1 − y) log(1 − ŷ)
//    as a graph: the tape, each local step of backward, logistic.dot, and the lecture's result
//    dL/dz = ŷ − y, dL/dw = (ŷ − y)·x, dL/db = ŷ − y computed by hand beside the tape's.
// 2. The lecture's one-hidden-layer network in matrix form (examples in columns: X [n_x, m]),
//    Z¹ = W¹X + b¹, A¹ = tanh(Z¹), Z² = W²A¹ + b², Ŷ = A² = σ(Z²), J = (1/m) Σ L: the gradients
//    of backward beside the lecture's closed forms
//      dZ² = Ŷ − Y, dW² = (1/m) dZ² A¹ᵀ, db² = (1/m) Σ dZ², dZ¹ = W²ᵀ dZ² ⊙ g′(Z¹),
//      dW¹ = (1/m) dZ¹ Xᵀ, db¹ = (1/m) Σ dZ¹,
//    which must agree to double rounding.
// 3. Why weights start random: the same network trained by gradient descent on XOR-like data
//    from all-zero weights, from one constant, and from small random weights. Hidden units that
//    start equal get equal gradients and stay equal (their pairwise difference stays 0), so the
//    network is no better than one unit; random ones become different units and learn XOR.
// Ends with `key: value` lines; exits non-zero when any of these does not hold.
//
//   ./backprop_lecture [--out DIR]      then: dot -Tpng DIR/logistic.dot -o logistic.png

#include <xgrad.hpp>

#include <fmt/format.h>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>

using namespace xgrad;
using D = Tensor<double>;
using M = xt::xarray<double>;

namespace {

// −(y log ŷ + (1 − y) log(1 − ŷ)), elementwise, from xgrad ops (so each appears on the tape).
D cross_entropy(const D& y_hat, const D& y) {
    return neg(y * log(y_hat) + (1.0 - y) * log(1.0 - y_hat));
}

double max_abs(const M& a) {
    return xt::amax(xt::abs(a))();
}

void print_matrix(const std::string& name, const M& a) {
    fmt::print("  {:<14}", name);
    for (std::size_t i = 0; i < a.size(); ++i)
        fmt::print(" {:>10.6f}", a.data()[i]);
    fmt::print("\n");
}

// Part 1. Returns the largest difference between the tape's gradients and the hand-derived ones.
double logistic_regression(const std::string& out_dir) {
    fmt::print("== 1. logistic regression on one example ==\n\n");
    const D x = D(M{1.0, 2.0}).set_name("x");
    const D w = D(M{0.5, -0.2}, true).set_name("w");
    const D b = scalar(0.1, true).set_name("b");
    const D y = scalar(1.0).set_name("y");
    D z = (sum(w * x) + b).set_name("z");
    D y_hat = sigmoid(z).set_name("y_hat");
    D L = cross_entropy(y_hat, y).set_name("L");
    z.retain_grad();
    y_hat.retain_grad();

    fmt::print("forward, the tape:\n");
    print_tape(L);
    fmt::print("\nbackward, one local derivative (VJP) per op, in reverse:\n");
    for (const auto& step : trace_backward(L))
        fmt::print("{}\n", format_step(step, L));
    const std::string dot = out_dir + "/logistic.dot";
    save_dot(L, dot);
    fmt::print("\nwrote {} (dot -Tpng {} -o logistic.png)\n\n", dot, dot);

    // The lecture: dL/dŷ = −y/ŷ + (1 − y)/(1 − ŷ), dŷ/dz = ŷ(1 − ŷ), so dL/dz = ŷ − y.
    const double p = y_hat.item(), t = y.item();
    const double dz = p - t;
    const M dw = dz * x.value();
    fmt::print("               {:>12} {:>12}\n", "tape", "by hand");
    fmt::print("  dL/dy_hat    {:>12.9f} {:>12.9f}   (−y/ŷ + (1 − y)/(1 − ŷ))\n",
               y_hat.grad().item(), -t / p + (1 - t) / (1 - p));
    fmt::print("  dL/dz        {:>12.9f} {:>12.9f}   (ŷ − y)\n", z.grad().item(), dz);
    fmt::print("  dL/dw[0]     {:>12.9f} {:>12.9f}   ((ŷ − y)·x)\n", w.grad().value()(0), dw(0));
    fmt::print("  dL/dw[1]     {:>12.9f} {:>12.9f}\n", w.grad().value()(1), dw(1));
    fmt::print("  dL/db        {:>12.9f} {:>12.9f}   (ŷ − y)\n\n", b.grad().item(), dz);
    return std::max({std::abs(z.grad().item() - dz), max_abs(w.grad().value() - dw),
                     std::abs(b.grad().item() - dz)});
}

// XOR-like data in columns: X [2, m] uniform in [−1, 1]², Y [1, m] = 1 where x₁·x₂ > 0.
void xor_data(std::size_t m, M& X, M& Y) {
    X = xt::xarray<double>(randn<double>({2, m}).value());
    X = xt::clip(X * 0.6, -1.0, 1.0);
    Y = xt::zeros<double>({std::size_t(1), m});
    for (std::size_t j = 0; j < m; ++j)
        Y(0, j) = X(0, j) * X(1, j) > 0 ? 1.0 : 0.0;
}

struct Net {
    D W1, b1, W2, b2;
};

// The cost J and, on request, the activations A¹ and Ŷ.
D cost(const Net& net, const D& X, const D& Y, D* A1 = nullptr, D* Y_hat = nullptr) {
    const D a1 = tanh(matmul(net.W1, X) + net.b1);      // [n_h, m]
    const D a2 = sigmoid(matmul(net.W2, a1) + net.b2);  // [1, m]
    if (A1) *A1 = a1;
    if (Y_hat) *Y_hat = a2;
    return mean(cross_entropy(a2, Y));
}

// Part 2. Returns the largest relative difference between the tape's and the closed forms.
double matrix_form() {
    fmt::print("== 2. one hidden layer, the closed forms in matrix form ==\n\n");
    manual_seed(3);
    const std::size_t n_x = 2, n_h = 4, m = 8;
    M Xv, Yv;
    xor_data(m, Xv, Yv);
    const D X(Xv), Y(Yv);
    Net net{randn<double>({n_h, n_x}, 0.0, 0.5, true), randn<double>({n_h, 1}, 0.0, 0.5, true),
            randn<double>({1, n_h}, 0.0, 0.5, true), randn<double>({1, 1}, 0.0, 0.5, true)};
    D A1, A2;
    cost(net, X, Y, &A1, &A2).backward();

    const double inv_m = 1.0 / static_cast<double>(m);
    const M a1 = A1.value(), a2 = A2.value();
    const M dZ2 = a2 - Yv;
    const M dW2 = inv_m * xt::linalg::dot(dZ2, xt::transpose(a1));
    const M db2 = inv_m * xt::sum(dZ2, {1}, xt::keep_dims);
    const M dZ1 = xt::linalg::dot(xt::transpose(net.W2.value()), dZ2) * (1.0 - a1 * a1);
    const M dW1 = inv_m * xt::linalg::dot(dZ1, xt::transpose(Xv));
    const M db1 = inv_m * xt::sum(dZ1, {1}, xt::keep_dims);

    double worst = 0;
    const std::pair<const char*, std::pair<const D*, const M*>> rows[] = {{"dW1", {&net.W1, &dW1}},
                                                                          {"db1", {&net.b1, &db1}},
                                                                          {"dW2", {&net.W2, &dW2}},
                                                                          {"db2", {&net.b2, &db2}}};
    for (const auto& [name, pair] : rows) {
        const M& tape = pair.first->grad().value();
        const M& hand = *pair.second;
        print_matrix(std::string(name) + " tape", tape);
        print_matrix(std::string(name) + " by hand", hand);
        worst = std::max(worst, max_abs(tape - hand) / std::max(max_abs(hand), 1e-300));
    }
    fmt::print("largest relative difference: {:.2e}\n\n", worst);
    return worst;
}

struct Trained {
    double unit_spread;  // largest difference between two hidden units' incoming weights
    double accuracy;
};

// Part 3: gradient descent from the given initial weights.
Trained train_from(const std::string& name, Net net, const D& X, const D& Y) {
    const std::vector<D> params = {net.W1, net.b1, net.W2, net.b2};
    for (int step = 0; step < 3000; ++step) {
        const auto grads =
            grad(std::vector<D>{cost(net, X, Y)}, params, GradOptions().allow_unused());
        NoGradGuard off;
        for (std::size_t i = 0; i < params.size(); ++i)
            params[i].mutable_value() -= 1.0 * grads[i].value();
    }
    D Y_hat;
    {
        NoGradGuard off;
        cost(net, X, Y, nullptr, &Y_hat);
    }
    const M predicted = xt::where(Y_hat.value() > 0.5, 1.0, 0.0);
    const double accuracy = xt::mean(xt::equal(predicted, Y.value()))();
    // Each hidden unit's incoming weights and bias: row i of [W¹ b¹].
    const M units = xt::concatenate(xt::xtuple(net.W1.value(), net.b1.value()), 1);
    double spread = 0;
    for (std::size_t i = 0; i < units.shape()[0]; ++i)
        for (std::size_t k = i + 1; k < units.shape()[0]; ++k)
            spread = std::max(spread, max_abs(xt::view(units, i) - xt::view(units, k)));
    fmt::print("  {:<26} largest difference between hidden units {:.3g}, accuracy {:.3f}\n", name,
               spread, accuracy);
    print_matrix("unit 0 W1 b1", xt::view(units, 0));
    print_matrix("unit 1 W1 b1", xt::view(units, 1));
    return {spread, accuracy};
}

}  // namespace

int main(int argc, char** argv) {
    std::string out_dir = ".";
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--out") == 0) out_dir = argv[i + 1];
    std::filesystem::create_directories(out_dir);

    const double logistic_error = logistic_regression(out_dir);
    const double matrix_error = matrix_form();

    fmt::print(
        "== 3. initialisation: 4 tanh units, gradient descent (lr 1, 3000 steps) on 200 "
        "XOR points ==\n\n");
    manual_seed(7);
    M Xv, Yv;
    xor_data(200, Xv, Yv);
    const D X(Xv), Y(Yv);
    const auto constant = [](const Shape& shape, double v) {
        D t = ones<double>(shape, true);
        t.mutable_value() *= v;
        return t;
    };
    const Trained zero = train_from(
        "all zeros",
        {constant({4, 2}, 0), constant({4, 1}, 0), constant({1, 4}, 0), constant({1, 1}, 0)}, X, Y);
    const Trained same = train_from("all 0.5",
                                    {constant({4, 2}, 0.5), constant({4, 1}, 0.5),
                                     constant({1, 4}, 0.5), constant({1, 1}, 0.5)},
                                    X, Y);
    const Trained random =
        train_from("small random (σ = 0.5)",
                   {randn<double>({4, 2}, 0.0, 0.5, true), randn<double>({4, 1}, 0.0, 0.5, true),
                    randn<double>({1, 4}, 0.0, 0.5, true), randn<double>({1, 1}, 0.0, 0.5, true)},
                   X, Y);

    fmt::print("\nlogistic_max_abs_difference: {:.3g}\nmlp_max_relative_difference: {:.3g}\n",
               logistic_error, matrix_error);
    fmt::print("zero_init_unit_difference: {:.3g}\nconstant_init_unit_difference: {:.3g}\n",
               zero.unit_spread, same.unit_spread);
    fmt::print("random_init_unit_difference: {:.3g}\n", random.unit_spread);
    fmt::print("zero_init_accuracy: {:.3f}\nconstant_init_accuracy: {:.3f}\n", zero.accuracy,
               same.accuracy);
    fmt::print("random_init_accuracy: {:.3f}\n", random.accuracy);
    const bool ok = logistic_error < 1e-14 && matrix_error < 1e-13 && zero.unit_spread == 0 &&
                    same.unit_spread == 0 && random.unit_spread > 0.1 && random.accuracy > 0.9 &&
                    random.accuracy > same.accuracy + 0.1;
    return ok ? 0 : 1;
}
