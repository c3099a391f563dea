#include "nn/rnn.hpp"

#include "autograd/ops/dropout.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/index.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/recurrent.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/shape.hpp"
#include "nn/init.hpp"

#include <fmt/format.h>

#include <cmath>

namespace xgrad::nn {
namespace {

RecurrentMode rnn_mode(Nonlinearity nonlinearity) {
    return nonlinearity == Nonlinearity::relu ? RecurrentMode::rnn_relu : RecurrentMode::rnn_tanh;
}

std::size_t gate_count(RecurrentMode mode) {
    return mode == RecurrentMode::lstm ? 4 : mode == RecurrentMode::gru ? 3 : 1;
}

// PyTorch's init of every recurrent weight and bias: U(−1/√H, 1/√H).
template <class T>
Tensor<T> uniform_parameter(const Shape& shape, std::size_t hidden) {
    Tensor<T> t = zeros<T>(shape);
    const T bound = T(1) / std::sqrt(static_cast<T>(hidden));
    init::uniform_(t, -bound, bound);
    return t;
}

// One step of a plain RNN layer on precomputed input products xw = x·W_ihᵀ + b_ih + b_hh (LSTM and
// GRU layers run a direction as one op: Note [recurrent layers on the tape]).
template <class T>
Tensor<T> rnn_step(RecurrentMode mode, const Tensor<T>& xw, const Tensor<T>& h,
                   const Tensor<T>& weight_hh) {
    const Tensor<T> a = add(xw, linear(h, weight_hh));
    return mode == RecurrentMode::rnn_relu ? relu(a) : tanh(a);
}

// x·W_ihᵀ plus the biases that add to it: b_ih + b_hh, except for the GRU, which keeps b_hh
// inside r ⊙ (W_hn·h + b_hn): [..., G·H].
template <class T>
Tensor<T> input_products(RecurrentMode mode, const Tensor<T>& x, const Tensor<T>& weight_ih,
                         const Tensor<T>& bias_ih, const Tensor<T>& bias_hh) {
    if (!bias_ih.defined()) return linear(x, weight_ih);
    return linear(x, weight_ih, mode == RecurrentMode::gru ? bias_ih : add(bias_ih, bias_hh));
}

void check_sizes(const char* name, RecurrentMode mode, std::size_t input, std::size_t hidden) {
    if (input == 0 || hidden == 0) {
        throw ValueError(
            fmt::format("{}: input_size and hidden_size must be >= 1; got "
                        "input_size={}, hidden_size={}",
                        name, input, hidden));
    }
    check_size(name, "input_size", input);  // Note [size limit]
    check_size(name, "hidden_size", hidden);
    const std::size_t gh = gate_count(mode) * hidden;
    checked_numel(name, "weight_ih", {gh, input});
    checked_numel(name, "weight_hh", {gh, hidden});
}

void check_mode(const char* name, RecurrentMode mode, Nonlinearity nonlinearity) {
    if (mode != RecurrentMode::rnn_tanh && mode != RecurrentMode::rnn_relu &&
        nonlinearity != Nonlinearity::tanh) {
        throw ValueError(
            fmt::format("{}: nonlinearity is an option of RNN and RNNCell only", name));
    }
}

template <class T>
void check_state(const char* name, const char* what, const Tensor<T>& s, const Shape& expected) {
    if (s.shape() != expected) {
        throw ShapeError(fmt::format("{}: expected {} {}; got {}={}", name, what,
                                     shape_str(expected), what, shape_str(s.shape())));
    }
}

}  // namespace

// ---- cells ----

template <class T>
RNNCellBase<T>::RNNCellBase(const char* name, RecurrentMode mode, const RNNCellOptions& options)
    : name_(name), mode_(mode), options_(options) {
    check_sizes(name, mode, options.input_size(), options.hidden_size());
    check_mode(name, mode, options.nonlinearity());
    const std::size_t h = options.hidden_size(), gh = gate_count(mode) * h;
    weight_ih_ =
        this->register_parameter("weight_ih", uniform_parameter<T>({gh, options.input_size()}, h));
    weight_hh_ = this->register_parameter("weight_hh", uniform_parameter<T>({gh, h}, h));
    if (options.bias()) {
        bias_ih_ = this->register_parameter("bias_ih", uniform_parameter<T>({gh}, h));
        bias_hh_ = this->register_parameter("bias_hh", uniform_parameter<T>({gh}, h));
    }
}

template <class T>
Tensor<T> RNNCellBase<T>::forward(const Tensor<T>& x) {
    return forward_list({x})[0];
}

template <class T>
std::vector<Tensor<T>> RNNCellBase<T>::forward_list(const std::vector<Tensor<T>>& inputs) {
    const bool lstm = mode_ == RecurrentMode::lstm;
    const std::size_t states = lstm ? 2 : 1;
    if (inputs.size() != 1 && inputs.size() != 1 + states) {
        throw Error(fmt::format("{}: expected {{x}} or {}; got {} tensors", name_,
                                lstm ? "{x, h, c}" : "{x, h}", inputs.size()));
    }
    const Tensor<T>& x = inputs[0];
    if (x.dim() != 2 || x.shape()[1] != options_.input_size()) {
        throw ShapeError(fmt::format("{}: expected x [b, {}]; got x={}", name_,
                                     options_.input_size(), shape_str(x.shape())));
    }
    const Shape state_shape{x.shape()[0], options_.hidden_size()};
    const Tensor<T> h = inputs.size() > 1 ? inputs[1] : zeros<T>(state_shape);
    const Tensor<T> c = inputs.size() > 2 ? inputs[2] : zeros<T>(state_shape);
    check_state(name_, "h", h, state_shape);
    if (lstm) check_state(name_, "c", c, state_shape);
    // A cell's biases stay apart (b_ih on x's product, b_hh on h's), as PyTorch's cells add them.
    const Tensor<T> xw =
        bias_ih_.defined() ? linear(x, weight_ih_, bias_ih_) : linear(x, weight_ih_);
    if (mode_ == RecurrentMode::gru) return {gru_gates(xw, linear(h, weight_hh_, bias_hh_), h)};
    const Tensor<T> hw =
        bias_hh_.defined() ? linear(h, weight_hh_, bias_hh_) : linear(h, weight_hh_);
    switch (mode_) {
        case RecurrentMode::lstm:
            return lstm_gates(add(xw, hw), c);
        case RecurrentMode::rnn_relu:
            return {relu(add(xw, hw))};
        default:
            return {tanh(add(xw, hw))};
    }
}

template <class T>
std::string RNNCellBase<T>::extra_repr() const {
    std::string s = fmt::format("input_size={}, hidden_size={}, bias={}", options_.input_size(),
                                options_.hidden_size(), options_.bias());
    if (mode_ == RecurrentMode::rnn_relu) s += ", nonlinearity=relu";
    return s;
}

template <class T>
RNNCell<T>::RNNCell(const RNNCellOptions& options)
    : RNNCellBase<T>("rnn_cell", rnn_mode(options.nonlinearity()), options) {}

template <class T>
LSTMCell<T>::LSTMCell(const RNNCellOptions& options)
    : RNNCellBase<T>("lstm_cell", RecurrentMode::lstm, options) {}

template <class T>
GRUCell<T>::GRUCell(const RNNCellOptions& options)
    : RNNCellBase<T>("gru_cell", RecurrentMode::gru, options) {}

// ---- sequence layers ----

template <class T>
RNNBase<T>::RNNBase(const char* name, RecurrentMode mode, const RNNOptions& options)
    : name_(name), mode_(mode), options_(options) {
    check_sizes(name, mode, options.input_size(), options.hidden_size());
    check_mode(name, mode, options.nonlinearity());
    if (options.num_layers() == 0 || !(options.dropout() >= 0 && options.dropout() < 1)) {
        throw ValueError(
            fmt::format("{}: expected num_layers >= 1 and dropout in [0, 1); got "
                        "num_layers={}, dropout={}",
                        name, options.num_layers(), options.dropout()));
    }
    check_size(name, "num_layers", options.num_layers());  // Note [size limit]
    const std::size_t h = options.hidden_size(), gh = gate_count(mode) * h;
    const std::size_t dirs = options.bidirectional() ? 2 : 1;
    if (options.num_layers() > 1) checked_numel(name, "weight_ih", {gh, dirs * h});
    for (std::size_t layer = 0; layer < options.num_layers(); ++layer) {
        const std::size_t in = layer == 0 ? options.input_size() : dirs * h;
        for (std::size_t d = 0; d < dirs; ++d) {
            const std::string suffix = fmt::format("_l{}{}", layer, d == 1 ? "_reverse" : "");
            Direction w;
            w.weight_ih =
                this->register_parameter("weight_ih" + suffix, uniform_parameter<T>({gh, in}, h));
            w.weight_hh =
                this->register_parameter("weight_hh" + suffix, uniform_parameter<T>({gh, h}, h));
            if (options.bias()) {
                w.bias_ih =
                    this->register_parameter("bias_ih" + suffix, uniform_parameter<T>({gh}, h));
                w.bias_hh =
                    this->register_parameter("bias_hh" + suffix, uniform_parameter<T>({gh}, h));
            }
            directions_.push_back(std::move(w));
        }
    }
}

template <class T>
Tensor<T> RNNBase<T>::forward(const Tensor<T>& x) {
    return run(x, {}, nullptr)[0];
}

template <class T>
std::vector<Tensor<T>> RNNBase<T>::forward_list(const std::vector<Tensor<T>>& inputs) {
    const std::size_t states = mode_ == RecurrentMode::lstm ? 2 : 1;
    if (inputs.size() != 1 && inputs.size() != 1 + states) {
        throw Error(fmt::format("{}: expected {{x}} or {}; got {} tensors", name_,
                                states == 2 ? "{x, h0, c0}" : "{x, h0}", inputs.size()));
    }
    return run(inputs[0], std::vector<Tensor<T>>(inputs.begin() + 1, inputs.end()), nullptr);
}

template <class T>
std::vector<Tensor<T>> RNNBase<T>::forward(const Tensor<T>& x,
                                           const std::vector<std::size_t>& lengths,
                                           const std::vector<Tensor<T>>& initial) {
    const std::size_t states = mode_ == RecurrentMode::lstm ? 2 : 1;
    if (!initial.empty() && initial.size() != states) {
        throw Error(fmt::format("{}: expected initial states {{}} or {}; got {} tensors", name_,
                                states == 2 ? "{h0, c0}" : "{h0}", initial.size()));
    }
    return run(x, initial, &lengths);
}

// Note [recurrent layers on the tape]
// A layer runs each direction as the cells would, so backpropagation through time is the
// ordinary backward over the recorded steps. What is not per step is done once: the input
// products of every step are one linear over the whole sequence ([T·B, I] · W_ihᵀ, one gemm).
// An LSTM or GRU direction is then one op, lstm_sequence or gru_sequence (Note [fused recurrent
// sequences]: the steps' recurrent gemms and gate rows in one forward, and a backward that
// computes ∂L/∂W_hh in one gemm). RNN directions are recorded step by step: the products are
// split into the T steps by one unbind (one op with T outputs, whose VJP stacks their gradients
// in one pass); a step is one linear for h·W_hhᵀ, one add and tanh or relu; the outputs are
// stacked once at the end. With `lengths`, a step of a sequence that has ended keeps its state
// (where(mask, new, old)) and outputs zero, so it passes no gradient to its input and the reverse
// direction starts from h0 at the sequence's last step; the sequence ops do the same row by row.
template <class T>
std::vector<Tensor<T>> RNNBase<T>::run(const Tensor<T>& x_in, const std::vector<Tensor<T>>& initial,
                                       const std::vector<std::size_t>* lengths) {
    const std::size_t hidden = options_.hidden_size(), dirs = options_.bidirectional() ? 2 : 1;
    const std::size_t layers = options_.num_layers();
    const bool lstm = mode_ == RecurrentMode::lstm, batch_first = options_.batch_first();
    const bool fused = lstm || mode_ == RecurrentMode::gru;  // one op per direction
    if (x_in.dim() != 3 || x_in.shape()[2] != options_.input_size()) {
        throw ShapeError(
            fmt::format("{}: expected x {}; got x={}", name_,
                        batch_first ? fmt::format("[b, t, {}] (batch_first)", options_.input_size())
                                    : fmt::format("[t, b, {}]", options_.input_size()),
                        shape_str(x_in.shape())));
    }
    const Tensor<T> x = batch_first ? permute(x_in, {1, 0, 2}) : x_in;  // [T, B, I]
    const std::size_t steps = x.shape()[0], batch = x.shape()[1];
    const Shape state_shape{layers * dirs, batch, hidden};
    std::vector<Tensor<T>> h0, c0;  // per layer and direction, [B, H]
    if (!initial.empty()) {
        check_state(name_, "h0", initial[0], state_shape);
        h0 = unbind(initial[0], 0);
        if (lstm) {
            check_state(name_, "c0", initial[1], state_shape);
            c0 = unbind(initial[1], 0);
        }
    }
    // Masks of the steps that count, [B, 1] each, when the sequences have lengths.
    std::vector<Tensor<T>> mask;
    if (lengths) {
        bool ok = lengths->size() == batch;
        for (const std::size_t n : *lengths)
            ok = ok && n >= 1 && n <= steps;
        if (!ok) {
            throw ShapeError(fmt::format(
                "{}: expected one length in [1, {}] per sequence ({}); "
                "got lengths=[{}] for x={}",
                name_, steps, batch, fmt::join(*lengths, ", "), shape_str(x_in.shape())));
        }
        for (std::size_t t = 0; t < steps && !fused; ++t) {  // the sequence ops take lengths
            xt::xarray<T> m = xt::xarray<T>::from_shape({batch, 1});
            for (std::size_t b = 0; b < batch; ++b)
                m(b, 0) = t < (*lengths)[b] ? T(1) : T(0);
            mask.emplace_back(std::move(m));
        }
    }
    const Tensor<T> zero_state = zeros<T>({batch, hidden});
    std::vector<Tensor<T>> h_n, c_n;
    Tensor<T> layer_input = x;
    for (std::size_t layer = 0; layer < layers; ++layer) {
        std::vector<Tensor<T>> outputs;  // one [T, B, H] per direction
        for (std::size_t d = 0; d < dirs; ++d) {
            const std::size_t k = layer * dirs + d;
            const Direction& w = directions_[k];
            // Note [recurrent layers on the tape]
            const Tensor<T> products =
                input_products(mode_, layer_input, w.weight_ih, w.bias_ih, w.bias_hh);
            Tensor<T> h = h0.empty() ? zero_state : h0[k];
            Tensor<T> c = lstm ? (c0.empty() ? zero_state : c0[k]) : Tensor<T>();
            if (fused) {  // the whole direction in one op (Note [fused recurrent sequences])
                const std::vector<std::size_t> rows =
                    lengths ? *lengths : std::vector<std::size_t>{};
                const std::vector<Tensor<T>> r =
                    lstm ? lstm_sequence(products, h, c, w.weight_hh, d == 1, rows)
                         : gru_sequence(products, h, w.weight_hh, w.bias_hh, d == 1, rows);
                outputs.push_back(r[0]);
                h_n.push_back(r[1]);
                if (lstm) c_n.push_back(r[2]);
                continue;
            }
            const std::vector<Tensor<T>> xw = unbind(products, 0);
            std::vector<Tensor<T>> ys(steps);
            for (std::size_t i = 0; i < steps; ++i) {
                const std::size_t t = d == 0 ? i : steps - 1 - i;
                const Tensor<T> next = rnn_step(mode_, xw[t], h, w.weight_hh);
                if (mask.empty()) {
                    h = next;
                    ys[t] = h;
                } else {
                    h = where(mask[t], next, h);
                    ys[t] = mul(next, mask[t]);
                }
            }
            outputs.push_back(stack(ys, 0));
            h_n.push_back(h);
        }
        layer_input = dirs == 2 ? concat(outputs, 2) : outputs[0];  // [T, B, D·H]
        if (layer + 1 < layers && options_.dropout() > 0 && this->is_training()) {
            layer_input = dropout(layer_input, static_cast<T>(options_.dropout()));
        }
    }
    const Tensor<T> output = batch_first ? permute(layer_input, {1, 0, 2}) : layer_input;
    std::vector<Tensor<T>> result{output, stack(h_n, 0)};
    if (lstm) result.push_back(stack(c_n, 0));
    return result;
}

template <class T>
std::string RNNBase<T>::extra_repr() const {
    std::string s =
        fmt::format("input_size={}, hidden_size={}", options_.input_size(), options_.hidden_size());
    if (options_.num_layers() != 1) s += fmt::format(", num_layers={}", options_.num_layers());
    if (!options_.bias()) s += ", bias=false";
    if (options_.batch_first()) s += ", batch_first=true";
    if (options_.dropout() != 0) s += fmt::format(", dropout={}", options_.dropout());
    if (options_.bidirectional()) s += ", bidirectional=true";
    if (mode_ == RecurrentMode::rnn_relu) s += ", nonlinearity=relu";
    return s;
}

template <class T>
RNN<T>::RNN(const RNNOptions& options)
    : RNNBase<T>("rnn", rnn_mode(options.nonlinearity()), options) {}

template <class T>
LSTM<T>::LSTM(const RNNOptions& options) : RNNBase<T>("lstm", RecurrentMode::lstm, options) {}

template <class T>
GRU<T>::GRU(const RNNOptions& options) : RNNBase<T>("gru", RecurrentMode::gru, options) {}

#define XGRAD_INSTANTIATE(T)       \
    template class RNNCellBase<T>; \
    template class RNNCell<T>;     \
    template class LSTMCell<T>;    \
    template class GRUCell<T>;     \
    template class RNNBase<T>;     \
    template class RNN<T>;         \
    template class LSTM<T>;        \
    template class GRU<T>;
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn
