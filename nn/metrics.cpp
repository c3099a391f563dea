#include "nn/metrics.hpp"

#include "autograd/errors.hpp"

#include <fmt/format.h>

#include <limits>

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

#define XGRAD_INSTANTIATE(T)                                                        \
    template std::vector<std::size_t> argmax_rows(const Tensor<T>&);                \
    template std::size_t count_correct(const Tensor<T>&, const Tensor<T>&, double); \
    template double accuracy(const Tensor<T>&, const Tensor<T>&, double);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn
