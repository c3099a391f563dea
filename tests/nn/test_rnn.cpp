// The recurrent layers against a plain-loop reference of PyTorch's formulas, through gradcheck in
// double precision, with PyTorch's parameter names and the errors they name.

#include "nn/rnn.hpp"

#include "autograd/gradcheck.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/index.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/random.hpp"
#include "optim/clip.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <xtensor/xview.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

using namespace xgrad;
using Array = xt::xarray<double>;

namespace {

double sig(double a) {
    return 1 / (1 + std::exp(-a));
}

// One step of PyTorch's cell formulas in plain loops: x [B, I], h and c [B, H] updated in place.
void reference_step(nn::RecurrentMode mode, const Array& wih, const Array& whh, const Array* bih,
                    const Array* bhh, const Array& x, Array& h, Array& c) {
    const std::size_t batch = x.shape()[0], in = x.shape()[1], hid = h.shape()[1];
    const std::size_t g = wih.shape()[0];
    Array hn = h, cn = c;
    for (std::size_t b = 0; b < batch; ++b) {
        std::vector<double> gi(g), gh(g);
        for (std::size_t r = 0; r < g; ++r) {
            gi[r] = bih ? (*bih)(r) : 0.0;
            gh[r] = bhh ? (*bhh)(r) : 0.0;
            for (std::size_t k = 0; k < in; ++k)
                gi[r] += wih(r, k) * x(b, k);
            for (std::size_t k = 0; k < hid; ++k)
                gh[r] += whh(r, k) * h(b, k);
        }
        for (std::size_t j = 0; j < hid; ++j) {
            switch (mode) {
                case nn::RecurrentMode::rnn_tanh:
                    hn(b, j) = std::tanh(gi[j] + gh[j]);
                    break;
                case nn::RecurrentMode::rnn_relu:
                    hn(b, j) = std::max(0.0, gi[j] + gh[j]);
                    break;
                case nn::RecurrentMode::lstm: {
                    const auto a = [&](std::size_t q) { return gi[q * hid + j] + gh[q * hid + j]; };
                    const double i = sig(a(0)), f = sig(a(1)), gg = std::tanh(a(2)), o = sig(a(3));
                    cn(b, j) = f * c(b, j) + i * gg;
                    hn(b, j) = o * std::tanh(cn(b, j));
                    break;
                }
                case nn::RecurrentMode::gru: {
                    const double r = sig(gi[j] + gh[j]), z = sig(gi[hid + j] + gh[hid + j]);
                    const double n = std::tanh(gi[2 * hid + j] + r * gh[2 * hid + j]);
                    hn(b, j) = (1 - z) * n + z * h(b, j);
                    break;
                }
            }
        }
    }
    h = hn;
    c = cn;
}

struct Reference {
    Array output, h_n, c_n;
};

// A whole sequence layer in plain loops, reading its parameters by PyTorch's names.
Reference reference_layer(nn::RecurrentMode mode, const std::map<std::string, Array>& p,
                          const nn::RNNOptions& o, const Array& x_in, const Array& h0,
                          const Array& c0, const std::vector<std::size_t>& lengths) {
    const std::size_t dirs = o.bidirectional() ? 2 : 1, hid = o.hidden_size();
    const Array x = o.batch_first() ? Array(xt::transpose(x_in, {1, 0, 2})) : x_in;
    const std::size_t steps = x.shape()[0], batch = x.shape()[1];
    Reference ref;
    ref.h_n = Array::from_shape({o.num_layers() * dirs, batch, hid});
    ref.c_n = ref.h_n;
    Array input = x;
    for (std::size_t l = 0; l < o.num_layers(); ++l) {
        Array out = xt::zeros<double>({steps, batch, dirs * hid});
        for (std::size_t d = 0; d < dirs; ++d) {
            const std::string s = fmt::format("_l{}{}", l, d ? "_reverse" : "");
            const bool bias = p.count("bias_ih" + s) > 0;
            const Array* bih = bias ? &p.at("bias_ih" + s) : nullptr;
            const Array* bhh = bias ? &p.at("bias_hh" + s) : nullptr;
            Array h = xt::view(h0, l * dirs + d), c = xt::view(c0, l * dirs + d);
            for (std::size_t i = 0; i < steps; ++i) {
                const std::size_t t = d == 0 ? i : steps - 1 - i;
                Array xt_step = xt::view(input, t);
                Array hn = h, cn = c;
                reference_step(mode, p.at("weight_ih" + s), p.at("weight_hh" + s), bih, bhh,
                               xt_step, hn, cn);
                for (std::size_t b = 0; b < batch; ++b) {
                    const bool counts = lengths.empty() || t < lengths[b];
                    for (std::size_t j = 0; j < hid; ++j) {
                        if (counts) h(b, j) = hn(b, j), c(b, j) = cn(b, j);
                        out(t, b, d * hid + j) = counts ? hn(b, j) : 0.0;
                    }
                }
            }
            xt::view(ref.h_n, l * dirs + d) = h;
            xt::view(ref.c_n, l * dirs + d) = c;
        }
        input = out;
    }
    ref.output = o.batch_first() ? Array(xt::transpose(input, {1, 0, 2})) : input;
    return ref;
}

std::map<std::string, Array> values(const nn::Module<double>& m) {
    std::map<std::string, Array> out;
    for (const auto& [name, t] : m.named_parameters())
        out[name] = t.value();
    return out;
}

// The layer's outputs (or {output, h_n[, c_n]}) against the reference, to 1e-12.
void check_against_reference(nn::RNNBase<double>& layer, nn::RecurrentMode mode,
                             const nn::RNNOptions& o, const std::vector<std::size_t>& lengths) {
    const std::size_t dirs = o.bidirectional() ? 2 : 1,
                      batch = lengths.empty() ? 2 : lengths.size();
    const Shape x_shape =
        o.batch_first() ? Shape{batch, 5, o.input_size()} : Shape{5, batch, o.input_size()};
    const Tensor<double> x = randn<double>(x_shape);
    const Tensor<double> h0 = randn<double>({o.num_layers() * dirs, batch, o.hidden_size()});
    const Tensor<double> c0 = randn<double>(h0.shape());
    const bool lstm = mode == nn::RecurrentMode::lstm;
    std::vector<Tensor<double>> initial{h0};
    if (lstm) initial.push_back(c0);
    const auto ys = lengths.empty() ? layer([&] {
        std::vector<Tensor<double>> in{x};
        in.insert(in.end(), initial.begin(), initial.end());
        return in;
    }())
                                    : layer.forward(x, lengths, initial);
    const Reference ref =
        reference_layer(mode, values(layer), o, x.value(), h0.value(),
                        lstm ? c0.value() : Array(xt::zeros_like(h0.value())), lengths);
    REQUIRE(ys.size() == (lstm ? 3u : 2u));
    CHECK(xt::allclose(ys[0].value(), ref.output, 1e-12, 1e-12));
    CHECK(xt::allclose(ys[1].value(), ref.h_n, 1e-12, 1e-12));
    if (lstm) CHECK(xt::allclose(ys[2].value(), ref.c_n, 1e-12, 1e-12));
}

}  // namespace

TEST_CASE("LSTM: PyTorch's parameter names, order, shapes and init bounds") {
    manual_seed(1);
    nn::LSTM<double> lstm(nn::LSTMOptions(3, 4).num_layers(2).bidirectional(true));
    std::vector<std::string> names;
    for (const auto& [name, t] : lstm.named_parameters())
        names.push_back(name);
    const std::vector<std::string> expected{
        "weight_ih_l0",         "weight_hh_l0",         "bias_ih_l0",         "bias_hh_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
        "weight_ih_l1",         "weight_hh_l1",         "bias_ih_l1",         "bias_hh_l1",
        "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
    CHECK(names == expected);
    const auto p = values(lstm);
    CHECK(p.at("weight_ih_l0").shape() == Shape{16, 3});
    CHECK(p.at("weight_ih_l1").shape() == Shape{16, 8});  // the layer below's two directions
    CHECK(p.at("weight_hh_l1_reverse").shape() == Shape{16, 4});
    CHECK(p.at("bias_hh_l0").shape() == Shape{16});
    for (const auto& [name, v] : p)
        CHECK(xt::amax(xt::abs(v))() <= 0.5);  // 1/√4
    nn::GRU<double> gru(nn::GRUOptions(3, 4).bias(false));
    CHECK(gru.named_parameters().size() == 2);
    CHECK(gru.named_parameters()[0].second.shape() == Shape{12, 3});
}

TEST_CASE("RNN, LSTM, GRU: outputs and final states equal the plain-loop reference") {
    manual_seed(2);
    using M = nn::RecurrentMode;
    nn::RNN<double> tanh_rnn(nn::RNNOptions(3, 4));
    check_against_reference(tanh_rnn, M::rnn_tanh, tanh_rnn.options(), {});
    nn::RNN<double> relu_rnn(
        nn::RNNOptions(3, 4).nonlinearity(nn::Nonlinearity::relu).num_layers(2));
    check_against_reference(relu_rnn, M::rnn_relu, relu_rnn.options(), {});
    nn::LSTM<double> lstm(nn::LSTMOptions(3, 4).num_layers(2).bidirectional(true));
    check_against_reference(lstm, M::lstm, lstm.options(), {});
    nn::LSTM<double> lstm_bf(nn::LSTMOptions(3, 4).batch_first(true).bias(false));
    check_against_reference(lstm_bf, M::lstm, lstm_bf.options(), {});
    nn::GRU<double> gru(nn::GRUOptions(3, 4).num_layers(2).bidirectional(true).batch_first(true));
    check_against_reference(gru, M::gru, gru.options(), {});
}

TEST_CASE("RNN, LSTM, GRU: sequences of different lengths equal the reference that stops them") {
    manual_seed(3);
    using M = nn::RecurrentMode;
    nn::LSTM<double> lstm(nn::LSTMOptions(3, 4).bidirectional(true));
    check_against_reference(lstm, M::lstm, lstm.options(), {5, 2, 4});
    nn::GRU<double> gru(nn::GRUOptions(3, 4).num_layers(2).batch_first(true));
    check_against_reference(gru, M::gru, gru.options(), {1, 5});
    nn::RNN<double> rnn(nn::RNNOptions(3, 4).bidirectional(true));
    check_against_reference(rnn, M::rnn_tanh, rnn.options(), {3, 5, 1});
}

TEST_CASE("LSTM: padded steps receive no gradient, and neither do their outputs") {
    manual_seed(4);
    nn::LSTM<double> lstm(nn::LSTMOptions(2, 3).bidirectional(true));
    Tensor<double> x = randn<double>({4, 2, 2}, 0.0, 1.0, true);
    const auto ys = lstm.forward(x, {4, 2});
    CHECK(xt::all(xt::equal(xt::view(ys[0].value(), xt::range(2, 4), 1), 0.0)));
    sum(ys[0] * ys[0]).backward();
    CHECK(xt::all(xt::equal(xt::view(x.grad().value(), xt::range(2, 4), 1), 0.0)));
    CHECK(xt::any(xt::not_equal(xt::view(x.grad().value(), xt::range(0, 2), 1), 0.0)));
}

TEST_CASE("LSTM, GRU, RNN: gradients of x, the initial states and every parameter pass gradcheck") {
    manual_seed(5);
    nn::LSTM<double> lstm(nn::LSTMOptions(2, 3).num_layers(2).bidirectional(true));
    Tensor<double> x = randn<double>({3, 2, 2}, 0.0, 1.0, true);
    Tensor<double> h0 = randn<double>({4, 2, 3}, 0.0, 1.0, true),
                   c0 = randn<double>({4, 2, 3}, 0.0, 1.0, true);
    std::vector<Tensor<double>> inputs{x, h0, c0};
    for (const auto& p : lstm.parameters())
        inputs.push_back(p);
    auto r = gradcheck(
        [&](const std::vector<Tensor<double>>& in) {
            const auto ys = lstm({in[0], in[1], in[2]});
            return concat<double>(
                {reshape(ys[0], {-1}), reshape(ys[1], {-1}), reshape(ys[2], {-1})});
        },
        inputs);
    CHECK_MESSAGE(r.ok, r.message);
    nn::GRU<double> gru(nn::GRUOptions(2, 3).batch_first(true));
    Tensor<double> xb = randn<double>({3, 4, 2}, 0.0, 1.0, true);
    std::vector<Tensor<double>> gin{xb};
    for (const auto& p : gru.parameters())
        gin.push_back(p);
    auto rg = gradcheck([&](const auto& in) { return gru.forward(in[0], {4, 2, 3})[0]; }, gin);
    CHECK_MESSAGE(rg.ok, rg.message);
    nn::RNN<double> rnn(nn::RNNOptions(2, 3).num_layers(2));
    std::vector<Tensor<double>> rin{x};
    for (const auto& p : rnn.parameters())
        rin.push_back(p);
    auto rr = gradcheck([&](const auto& in) { return rnn(in[0]); }, rin);
    CHECK_MESSAGE(rr.ok, rr.message);
}

TEST_CASE("LSTM, GRU: second derivatives through the steps pass gradgradcheck") {
    manual_seed(6);
    nn::LSTM<double> lstm(nn::LSTMOptions(2, 2).bidirectional(true));
    nn::GRU<double> gru(nn::GRUOptions(2, 2));
    Tensor<double> x = randn<double>({3, 1, 2}, 0.0, 1.0, true);
    std::vector<Tensor<double>> li{x, lstm.parameters()[0], lstm.parameters()[1]};
    auto r = gradgradcheck([&](const auto& in) { return lstm(in[0]); }, li);
    CHECK_MESSAGE(r.ok, r.message);
    std::vector<Tensor<double>> gi{x, gru.parameters()[1]};
    auto rg = gradgradcheck([&](const auto& in) { return gru.forward(in[0], {2}, {})[1]; }, gi);
    CHECK_MESSAGE(rg.ok, rg.message);
}

TEST_CASE("RNNCell, LSTMCell, GRUCell: one step of the layer's recurrence, gradchecked") {
    manual_seed(7);
    using M = nn::RecurrentMode;
    const Tensor<double> x = randn<double>({2, 3}, 0.0, 1.0, true);
    const Tensor<double> h = randn<double>({2, 4}, 0.0, 1.0, true),
                         c = randn<double>({2, 4}, 0.0, 1.0, true);
    nn::LSTMCell<double> lstm(nn::RNNCellOptions(3, 4));
    nn::GRUCell<double> gru(nn::RNNCellOptions(3, 4));
    nn::RNNCell<double> rnn(nn::RNNCellOptions(3, 4).nonlinearity(nn::Nonlinearity::relu));
    struct Case {
        nn::RNNCellBase<double>* cell;
        M mode;
    };
    for (const Case& k : {Case{&lstm, M::lstm}, Case{&gru, M::gru}, Case{&rnn, M::rnn_relu}}) {
        const auto& cell = *k.cell;
        Array hr = h.value(), cr = c.value();
        const Array bih = cell.bias_ih().value(), bhh = cell.bias_hh().value();
        reference_step(k.mode, cell.weight_ih().value(), cell.weight_hh().value(), &bih, &bhh,
                       x.value(), hr, cr);
        const bool lstm = k.mode == M::lstm;
        const auto ys = (*k.cell)(lstm ? std::vector<Tensor<double>>{x, h, c}
                                       : std::vector<Tensor<double>>{x, h});
        CHECK(xt::allclose(ys[0].value(), hr, 1e-12, 1e-12));
        if (lstm) CHECK(xt::allclose(ys[1].value(), cr, 1e-12, 1e-12));
        std::vector<Tensor<double>> in{x, h};
        for (const auto& p : k.cell->parameters())
            in.push_back(p);
        const auto r = gradcheck(
            [&](const auto& v) {
                return (*k.cell)(lstm ? std::vector<Tensor<double>>{v[0], v[1], c}
                                      : std::vector<Tensor<double>>{v[0], v[1]})[0];
            },
            in);
        CHECK_MESSAGE(r.ok, r.message);
    }
}

TEST_CASE("LSTMCell: the fused step equals the step composed from xgrad ops, to second order") {
    manual_seed(8);
    nn::LSTMCell<double> cell(nn::RNNCellOptions(3, 2));
    const Tensor<double> x = randn<double>({2, 3}, 0.0, 1.0, true);
    const Tensor<double> h = randn<double>({2, 2}), c = randn<double>({2, 2});
    // The same step in plain ops: gates, chunk, sigmoid/tanh, the cell update.
    const auto composed = [&](const Tensor<double>& xin) {
        const auto a = chunk(linear(xin, cell.weight_ih(), cell.bias_ih()) +
                                 linear(h, cell.weight_hh(), cell.bias_hh()),
                             4, 1);
        const auto c1 = sigmoid(a[1]) * c + sigmoid(a[0]) * tanh(a[2]);
        return std::vector<Tensor<double>>{sigmoid(a[3]) * tanh(c1), c1};
    };
    const auto fused = cell({x, h, c});
    const auto plain = composed(x);
    CHECK(xt::allclose(fused[0].value(), plain[0].value(), 1e-12, 1e-14));
    CHECK(xt::allclose(fused[1].value(), plain[1].value(), 1e-12, 1e-14));
    const auto loss = [](const std::vector<Tensor<double>>& hc) { return sum(hc[0] * hc[1]); };
    const Tensor<double> g_fused = grad(loss(fused), x, /*create_graph=*/true);
    const Tensor<double> g_plain = grad(loss(plain), x, /*create_graph=*/true);
    CHECK(xt::allclose(g_fused.value(), g_plain.value(), 1e-12, 1e-14));
    CHECK(xt::allclose(grad(sum(g_fused * g_fused), x).value(),
                       grad(sum(g_plain * g_plain), x).value(), 1e-10, 1e-12));
}

TEST_CASE("LSTM: state_dict with PyTorch's names round-trips through .npz") {
    manual_seed(9);
    nn::LSTM<double> a(nn::LSTMOptions(3, 4).num_layers(2));
    nn::LSTM<double> b(nn::LSTMOptions(3, 4).num_layers(2));
    const std::string path = "xgrad_test_lstm_state.npz";
    a.save(path);
    b.load(path);
    std::remove(path.c_str());
    const Tensor<double> x = randn<double>({5, 2, 3});
    CHECK(xt::allclose(a(x).value(), b(x).value(), 0, 0));
    CHECK(a.state_dict().count("weight_hh_l1") == 1);
}

TEST_CASE("LSTM, GRU: wrong input size, state shape and lengths name the layer and the shapes") {
    nn::LSTM<double> lstm(nn::LSTMOptions(3, 4));
    CHECK_THROWS_WITH_AS(lstm(zeros<double>({5, 2, 2})),
                         "lstm: expected x [t, b, 3]; got x=[5, 2, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(
        lstm({zeros<double>({5, 2, 3}), zeros<double>({2, 2, 4}), zeros<double>({1, 2, 4})}),
        "lstm: expected h0 [1, 2, 4]; got h0=[2, 2, 4]", ShapeError);
    CHECK_THROWS_WITH_AS(lstm.forward(zeros<double>({5, 2, 3}), {6, 2}),
                         "lstm: expected one length in [1, 5] per sequence (2); got lengths=[6, 2] "
                         "for x=[5, 2, 3]",
                         ShapeError);
    nn::GRU<double> gru(nn::GRUOptions(3, 4).batch_first(true));
    CHECK_THROWS_WITH_AS(gru(zeros<double>({2, 5})),
                         "gru: expected x [b, t, 3] (batch_first); got x=[2, 5]", ShapeError);
    CHECK_THROWS_WITH_AS(
        nn::LSTM<double>(nn::LSTMOptions(3, 4).nonlinearity(nn::Nonlinearity::relu)),
        "lstm: nonlinearity is an option of RNN and RNNCell only", ValueError);
    CHECK_THROWS_AS(nn::GRU<double>(nn::GRUOptions(3, 0)), ValueError);
    nn::LSTMCell<double> cell(nn::RNNCellOptions(3, 4));
    CHECK_THROWS_WITH_AS(
        cell({zeros<double>({2, 3}), zeros<double>({2, 5}), zeros<double>({2, 4})}),
        "lstm_cell: expected h [2, 4]; got h=[2, 5]", ShapeError);
}

TEST_CASE("LSTM: clip_grad_norm scales every recurrent gradient to the norm asked for") {
    manual_seed(10);
    nn::LSTM<double> lstm(nn::LSTMOptions(3, 4).num_layers(2));
    sum(lstm(randn<double>({6, 2, 3}, 0.0, 10.0))).backward();
    const double before = optim::clip_grad_norm(lstm.parameters(), 0.5);
    CHECK(before > 0.5);
    double total = 0;
    for (const auto& p : lstm.parameters())
        total += xt::sum(xt::square(p.grad().value()))();
    CHECK(std::sqrt(total) == doctest::Approx(0.5).epsilon(1e-6));
}

TEST_CASE("LSTM: truncated backpropagation through time with the state detached between chunks") {
    manual_seed(11);
    nn::LSTM<double> lstm(nn::LSTMOptions(2, 3));
    const Tensor<double> x = randn<double>({8, 1, 2});
    Tensor<double> h = zeros<double>({1, 1, 3}), c = zeros<double>({1, 1, 3});
    for (std::ptrdiff_t start = 0; start < 8; start += 4) {
        lstm.zero_grad();
        const auto ys = lstm({narrow(x, 0, start, 4), h, c});
        sum(ys[0]).backward();
        h = ys[1].detach();  // the next chunk starts from this state, without its history
        c = ys[2].detach();
        CHECK(!h.requires_grad());
    }
    // The chunked forward carries the state: the last chunk's h_n is the full sequence's.
    const auto full = lstm({x});
    CHECK(xt::allclose(full[1].value(), h.value(), 1e-12, 1e-12));
}
