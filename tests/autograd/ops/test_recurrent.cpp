// The fused LSTM and GRU steps (Note [fused recurrent steps] in autograd/ops/recurrent.cpp)
// against plain loops of PyTorch's formulas, through the shared harness.

#include "autograd/ops/recurrent.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/index.hpp"
#include "autograd/ops/shape.hpp"
#include "harness.hpp"

#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <vector>

using namespace xgrad;
using namespace harness;  // Array, OpSpec, Tensors
using A = std::vector<Array>;

namespace {

double sig(double a) {
    return 1 / (1 + std::exp(-a));
}

// PyTorch's LSTM step on gates a [b, 4h] and c [b, h]: returns h' and c' side by side, [b, 2h].
Array lstm_reference(const Array& a, const Array& c) {
    const std::size_t b = c.shape()[0], h = c.shape()[1];
    Array out = Array::from_shape({b, 2 * h});
    for (std::size_t r = 0; r < b; ++r) {
        for (std::size_t j = 0; j < h; ++j) {
            const double i = sig(a(r, j)), f = sig(a(r, h + j)), g = std::tanh(a(r, 2 * h + j)),
                         o = sig(a(r, 3 * h + j));
            const double c1 = f * c(r, j) + i * g;
            out(r, j) = o * std::tanh(c1);
            out(r, h + j) = c1;
        }
    }
    return out;
}

// PyTorch's GRU step: h' = (1 − z)·n + z·h.
Array gru_reference(const Array& gi, const Array& gh, const Array& h0) {
    const std::size_t b = h0.shape()[0], h = h0.shape()[1];
    Array out = Array::from_shape({b, h});
    for (std::size_t r = 0; r < b; ++r) {
        for (std::size_t j = 0; j < h; ++j) {
            const double rr = sig(gi(r, j) + gh(r, j)), z = sig(gi(r, h + j) + gh(r, h + j));
            const double n = std::tanh(gi(r, 2 * h + j) + rr * gh(r, 2 * h + j));
            out(r, j) = (1 - z) * n + z * h0(r, j);
        }
    }
    return out;
}

// PyTorch's LSTM over a sequence, from the products xw [T, b, 4h], h0, c0 [b, h] and W_hh
// [4h, h], run forward or in reverse; a row whose length has passed keeps its state and outputs
// zero. Returns y, h_n and c_n flattened one after the other (the op's outputs, concatenated).
Array lstm_sequence_reference(const Array& xw, const Array& h0, const Array& c0, const Array& w,
                              bool reverse, const std::vector<std::size_t>& lengths) {
    const std::size_t steps = xw.shape()[0], b = h0.shape()[0], h = h0.shape()[1];
    Array y = xt::zeros<double>({steps, b, h}), hs = h0, cs = c0;
    for (std::size_t p = 0; p < steps; ++p) {
        const std::size_t t = reverse ? steps - 1 - p : p;
        for (std::size_t r = 0; r < b; ++r) {
            if (!lengths.empty() && t >= lengths[r]) continue;
            Array a = Array::from_shape({1, 4 * h}), c = Array::from_shape({1, h});
            for (std::size_t q = 0; q < 4 * h; ++q) {
                a(0, q) = xw(t, r, q);
                for (std::size_t j = 0; j < h; ++j)
                    a(0, q) += hs(r, j) * w(q, j);
            }
            for (std::size_t j = 0; j < h; ++j)
                c(0, j) = cs(r, j);
            const Array next = lstm_reference(a, c);  // [1, 2h]: h', c'
            for (std::size_t j = 0; j < h; ++j) {
                y(t, r, j) = next(0, j);
                cs(r, j) = next(0, h + j);
            }
        }
        for (std::size_t r = 0; r < b; ++r) {  // the new h after the whole step used the old one
            if (!lengths.empty() && t >= lengths[r]) continue;
            for (std::size_t j = 0; j < h; ++j)
                hs(r, j) = y(t, r, j);
        }
    }
    return xt::concatenate(xt::xtuple(xt::flatten(y), xt::flatten(hs), xt::flatten(cs)));
}

// lstm_sequence's three outputs flattened into one tensor, so one upstream gradient reaches all.
Tensor<double> lstm_sequence_flat(const Tensors& x, bool reverse,
                                  const std::vector<std::size_t>& lengths = {}) {
    const auto out = lstm_sequence(x[0], x[1], x[2], x[3], reverse, lengths);
    return concat<double>({reshape(out[0], {-1}), reshape(out[1], {-1}), reshape(out[2], {-1})});
}

// PyTorch's GRU over a sequence, from the products xw [T, b, 3h] (with b_ih), h0 [b, h], W_hh
// [3h, h] and b_hh [3h]; lengths as for lstm_sequence_reference. Returns y and h_n flattened.
Array gru_sequence_reference(const Array& xw, const Array& h0, const Array& w, const Array& bias,
                             bool reverse, const std::vector<std::size_t>& lengths) {
    const std::size_t steps = xw.shape()[0], b = h0.shape()[0], h = h0.shape()[1];
    Array y = xt::zeros<double>({steps, b, h}), hs = h0;
    for (std::size_t p = 0; p < steps; ++p) {
        const std::size_t t = reverse ? steps - 1 - p : p;
        Array next = hs;
        for (std::size_t r = 0; r < b; ++r) {
            if (!lengths.empty() && t >= lengths[r]) continue;
            Array gi = Array::from_shape({1, 3 * h}), gh = Array::from_shape({1, 3 * h}),
                  hr = Array::from_shape({1, h});
            for (std::size_t q = 0; q < 3 * h; ++q) {
                gi(0, q) = xw(t, r, q);
                gh(0, q) = bias(q);
                for (std::size_t j = 0; j < h; ++j)
                    gh(0, q) += hs(r, j) * w(q, j);
            }
            for (std::size_t j = 0; j < h; ++j)
                hr(0, j) = hs(r, j);
            const Array out = gru_reference(gi, gh, hr);
            for (std::size_t j = 0; j < h; ++j)
                next(r, j) = y(t, r, j) = out(0, j);
        }
        hs = next;
    }
    return xt::concatenate(xt::xtuple(xt::flatten(y), xt::flatten(hs)));
}

// gru_sequence's two outputs flattened into one tensor.
Tensor<double> gru_sequence_flat(const Tensors& x, bool reverse,
                                 const std::vector<std::size_t>& lengths = {}) {
    const auto out = gru_sequence(x[0], x[1], x[2], x[3], reverse, lengths);
    return concat<double>({reshape(out[0], {-1}), reshape(out[1], {-1})});
}

}  // namespace

// Both outputs side by side, so the random upstream gradient reaches each.
XGRAD_REGISTER_OP(
    OpSpec("lstm_gates", [](const Tensors& x) { return concat(lstm_gates(x[0], x[1]), 1); })
        .reference([](const A& a) { return lstm_reference(a[0], a[1]); })
        .cases({{{2, 8}, {2, 2}}, {{1, 4}, {1, 1}}, {{3, 12}, {3, 3}}, {{0, 8}, {0, 2}}})
        .bad_shapes({{2, 6}, {2, 2}}));
// Only h' used: c' receives no gradient, which the op must take as zeros.
XGRAD_REGISTER_OP(OpSpec("lstm_gates_h_only",
                         [](const Tensors& x) { return lstm_gates(x[0], x[1])[0]; })
                      .reference([](const A& a) {
                          const std::size_t h = a[1].shape()[1];
                          return Array(
                              xt::view(lstm_reference(a[0], a[1]), xt::all(), xt::range(0, h)));
                      })
                      .cases({{{2, 8}, {2, 2}}})
                      .bad_shapes({{2, 8}, {3, 2}}));
XGRAD_REGISTER_OP(OpSpec("lstm_sequence",
                         [](const Tensors& x) { return lstm_sequence_flat(x, false); })
                      .reference([](const A& a) {
                          return lstm_sequence_reference(a[0], a[1], a[2], a[3], false, {});
                      })
                      .cases({{{3, 2, 8}, {2, 2}, {2, 2}, {8, 2}},
                              {{1, 1, 4}, {1, 1}, {1, 1}, {4, 1}},
                              {{4, 3, 4}, {3, 1}, {3, 1}, {4, 1}},
                              {{0, 2, 8}, {2, 2}, {2, 2}, {8, 2}}})
                      .bad_shapes({{3, 2, 8}, {2, 2}, {2, 2}, {8, 3}}));
XGRAD_REGISTER_OP(OpSpec("lstm_sequence_reverse",
                         [](const Tensors& x) { return lstm_sequence_flat(x, true); })
                      .reference([](const A& a) {
                          return lstm_sequence_reference(a[0], a[1], a[2], a[3], true, {});
                      })
                      .cases({{{3, 2, 8}, {2, 2}, {2, 2}, {8, 2}}})
                      .bad_shapes({{3, 2, 8}, {3, 2}, {2, 2}, {8, 2}}));
// Rows of lengths 3, 1 and 2 of 3 steps, both directions: ended rows keep their state.
XGRAD_REGISTER_OP(OpSpec("lstm_sequence_lengths",
                         [](const Tensors& x) {
                             return add(lstm_sequence_flat(x, false, {3, 1, 2}),
                                        lstm_sequence_flat(x, true, {3, 1, 2}));
                         })
                      .reference([](const A& a) {
                          return Array(
                              lstm_sequence_reference(a[0], a[1], a[2], a[3], false, {3, 1, 2}) +
                              lstm_sequence_reference(a[0], a[1], a[2], a[3], true, {3, 1, 2}));
                      })
                      .cases({{{3, 3, 8}, {3, 2}, {3, 2}, {8, 2}}})
                      .bad_shapes({{3, 3, 8}, {3, 2}, {3, 3}, {8, 2}}));
XGRAD_REGISTER_OP(OpSpec("gru_sequence",
                         [](const Tensors& x) { return gru_sequence_flat(x, false); })
                      .reference([](const A& a) {
                          return gru_sequence_reference(a[0], a[1], a[2], a[3], false, {});
                      })
                      .cases({{{3, 2, 6}, {2, 2}, {6, 2}, {6}},
                              {{1, 1, 3}, {1, 1}, {3, 1}, {3}},
                              {{4, 3, 3}, {3, 1}, {3, 1}, {3}},
                              {{0, 2, 6}, {2, 2}, {6, 2}, {6}}})
                      .bad_shapes({{3, 2, 6}, {2, 2}, {6, 2}, {4}}));
// Both directions with rows of lengths 3, 1 and 2 of 3 steps.
XGRAD_REGISTER_OP(OpSpec("gru_sequence_lengths",
                         [](const Tensors& x) {
                             return add(gru_sequence_flat(x, false, {3, 1, 2}),
                                        gru_sequence_flat(x, true, {3, 1, 2}));
                         })
                      .reference([](const A& a) {
                          return Array(
                              gru_sequence_reference(a[0], a[1], a[2], a[3], false, {3, 1, 2}) +
                              gru_sequence_reference(a[0], a[1], a[2], a[3], true, {3, 1, 2}));
                      })
                      .cases({{{3, 3, 6}, {3, 2}, {6, 2}, {6}}})
                      .bad_shapes({{3, 3, 6}, {3, 3}, {6, 2}, {6}}));
XGRAD_REGISTER_OP(
    OpSpec("gru_gates", [](const Tensors& x) { return gru_gates(x[0], x[1], x[2]); })
        .reference([](const A& a) { return gru_reference(a[0], a[1], a[2]); })
        .cases({{{2, 6}, {2, 6}, {2, 2}}, {{1, 3}, {1, 3}, {1, 1}}, {{3, 9}, {3, 9}, {3, 3}}})
        .bad_shapes({{2, 6}, {2, 9}, {2, 2}}));

TEST_CASE("lstm_gates: zero gates give i = f = o = 1/2, g = 0: c' = c/2, h' = tanh(c/2)/2") {
    Tensor<double> a(xt::zeros<double>({1, 4})),
        c(xt::xarray<double>(xt::ones<double>({1, 1}) * 2.0));
    const auto hc = lstm_gates(a, c);
    REQUIRE(hc.size() == 2);
    CHECK(hc[1].item() == doctest::Approx(1.0));                   // ½·2 + ½·0
    CHECK(hc[0].item() == doctest::Approx(0.5 * std::tanh(1.0)));  // ½·tanh(1)
}

TEST_CASE("gru_gates: z = 1/2 and n = 0 average the old state with zero") {
    Tensor<double> gi(xt::zeros<double>({1, 3})), gh(xt::zeros<double>({1, 3}));
    Tensor<double> h(xt::xarray<double>(xt::ones<double>({1, 1}) * 4.0));
    CHECK(gru_gates(gi, gh, h).item() == doctest::Approx(2.0));  // ½·tanh(0) + ½·4
}

TEST_CASE("lstm_sequence: lengths outside [0, T] or of the wrong count name the lengths") {
    const Tensor<double> xw(xt::zeros<double>({3, 2, 4})), h(xt::zeros<double>({2, 1}));
    const Tensor<double> w(xt::zeros<double>({4, 1}));
    CHECK_THROWS_WITH_AS(lstm_sequence(xw, h, h, w, false, {4, 1}),
                         doctest::Contains("lengths=[4, 1]"), ShapeError);
    CHECK_THROWS_WITH_AS(lstm_sequence(xw, h, h, w, false, {1}), doctest::Contains("lengths=[1]"),
                         ShapeError);
}

TEST_CASE("gru_sequence: an undefined bias_hh is no bias") {
    const Tensor<double> xw(xt::ones<double>({2, 1, 3})), h(xt::ones<double>({1, 1}));
    const Tensor<double> w(xt::ones<double>({3, 1}));
    const auto with_zero = gru_sequence(xw, h, w, Tensor<double>(xt::zeros<double>({3})));
    const auto without = gru_sequence(xw, h, w, Tensor<double>());
    CHECK(without[0].value() == with_zero[0].value());
    CHECK(without[1].value() == with_zero[1].value());
}
