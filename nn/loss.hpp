#pragma once

#include "autograd/ops/index.hpp"
#include "autograd/ops/loss.hpp"
#include "autograd/tensor.hpp"

#include <vector>

// Losses: functions composing xgrad ops (so each is differentiable, twice where the ops are).
// Predictions have the batch on axis 0; `reduction` averages over every element (mean, the
// default), sums, or returns the per-element/per-example losses (none).
namespace xgrad::nn {

/// mean, sum or none (autograd/ops/loss.hpp).
using Reduction = xgrad::Reduction;

/// Mean squared error: (pred − target)²; shapes must match.
template <class T>
Tensor<T> mse_loss(const Tensor<T>& pred, const Tensor<T>& target,
                   Reduction reduction = Reduction::mean);

/// Binary cross-entropy on probabilities p ∈ [0, 1]: −(y·log p + (1 − y)·log(1 − p)); p is clipped
/// to [1e-7, 1 − 1e-7] as Keras does, so p = 0 or 1 gives a large finite loss, not inf.
template <class T>
Tensor<T> binary_cross_entropy(const Tensor<T>& prob, const Tensor<T>& target,
                               Reduction reduction = Reduction::mean);

/// Binary cross-entropy on logits z: softplus(z) − y·z, stable for any z (PyTorch's
/// BCEWithLogitsLoss, Keras' from_logits=True).
template <class T>
Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& logits, const Tensor<T>& target,
                                           Reduction reduction = Reduction::mean);

/// Categorical cross-entropy with one-hot or probability targets [n, classes]:
/// −Σ_c t_c·log p_c per example. from_logits (default) applies log_softmax; otherwise `input` holds
/// probabilities (clipped to [1e-7, 1]). Mean over examples.
template <class T>
Tensor<T> categorical_cross_entropy(const Tensor<T>& input, const Tensor<T>& target,
                                    bool from_logits = true, Reduction reduction = Reduction::mean);

/// Sparse categorical cross-entropy with class indices: logits [n, classes], labels [n] in
/// [0, classes) (ValueError naming the first bad label otherwise). PyTorch's cross_entropy: it runs
/// xgrad::cross_entropy, one op on the tape.
template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Index& labels,
                                           Reduction reduction = Reduction::mean);
/// The same with labels held in a tensor of whole numbers (as a DataLoader batch gives them).
template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Tensor<T>& labels,
                                           Reduction reduction = Reduction::mean);

/// Negative log-likelihood of class indices given log-probabilities [n, classes].
template <class T>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Index& labels,
                   Reduction reduction = Reduction::mean);

/// Labels held as whole numbers in a tensor → Index (ValueError for a non-integer value, its
/// message beginning with `op`: the function the user called).
template <class T>
Index to_index(const Tensor<T>& labels, const char* op = "to_index");

}  // namespace xgrad::nn
