#include "train/backup.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

// Note [fit backup]
// One .npz of doubles (float values convert exactly), keys by part:
//   fit.epoch, fit.batch_steps, fit.wait, fit.best, fit.best_epoch   scalars
//   fit.seed_hi, fit.seed_lo                                         the seed's two 32-bit halves
//   fit.generator                                                    the generator's text, as bytes
//   history.<series>                                                 loss, accuracy, val_*, lr, ...
//   history_metric.<k>.<name>                                        History::metrics in order
//   model.<name>, best.<name>, optimizer.<key>                       the state dicts
// Nothing of it depends on the number of processes that wrote it.
namespace xgrad::train::detail {
namespace {

const char* const kSeries[] = {"loss", "accuracy", "val_loss", "val_accuracy", "seconds", "lr"};

xt::xarray<double> scalar(double v) {
    return xt::xarray<double>(v);
}

xt::xarray<double> vector_of(const std::vector<double>& v) {
    xt::xarray<double> a = xt::xarray<double>::from_shape({v.size()});
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}

std::vector<double> to_vector(const xt::xarray<double>& a) {
    return std::vector<double>(a.begin(), a.end());
}

template <class From, class To>
void put(std::map<std::string, xt::xarray<To>>& out, const std::string& prefix,
         const std::map<std::string, xt::xarray<From>>& in) {
    for (const auto& [name, value] : in)
        out[prefix + name] = xt::xarray<To>(xt::cast<To>(value));
}

// The entries of `in` under `prefix`, the prefix cut off, converted to To.
template <class To>
std::map<std::string, xt::xarray<To>> take(const std::map<std::string, xt::xarray<double>>& in,
                                           const std::string& prefix) {
    std::map<std::string, xt::xarray<To>> out;
    for (const auto& [name, value] : in) {
        if (name.rfind(prefix, 0) == 0)
            out[name.substr(prefix.size())] = xt::xarray<To>(xt::cast<To>(value));
    }
    return out;
}

}  // namespace

template <class T>
void save_backup(const std::string& path, const FitState<T>& s) {
    std::map<std::string, xt::xarray<double>> a;
    a["fit.epoch"] = scalar(double(s.epoch));
    a["fit.batch_steps"] = scalar(double(s.batch_steps));
    a["fit.wait"] = scalar(double(s.wait));
    a["fit.best"] = scalar(s.best);
    a["fit.best_epoch"] = scalar(double(s.history.best_epoch));
    a["fit.seed_hi"] = scalar(double(s.seed >> 32));
    a["fit.seed_lo"] = scalar(double(s.seed & 0xffffffffu));
    xt::xarray<double> g = xt::xarray<double>::from_shape({s.generator.size()});
    std::transform(s.generator.begin(), s.generator.end(), g.begin(),
                   [](char c) { return double(static_cast<unsigned char>(c)); });
    a["fit.generator"] = std::move(g);
    for (const char* name : kSeries) {
        if (s.history.has(name)) a[std::string("history.") + name] = vector_of(s.history.at(name));
    }
    for (std::size_t k = 0; k < s.history.metrics.size(); ++k) {
        const auto& [name, values] = s.history.metrics[k];
        a[fmt::format("history_metric.{}.{}", k, name)] = vector_of(values);
    }
    put(a, "model.", s.model);
    put(a, "best.", s.best_model);
    put(a, "optimizer.", s.optimizer);
    save_npz(path, a);
}

template <class T>
FitState<T> load_backup(const std::string& path) {
    const std::map<std::string, xt::xarray<double>> a = load_npz<double>(path);
    auto number = [&](const char* key) {
        const auto it = a.find(key);
        if (it == a.end() || it->second.size() != 1 || !(it->second(0) >= 0) ||
            it->second(0) != std::floor(it->second(0))) {
            throw ValueError(fmt::format(
                "fit: backup '{}' is not a fit backup: {} is missing or not a whole number >= 0",
                path, key));
        }
        return it->second(0);
    };
    FitState<T> s;
    s.epoch = std::size_t(number("fit.epoch"));
    s.batch_steps = std::uint64_t(number("fit.batch_steps"));
    s.wait = std::size_t(number("fit.wait"));
    s.history.best_epoch = std::size_t(number("fit.best_epoch"));
    s.seed = (std::uint64_t(number("fit.seed_hi")) << 32) | std::uint64_t(number("fit.seed_lo"));
    const auto best = a.find("fit.best");
    const auto gen = a.find("fit.generator");
    if (best == a.end() || best->second.size() != 1 || gen == a.end()) {
        throw ValueError(fmt::format(
            "fit: backup '{}' is not a fit backup: fit.best or fit.generator is missing", path));
    }
    s.best = best->second(0);
    for (double c : gen->second)
        s.generator.push_back(char(static_cast<unsigned char>(c)));
    for (const char* name : kSeries) {
        const auto it = a.find(std::string("history.") + name);
        if (it != a.end()) s.history.series(name) = to_vector(it->second);
    }
    std::vector<std::pair<std::size_t, std::string>> order;  // history_metric.<k>.<name>
    const std::string metric_prefix = "history_metric.";
    for (const auto& [key, value] : a) {
        if (key.rfind(metric_prefix, 0) != 0) continue;
        const std::size_t dot = key.find('.', metric_prefix.size());
        const std::string k = key.substr(metric_prefix.size(), dot - metric_prefix.size());
        if (dot == std::string::npos || k.empty() || k.size() > 9 ||
            !std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            throw ValueError(fmt::format("fit: backup '{}' has a malformed entry {}", path, key));
        }
        order.emplace_back(std::stoul(k), key);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [k, key] : order) {
        const std::string name = key.substr(key.find('.', metric_prefix.size()) + 1);
        s.history.metrics.emplace_back(name, to_vector(a.at(key)));
    }
    if (s.history.loss.size() != s.epoch) {
        throw ValueError(fmt::format(
            "fit: backup '{}' is not a fit backup: {} epochs finished but {} losses recorded", path,
            s.epoch, s.history.loss.size()));
    }
    s.model = take<T>(a, "model.");
    s.best_model = take<T>(a, "best.");
    s.optimizer = take<double>(a, "optimizer.");
    return s;
}

template void save_backup(const std::string&, const FitState<float>&);
template void save_backup(const std::string&, const FitState<double>&);
template FitState<float> load_backup(const std::string&);
template FitState<double> load_backup(const std::string&);

}  // namespace xgrad::train::detail
