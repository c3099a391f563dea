#include "plot/heatmap.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "plot/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace xgrad::plot {
namespace {

// White (t = 0) to matplotlib's "Blues" darkest, #08306b (t = 1), linearly.
std::string blue(double t) {
    t = std::clamp(t, 0.0, 1.0);
    auto mix = [t](int hi) { return int(std::lround(255 + (hi - 255) * t)); };
    return fmt::format("#{:02x}{:02x}{:02x}", mix(0x08), mix(0x30), mix(0x6b));
}

}  // namespace

std::string confusion_matrix_svg(const std::vector<std::size_t>& counts, std::size_t c,
                                 const std::vector<std::string>& class_names, Normalize normalize,
                                 const std::string& title) {
    if (c == 0 || counts.size() != c * c) {
        throw ShapeError(fmt::format(
            "confusion_matrix_svg: expected counts of num_classes² values with num_classes >= 1; "
            "got {} counts, num_classes={}",
            counts.size(), c));
    }
    if (!class_names.empty() && class_names.size() != c) {
        throw ValueError(
            fmt::format("confusion_matrix_svg: expected {} class names (one per class); got {}", c,
                        class_names.size()));
    }
    std::vector<std::string> names = class_names;
    for (std::size_t i = names.size(); i < c; ++i)
        names.push_back(std::to_string(i));
    // The value that colours each cell: the count, or its fraction of the row.
    std::vector<double> value(c * c);
    for (std::size_t i = 0; i < c; ++i) {
        double row = 0;
        for (std::size_t j = 0; j < c; ++j)
            row += double(counts[i * c + j]);
        for (std::size_t j = 0; j < c; ++j) {
            const double n = double(counts[i * c + j]);
            value[i * c + j] = normalize == Normalize::rows ? (row > 0 ? n / row : 0.0) : n;
        }
    }
    const double top_value =
        normalize == Normalize::rows ? 1.0 : *std::max_element(value.begin(), value.end());

    std::size_t longest = 1;
    for (const auto& n : names)
        longest = std::max(longest, n.size());
    const double cell = std::max(48.0, 7.0 * double(longest) + 8);
    const double label_w = 7.0 * double(longest) + 16;  // the true classes' names, left of the grid
    const double left = 30 + label_w, top = title.empty() ? 20 : 44;
    const double grid = cell * double(c);
    const std::size_t width = std::size_t(left + grid + 20);
    const std::size_t height = std::size_t(top + grid + 56);

    std::string s = svg_begin(
        width, height,
        fmt::format(" viewBox=\"0 0 {} {}\" font-family=\"sans-serif\"", width, height), "#fff",
        /*xml_declaration=*/true);
    if (!title.empty()) {
        s += fmt::format(
            "<text x=\"{:.1f}\" y=\"26\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
            left + grid / 2, xml_escaped(title));
    }
    for (std::size_t i = 0; i < c; ++i) {
        for (std::size_t j = 0; j < c; ++j) {
            const double v = value[i * c + j];
            const double t = top_value > 0 ? v / top_value : 0.0;
            const double x = left + cell * double(j), y = top + cell * double(i);
            const std::string text = normalize == Normalize::rows
                                         ? fmt::format("{:.2f}", v)
                                         : std::to_string(counts[i * c + j]);
            s += fmt::format(
                "<rect class=\"cell\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
                "height=\"{:.1f}\" fill=\"{}\" stroke=\"#fff\"/>\n<text x=\"{:.1f}\" "
                "y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{}\">{}</text>\n",
                x, y, cell, cell, blue(t), x + cell / 2, y + cell / 2 + 4,
                t > 0.5 ? "#fff" : "#000", text);
        }
    }
    for (std::size_t k = 0; k < c; ++k) {
        const std::string name = xml_escaped(names[k]);
        s += fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"12\">{}</text>\n",
            left - 6, top + cell * (double(k) + 0.5) + 4, name);
        s += fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
            left + cell * (double(k) + 0.5), top + grid + 16, name);
    }
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" "
        "font-size=\"13\">predicted</text>\n",
        left + grid / 2, top + grid + 40);
    s += fmt::format(
        "<text x=\"14\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"13\" "
        "transform=\"rotate(-90 14 {:.1f})\">true</text>\n",
        top + grid / 2, top + grid / 2);
    s += svg_end();
    return s;
}

void save_confusion_matrix_svg(const std::string& path, const std::vector<std::size_t>& counts,
                               std::size_t num_classes, const std::vector<std::string>& class_names,
                               Normalize normalize, const std::string& title) {
    save_text("save_confusion_matrix_svg", path,
              confusion_matrix_svg(counts, num_classes, class_names, normalize, title));
}

}  // namespace xgrad::plot
