#include "plot/scatter.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "plot/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace xgrad::plot {
namespace {

// Tableau's ten categorical colours.
const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

void check(const std::vector<double>& x, const std::vector<double>& y,
           const std::vector<std::size_t>& labels, const std::vector<std::string>& class_names) {
    if (x.size() != y.size() || x.size() != labels.size()) {
        throw ShapeError(
            fmt::format("scatter_svg: x, y and labels must have one entry per point; got "
                        "x={}, y={}, labels={}",
                        x.size(), y.size(), labels.size()));
    }
    if (class_names.empty()) throw ValueError("scatter_svg: class_names is empty");
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (labels[i] >= class_names.size()) {
            throw ValueError(
                fmt::format("scatter_svg: label {} of point {} is not a class (there "
                            "are {} class names)",
                            labels[i], i, class_names.size()));
        }
        if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
            throw ValueError(
                fmt::format("scatter_svg: point {} is ({}, {}); coordinates must be "
                            "finite",
                            i, x[i], y[i]));
        }
    }
}

}  // namespace

std::string scatter_svg(const std::vector<double>& x, const std::vector<double>& y,
                        const std::vector<std::size_t>& labels,
                        const std::vector<std::string>& class_names, const std::string& title) {
    check(x, y, labels, class_names);
    const double left = 40, top = 40, size = 520, legend = left + size + 20;
    const double width = legend + 150, height = top + size + 30;
    double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
    if (!x.empty()) {
        x_lo = *std::min_element(x.begin(), x.end());
        x_hi = *std::max_element(x.begin(), x.end());
        y_lo = *std::min_element(y.begin(), y.end());
        y_hi = *std::max_element(y.begin(), y.end());
    }
    // A little margin, and a span that is never zero.
    const auto widen = [](double& lo, double& hi) {
        const double pad = std::max((hi - lo) * 0.03, 1e-9);
        lo -= pad;
        hi += pad;
    };
    widen(x_lo, x_hi);
    widen(y_lo, y_hi);
    const auto px = [&](double v) { return left + (v - x_lo) / (x_hi - x_lo) * size; };
    const auto py = [&](double v) { return top + size - (v - y_lo) / (y_hi - y_lo) * size; };

    std::string s = svg_begin(static_cast<std::size_t>(width), static_cast<std::size_t>(height),
                              " font-family=\"sans-serif\"", "#fff");
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        left + size / 2, xml_escaped(title));
    s += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#000\"/>\n",
        left, top, size, size);
    for (std::size_t i = 0; i < x.size(); ++i) {
        s += fmt::format(
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"1.6\" fill=\"{}\" fill-opacity=\"0.7\"/>\n",
            px(x[i]), py(y[i]), kPalette[labels[i] % 10]);
    }
    for (std::size_t c = 0; c < class_names.size(); ++c) {
        const double ly = top + 10 + 20 * static_cast<double>(c);
        s += fmt::format(
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\"/>\n<text x=\"{:.1f}\" "
            "y=\"{:.1f}\" font-size=\"12\">{}</text>\n",
            legend, ly, kPalette[c % 10], legend + 12, ly + 4, xml_escaped(class_names[c]));
    }
    s += svg_end();
    return s;
}

void save_scatter_svg(const std::string& path, const std::vector<double>& x,
                      const std::vector<double>& y, const std::vector<std::size_t>& labels,
                      const std::vector<std::string>& class_names, const std::string& title) {
    save_text("save_scatter_svg", path, scatter_svg(x, y, labels, class_names, title));
}

}  // namespace xgrad::plot
