#include "plot/image_grid.hpp"

#include "autograd/errors.hpp"

#include "testing.hpp"

#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace xgrad;
using testing::count;

TEST_CASE("image_grid_svg: equal neighbours merge, white is left out, captions are escaped") {
    // Image 0 row 0 = [1, 1, 0]: one black run 2 pixels wide (6 px at scale 3); row 1 is white.
    // Image 1 row 0 = [0.5, 0, 0.5]: two grey single pixels (0.5 → level 16 → 255·0.5 = 0x80).
    xt::xarray<double> images = {{{1, 1, 0}, {0, 0, 0}}, {{0.5, 0, 0.5}, {0, 0, 0}}};
    const std::string svg = plot::image_grid_svg(
        images, {"a<b", "c&d"}, plot::ImageGridOptions().columns(2).scale(3).title("t"));
    CHECK(svg.rfind("<svg ", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
    CHECK(count(svg, "<rect x=") == 3);  // the merged black run and two grey pixels
    CHECK(svg.find("<rect x=\"0\" y=\"0\" width=\"6\" height=\"3\" fill=\"#000000\"/>") !=
          std::string::npos);
    CHECK(count(svg, "fill=\"#808080\"") == 2);
    CHECK(svg.find("a&lt;b") != std::string::npos);
    CHECK(svg.find("c&amp;d") != std::string::npos);
    CHECK(svg.find(">t</text>") != std::string::npos);
}

TEST_CASE("image_grid_svg: diverging colours scale each image by its largest magnitude") {
    // max |v| = 2: -2 → full blue, 1 → half red (255·0.5 = 0x80 in green and blue), 0 left out.
    xt::xarray<float> filters = {{{-2, 1, 0}}};
    const std::string svg = plot::image_grid_svg(
        filters, {}, plot::ImageGridOptions().colormap(plot::Colormap::diverging));
    CHECK(count(svg, "<rect x=") == 2);
    CHECK(svg.find("fill=\"#0000ff\"") != std::string::npos);
    CHECK(svg.find("fill=\"#ff8080\"") != std::string::npos);
}

TEST_CASE("image_grid_svg: bad shapes and options are named") {
    xt::xarray<double> flat = xt::xarray<double>::from_shape({2, 4});
    CHECK_THROWS_WITH_AS(plot::image_grid_svg(flat, {}),
                         doctest::Contains("expected images [n, h, w]; got images=[2, 4]"),
                         ShapeError);
    xt::xarray<double> two = xt::xarray<double>::from_shape({2, 1, 1});
    CHECK_THROWS_WITH_AS(plot::image_grid_svg(two, {"only one"}),
                         doctest::Contains("expected 0 or 2 captions"), ShapeError);
    CHECK_THROWS_AS(plot::image_grid_svg(two, {}, plot::ImageGridOptions().scale(0)), ValueError);
}

TEST_CASE("save_image_grid_svg: writes the document, and an unwritable path is an IoError") {
    const auto path = std::filesystem::temp_directory_path() / "xgrad_test_image_grid.svg";
    xt::xarray<double> images = xt::ones<double>({1, 1, 1});
    plot::save_image_grid_svg(path.string(), images, {"x"});
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == plot::image_grid_svg(images, {"x"}));
    std::filesystem::remove(path);
    CHECK_THROWS_WITH_AS(plot::save_image_grid_svg("/nonexistent-dir/g.svg", images, {}),
                         doctest::Contains("/nonexistent-dir/g.svg"), IoError);
}
