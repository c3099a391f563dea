#pragma once

#include "autograd/tensor.hpp"

#include <cstddef>
#include <string>
#include <vector>

// Metrics: how good a model's outputs are, as numbers a person reads (not differentiable, not
// recorded). Scores have the batch on axis 0, as the losses' predictions.
namespace xgrad::nn {

/// The index of the largest score in each row of scores [n, classes] (the first on ties).
template <class T>
std::vector<std::size_t> argmax_rows(const Tensor<T>& scores);

/// Number of correct predictions (what accuracy() divides by n):
/// - scores [n, c] (c >= 2) with targets [n] of class indices: argmax of each row == target;
/// - scores [n, c] with targets [n, c] (one-hot or probabilities): the argmaxes agree;
/// - scores [n] or [n, 1] with targets of n elements (0/1): (score > threshold) == (target > 0.5).
/// ShapeError for other shapes.
template <class T>
std::size_t count_correct(const Tensor<T>& scores, const Tensor<T>& targets,
                          double threshold = 0.5);
/// count_correct / n (NaN for n = 0).
template <class T>
double accuracy(const Tensor<T>& scores, const Tensor<T>& targets, double threshold = 0.5);

/// Number of rows whose target class is among the k highest scores: scores [n, c] with targets
/// [n] of class indices or [n, c] one-hot (the argmax is the class), 1 <= k <= c.
/// NOTE: ties count in the target's favour: a row is correct when fewer than k classes score
/// strictly higher than the target class (TensorFlow's in_top_k, which Keras'
/// sparse_top_k_categorical_accuracy used; with k = 1 a tied maximum counts, unlike accuracy()).
/// ShapeError for other shapes, ValueError for k = 0, k > c or a target that is not a class
/// index in [0, c).
template <class T>
std::size_t count_top_k_correct(const Tensor<T>& scores, const Tensor<T>& targets, std::size_t k);
/// count_top_k_correct / n (NaN for n = 0): Keras' top_k_categorical_accuracy and
/// sparse_top_k_categorical_accuracy.
template <class T>
double top_k_accuracy(const Tensor<T>& scores, const Tensor<T>& targets, std::size_t k = 5);

/// Counts of (true class, predicted class) pairs, as sklearn's confusion_matrix: row i is the
/// true class i, column j the predicted class j, so row sums are the supports and the diagonal
/// the correct predictions. Built from a whole data set at once or batch by batch (update()),
/// which keeps only the c × c counts.
class ConfusionMatrix {
public:
    /// All counts 0; num_classes >= 1 (ValueError otherwise).
    explicit ConfusionMatrix(std::size_t num_classes);

    std::size_t num_classes() const { return c_; }
    /// The count of examples of class `true_class` predicted as `predicted` (each < c).
    std::size_t operator()(std::size_t true_class, std::size_t predicted) const;
    /// Every count, row-major [c, c] (row = true class).
    const std::vector<std::size_t>& counts() const { return counts_; }
    /// Number of examples counted.
    std::size_t total() const;

    /// Counts one example; ValueError naming both when a class is out of [0, c).
    void add(std::size_t true_class, std::size_t predicted);
    /// Counts predicted[i] against targets[i] (the same length, each in [0, c)); ShapeError for
    /// different lengths, ValueError for a class out of range (nothing is counted then).
    void update(const std::vector<std::size_t>& predicted, const std::vector<std::size_t>& targets);
    /// Counts a batch: the argmax of each row of scores [n, c] (the first maximum on ties, as
    /// argmax_rows) against targets [n] of class indices or [n, c] one-hot. ShapeError for other
    /// shapes, ValueError for a target that is not a whole number in [0, c).
    template <class T>
    void update(const Tensor<T>& scores, const Tensor<T>& targets);

private:
    std::size_t c_;
    std::vector<std::size_t> counts_;
};

/// The confusion matrix of scores [n, num_classes] against targets (see
/// ConfusionMatrix::update).
template <class T>
ConfusionMatrix confusion_matrix(const Tensor<T>& scores, const Tensor<T>& targets,
                                 std::size_t num_classes);
/// The confusion matrix of predicted class indices against target class indices.
ConfusionMatrix confusion_matrix(const std::vector<std::size_t>& predicted,
                                 const std::vector<std::size_t>& targets, std::size_t num_classes);

/// The matrix as a table: a header row of predicted classes, then one row per true class,
/// counts right-aligned. Classes are named by `class_names` (c names) or numbered 0..c-1 when
/// it is empty; ValueError for another number of names.
///     true \ predicted  cat  dog
///                   cat    2    1
///                   dog    0    3
std::string to_string(const ConfusionMatrix& cm, const std::vector<std::string>& class_names = {});

/// Precision, recall, F1 and support of one class (or an average of them).
struct ClassScores {
    double precision = 0;     ///< tp / (tp + fp): of the examples predicted as the class, right
    double recall = 0;        ///< tp / (tp + fn): of the examples of the class, found
    double f1 = 0;            ///< 2·precision·recall / (precision + recall)
    std::size_t support = 0;  ///< examples of the class (row sum); the total for averages
};

/// sklearn's classification_report as numbers: per class, the macro average (unweighted mean
/// over classes) and the weighted average (mean weighted by support), and the accuracy
/// (trace / total).
/// NOTE: a 0/0 (a class never predicted: precision; a class without examples: recall; both 0:
/// F1) is 0, as sklearn's zero_division=0; such classes still count in the macro average. An
/// empty matrix gives accuracy 0.
struct ClassificationReport {
    std::vector<ClassScores> classes;
    ClassScores macro_avg;
    ClassScores weighted_avg;
    double accuracy = 0;
};

/// The report of a confusion matrix (see ClassificationReport).
ClassificationReport classification_report(const ConfusionMatrix& cm);
/// sklearn's text layout: columns precision, recall, f1-score, support; one row per class
/// (named by `class_names`, c of them, or numbered), then accuracy, macro avg, weighted avg;
/// values with `digits` decimals (default 2, as sklearn). ValueError for a wrong number of
/// names.
std::string to_string(const ClassificationReport& report,
                      const std::vector<std::string>& class_names = {}, int digits = 2);

}  // namespace xgrad::nn
