#pragma once

// Recurrent layers as PyTorch has them: the cells RNNCell, LSTMCell, GRUCell (one step) and the
// sequence layers RNN, LSTM, GRU (layers and directions over a whole sequence), with PyTorch's
// parameter names, shapes, gate orders and initialisation, so a state_dict saved from PyTorch
// through NumPy loads and gives the same outputs. Backpropagation through time is the tape: every
// step is recorded (docs/recurrent.md).

#include "nn/module.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace xgrad::nn {

/// The activation of a plain RNN: h' = tanh(...) (the default) or relu(...).
enum class Nonlinearity { tanh, relu };

/// Options of the cells: `RNNCellOptions(input_size, hidden_size).bias(false)`. Sizes >= 1
/// (ValueError otherwise); bias (default on) adds bias_ih and bias_hh; nonlinearity (RNNCell only,
/// default tanh; LSTMCell and GRUCell reject relu with a ValueError).
class RNNCellOptions {
public:
    RNNCellOptions(std::size_t input_size, std::size_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    RNNCellOptions& bias(bool v) {
        bias_ = v;
        return *this;
    }
    RNNCellOptions& nonlinearity(Nonlinearity v) {
        nonlinearity_ = v;
        return *this;
    }
    std::size_t input_size() const { return input_size_; }
    std::size_t hidden_size() const { return hidden_size_; }
    bool bias() const { return bias_; }
    Nonlinearity nonlinearity() const { return nonlinearity_; }

private:
    std::size_t input_size_, hidden_size_;
    bool bias_ = true;
    Nonlinearity nonlinearity_ = Nonlinearity::tanh;
};

/// Options of the sequence layers, PyTorch's defaults:
/// `RNNOptions(input_size, hidden_size).num_layers(2).bidirectional(true).batch_first(true)`.
/// num_layers >= 1; bias (default on); batch_first (default off: x is [T, B, I]; on: [B, T, I]);
/// dropout in [0, 1) on the outputs of every layer but the last, in training (default 0);
/// bidirectional (default off); nonlinearity (RNN only, default tanh). ValueError otherwise.
class RNNOptions {
public:
    RNNOptions(std::size_t input_size, std::size_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    RNNOptions& num_layers(std::size_t v) {
        num_layers_ = v;
        return *this;
    }
    RNNOptions& bias(bool v) {
        bias_ = v;
        return *this;
    }
    RNNOptions& batch_first(bool v) {
        batch_first_ = v;
        return *this;
    }
    RNNOptions& dropout(double v) {
        dropout_ = v;
        return *this;
    }
    RNNOptions& bidirectional(bool v) {
        bidirectional_ = v;
        return *this;
    }
    RNNOptions& nonlinearity(Nonlinearity v) {
        nonlinearity_ = v;
        return *this;
    }
    std::size_t input_size() const { return input_size_; }
    std::size_t hidden_size() const { return hidden_size_; }
    std::size_t num_layers() const { return num_layers_; }
    bool bias() const { return bias_; }
    bool batch_first() const { return batch_first_; }
    double dropout() const { return dropout_; }
    bool bidirectional() const { return bidirectional_; }
    Nonlinearity nonlinearity() const { return nonlinearity_; }

private:
    std::size_t input_size_, hidden_size_;
    std::size_t num_layers_ = 1;
    bool bias_ = true;
    bool batch_first_ = false;
    double dropout_ = 0;
    bool bidirectional_ = false;
    Nonlinearity nonlinearity_ = Nonlinearity::tanh;
};
using LSTMOptions = RNNOptions;
using GRUOptions = RNNOptions;

/// Which recurrence a cell or layer runs.
enum class RecurrentMode { rnn_tanh, rnn_relu, lstm, gru };

/// One step of a recurrence, the parameters of PyTorch's cells: weight_ih [G·H, I], weight_hh
/// [G·H, H], bias_ih and bias_hh [G·H] (G = 1, 4, 3 gates for RNN, LSTM, GRU, stacked in PyTorch's
/// order), all drawn from U(−1/√H, 1/√H). x is [B, I] and each state [B, H].
template <class T = float>
class RNNCellBase : public Module<T> {
public:
    /// h' from x alone (zero initial state).
    Tensor<T> forward(const Tensor<T>& x) override;
    /// {x} or {x, h} (LSTMCell: {x, h, c}) → {h'} (LSTMCell: {h', c'}).
    std::vector<Tensor<T>> forward_list(const std::vector<Tensor<T>>& inputs) override;
    std::string extra_repr() const override;

    const Tensor<T>& weight_ih() const { return weight_ih_; }
    const Tensor<T>& weight_hh() const { return weight_hh_; }
    const Tensor<T>& bias_ih() const { return bias_ih_; }  ///< undefined without bias
    const Tensor<T>& bias_hh() const { return bias_hh_; }
    const RNNCellOptions& options() const { return options_; }

protected:
    RNNCellBase(const char* name, RecurrentMode mode, const RNNCellOptions& options);

private:
    const char* name_;  // "rnn_cell": begins error messages
    RecurrentMode mode_;
    RNNCellOptions options_;
    Tensor<T> weight_ih_, weight_hh_, bias_ih_, bias_hh_;
};

/// h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu): PyTorch's RNNCell.
template <class T = float>
class RNNCell : public RNNCellBase<T> {
public:
    explicit RNNCell(const RNNCellOptions& options);
    std::string type_name() const override { return "RNNCell"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<RNNCell>(this->options());
    }
};

/// PyTorch's LSTMCell (gates i, f, g, o): forward_list({x, h, c}) → {h', c'}; see lstm_gates.
template <class T = float>
class LSTMCell : public RNNCellBase<T> {
public:
    explicit LSTMCell(const RNNCellOptions& options);
    std::string type_name() const override { return "LSTMCell"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<LSTMCell>(this->options());
    }
};

/// PyTorch's GRUCell (gates r, z, n): forward_list({x, h}) → {h'}; see gru_gates.
template <class T = float>
class GRUCell : public RNNCellBase<T> {
public:
    explicit GRUCell(const RNNCellOptions& options);
    std::string type_name() const override { return "GRUCell"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<GRUCell>(this->options());
    }
};

/// A recurrence over whole sequences: num_layers layers, each in one or two directions, each
/// direction with the parameters of a cell, named as PyTorch names them (weight_ih_l0,
/// weight_hh_l0, bias_ih_l0, bias_hh_l0, then ..._reverse for the backward direction, then
/// layer 1, ...). x is [T, B, I] ([B, T, I] with batch_first); the states are
/// [num_layers · D, B, H] (D = 2 when bidirectional), layer by layer, forward direction first.
template <class T = float>
class RNNBase : public Module<T> {
public:
    /// The output sequence alone: [T, B, D·H] ([B, T, D·H] with batch_first), from zero states.
    Tensor<T> forward(const Tensor<T>& x) override;
    /// {x}, {x, h0} (LSTM: {x, h0, c0}) → {output, h_n} (LSTM: {output, h_n, c_n}).
    std::vector<Tensor<T>> forward_list(const std::vector<Tensor<T>>& inputs) override;
    /// A batch of sequences of different lengths, padded to T: lengths[b] in [1, T] steps of
    /// sequence b count. Padded steps leave the state unchanged, output zeros and receive no
    /// gradient; h_n (and c_n) hold each sequence's state after its last step, the reverse
    /// direction starts at that step (PyTorch's packed sequences). `initial` is {} or {h0}
    /// ({h0, c0} for LSTM). Returns {output, h_n} (LSTM: {output, h_n, c_n}).
    std::vector<Tensor<T>> forward(const Tensor<T>& x, const std::vector<std::size_t>& lengths,
                                   const std::vector<Tensor<T>>& initial = {});
    std::string extra_repr() const override;

    const RNNOptions& options() const { return options_; }

protected:
    RNNBase(const char* name, RecurrentMode mode, const RNNOptions& options);

private:
    struct Direction {
        Tensor<T> weight_ih, weight_hh, bias_ih, bias_hh;
    };
    std::vector<Tensor<T>> run(const Tensor<T>& x, const std::vector<Tensor<T>>& initial,
                               const std::vector<std::size_t>* lengths);

    const char* name_;  // "lstm": begins error messages
    RecurrentMode mode_;
    RNNOptions options_;
    std::vector<Direction> directions_;  // [layer · D + direction]
};

/// Elman RNN (tanh or relu), PyTorch's torch.nn.RNN.
template <class T = float>
class RNN : public RNNBase<T> {
public:
    explicit RNN(const RNNOptions& options);
    std::string type_name() const override { return "RNN"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<RNN>(this->options());
    }
};

/// Long short-term memory, PyTorch's torch.nn.LSTM (gates i, f, g, o).
template <class T = float>
class LSTM : public RNNBase<T> {
public:
    explicit LSTM(const RNNOptions& options);
    std::string type_name() const override { return "LSTM"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<LSTM>(this->options());
    }
};

/// Gated recurrent unit, PyTorch's torch.nn.GRU (gates r, z, n).
template <class T = float>
class GRU : public RNNBase<T> {
public:
    explicit GRU(const RNNOptions& options);
    std::string type_name() const override { return "GRU"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<GRU>(this->options());
    }
};

}  // namespace xgrad::nn
