#pragma once

// The lecture's digit network (neural networks, part 2; Coursera ML exercise 4), in its own
// notation: weights Θ1 [hidden, n + 1] and Θ2 [K, hidden + 1] with the bias in column 0, labels
// y ∈ 1..K (for digits, 10 stands for 0: output unit k − 1 answers "label k"), images as rows of X.
// Shared by examples/digits_ex4.cpp and tests/examples/test_ex4_net.cpp.

#include <xgrad.hpp>

#include <fmt/format.h>
#include <xtensor/xarray.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ex4 {

using xgrad::Tensor;

/// Θ1 [hidden, n + 1] (input + bias → hidden), Θ2 [K, hidden + 1] (hidden + bias → output).
template <class T>
struct Net {
    Tensor<T> theta1, theta2;
};

/// [m, n] → [m, n + 1]: a first column of ones, the bias unit a₀ = 1.
template <class T>
Tensor<T> add_bias_column(const Tensor<T>& a) {
    return xgrad::pad(a, {{1, 0}}, T(1));
}

/// Output pre-activations z⁽³⁾ [m, K] for images x [m, n]:
///   a⁽¹⁾ = [1, x],  a⁽²⁾ = [1, σ(a⁽¹⁾·Θ1ᵀ)],  z⁽³⁾ = a⁽²⁾·Θ2ᵀ,  h = σ(z⁽³⁾).
template <class T>
Tensor<T> logits(const Net<T>& net, const Tensor<T>& x) {
    const Tensor<T> a1 = add_bias_column(x);  // [m, n+1]
    const Tensor<T> a2 =
        add_bias_column(xgrad::sigmoid(matmul(a1, net.theta1, false, true)));  // [m, h+1]
    return matmul(a2, net.theta2, false, true);                                // [m, K]
}

/// The hypothesis h = σ(z⁽³⁾) [m, K].
template <class T>
Tensor<T> forward(const Net<T>& net, const Tensor<T>& x) {
    return xgrad::sigmoid(logits(net, x));
}

/// Labels 1..K [m] → Y [m, K] with Y(i, y_i − 1) = 1 (the lecture's recoded y); ValueError for a
/// label outside 1..K.
template <class T>
xt::xarray<T> label_matrix(const std::vector<int>& labels, std::size_t num_labels) {
    xt::xarray<T> y = xt::zeros<T>({labels.size(), num_labels});
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 1 || labels[i] > static_cast<int>(num_labels)) {
            throw xgrad::ValueError(fmt::format(
                "label_matrix: label {} of example {} is outside 1..{}", labels[i], i, num_labels));
        }
        y(i, static_cast<std::size_t>(labels[i] - 1)) = T(1);
    }
    return y;
}

/// λ/(2m) (Σ Θ1[:, 1:]² + Σ Θ2[:, 1:]²): the bias columns are not regularised.
template <class T>
Tensor<T> regularization(const Net<T>& net, T lambda, std::size_t m) {
    const Tensor<T> w1 =
        xgrad::slice(net.theta1, 1, 1, static_cast<std::ptrdiff_t>(net.theta1.shape()[1]));
    const Tensor<T> w2 =
        xgrad::slice(net.theta2, 1, 1, static_cast<std::ptrdiff_t>(net.theta2.shape()[1]));
    return (lambda / (T(2) * static_cast<T>(m))) * (xgrad::sum(w1 * w1) + xgrad::sum(w2 * w2));
}

/// The lecture's cost:
///   J = (1/m) Σ_i Σ_k [−y_ik log h_ik − (1 − y_ik) log(1 − h_ik)] + regularization(λ).
/// NOTE: the bracket is computed from z = z⁽³⁾ as softplus(z) − y·z, the same number written so
/// that it stays finite when h rounds to 0 or 1.
template <class T>
Tensor<T> cost(const Net<T>& net, const Tensor<T>& x, const Tensor<T>& y, T lambda) {
    const std::size_t m = x.shape()[0];
    const Tensor<T> data =
        xgrad::nn::binary_cross_entropy_with_logits(logits(net, x), y, xgrad::nn::Reduction::sum) /
        static_cast<T>(m);
    return lambda == T(0) ? data : data + regularization(net, lambda, m);
}

/// Predicted labels 1..K: the output unit with the largest h, plus one.
template <class T>
std::vector<int> predict(const Net<T>& net, const Tensor<T>& x) {
    xgrad::NoGradGuard no_grad;
    const Tensor<T> z = logits(net, x);  // σ is monotone: the largest z is the largest h
    const std::size_t m = z.shape()[0], k = z.shape()[1];
    std::vector<int> out(m);
    for (std::size_t i = 0; i < m; ++i) {
        std::size_t best = 0;
        for (std::size_t j = 1; j < k; ++j)
            if (z(i, j) > z(i, best)) best = j;
        out[i] = static_cast<int>(best) + 1;
    }
    return out;
}

/// checkNNGradients' debugInitializeWeights [rows, cols]: sin(1), sin(2), ... / 10 filled column
/// by column (fixed weights, and inputs, for the gradient check).
inline xt::xarray<double> debug_weights(std::size_t rows, std::size_t cols) {
    xt::xarray<double> w = xt::zeros<double>({rows, cols});
    for (std::size_t j = 0; j < cols; ++j)
        for (std::size_t i = 0; i < rows; ++i)
            w(i, j) = std::sin(double(j * rows + i + 1)) / 10;
    return w;
}

/// An MNIST digit 0..9 as the lecture's label: 10 for 0, the digit otherwise.
inline int label_of_digit(int digit) {
    return digit == 0 ? 10 : digit;
}
/// The digit a lecture label stands for.
inline int digit_of_label(int label) {
    return label == 10 ? 0 : label;
}

/// Area-average weights of a 1-D resize from `in` to `out` samples [out, in]: output sample r
/// covers [r·s, (r + 1)·s) of the input, s = in/out, and averages each input sample by its
/// overlap with that interval (each row sums to 1).
inline xt::xarray<double> area_weights(std::size_t in, std::size_t out) {
    xt::xarray<double> w = xt::zeros<double>({out, in});
    const double s = static_cast<double>(in) / static_cast<double>(out);
    for (std::size_t r = 0; r < out; ++r) {
        const double lo = static_cast<double>(r) * s, hi = lo + s;
        for (std::size_t i = 0; i < in; ++i) {
            const double overlap = std::min(hi, double(i + 1)) - std::max(lo, double(i));
            if (overlap > 0) w(r, i) = overlap / s;
        }
    }
    return w;
}

/// Images [m, in·in] (row-major in×in) → [m, out·out] by area averaging, flattened
/// column-major like the lecture's X (pixel (r, c) at column c·out + r).
inline xt::xarray<double> resize_images(const xt::xarray<double>& images, std::size_t in,
                                        std::size_t out) {
    const xt::xarray<double> w = area_weights(in, out);  // [out, in]
    const std::size_t m = images.shape()[0];
    xt::xarray<double> result = xt::zeros<double>({m, out * out});
    std::vector<double> rows(out * in);  // the image with its rows resized: [out, in]
    for (std::size_t n = 0; n < m; ++n) {
        const double* img = images.data() + n * in * in;
        std::fill(rows.begin(), rows.end(), 0.0);
        for (std::size_t r = 0; r < out; ++r)
            for (std::size_t i = 0; i < in; ++i)
                if (w(r, i) != 0)
                    for (std::size_t c = 0; c < in; ++c)
                        rows[r * in + c] += w(r, i) * img[i * in + c];
        double* dst = result.data() + n * out * out;
        for (std::size_t r = 0; r < out; ++r)
            for (std::size_t c = 0; c < out; ++c) {
                double v = 0;
                for (std::size_t j = 0; j < in; ++j)
                    v += w(c, j) * rows[r * in + j];
                dst[c * out + r] = v;
            }
    }
    return result;
}

}  // namespace ex4
