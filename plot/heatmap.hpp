#pragma once

#include <cstddef>
#include <string>
#include <vector>

// Heat maps: a grid of cells coloured by value with the value written in each, as a confusion
// matrix is drawn (the counts come from nn::ConfusionMatrix::counts(); plot/ sits beside nn/,
// so it takes them as a plain vector).
namespace xgrad::plot {

/// How confusion_matrix_svg colours and labels its cells.
enum class Normalize {
    none,  ///< colour by count (0 .. the largest count), the counts in the cells
    rows   ///< colour by the row's fraction (count / row sum, sklearn's normalize="true"), the
           ///< fractions in the cells with two decimals (a row without examples is all 0)
};

/// A standalone SVG document of a confusion matrix: counts row-major [c, c] (row = true class,
/// column = predicted), white (0) to dark blue (the maximum), the number in each cell (white on
/// dark cells), class names along both axes (`class_names`: c names, or 0..c-1 when empty), the
/// axis titles "predicted" (x, on top of the columns' names below the grid) and "true" (y), and
/// `title` above when not empty. Cells are 48 px (more for long names); text is XML-escaped.
/// ShapeError when counts does not hold c·c values or c = 0, ValueError for a wrong number of
/// names.
std::string confusion_matrix_svg(const std::vector<std::size_t>& counts, std::size_t num_classes,
                                 const std::vector<std::string>& class_names = {},
                                 Normalize normalize = Normalize::none,
                                 const std::string& title = "");

/// Writes confusion_matrix_svg(...) to `path` atomically (xgrad::save_text: a temporary file,
/// synced and renamed); IoError naming the file when it cannot be written.
void save_confusion_matrix_svg(const std::string& path, const std::vector<std::size_t>& counts,
                               std::size_t num_classes,
                               const std::vector<std::string>& class_names = {},
                               Normalize normalize = Normalize::none,
                               const std::string& title = "");

}  // namespace xgrad::plot
