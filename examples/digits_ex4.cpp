// The lecture's 400-25-10 sigmoid network for handwritten digits (neural networks, part 2; Coursera
// ML exercise 4), with its notation and cost in examples/ex4_net.hpp.
//  1. Gradient check, as the lecture's checkNNGradients: a 3-5-3 network on 5 examples (λ = 3),
//     backpropagation against central differences.
//  2a. With --weights DIR (Theta1.npy, Theta2.npy): the trained weights' regularisation term and,
//     with --data DIR (X.npy m×400, y.npy labels 1..10), the forward pass: error rate, cost J and
//     regularised cost (the lecture's 5000 images give 2.48 %, 0.287629, 0.383770); then the same
//     on the 10,000 MNIST test digits resized to 20×20 like the lecture's (see 2b).
//  2b. Without --weights it trains instead: ε-init (ε = 0.12), L-BFGS with a strong-Wolfe line
//     search on J (λ = 1) over 5000 real MNIST training digits (500 of each) resized to 20×20,
//     then reports training and test accuracy (10,000 test digits) and draws misclassified
//     test digits into DIR/digits_ex4_misclassified.svg.
//
//   ./digits_ex4 [--weights DIR [--data DIR]] [--mnist DIR] [--iters N] [--out DIR] [--seed S]
//   (defaults: MNIST from $XGRAD_MNIST_DIR or /usr/share/datasets/mnist, 100 L-BFGS iterations run
//   in steps of 10, so the count can end a few past N; --out ., seed 1)

#include "ex4_net.hpp"

#include <xgrad.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace xgrad;
using Net = ex4::Net<double>;

namespace {

bool gradient_check() {
    const Tensor<double> x(ex4::debug_weights(5, 3));  // m = 5 examples of 3 features
    const Tensor<double> y(ex4::label_matrix<double>({2, 3, 1, 2, 3}, 3));  // y = 1 + (i mod 3)
    const std::vector<Tensor<double>> thetas{Tensor<double>(ex4::debug_weights(5, 4), true),
                                             Tensor<double>(ex4::debug_weights(3, 6), true)};
    const auto cost = [&](const std::vector<Tensor<double>>& t) {
        return ex4::cost(Net{t[0], t[1]}, x, y, 3.0);
    };
    const GradcheckResult r = gradcheck(cost, thetas);
    // The lecture's figure: ‖numeric − backprop‖ / ‖numeric + backprop‖, step 1e-4.
    cost(thetas).backward();
    double diff = 0, total = 0;
    for (const Tensor<double>& t : thetas) {
        for (std::size_t j = 0; j < t.size(); ++j) {
            double& v = t.mutable_value().data()[j];
            const double saved = v;
            v = saved + 1e-4;
            const double plus = cost(thetas).item();
            v = saved - 1e-4;
            const double numeric = (plus - cost(thetas).item()) / 2e-4;
            v = saved;
            const double analytic = t.grad().value().data()[j];
            diff += (numeric - analytic) * (numeric - analytic);
            total += (numeric + analytic) * (numeric + analytic);
        }
    }
    fmt::print(
        "gradcheck: {}\ngradcheck_max_abs_error: {:.3g}\ngradcheck_relative_difference: "
        "{:.3g}\n",
        r.ok ? "passed" : "FAILED " + r.message, r.max_abs_error, std::sqrt(diff / total));
    return r.ok;
}

double accuracy(const std::vector<int>& predicted, const std::vector<int>& labels) {
    std::size_t right = 0;
    for (std::size_t i = 0; i < labels.size(); ++i)
        right += predicted[i] == labels[i];
    return double(right) / double(labels.size());
}

// Images [m, 400] (20×20, column-major) as a grid of cells captioned "true → predicted".
void write_svg(const std::string& path, const xt::xarray<double>& images,
               const std::vector<std::size_t>& which, const std::vector<int>& labels,
               const std::vector<int>& predicted) {
    xt::xarray<double> grid = xt::xarray<double>::from_shape({which.size(), 20, 20});
    std::vector<std::string> captions;
    for (std::size_t n = 0; n < which.size(); ++n) {
        for (std::size_t r = 0; r < 20; ++r)
            for (std::size_t c = 0; c < 20; ++c)  // pixel (r, c) sits at column-major c·20 + r
                grid(n, r, c) = images(which[n], c * 20 + r);
        captions.push_back(fmt::format("{} → {}", ex4::digit_of_label(labels[which[n]]),
                                       ex4::digit_of_label(predicted[which[n]])));
    }
    plot::save_image_grid_svg(
        path, grid, captions,
        plot::ImageGridOptions().title("misclassified test digits: true → predicted"));
}

// MNIST digits from `dir` resized to 20×20 (column-major), with the lecture's labels 1..10;
// at most `per_digit` of each digit (0: all), in file order.
std::pair<xt::xarray<double>, std::vector<int>> mnist_digits(const std::string& dir, bool train,
                                                             std::size_t per_digit) {
    const nn::Dataset<float> d = nn::load_mnist<float>(dir, train);  // [n, 784] in [0, 1]
    std::vector<std::size_t> keep, count(10, 0);
    for (std::size_t i = 0; i < d.size(); ++i) {
        const auto digit = static_cast<std::size_t>(d.targets(i));
        if (per_digit == 0 || count[digit] < per_digit) {
            keep.push_back(i);
            ++count[digit];
        }
    }
    xt::xarray<double> images = xt::zeros<double>({keep.size(), std::size_t(784)});
    std::vector<int> labels;
    for (std::size_t k = 0; k < keep.size(); ++k) {
        std::copy_n(d.inputs.data() + keep[k] * 784, 784, images.data() + k * 784);
        labels.push_back(ex4::label_of_digit(static_cast<int>(d.targets(keep[k]))));
    }
    return {ex4::resize_images(images, 28, 20), labels};
}

// Error rate, J and J with λ = 1 of `net` on x [m, 400] with labels 1..10, as `key: value` lines.
void report(const Net& net, const Tensor<double>& x, const std::vector<int>& labels,
            const std::string& prefix) {
    NoGradGuard no_grad;
    const Tensor<double> y(ex4::label_matrix<double>(labels, 10));
    const double error = 100 * (1 - accuracy(ex4::predict(net, x), labels));
    fmt::print(
        "{0}examples: {1}\n{0}error_rate_percent: {2:.2f}\n{0}cost: {3:.6f}\n"
        "{0}cost_regularized: {4:.6f}\n",
        prefix, labels.size(), error, ex4::cost(net, x, y, 0.0).item(),
        ex4::cost(net, x, y, 1.0).item());
}

int given_weights(const std::string& weights, const std::string& data, const std::string& mnist) {
    const Net net{Tensor<double>(load_npy<double>(weights + "/Theta1.npy")),
                  Tensor<double>(load_npy<double>(weights + "/Theta2.npy"))};
    const double squares = ex4::regularization(net, 2.0, 1).item();  // λ/(2m) = 1
    fmt::print("theta_squared_sum: {:.6f}\nregularization_m5000: {:.6f}\n", squares,
               squares / (2 * 5000));
    if (!data.empty()) {  // the lecture's images: X [m, 400] column-major, y 1..10
        const xt::xarray<double> y = load_npy<double>(data + "/y.npy");
        std::vector<int> labels;
        for (const double v : y)
            labels.push_back(static_cast<int>(std::lround(v)));
        report(net, Tensor<double>(load_npy<double>(data + "/X.npy")), labels, "");
    } else {
        fmt::print("(no --data DIR with the lecture's X.npy and y.npy: its figures are skipped)\n");
    }
    // The same weights on the MNIST test digits brought to the lecture's format.
    if (std::filesystem::is_directory(mnist)) {
        const auto [x, labels] = mnist_digits(mnist, false, 0);
        report(net, Tensor<double>(x), labels, "mnist_test_");
    }
    return 0;
}

int train_lbfgs(const std::string& mnist, int iterations, std::uint64_t seed,
                const std::string& out) {
    // Data: 500 training digits of each class, the whole test set, 20×20 like the lecture's.
    const auto [train_x, train_labels] = mnist_digits(mnist, true, 500);
    const auto [test_x, test_labels] = mnist_digits(mnist, false, 0);
    const Tensor<double> x(train_x), y(ex4::label_matrix<double>(train_labels, 10));
    fmt::print("train: {} digits  test: {} digits  (20x20)\n", train_labels.size(),
               test_labels.size());

    // Model: Θ1 [25, 401], Θ2 [10, 26]; random U(−ε, ε) values break the symmetry between units.
    manual_seed(seed);
    const Net net{zeros<double>({25, 401}, true), zeros<double>({10, 26}, true)};
    nn::init::epsilon_uniform_(net.theta1, 0.12);
    nn::init::epsilon_uniform_(net.theta2, 0.12);

    // Optimizer: L-BFGS on J(Θ), λ = 1, ten iterations per step so the cost can be printed.
    optim::LBFGS<double> lbfgs(
        {net.theta1, net.theta2},
        optim::LBFGSOptions().max_iter(10).line_search(optim::LineSearch::strong_wolfe));
    const auto closure = [&] {
        lbfgs.zero_grad();
        Tensor<double> j = ex4::cost(net, x, y, 1.0);
        j.backward();
        return j;
    };
    const auto start = std::chrono::steady_clock::now();
    while (lbfgs.n_iter() < iterations) {
        const std::int64_t before = lbfgs.n_iter();
        lbfgs.step(closure);
        fmt::print("iteration {}: cost {:.6f}\n", lbfgs.n_iter(), ex4::cost(net, x, y, 1.0).item());
        if (lbfgs.n_iter() == before) break;  // converged: no further iteration was taken
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Report, and draw the first 32 misclassified test digits.
    const std::vector<int> predicted = ex4::predict(net, Tensor<double>(test_x));
    const double train_acc = accuracy(ex4::predict(net, x), train_labels);
    const double test_acc = accuracy(predicted, test_labels);
    std::vector<std::size_t> wrong;
    for (std::size_t i = 0; i < predicted.size() && wrong.size() < 32; ++i)
        if (predicted[i] != test_labels[i]) wrong.push_back(i);
    std::filesystem::create_directories(out);
    const std::string svg = out + "/digits_ex4_misclassified.svg";
    write_svg(svg, test_x, wrong, test_labels, predicted);
    fmt::print(
        "wrote {}\niterations: {}\nfunction_evaluations: {}\ncost_regularized: {:.6f}\n"
        "train_accuracy: {:.4f}\ntest_accuracy: {:.4f}\nseconds: {:.1f}\n",
        svg, lbfgs.n_iter(), lbfgs.func_evals(), ex4::cost(net, x, y, 1.0).item(), train_acc,
        test_acc, seconds);
    return train_acc >= 0.9 && test_acc >= 0.85 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string weights, data, out = ".";
    const char* env = std::getenv("XGRAD_MNIST_DIR");
    std::string mnist = env != nullptr ? env : "/usr/share/datasets/mnist";
    int iterations = 100;
    std::uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) {
            fmt::print(stderr,
                       "usage: digits_ex4 [--weights DIR [--data DIR]] [--mnist DIR] "
                       "[--iters N] [--out DIR] [--seed S]\n");
            return 2;
        }
        const std::string value = argv[++i];
        if (arg == "--weights")
            weights = value;
        else if (arg == "--data")
            data = value;
        else if (arg == "--mnist")
            mnist = value;
        else if (arg == "--out")
            out = value;
        else if (arg == "--iters")
            iterations = std::atoi(value.c_str());
        else if (arg == "--seed")
            seed = std::strtoull(value.c_str(), nullptr, 10);
        else {
            fmt::print(stderr, "digits_ex4: unknown option {}\n", arg);
            return 2;
        }
    }
    try {
        const bool checked = gradient_check();
        const int status = weights.empty() ? train_lbfgs(mnist, iterations, seed, out)
                                           : given_weights(weights, data, mnist);
        return checked ? status : 1;
    } catch (const Error& e) {
        fmt::print(stderr, "digits_ex4: {}\n", e.what());
        return 2;
    }
}
