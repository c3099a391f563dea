#include "plot/image_grid.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "autograd/shape.hpp"
#include "plot/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace xgrad::plot {
namespace {

// A pixel quantised to one of 2·kLevels + 1 colours: level 0 is white (left out), positive levels
// are ink (or red), negative ones blue. Quantising lets equal neighbours merge into one rectangle.
constexpr int kLevels = 32;

std::string colour_of(int level, Colormap map) {
    const double t = std::abs(level) / double(kLevels);  // 0 white .. 1 full colour
    const int fade = static_cast<int>(std::lround(255 * (1 - t)));
    if (map == Colormap::ink) return fmt::format("#{0:02x}{0:02x}{0:02x}", fade);
    return level > 0 ? fmt::format("#ff{0:02x}{0:02x}", fade)
                     : fmt::format("#{0:02x}{0:02x}ff", fade);
}

}  // namespace

template <class T>
std::string image_grid_svg(const xt::xarray<T>& images, const std::vector<std::string>& captions,
                           const ImageGridOptions& options) {
    if (images.dimension() != 3) {
        throw ShapeError(fmt::format("image_grid_svg: expected images [n, h, w]; got images={}",
                                     shape_str(images.shape())));
    }
    const std::size_t n = images.shape()[0], h = images.shape()[1], w = images.shape()[2];
    if (!captions.empty() && captions.size() != n) {
        throw ShapeError(
            fmt::format("image_grid_svg: expected 0 or {} captions for images={}; got {} captions",
                        n, shape_str(images.shape()), captions.size()));
    }
    if (options.columns() == 0 || options.scale() == 0) {
        throw ValueError(
            fmt::format("image_grid_svg: columns and scale must be >= 1; got "
                        "columns={}, scale={}",
                        options.columns(), options.scale()));
    }
    const std::size_t s = options.scale(),
                      columns = std::min(options.columns(), std::max<std::size_t>(n, 1));
    const std::size_t cell_w = w * s, cell_h = h * s, gap = 10;
    const std::size_t caption_h = captions.empty() ? 0 : 20, top = options.title().empty() ? 5 : 30;
    std::size_t caption_w = 0;  // about 7 px a character at font-size 13
    for (const std::string& c : captions)
        caption_w = std::max(caption_w, 7 * c.size());
    const std::size_t pitch_x = std::max(cell_w, caption_w) + gap;
    const std::size_t pitch_y = cell_h + caption_h + gap;
    const std::size_t rows = (n + columns - 1) / columns;

    std::string svg = svg_begin(
        columns * pitch_x + gap, top + rows * pitch_y,
        " font-family=\"sans-serif\" font-size=\"13\" shape-rendering=\"crispEdges\"", "white");
    if (!options.title().empty()) {
        svg +=
            fmt::format("<text x=\"{}\" y=\"20\">{}</text>\n", gap, xml_escaped(options.title()));
    }
    auto out = std::back_inserter(svg);
    std::vector<int> level(w);
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t x0 = gap + (k % columns) * pitch_x + (pitch_x - gap - cell_w) / 2;
        const std::size_t y0 = top + (k / columns) * pitch_y;
        const T* image = images.data() + k * h * w;
        double range = 1;  // ink: values are already in [0, 1]
        if (options.colormap() == Colormap::diverging) {
            range = 0;
            for (std::size_t i = 0; i < h * w; ++i)
                range = std::max(range, std::abs(double(image[i])));
            if (range == 0) range = 1;
        }
        fmt::format_to(out,
                       "<g transform=\"translate({},{})\"><rect width=\"{}\" height=\"{}\" "
                       "fill=\"white\" stroke=\"#bbb\"/>\n",
                       x0, y0, cell_w, cell_h);
        for (std::size_t r = 0; r < h; ++r) {
            for (std::size_t c = 0; c < w; ++c) {
                double v = double(image[r * w + c]) / range;
                if (options.colormap() == Colormap::ink) v = std::clamp(v, 0.0, 1.0);
                level[c] = static_cast<int>(std::lround(std::clamp(v, -1.0, 1.0) * kLevels));
            }
            for (std::size_t c = 0; c < w;) {  // one rectangle per run of equal levels
                std::size_t end = c + 1;
                while (end < w && level[end] == level[c])
                    ++end;
                if (level[c] != 0) {
                    fmt::format_to(out,
                                   "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                                   "fill=\"{}\"/>",
                                   c * s, r * s, (end - c) * s, s,
                                   colour_of(level[c], options.colormap()));
                }
                c = end;
            }
        }
        if (!captions.empty()) {
            fmt::format_to(out, "\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                           cell_w / 2, cell_h + 15, xml_escaped(captions[k]));
        }
        svg += "</g>\n";
    }
    svg += svg_end();
    return svg;
}

template <class T>
void save_image_grid_svg(const std::string& path, const xt::xarray<T>& images,
                         const std::vector<std::string>& captions,
                         const ImageGridOptions& options) {
    save_text("save_image_grid_svg", path, image_grid_svg(images, captions, options));
}

#define XGRAD_INSTANTIATE_IMAGE(T)                                                             \
    template std::string image_grid_svg(const xt::xarray<T>&, const std::vector<std::string>&, \
                                        const ImageGridOptions&);                              \
    template void save_image_grid_svg(const std::string&, const xt::xarray<T>&,                \
                                      const std::vector<std::string>&, const ImageGridOptions&);
XGRAD_INSTANTIATE_IMAGE(float)
XGRAD_INSTANTIATE_IMAGE(double)
#undef XGRAD_INSTANTIATE_IMAGE

}  // namespace xgrad::plot
