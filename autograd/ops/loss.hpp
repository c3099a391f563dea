#pragma once

// The fused loss ops: a loss whose forward and VJP are one op for speed and stability. The
// losses users call (nn/loss.hpp) compose these and the other ops.

#include "autograd/ops/index.hpp"
#include "autograd/tape.hpp"

namespace xgrad {

/// How a loss reduces its per-element (or per-example) values: their mean (the default), their
/// sum, or none (the values themselves).
enum class Reduction { mean, sum, none };

/// Cross-entropy of class indices given logits (PyTorch's cross_entropy, Keras' sparse categorical
/// cross-entropy from logits): per example lse_i − z[i, label_i] with lse_i = log Σ_j e^z[i, j],
/// max-shifted so any finite logits give a finite loss; then the reduction (mean over the n
/// examples, sum, or the [n] losses). logits [n, classes], labels [n] in [0, classes) → [] or [n].
/// ShapeError for other shapes, ValueError naming the first label out of range. One op on the
/// tape; see Note [fused cross-entropy].
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Index& labels,
                        Reduction reduction = Reduction::mean);

/// Checks scores [n, classes] against labels [n] in [0, classes): ShapeError naming `op` and both
/// shapes, ValueError naming the first label out of range and its position.
template <class T>
void check_class_labels(const char* op, const Tensor<T>& scores, const Index& labels);

}  // namespace xgrad
