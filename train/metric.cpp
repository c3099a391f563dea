#include "train/metric.hpp"

#include "autograd/errors.hpp"
#include "nn/metrics.hpp"

#include <fmt/format.h>

#include <cctype>

namespace xgrad::train {

Metric Metric::accuracy(double threshold) {
    return Metric("accuracy", [threshold](const auto& y, const auto& t) {
        return MetricValue{double(nn::count_correct(y, t, threshold)), double(y.shape()[0])};
    });
}

Metric Metric::top_k_accuracy(std::size_t k, std::string name) {
    if (k == 0) throw ValueError("top_k_accuracy: k must be >= 1; got k=0");
    if (name.empty()) name = fmt::format("top{}_accuracy", k);
    return Metric(std::move(name), [k](const auto& y, const auto& t) {
        return MetricValue{double(nn::count_top_k_correct(y, t, k)), double(y.shape()[0])};
    });
}

void check_metric_name(const char* fn, const std::string& name) {
    bool ok = !name.empty() && name != "loss" && name != "lr" && name != "seconds" &&
              name != "epoch" && name.rfind("val_", 0) != 0;
    for (char c : name)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    if (!ok) {
        throw ValueError(fmt::format(
            "{}: a metric name must be non-empty letters, digits, '_' or '-', not loss, lr, "
            "seconds or epoch, and not begin with val_; got name='{}'",
            fn, name));
    }
}

}  // namespace xgrad::train
