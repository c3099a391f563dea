#include "train/history.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace xgrad::train {
namespace {

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over `range`.
double nice_step(double range, double count) {
    const double raw = range / count;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

struct Series {
    const char* label;
    const std::vector<double>* values;
    const char* color;
    bool dashed;
};

// One panel (title, axes, grid, ticks, legend, one polyline per series) at horizontal offset x0.
std::string svg_panel(double x0, const char* title, const std::vector<Series>& series,
                      std::size_t epochs) {
    const double left = x0 + 70, right = x0 + 430, top = 40, bottom = 300;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : series) {
        for (double v : *s.values) {
            if (std::isfinite(v)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
        }
    }
    if (!(lo <= hi)) lo = 0, hi = 1;  // nothing finite to draw
    if (hi - lo < 1e-12) {
        const double pad = std::max(std::abs(lo) * 0.05, 0.05);
        lo -= pad;
        hi += pad;
    }
    const double ystep = nice_step(hi - lo, 5);
    lo = std::floor(lo / ystep) * ystep;
    hi = std::ceil(hi / ystep) * ystep;
    const double xmax = double(std::max<std::size_t>(epochs, 2));
    auto px = [&](double epoch) { return left + (epoch - 1) / (xmax - 1) * (right - left); };
    auto py = [&](double v) { return bottom - (v - lo) / (hi - lo) * (bottom - top); };

    std::string s;
    s += fmt::format(
        "<g class=\"panel\">\n<text x=\"{:.1f}\" y=\"24\" text-anchor=\"middle\" "
        "font-size=\"15\">{}</text>\n",
        (left + right) / 2, title);
    // Horizontal grid lines with their values.
    for (double v = lo; v <= hi + ystep * 1e-6; v += ystep) {
        const double y = py(v);
        s += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"#e0e0e0\"/>\n<text x=\"{:.1f}\" y=\"{:.1f}\" "
            "text-anchor=\"end\" font-size=\"11\">{:.4g}</text>\n",
            left, y, right, y, left - 6, y + 4, std::abs(v) < ystep * 1e-6 ? 0.0 : v);
    }
    // Epoch ticks: whole epochs, at most ~10 labels.
    const double xstep = std::max(1.0, std::ceil(nice_step(xmax - 1, 8)));
    for (double e = 1; e <= xmax + 1e-9; e += xstep) {
        s += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
            "stroke=\"#000\"/>\n<text x=\"{0:.1f}\" y=\"{3:.1f}\" "
            "text-anchor=\"middle\" font-size=\"11\">{4:.0f}</text>\n",
            px(e), bottom, bottom + 5, bottom + 18, e);
    }
    s += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"none\" stroke=\"#000\"/>\n",
        left, top, right - left, bottom - top);
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" "
        "font-size=\"12\">epoch</text>\n",
        (left + right) / 2, bottom + 36);
    // The legend goes in the right-hand corner (top or bottom) that fewer points fall into.
    std::size_t top_right = 0, bottom_right = 0;
    for (const auto& ser : series) {
        for (std::size_t i = 0; i < ser.values->size(); ++i) {
            const double v = (*ser.values)[i];
            if (!std::isfinite(v) || px(double(i + 1)) < right - 130) continue;
            top_right += py(v) < top + 24 + 16 * double(series.size());
            bottom_right += py(v) > bottom - 24 - 16 * double(series.size());
        }
    }
    const double legend_top =
        top_right <= bottom_right ? top + 4 : bottom - 8 - 16 * double(series.size());
    std::string legend = fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"104\" height=\"{:.1f}\" fill=\"#fff\" "
        "fill-opacity=\"0.85\"/>\n",
        right - 114, legend_top, 16 * double(series.size()) + 4);
    for (std::size_t k = 0; k < series.size(); ++k) {
        const Series& ser = series[k];
        const char* dash = ser.dashed ? " stroke-dasharray=\"6 4\"" : "";
        std::string points;
        for (std::size_t i = 0; i < ser.values->size(); ++i) {
            const double v = (*ser.values)[i];
            if (!std::isfinite(v)) continue;
            if (!points.empty()) points += ' ';
            points += fmt::format("{:.1f},{:.1f}", px(double(i + 1)), py(v));
        }
        s += fmt::format(
            "<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} "
            "points=\"{}\"/>\n",
            ser.label, ser.color, dash, points);
        for (std::size_t i = 0; i < ser.values->size(); ++i) {
            const double v = (*ser.values)[i];
            if (!std::isfinite(v)) continue;
            s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n",
                             px(double(i + 1)), py(v), ser.color);
        }
        const double ly = legend_top + 10 + 16 * double(k);
        legend += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"{}\" stroke-width=\"2\"{}/>\n<text x=\"{:.1f}\" y=\"{:.1f}\" "
            "font-size=\"11\">{}</text>\n",
            right - 110, ly, right - 86, ly, ser.color, dash, right - 80, ly + 4, ser.label);
    }
    s += legend;
    s += "</g>\n";
    return s;
}

}  // namespace

const std::vector<double>& History::at(const std::string& key) const {
    if (key == "loss") return loss;
    if (key == "accuracy") return accuracy;
    if (key == "val_loss") return val_loss;
    if (key == "val_accuracy") return val_accuracy;
    if (key == "seconds") return seconds;
    if (key == "lr") return lr;
    throw ValueError(
        fmt::format("History: no series named '{}' (loss, accuracy, val_loss, "
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
    const bool acc = has("accuracy") || has("val_accuracy");
    const int width = acc ? 900 : 450, height = 360;
    std::string s = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\">\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
        width, height);
    std::vector<Series> losses{{"training", &loss, "#1f77b4", false}};
    if (has("val_loss")) losses.push_back({"validation", &val_loss, "#ff7f0e", true});
    s += svg_panel(0, "loss", losses, epochs());
    if (acc) {
        std::vector<Series> accs;
        if (has("accuracy")) accs.push_back({"training", &accuracy, "#1f77b4", false});
        if (has("val_accuracy")) accs.push_back({"validation", &val_accuracy, "#ff7f0e", true});
        s += svg_panel(450, "accuracy", accs, epochs());
    }
    s += "</svg>\n";
    return s;
}

void History::save_csv(const std::string& path) const {
    save_text("History::save_csv", path, to_csv());
}

void History::save_svg(const std::string& path) const {
    save_text("History::save_svg", path, to_svg());
}

}  // namespace xgrad::train
