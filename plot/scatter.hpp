#pragma once

#include <cstddef>
#include <string>
#include <vector>

// A scatter plot of labelled points, one colour per class with a legend: the 2-D map of a
// network's codes (examples/autoencoder.cpp). SVG (plot/svg.hpp).
namespace xgrad::plot {

/// Points (x[i], y[i]) with classes labels[i] < class_names.size(), drawn as dots coloured by
/// class (a ten-colour palette, repeated past ten), axes scaled to the points, a legend with the
/// class names, and `title` above. ShapeError when x, y and labels differ in length, ValueError
/// for a label out of range, no classes, or a non-finite coordinate (each naming the point).
std::string scatter_svg(const std::vector<double>& x, const std::vector<double>& y,
                        const std::vector<std::size_t>& labels,
                        const std::vector<std::string>& class_names, const std::string& title);

/// Writes scatter_svg(...) to `path` atomically (IoError naming the file when it cannot).
void save_scatter_svg(const std::string& path, const std::vector<double>& x,
                      const std::vector<double>& y, const std::vector<std::size_t>& labels,
                      const std::vector<std::string>& class_names, const std::string& title);

}  // namespace xgrad::plot
