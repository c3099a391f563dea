#pragma once

#include "autograd/ops/index.hpp"
#include "autograd/ops/loss.hpp"
#include "autograd/tensor.hpp"

#include <vector>

// Losses: functions composing xgrad ops (so each is differentiable, twice where the ops are).
// Predictions have the batch on axis 0; `reduction` averages over every element (mean, the
// default), sums, or returns the per-element/per-example losses (none).
namespace xgrad::nn {

/// mean, sum, none or batchmean (autograd/ops/loss.hpp). batchmean is kl_div's, as in PyTorch:
/// every other loss refuses it with a ValueError.
using Reduction = xgrad::Reduction;
/// weight, ignore_index, label_smoothing, reduction (autograd/ops/loss.hpp).
using CrossEntropyOptions = xgrad::CrossEntropyOptions;

/// Mean squared error: (pred − target)²; shapes must match.
template <class T>
Tensor<T> mse_loss(const Tensor<T>& pred, const Tensor<T>& target,
                   Reduction reduction = Reduction::mean);

/// Mean absolute error: |pred − target|; shapes must match.
template <class T>
Tensor<T> l1_loss(const Tensor<T>& pred, const Tensor<T>& target,
                  Reduction reduction = Reduction::mean);

/// Huber loss with d = pred − target: ½d² where |d| ≤ delta, delta·(|d| − ½delta) elsewhere;
/// shapes must match, delta > 0 (ValueError).
template <class T>
Tensor<T> huber_loss(const Tensor<T>& pred, const Tensor<T>& target,
                     Reduction reduction = Reduction::mean, T delta = T(1));

/// Smooth L1 loss with d = pred − target: ½d²/beta where |d| < beta, |d| − ½beta elsewhere;
/// beta = 0 is l1_loss, beta < 0 a ValueError. huber_loss(delta) = delta·smooth_l1_loss(beta =
/// delta).
template <class T>
Tensor<T> smooth_l1_loss(const Tensor<T>& pred, const Tensor<T>& target,
                         Reduction reduction = Reduction::mean, T beta = T(1));

/// Kullback-Leibler divergence KL(target ‖ input), PyTorch's kl_div: `input` holds
/// log-probabilities log q, `target` probabilities p (or log p when log_target); pointwise p·(log p
/// − log q), 0 where p = 0 (log_target: e^t·(t − input)). Shapes must match. Use
/// Reduction::batchmean for the true KL divergence per example (the sum over classes, averaged over
/// the batch); mean, the default as in PyTorch, averages over every element.
template <class T>
Tensor<T> kl_div(const Tensor<T>& input, const Tensor<T>& target,
                 Reduction reduction = Reduction::mean, bool log_target = false);

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
/// With class weights, ignore_index and label smoothing (CrossEntropyOptions, PyTorch's meanings):
/// `sparse_categorical_cross_entropy(z, y, CrossEntropyOptions().label_smoothing(0.1))`.
template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Index& labels,
                                           const CrossEntropyOptions& options);
template <class T>
Tensor<T> sparse_categorical_cross_entropy(const Tensor<T>& logits, const Tensor<T>& labels,
                                           const CrossEntropyOptions& options);

/// Negative log-likelihood of class indices given log-probabilities [n, classes].
template <class T>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Index& labels,
                   Reduction reduction = Reduction::mean);

/// Labels held as whole numbers in a tensor → Index (ValueError for a non-integer value, its
/// message beginning with `op`: the function the user called).
template <class T>
Index to_index(const Tensor<T>& labels, const char* op = "to_index");

}  // namespace xgrad::nn
