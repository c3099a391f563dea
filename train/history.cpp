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
    throw ValueError(
        fmt::format("history: no series named '{}' (loss, accuracy, val_loss, "
                    "val_accuracy, seconds, lr)",
                    key));
}

bool History::has(const std::string& key) const {
    return !at(key).empty();
}

std::string History::to_csv() const {
    std::vector<const char*> keys{"loss"};
    for (const char* k : {"accuracy", "val_loss", "val_accuracy"}) {
        if (has(k)) keys.push_back(k);
    }
    keys.push_back("lr");
    keys.push_back("seconds");
    std::string s = "epoch";
    for (const char* k : keys)
        s += fmt::format(",{}", k);
    s += '\n';
    for (std::size_t e = 0; e < epochs(); ++e) {
        s += std::to_string(e + 1);
        for (const char* k : keys) {
            const auto& v = at(k);
            s += e < v.size() ? fmt::format(",{}", v[e]) : std::string(",");
        }
        s += '\n';
    }
    return s;
}

std::string History::to_svg() const {
    // Training solid, validation dashed, in matplotlib's first two colours.
    auto series = [](const char* label, const std::vector<double>& values, bool validation) {
        return plot::Series{label, values, validation ? "#ff7f0e" : "#1f77b4", validation};
    };
    std::vector<plot::Panel> panels{{"loss", {series("training", loss, false)}}};
    if (has("val_loss")) panels[0].series.push_back(series("validation", val_loss, true));
    if (has("accuracy") || has("val_accuracy")) {
        plot::Panel acc{"accuracy", {}};
        if (has("accuracy")) acc.series.push_back(series("training", accuracy, false));
        if (has("val_accuracy")) acc.series.push_back(series("validation", val_accuracy, true));
        panels.push_back(std::move(acc));
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
