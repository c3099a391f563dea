// PyTorch's own outputs and gradients (tests/data/rnn, made by scripts/make-rnn-fixtures.py):
// each file's state_dict loads into the xgrad layer under PyTorch's names, and the outputs, final
// states and the gradients of L = Σ output·g_output + Σ h_n·g_h_n (+ Σ c_n·g_c_n) with respect to
// x, the initial states and every parameter agree to 1e-10.

#include "nn/rnn.hpp"

#include "autograd/io.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace xgrad;
using Arrays = std::map<std::string, xt::xarray<double>>;

namespace {

// Every key of `file` that names a parameter of `m`, as its state_dict.
Arrays parameters_of(const nn::Module<double>& m, const Arrays& file) {
    Arrays state;
    for (const auto& [name, p] : m.named_parameters())
        state[name] = file.at(name);
    return state;
}

void check_close(const char* what, const xt::xarray<double>& got, const xt::xarray<double>& want) {
    INFO(what);
    REQUIRE(got.shape() == want.shape());
    CHECK(xt::allclose(got, want, 1e-10, 1e-12));
}

// Loads `name`.npz into `layer`, runs it as PyTorch did and compares everything the file holds.
void check_layer(nn::RNNBase<double>& layer, const std::string& name, bool lstm) {
    INFO("fixture: ", name);
    const Arrays f = load_npz<double>(testing::data_path("rnn/" + name + ".npz"));
    layer.load_state_dict(parameters_of(layer, f));
    const Tensor<double> x(f.at("x"), true), h0(f.at("h0"), true);
    const Tensor<double> c0 = lstm ? Tensor<double>(f.at("c0"), true) : Tensor<double>();
    const bool initial = f.count("grad_h0") > 0;  // lstm_no_initial_state was called as lstm(x)
    std::vector<Tensor<double>> states;
    if (initial) states = lstm ? std::vector<Tensor<double>>{h0, c0} : std::vector{h0};
    std::vector<Tensor<double>> ys;
    if (f.count("lengths")) {
        std::vector<std::size_t> lengths;
        for (double v : f.at("lengths"))
            lengths.push_back(static_cast<std::size_t>(v));
        ys = layer.forward(x, lengths, states);
    } else {
        std::vector<Tensor<double>> in{x};
        in.insert(in.end(), states.begin(), states.end());
        ys = layer(in);
    }
    check_close("output", ys[0].value(), f.at("output"));
    check_close("h_n", ys[1].value(), f.at("h_n"));
    Tensor<double> loss = add(sum(mul(ys[0], Tensor<double>(f.at("g_output")))),
                              sum(mul(ys[1], Tensor<double>(f.at("g_h_n")))));
    if (lstm) {
        check_close("c_n", ys[2].value(), f.at("c_n"));
        loss = add(loss, sum(mul(ys[2], Tensor<double>(f.at("g_c_n")))));
    }
    loss.backward();
    check_close("grad_x", x.grad().value(), f.at("grad_x"));
    if (initial) check_close("grad_h0", h0.grad().value(), f.at("grad_h0"));
    if (initial && lstm) check_close("grad_c0", c0.grad().value(), f.at("grad_c0"));
    for (const auto& [pname, p] : layer.named_parameters()) {
        check_close(("grad_" + pname).c_str(), p.grad().value(), f.at("grad_" + pname));
    }
}

void check_cell(nn::RNNCellBase<double>& cell, const std::string& name, bool lstm) {
    INFO("fixture: ", name);
    const Arrays f = load_npz<double>(testing::data_path("rnn/" + name + ".npz"));
    cell.load_state_dict(parameters_of(cell, f));
    const Tensor<double> x(f.at("x"), true), h0(f.at("h0"), true);
    const Tensor<double> c0 = lstm ? Tensor<double>(f.at("c0"), true) : Tensor<double>();
    const auto ys = cell(lstm ? std::vector<Tensor<double>>{x, h0, c0} : std::vector{x, h0});
    check_close("h1", ys[0].value(), f.at("h1"));
    Tensor<double> loss = sum(mul(ys[0], Tensor<double>(f.at("g_h1"))));
    if (lstm) {
        check_close("c1", ys[1].value(), f.at("c1"));
        loss = add(loss, sum(mul(ys[1], Tensor<double>(f.at("g_c1")))));
    }
    loss.backward();
    check_close("grad_x", x.grad().value(), f.at("grad_x"));
    check_close("grad_h0", h0.grad().value(), f.at("grad_h0"));
    if (lstm) check_close("grad_c0", c0.grad().value(), f.at("grad_c0"));
    for (const auto& [pname, p] : cell.named_parameters()) {
        check_close(("grad_" + pname).c_str(), p.grad().value(), f.at("grad_" + pname));
    }
}

}  // namespace

TEST_CASE("RNN: PyTorch's outputs and gradients, tanh and relu, 2 layers bidirectional, lengths") {
    nn::RNN<double> tanh_rnn(nn::RNNOptions(3, 4));
    check_layer(tanh_rnn, "rnn_tanh", false);
    nn::RNN<double> relu_rnn(nn::RNNOptions(3, 4).nonlinearity(nn::Nonlinearity::relu));
    check_layer(relu_rnn, "rnn_relu", false);
    nn::RNN<double> deep(nn::RNNOptions(3, 4).num_layers(2).bidirectional(true));
    check_layer(deep, "rnn_tanh_2layer_bidirectional", false);
    nn::RNN<double> padded(nn::RNNOptions(3, 4));
    check_layer(padded, "rnn_tanh_lengths", false);
}

TEST_CASE("LSTM: PyTorch's outputs and gradients in every configuration of the fixtures") {
    const auto o = [] { return nn::LSTMOptions(3, 4); };
    const std::vector<std::pair<std::string, nn::LSTMOptions>> cases{
        {"lstm", o()},
        {"lstm_2layer", o().num_layers(2)},
        {"lstm_bidirectional", o().bidirectional(true)},
        {"lstm_2layer_bidirectional_batch_first",
         o().num_layers(2).bidirectional(true).batch_first(true)},
        {"lstm_no_bias", o().bias(false)},
        {"lstm_no_initial_state", o()},
        {"lstm_lengths", o()},
        {"lstm_2layer_bidirectional_batch_first_lengths",
         o().num_layers(2).bidirectional(true).batch_first(true)},
    };
    for (const auto& [name, options] : cases) {
        nn::LSTM<double> lstm(options);
        check_layer(lstm, name, true);
    }
}

TEST_CASE("GRU: PyTorch's outputs and gradients, 2 layers bidirectional, lengths") {
    nn::GRU<double> gru(nn::GRUOptions(3, 4));
    check_layer(gru, "gru", false);
    nn::GRU<double> deep(nn::GRUOptions(3, 4).num_layers(2).bidirectional(true));
    check_layer(deep, "gru_2layer_bidirectional", false);
    nn::GRU<double> padded(nn::GRUOptions(3, 4).bidirectional(true));
    check_layer(padded, "gru_bidirectional_lengths", false);
}

TEST_CASE("RNNCell, LSTMCell, GRUCell: PyTorch's outputs and gradients") {
    nn::RNNCell<double> tanh_cell(nn::RNNCellOptions(3, 4));
    check_cell(tanh_cell, "rnn_cell_tanh", false);
    nn::RNNCell<double> relu_cell(nn::RNNCellOptions(3, 4).nonlinearity(nn::Nonlinearity::relu));
    check_cell(relu_cell, "rnn_cell_relu", false);
    nn::LSTMCell<double> lstm_cell(nn::RNNCellOptions(3, 4));
    check_cell(lstm_cell, "lstm_cell", true);
    nn::GRUCell<double> gru_cell(nn::RNNCellOptions(3, 4));
    check_cell(gru_cell, "gru_cell", false);
}
