#include "plot/curves.hpp"

#include "plot/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace xgrad::plot {
namespace {

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over `range`.
double nice_step(double range, double count) {
    const double raw = range / count;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

// One panel (title, axes, grid, ticks, legend, one polyline per series) at horizontal offset x0.
std::string svg_panel(double x0, const Panel& panel, std::size_t epochs) {
    const std::vector<Series>& series = panel.series;
    const double left = x0 + 70, right = x0 + 430, top = 40, bottom = 300;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : series) {
        for (double v : s.values) {
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
        (left + right) / 2, xml_escaped(panel.title));
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
        for (std::size_t i = 0; i < ser.values.size(); ++i) {
            const double v = ser.values[i];
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
        for (std::size_t i = 0; i < ser.values.size(); ++i) {
            const double v = ser.values[i];
            if (!std::isfinite(v)) continue;
            if (!points.empty()) points += ' ';
            points += fmt::format("{:.1f},{:.1f}", px(double(i + 1)), py(v));
        }
        s += fmt::format(
            "<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} "
            "points=\"{}\"/>\n",
            xml_escaped(ser.label), ser.color, dash, points);
        for (std::size_t i = 0; i < ser.values.size(); ++i) {
            const double v = ser.values[i];
            if (!std::isfinite(v)) continue;
            s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n",
                             px(double(i + 1)), py(v), ser.color);
        }
        const double ly = legend_top + 10 + 16 * double(k);
        legend += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"{}\" stroke-width=\"2\"{}/>\n<text x=\"{:.1f}\" y=\"{:.1f}\" "
            "font-size=\"11\">{}</text>\n",
            right - 110, ly, right - 86, ly, ser.color, dash, right - 80, ly + 4,
            xml_escaped(ser.label));
    }
    s += legend;
    s += "</g>\n";
    return s;
}

}  // namespace

std::string curves_svg(const std::vector<Panel>& panels, std::size_t epochs) {
    const std::size_t width = 450 * panels.size(), height = 360;
    std::string s =
        svg_begin(width, height,
                  fmt::format(" viewBox=\"0 0 {} {}\" font-family=\"sans-serif\"", width, height),
                  "#fff", /*xml_declaration=*/true);
    for (std::size_t k = 0; k < panels.size(); ++k)
        s += svg_panel(450 * double(k), panels[k], epochs);
    s += svg_end();
    return s;
}

}  // namespace xgrad::plot
