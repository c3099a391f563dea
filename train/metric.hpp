#pragma once

#include "autograd/tensor.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

// Metrics fit() and evaluate() report besides the loss, as Keras' metrics=[...]:
//
//     train::FitOptions(10).metrics({train::Metric::top_k_accuracy(5)})
//     // history: "top5_accuracy", "val_top5_accuracy"; progress, CSV and SVG show them too
//
// A metric is a name and a function of one batch, (model output, targets) → MetricValue{total,
// count}; the value over an epoch or a data set is Σ total / Σ count, so only two numbers are
// kept while the batches stream past (accuracy: correct predictions / examples; a mean absolute
// error: Σ|y − t| / elements).
namespace xgrad::train {

/// One batch's contribution to a metric: the metric over many batches is Σ total / Σ count.
struct MetricValue {
    double total = 0;
    double count = 0;
};

/// A named metric accumulated over batches (see the file comment). The function takes the
/// model's output and the batch's targets as Tensor<float> or Tensor<double>: a generic lambda
/// `[](const auto& y, const auto& t) { ... }` serves both; one written for one type serves
/// models of that type, and fit() refuses the metric (ValueError) for the other.
class Metric {
public:
    template <class T>
    using Fn = std::function<MetricValue(const Tensor<T>& output, const Tensor<T>& target)>;

    /// A metric named `name` (non-empty; letters, digits, '_' and '-'; not "loss", "lr",
    /// "seconds" or "epoch", and not beginning with "val_", which names the validation values;
    /// fit() and evaluate() throw ValueError otherwise) computed by `f`. greater_is_better
    /// (default true) is the direction EarlyStopping's automatic mode takes for it.
    template <class F>
    Metric(std::string name, F f, bool greater_is_better = true)
        : name_(std::move(name)), greater_is_better_(greater_is_better) {
        constexpr bool on_float =
            std::is_invocable_r_v<MetricValue, F, const Tensor<float>&, const Tensor<float>&>;
        constexpr bool on_double =
            std::is_invocable_r_v<MetricValue, F, const Tensor<double>&, const Tensor<double>&>;
        static_assert(on_float || on_double,
                      "a metric function takes (const Tensor<T>& output, const Tensor<T>& "
                      "target) and returns train::MetricValue");
        if constexpr (on_float) float_ = f;
        if constexpr (on_double) double_ = f;
    }

    const std::string& name() const { return name_; }
    bool greater_is_better() const { return greater_is_better_; }
    /// The function for outputs of type T; empty when `f` does not take Tensor<T>.
    template <class T>
    const Fn<T>& fn() const {
        if constexpr (std::is_same_v<T, float>) {
            return float_;
        } else {
            return double_;
        }
    }

    /// "accuracy": nn::count_correct / examples (argmax against indices or one-hot targets;
    /// `threshold` for single-output binary models). What FitOptions::accuracy(true) adds.
    static Metric accuracy(double threshold = 0.5);
    /// "top<k>_accuracy" (or `name`): nn::count_top_k_correct / examples, Keras'
    /// (sparse_)top_k_categorical_accuracy; ties count in the target's favour
    /// (nn/metrics.hpp). k >= 1 here, k <= classes checked on the first batch.
    static Metric top_k_accuracy(std::size_t k, std::string name = "");

private:
    std::string name_;
    bool greater_is_better_;
    Fn<float> float_;
    Fn<double> double_;
};

/// Throws ValueError "<fn>: ..." when `name` is not a valid metric name (see Metric).
void check_metric_name(const char* fn, const std::string& name);

}  // namespace xgrad::train
