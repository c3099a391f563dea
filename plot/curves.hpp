#pragma once

#include <cstddef>
#include <string>
#include <vector>

// Line charts of values per epoch, as a training history is drawn (train::History::to_svg).
namespace xgrad::plot {

/// One curve: values[i] belongs to epoch i + 1 (values that are not finite are left out), with
/// its legend label, its colour (any SVG colour, e.g. "#1f77b4") and its stroke (dashed or solid).
struct Series {
    std::string label;
    std::vector<double> values;
    std::string color;
    bool dashed = false;
};

/// One chart: a title over its curves, which share one y axis.
struct Panel {
    std::string title;
    std::vector<Series> series;
};

/// A standalone SVG document, 450×360 px a panel, the panels side by side. Each panel has its
/// title, epochs 1..max(epochs, 2) on the x axis (whole-epoch ticks, at most about ten labels),
/// a y axis spanning the finite values on 1-2-5 ticks with grid lines, one <polyline> per
/// series with a marker per value, and a legend in the right-hand corner (top or bottom) fewer
/// points fall into. Labels and titles are XML-escaped.
std::string curves_svg(const std::vector<Panel>& panels, std::size_t epochs);

}  // namespace xgrad::plot
