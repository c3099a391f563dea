#pragma once

// The fused loss ops: a loss whose forward and VJP are one op for speed and stability. The
// losses users call (nn/loss.hpp) compose these and the other ops.

#include "autograd/ops/index.hpp"
#include "autograd/tape.hpp"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace xgrad {

/// How a loss reduces its per-element (or per-example) values: their mean (the default), their
/// sum, none (the values themselves), or batchmean: the sum divided by the batch size (axis 0 of
/// the input; 1 for a 0-d input), kl_div's true mean (PyTorch allows it for kl_div only; the nn
/// losses composed of elementwise ops accept it, cross_entropy does not).
enum class Reduction { mean, sum, none, batchmean };

/// The options of cross_entropy, PyTorch's names and meanings, set fluently:
/// `cross_entropy(z, labels, CrossEntropyOptions().weight(w).ignore_index(-100))`.
/// - weight: one weight per class (rescales each example's loss by the weight of its label); the
///   mean then divides by the sum of the weights of the (not ignored) labels, as PyTorch.
/// - ignore_index: examples with this label add 0 and leave the mean's denominator; their label
///   need not lie in [0, classes). Default: none.
/// - label_smoothing ε in [0, 1]: the target is (1 − ε)·one_hot + ε/classes, so each example costs
///   (1 − ε)·w_y·(−log p_y) + (ε/classes)·Σ_c w_c·(−log p_c).
/// - reduction: mean (default), sum or none (batchmean is a ValueError).
class CrossEntropyOptions {
public:
    CrossEntropyOptions& weight(std::vector<double> w) {
        weight_ = std::move(w);
        return *this;
    }
    /// The weights from a tensor [classes] (its values; no gradient flows into it).
    template <class T>
    CrossEntropyOptions& weight(const Tensor<T>& w) {
        weight_shape_ = w.shape();
        weight_.assign(w.value().begin(), w.value().end());
        return *this;
    }
    CrossEntropyOptions& ignore_index(std::int64_t i) {
        ignore_index_ = i;
        return *this;
    }
    CrossEntropyOptions& label_smoothing(double s) {
        label_smoothing_ = s;
        return *this;
    }
    CrossEntropyOptions& reduction(Reduction r) {
        reduction_ = r;
        return *this;
    }

    const std::vector<double>& weight() const { return weight_; }
    /// Whether weights were given (a tensor, or a list that is not empty).
    bool has_weight() const { return !weight_.empty() || weight_shape_.has_value(); }
    /// The shape of the tensor the weights came from ([k] for a list of k), for messages.
    Shape weight_shape() const { return weight_shape_ ? *weight_shape_ : Shape{weight_.size()}; }
    const std::optional<std::int64_t>& ignore_index() const { return ignore_index_; }
    double label_smoothing() const { return label_smoothing_; }
    Reduction reduction() const { return reduction_; }

private:
    std::vector<double> weight_;  // empty: every class weighs 1
    std::optional<Shape> weight_shape_;
    std::optional<std::int64_t> ignore_index_;
    double label_smoothing_ = 0;
    Reduction reduction_ = Reduction::mean;
};

/// Cross-entropy of class indices given logits (PyTorch's cross_entropy, Keras' sparse categorical
/// cross-entropy from logits): per example lse_i − z[i, label_i] with lse_i = log Σ_j e^z[i, j],
/// max-shifted so any finite logits give a finite loss; then the reduction (mean over the n
/// examples, sum, or the [n] losses). logits [n, classes], labels [n] in [0, classes) → [] or [n].
/// ShapeError for other shapes, ValueError naming the first label out of range. One op on the
/// tape; see Note [fused cross-entropy].
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Index& labels,
                        Reduction reduction = Reduction::mean);
/// The same with class weights, ignore_index and label smoothing (CrossEntropyOptions): still one
/// op. A weight list whose length is not the number of classes is a ShapeError naming logits and
/// weight; label_smoothing outside [0, 1], a negative weight or reduction batchmean a ValueError.
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Index& labels,
                        const CrossEntropyOptions& options);

/// Checks scores [n, classes] against labels [n] in [0, classes) (a label equal to
/// `ignore_index` may lie outside): ShapeError naming `op` and both shapes, ValueError naming the
/// first label out of range and its position.
template <class T>
void check_class_labels(const char* op, const Tensor<T>& scores, const Index& labels,
                        std::optional<std::int64_t> ignore_index = std::nullopt);
/// Checks `options` against logits [n, classes] for `op`: the errors of cross_entropy's options.
void check_cross_entropy_options(const char* op, const Shape& logits,
                                 const CrossEntropyOptions& options);

}  // namespace xgrad
