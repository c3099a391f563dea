#include "train/history.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "plot/curves.hpp"

#include <fmt/format.h>

#include <utility>

namespace xgrad::train {

const std::vector<double>& History::at(const std::string& key) const {
    if (key == "loss") return loss;
    if (key == "accuracy") return accuracy;
    if (key == "val_loss") return val_loss;
    if (key == "val_accuracy") return val_accuracy;
    if (key == "seconds") return seconds;
    if (key == "lr") return lr;
    for (const auto& [name, values] : metrics) {
        if (name == key) return values;
    }
    std::string names;
    for (const auto& m : metrics)
        names += ", " + m.first;
    throw ValueError(
        fmt::format("history: no series named '{}' (loss, accuracy, val_loss, "
                    "val_accuracy, seconds, lr{})",
                    key, names));
}

std::vector<double>& History::series(const std::string& key) {
    for (const char* k : {"loss", "accuracy", "val_loss", "val_accuracy", "seconds", "lr"}) {
        if (key == k) return const_cast<std::vector<double>&>(at(key));
    }
    for (auto& [name, values] : metrics) {
        if (name == key) return values;
    }
    metrics.emplace_back(key, std::vector<double>());
    return metrics.back().second;
}

bool History::has(const std::string& key) const {
    return !at(key).empty();
}

namespace {

bool is_validation(const std::string& key) {
    return key.rfind("val_", 0) == 0;
}

}  // namespace

std::string History::to_csv() const {
    std::vector<std::string> keys{"loss"};
    if (has("accuracy")) keys.emplace_back("accuracy");
    for (const auto& m : metrics) {
        if (!is_validation(m.first)) keys.push_back(m.first);
    }
    for (const char* k : {"val_loss", "val_accuracy"}) {
        if (has(k)) keys.emplace_back(k);
    }
    for (const auto& m : metrics) {
        if (is_validation(m.first)) keys.push_back(m.first);
    }
    keys.emplace_back("lr");
    keys.emplace_back("seconds");
    std::string s = "epoch";
    for (const auto& k : keys)
        s += fmt::format(",{}", k);
    s += '\n';
    for (std::size_t e = 0; e < epochs(); ++e) {
        s += std::to_string(e + 1);
        for (const auto& k : keys) {
            const auto& v = at(k);
            s += e < v.size() ? fmt::format(",{}", v[e]) : std::string(",");
        }
        s += '\n';
    }
    return s;
}

std::string History::to_svg() const {
    // Training solid, validation dashed, in matplotlib's first two colours.
    auto curve = [](const char* label, const std::vector<double>& values, bool validation) {
        return plot::Series{label, values, validation ? "#ff7f0e" : "#1f77b4", validation};
    };
    std::vector<plot::Panel> panels{{"loss", {curve("training", loss, false)}}};
    if (has("val_loss")) panels[0].series.push_back(curve("validation", val_loss, true));
    if (has("accuracy") || has("val_accuracy")) {
        plot::Panel acc{"accuracy", {}};
        if (has("accuracy")) acc.series.push_back(curve("training", accuracy, false));
        if (has("val_accuracy")) acc.series.push_back(curve("validation", val_accuracy, true));
        panels.push_back(std::move(acc));
    }
    // One panel per other metric: its training series and its "val_" one.
    for (const auto& [name, values] : metrics) {
        plot::Panel panel{is_validation(name) ? name.substr(4) : name, {}};
        bool drawn = false;
        for (const auto& p : panels)
            drawn = drawn || p.title == panel.title;
        if (drawn) continue;
        for (const auto& [other, other_values] : metrics) {
            if (other == panel.title)
                panel.series.push_back(curve("training", other_values, false));
            if (other == "val_" + panel.title) {
                panel.series.push_back(curve("validation", other_values, true));
            }
        }
        panels.push_back(std::move(panel));
    }
    return plot::curves_svg(panels, epochs());
}

void History::save_csv(const std::string& path) const {
    save_text("save_csv", path, to_csv());
}

void History::save_svg(const std::string& path) const {
    save_text("save_svg", path, to_svg());
}

}  // namespace xgrad::train
