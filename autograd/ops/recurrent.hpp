#pragma once

// The pointwise halves of the LSTM and GRU steps, each one fused op (Note [fused recurrent
// steps]): what follows the matrix products of a step; and the LSTM's and GRU's whole recurrence
// over a sequence as one op each (Note [fused recurrent sequences]). The layers of nn/rnn.hpp build
// on these and linear (docs/recurrent.md).

#include "autograd/tape.hpp"

#include <vector>

namespace xgrad {

/// The LSTM step after its products, PyTorch's gate order i, f, g, o: with a = gates [b, 4h]
/// (x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) split into four [b, h] blocks,
///   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o),
///   c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c').
/// gates [b, 4h], c [b, h] → {h' [b, h], c' [b, h]}: one op with two outputs. ShapeError names
/// both shapes when they do not fit.
template <class T>
std::vector<Tensor<T>> lstm_gates(const Tensor<T>& gates, const Tensor<T>& c);

/// The whole LSTM recurrence of one direction as one op (Note [fused recurrent sequences]), on
/// the input products xw = x·W_ihᵀ + b_ih + b_hh [T, b, 4h] of every step: each step t (in
/// order, or from T − 1 down with `reverse`) computes gates = xw_t + h·W_hhᵀ and then
/// lstm_gates. Returns {y [T, b, h] (every step's h'), h_n [b, h], c_n [b, h]}. With `lengths`
/// (one per row, each ≤ T), a row at a step t ≥ its length keeps its state and outputs zero.
/// ShapeError names every shape when they do not fit, and the lengths when they do not.
template <class T>
std::vector<Tensor<T>> lstm_sequence(const Tensor<T>& xw, const Tensor<T>& h0, const Tensor<T>& c0,
                                     const Tensor<T>& weight_hh, bool reverse = false,
                                     const std::vector<std::size_t>& lengths = {});

/// The GRU's recurrence of one direction as one op, as lstm_sequence: on xw = x·W_ihᵀ + b_ih
/// [T, b, 3h], each step computes gh = h·W_hhᵀ + b_hh and then gru_gates. bias_hh [3h] may be
/// undefined (no bias). Returns {y [T, b, h], h_n [b, h]}; `reverse` and `lengths` as for
/// lstm_sequence.
template <class T>
std::vector<Tensor<T>> gru_sequence(const Tensor<T>& xw, const Tensor<T>& h0,
                                    const Tensor<T>& weight_hh, const Tensor<T>& bias_hh,
                                    bool reverse = false,
                                    const std::vector<std::size_t>& lengths = {});

/// The GRU step after its products, PyTorch's gate order r, z, n: with gi = x·W_irzᵀ + b_i
/// [b, 3h] and gh = h·W_hᵀ + b_h [b, 3h] each split into r, z, n blocks,
///   r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n),
///   h' = (1 − z) ⊙ n + z ⊙ h.
/// gi [b, 3h], gh [b, 3h], h [b, h] → h' [b, h]. ShapeError names every shape when they do not
/// fit.
template <class T>
Tensor<T> gru_gates(const Tensor<T>& gi, const Tensor<T>& gh, const Tensor<T>& h);

}  // namespace xgrad
