#pragma once

// The pointwise halves of the LSTM and GRU steps, each one fused op (Note [fused recurrent
// steps]): what follows the matrix products of a step. The layers of nn/rnn.hpp build their
// steps from these and linear (docs/recurrent.md).

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

/// The GRU step after its products, PyTorch's gate order r, z, n: with gi = x·W_irzᵀ + b_i
/// [b, 3h] and gh = h·W_hᵀ + b_h [b, 3h] each split into r, z, n blocks,
///   r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n),
///   h' = (1 − z) ⊙ n + z ⊙ h.
/// gi [b, 3h], gh [b, 3h], h [b, h] → h' [b, h]. ShapeError names every shape when they do not
/// fit.
template <class T>
Tensor<T> gru_gates(const Tensor<T>& gi, const Tensor<T>& gh, const Tensor<T>& h);

}  // namespace xgrad
