#pragma once

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

#include <xtensor/xarray.hpp>

#include <cstddef>
#include <string>
#include <vector>

// Pictures of images for a person to look at: misclassified examples with their labels, the
// filters a convolution learned. Written as SVG (plot/svg.hpp), one small square per pixel.
namespace xgrad::plot {

/// How a pixel value becomes a colour:
/// - ink: values in [0, 1] (clamped) from white (0) to black (1), as digits and clothes are drawn;
/// - diverging: each image scaled by its own largest |value|, negative blue, zero white, positive
///   red — for weights, whose sign matters (a first-layer filter).
enum class Colormap { ink, diverging };

/// Options of image_grid_svg: `ImageGridOptions().title("misclassified").columns(8).scale(3)`.
/// columns >= 1 (default 8) images per row, scale >= 1 (default 4) screen pixels per image pixel,
/// colormap (default ink), title (default none) above the grid.
class ImageGridOptions {
public:
    ImageGridOptions& title(std::string v) {
        title_ = std::move(v);
        return *this;
    }
    const std::string& title() const { return title_; }
    ImageGridOptions& columns(std::size_t v) {
        columns_ = v;
        return *this;
    }
    std::size_t columns() const { return columns_; }
    ImageGridOptions& scale(std::size_t v) {
        scale_ = v;
        return *this;
    }
    std::size_t scale() const { return scale_; }
    ImageGridOptions& colormap(Colormap v) {
        colormap_ = v;
        return *this;
    }
    Colormap colormap() const { return colormap_; }

private:
    std::string title_;
    std::size_t columns_ = 8;
    std::size_t scale_ = 4;
    Colormap colormap_ = Colormap::ink;
};

/// A standalone SVG document showing images [n, h, w] in a grid, row by row, each with its caption
/// underneath (`captions` is empty or holds n strings; they are XML-escaped). Pixels that would be
/// white are left out and equal neighbours in a row are drawn as one rectangle, so a grid of 32
/// 28×28 images stays well under a megabyte. ShapeError for images that are not 3-D or a caption
/// count other than 0 or n; ValueError for columns or scale 0. T: float or double.
template <class T>
std::string image_grid_svg(const xt::xarray<T>& images, const std::vector<std::string>& captions,
                           const ImageGridOptions& options = ImageGridOptions());

/// Writes image_grid_svg(...) to `path` atomically (IoError naming the file on failure).
template <class T>
void save_image_grid_svg(const std::string& path, const xt::xarray<T>& images,
                         const std::vector<std::string>& captions,
                         const ImageGridOptions& options = ImageGridOptions());

}  // namespace xgrad::plot
