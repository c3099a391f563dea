#include "nn/metrics.hpp"

#include "autograd/errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace xgrad::nn {
namespace {

template <class T>
std::size_t argmax_row(const T* row, std::size_t c) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < c; ++j) {
        if (row[j] > row[best]) best = j;
    }
    return best;
}

// The class index of each row of targets: [n] of whole numbers in [0, c), or [n, c] one-hot
// (the argmax). `fn` names the caller in errors; scores [n, c] is checked by the caller.
template <class T>
std::vector<std::size_t> target_classes(const char* fn, const Tensor<T>& scores,
                                        const Tensor<T>& targets, std::size_t c) {
    const Shape& s = scores.shape();
    const Shape& t = targets.shape();
    const std::size_t n = s[0];
    const T* y = targets.value().data();
    std::vector<std::size_t> out(n);
    if (t.size() == 1 && t[0] == n) {
        for (std::size_t i = 0; i < n; ++i) {
            const double v = double(y[i]);
            if (!(v >= 0 && v < double(c)) || v != std::floor(v)) {
                throw ValueError(
                    fmt::format("{}: targets must be class indices in [0, {}); got targets[{}]={}",
                                fn, c, i, v));
            }
            out[i] = std::size_t(v);
        }
        return out;
    }
    if (t == s) {
        for (std::size_t i = 0; i < n; ++i)
            out[i] = argmax_row(y + i * c, c);
        return out;
    }
    throw ShapeError(
        fmt::format("{}: expected scores [n, classes] with targets [n] of class indices or [n, "
                    "classes] one-hot; got scores={}, targets={}",
                    fn, shape_str(s), shape_str(t)));
}

// "name" for each class: class_names, or 0..c-1 when it is empty.
std::vector<std::string> names_of(const char* fn, const std::vector<std::string>& class_names,
                                  std::size_t c) {
    if (class_names.empty()) {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < c; ++i)
            out.push_back(std::to_string(i));
        return out;
    }
    if (class_names.size() != c) {
        throw ValueError(fmt::format("{}: expected {} class names (one per class); got {}", fn, c,
                                     class_names.size()));
    }
    return class_names;
}

double ratio(double a, double b) {  // NOTE: 0/0 = 0 (sklearn's zero_division=0)
    return b == 0 ? 0.0 : a / b;
}

}  // namespace

template <class T>
std::vector<std::size_t> argmax_rows(const Tensor<T>& scores) {
    if (scores.dim() != 2 || scores.shape()[1] == 0) {
        throw ShapeError(
            fmt::format("argmax_rows: expected scores [n, classes] with classes >= 1; "
                        "got scores={}",
                        shape_str(scores.shape())));
    }
    const std::size_t n = scores.shape()[0], c = scores.shape()[1];
    std::vector<std::size_t> out(n);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = argmax_row(scores.value().data() + i * c, c);
    return out;
}

template <class T>
std::size_t count_correct(const Tensor<T>& scores, const Tensor<T>& targets, double threshold) {
    const Shape& s = scores.shape();
    const Shape& t = targets.shape();
    const T* p = scores.value().data();
    const T* y = targets.value().data();
    std::size_t correct = 0;
    if (s.size() == 2 && s[1] >= 2) {
        const std::size_t n = s[0], c = s[1];
        if (t.size() == 1 && t[0] == n) {
            for (std::size_t i = 0; i < n; ++i)
                correct += T(argmax_row(p + i * c, c)) == y[i];
            return correct;
        }
        if (t == s) {
            for (std::size_t i = 0; i < n; ++i) {
                correct += argmax_row(p + i * c, c) == argmax_row(y + i * c, c);
            }
            return correct;
        }
    } else if (s.size() == 1 || (s.size() == 2 && s[1] == 1)) {
        const std::size_t n = s[0];
        const bool column = t.size() == 1 || (t.size() == 2 && t[1] == 1);
        if (column && t[0] == n) {
            for (std::size_t i = 0; i < n; ++i) {
                correct += (double(p[i]) > threshold) == (double(y[i]) > 0.5);
            }
            return correct;
        }
    }
    throw ShapeError(
        fmt::format("accuracy: expected scores [n, classes] with targets [n] or [n, "
                    "classes], or scores [n] or [n, 1] with targets [n] or [n, 1]; "
                    "got scores={}, targets={}",
                    shape_str(s), shape_str(t)));
}

template <class T>
double accuracy(const Tensor<T>& scores, const Tensor<T>& targets, double threshold) {
    const std::size_t correct = count_correct(scores, targets, threshold);
    const std::size_t n = scores.dim() == 0 ? 0 : scores.shape()[0];
    return n == 0 ? std::numeric_limits<double>::quiet_NaN() : double(correct) / double(n);
}

// ---- top-k accuracy ----

template <class T>
std::size_t count_top_k_correct(const Tensor<T>& scores, const Tensor<T>& targets, std::size_t k) {
    const Shape& s = scores.shape();
    if (s.size() != 2 || s[1] == 0) {
        throw ShapeError(fmt::format(
            "top_k_accuracy: expected scores [n, classes] with classes >= 1; got scores={}",
            shape_str(s)));
    }
    const std::size_t n = s[0], c = s[1];
    if (k == 0 || k > c) {
        throw ValueError(fmt::format(
            "top_k_accuracy: k must be in [1, classes]; got k={} with scores={}", k, shape_str(s)));
    }
    const std::vector<std::size_t> t = target_classes("top_k_accuracy", scores, targets, c);
    const T* p = scores.value().data();
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T* row = p + i * c;
        const T target_score = row[t[i]];
        // NOTE: ties favour the target: only strictly higher scores push it out of the top k.
        std::size_t higher = 0;
        for (std::size_t j = 0; j < c; ++j)
            higher += row[j] > target_score;
        correct += higher < k;
    }
    return correct;
}

template <class T>
double top_k_accuracy(const Tensor<T>& scores, const Tensor<T>& targets, std::size_t k) {
    const std::size_t correct = count_top_k_correct(scores, targets, k);
    const std::size_t n = scores.shape()[0];
    return n == 0 ? std::numeric_limits<double>::quiet_NaN() : double(correct) / double(n);
}

// ---- confusion matrix ----

ConfusionMatrix::ConfusionMatrix(std::size_t num_classes) : c_(num_classes) {
    if (num_classes == 0) {
        throw ValueError("confusion_matrix: num_classes must be >= 1; got num_classes=0");
    }
    counts_.assign(c_ * c_, 0);
}

std::size_t ConfusionMatrix::operator()(std::size_t true_class, std::size_t predicted) const {
    if (true_class >= c_ || predicted >= c_) {
        throw ValueError(fmt::format(
            "confusion_matrix: classes must be in [0, {}); got true_class={}, predicted={}", c_,
            true_class, predicted));
    }
    return counts_[true_class * c_ + predicted];
}

std::size_t ConfusionMatrix::total() const {
    std::size_t n = 0;
    for (std::size_t v : counts_)
        n += v;
    return n;
}

void ConfusionMatrix::add(std::size_t true_class, std::size_t predicted) {
    (void)(*this)(true_class, predicted);  // checks the range
    ++counts_[true_class * c_ + predicted];
}

void ConfusionMatrix::update(const std::vector<std::size_t>& predicted,
                             const std::vector<std::size_t>& targets) {
    if (predicted.size() != targets.size()) {
        throw ShapeError(
            fmt::format("confusion_matrix: predicted and targets must have the same length; got "
                        "predicted=[{}], targets=[{}]",
                        predicted.size(), targets.size()));
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (predicted[i] >= c_ || targets[i] >= c_) {
            throw ValueError(
                fmt::format("confusion_matrix: classes must be in [0, {}); got targets[{}]={}, "
                            "predicted[{}]={}",
                            c_, i, targets[i], i, predicted[i]));
        }
    }
    for (std::size_t i = 0; i < targets.size(); ++i)
        ++counts_[targets[i] * c_ + predicted[i]];
}

template <class T>
void ConfusionMatrix::update(const Tensor<T>& scores, const Tensor<T>& targets) {
    if (scores.dim() != 2 || scores.shape()[1] != c_) {
        throw ShapeError(fmt::format(
            "confusion_matrix: expected scores [n, {}] (one column per class); got scores={}", c_,
            shape_str(scores.shape())));
    }
    const std::vector<std::size_t> t = target_classes("confusion_matrix", scores, targets, c_);
    const std::vector<std::size_t> p = argmax_rows(scores);
    update(p, t);
}

template <class T>
ConfusionMatrix confusion_matrix(const Tensor<T>& scores, const Tensor<T>& targets,
                                 std::size_t num_classes) {
    ConfusionMatrix cm(num_classes);
    cm.update(scores, targets);
    return cm;
}

ConfusionMatrix confusion_matrix(const std::vector<std::size_t>& predicted,
                                 const std::vector<std::size_t>& targets, std::size_t num_classes) {
    ConfusionMatrix cm(num_classes);
    cm.update(predicted, targets);
    return cm;
}

std::string to_string(const ConfusionMatrix& cm, const std::vector<std::string>& class_names) {
    const std::size_t c = cm.num_classes();
    const std::vector<std::string> names = names_of("confusion_matrix", class_names, c);
    const std::string corner = "true \\ predicted";
    std::size_t first = corner.size(), width = 1;
    for (std::size_t i = 0; i < c; ++i) {
        first = std::max(first, names[i].size());
        width = std::max(width, names[i].size());
        for (std::size_t j = 0; j < c; ++j)
            width = std::max(width, std::to_string(cm(i, j)).size());
    }
    std::string s = fmt::format("{:>{}}", corner, first);
    for (std::size_t j = 0; j < c; ++j)
        s += fmt::format("  {:>{}}", names[j], width);
    s += '\n';
    for (std::size_t i = 0; i < c; ++i) {
        s += fmt::format("{:>{}}", names[i], first);
        for (std::size_t j = 0; j < c; ++j)
            s += fmt::format("  {:>{}}", cm(i, j), width);
        s += '\n';
    }
    return s;
}

// ---- classification report ----

ClassificationReport classification_report(const ConfusionMatrix& cm) {
    const std::size_t c = cm.num_classes();
    ClassificationReport r;
    std::size_t total = 0, correct = 0;
    for (std::size_t k = 0; k < c; ++k) {
        std::size_t tp = cm(k, k), row = 0, column = 0;
        for (std::size_t j = 0; j < c; ++j) {
            row += cm(k, j);
            column += cm(j, k);
        }
        ClassScores s;
        s.precision = ratio(double(tp), double(column));
        s.recall = ratio(double(tp), double(row));
        s.f1 = ratio(2 * s.precision * s.recall, s.precision + s.recall);
        s.support = row;
        r.classes.push_back(s);
        total += row;
        correct += tp;
    }
    for (const ClassScores& s : r.classes) {
        r.macro_avg.precision += s.precision / double(c);
        r.macro_avg.recall += s.recall / double(c);
        r.macro_avg.f1 += s.f1 / double(c);
        const double w = ratio(double(s.support), double(total));
        r.weighted_avg.precision += s.precision * w;
        r.weighted_avg.recall += s.recall * w;
        r.weighted_avg.f1 += s.f1 * w;
    }
    r.macro_avg.support = r.weighted_avg.support = total;
    r.accuracy = ratio(double(correct), double(total));
    return r;
}

std::string to_string(const ClassificationReport& report,
                      const std::vector<std::string>& class_names, int digits) {
    if (digits < 0 || digits > 17) {
        throw ValueError(
            fmt::format("classification_report: digits must be in [0, 17]; got digits={}", digits));
    }
    const std::vector<std::string> names =
        names_of("classification_report", class_names, report.classes.size());
    std::size_t first = std::string("weighted avg").size();
    for (const auto& n : names)
        first = std::max(first, n.size());
    const int w = std::max(9, digits + 3);  // "precision", "f1-score" and the numbers
    auto row = [&](const std::string& name, const ClassScores& s) {
        return fmt::format("{:>{}}  {:>{}.{}f} {:>{}.{}f} {:>{}.{}f} {:>{}}\n", name, first,
                           s.precision, w, digits, s.recall, w, digits, s.f1, w, digits, s.support,
                           w);
    };
    std::string out = fmt::format("{:>{}}  {:>{}} {:>{}} {:>{}} {:>{}}\n\n", "", first, "precision",
                                  w, "recall", w, "f1-score", w, "support", w);
    for (std::size_t k = 0; k < names.size(); ++k)
        out += row(names[k], report.classes[k]);
    out += '\n';
    out += fmt::format("{:>{}}  {:>{}} {:>{}} {:>{}.{}f} {:>{}}\n", "accuracy", first, "", w, "", w,
                       report.accuracy, w, digits, report.macro_avg.support, w);
    out += row("macro avg", report.macro_avg);
    out += row("weighted avg", report.weighted_avg);
    return out;
}

#define XGRAD_INSTANTIATE(T)                                                                   \
    template std::vector<std::size_t> argmax_rows(const Tensor<T>&);                           \
    template std::size_t count_correct(const Tensor<T>&, const Tensor<T>&, double);            \
    template double accuracy(const Tensor<T>&, const Tensor<T>&, double);                      \
    template std::size_t count_top_k_correct(const Tensor<T>&, const Tensor<T>&, std::size_t); \
    template double top_k_accuracy(const Tensor<T>&, const Tensor<T>&, std::size_t);           \
    template void ConfusionMatrix::update(const Tensor<T>&, const Tensor<T>&);                 \
    template ConfusionMatrix confusion_matrix(const Tensor<T>&, const Tensor<T>&, std::size_t);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn
