#include "plot/scatter.hpp"

#include "autograd/errors.hpp"

#include "testing.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

using namespace xgrad;
using testing::count;

TEST_CASE("scatter_svg: one dot per point in its class's colour, a legend, the corners placed") {
    const std::string svg = plot::scatter_svg({0, 1, 0.5}, {0, 1, 0.25}, {0, 1, 1},
                                              {"T-shirt", "Bag & co"}, "codes <2-D>");
    CHECK(svg.rfind("<svg ", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
    // three points and two legend dots; class 0 blue (one point + legend), class 1 orange
    CHECK(count(svg, "<circle") == 5);
    CHECK(count(svg, "fill=\"#4e79a7\"") == 2);
    CHECK(count(svg, "fill=\"#f28e2b\"") == 3);
    CHECK(svg.find("Bag &amp; co") != std::string::npos);
    CHECK(svg.find("codes &lt;2-D&gt;") != std::string::npos);
    // the range [0, 1] widened by 3% on each side over a 520 px square from (40, 40): the point
    // (0, 0) lands at x = 40 + 0.03/1.06·520 = 54.7 and y = 560 − 14.7 = 545.3
    CHECK(svg.find("cx=\"54.7\" cy=\"545.3\"") != std::string::npos);
    CHECK(svg.find("cx=\"545.3\" cy=\"54.7\"") != std::string::npos);
}

TEST_CASE("scatter_svg: mismatched lengths, labels out of range and NaN are refused by name") {
    CHECK_THROWS_WITH_AS(plot::scatter_svg({0, 1}, {0}, {0, 0}, {"a"}, ""),
                         "scatter_svg: x, y and labels must have one entry per point; got x=2, "
                         "y=1, labels=2",
                         ShapeError);
    CHECK_THROWS_WITH_AS(plot::scatter_svg({0}, {0}, {3}, {"a", "b"}, ""),
                         "scatter_svg: label 3 of point 0 is not a class (there are 2 class names)",
                         ValueError);
    CHECK_THROWS_WITH_AS(plot::scatter_svg({0, NAN}, {0, 1}, {0, 0}, {"a"}, ""),
                         "scatter_svg: point 1 is (nan, 1); coordinates must be finite",
                         ValueError);
    CHECK_THROWS_AS(plot::scatter_svg({}, {}, {}, {}, ""), ValueError);
    CHECK(count(plot::scatter_svg({}, {}, {}, {"a"}, ""), "<circle") == 1);  // the legend only
}
