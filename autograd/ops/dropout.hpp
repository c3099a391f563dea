#pragma once

// Dropout as functions of the graph: y = x ⊙ m with a random mask m that is a constant of the
// graph (so the gradient is g ⊙ m and the second derivative is zero). Masks are drawn from
// xgrad::generator(), so manual_seed makes them reproducible.

#include "autograd/tape.hpp"

namespace xgrad {

/// Inverted dropout (PyTorch's dropout): in training each element of x (any shape) is zeroed
/// with probability p and the survivors scaled by 1/(1 − p), so evaluation, where it is the
/// identity (x itself is returned), needs no rescaling. p in [0, 1) (ValueError).
template <class T>
Tensor<T> dropout(const Tensor<T>& x, T p = T(0.5), bool training = true);

/// Channel dropout (PyTorch's dropout2d, Keras' SpatialDropout2D): in training each channel of
/// each sample of x [n, c, h, w] is zeroed with probability p, the survivors scaled by
/// 1/(1 − p); the identity otherwise. The mask m [n, c, 1, 1] is drawn in sample-major order.
/// p in [0, 1) (ValueError); other ranks raise ShapeError.
template <class T>
Tensor<T> dropout2d(const Tensor<T>& x, T p = T(0.5), bool training = true);

/// Throws ValueError "`op`: p must be in [0, 1); got p=..." unless 0 <= p < 1 (NaN fails); the
/// dropout layers check their p with it when they are built.
template <class T>
void check_dropout_probability(const char* op, T p);

}  // namespace xgrad
