#include "plot/curves.hpp"

#include <doctest/doctest.h>

#include <iterator>
#include <limits>
#include <regex>
#include <string>

using namespace xgrad;

TEST_CASE("curves_svg: one panel per chart side by side, a polyline per series") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const plot::Panel loss{"loss",
                           {{"training", {3, 2, 1}, "#1f77b4", false},
                            {"validation", {3.5, nan, 2}, "#ff7f0e", true}}};
    const plot::Panel accuracy{"a < b", {{"x & y", {0.5, 0.75, 0.875}, "green", false}}};
    const std::string svg = plot::curves_svg({loss, accuracy}, 3);
    auto occurrences = [&](const char* what) {  // `what` holds no regex metacharacters
        const std::regex pattern(what);
        return std::distance(std::sregex_iterator(svg.begin(), svg.end(), pattern),
                             std::sregex_iterator());
    };
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("width=\"900\" height=\"360\" viewBox=\"0 0 900 360\"") != std::string::npos);
    CHECK(occurrences("<g class=\"panel\">") == 2);
    CHECK(occurrences("<polyline") == 3);
    CHECK(occurrences("<circle") == 8);           // a marker per finite value: 3 + 2 + 3
    CHECK(occurrences("stroke-dasharray") == 2);  // the dashed curve and its legend line
    CHECK(svg.find(">a &lt; b</text>") != std::string::npos);  // titles and labels escaped
    CHECK(svg.find(">x &amp; y</text>") != std::string::npos);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
}

TEST_CASE("curves_svg: the first epoch sits on the left edge, the last on the right") {
    // The plot area spans x = 70 .. 430 and y = 300 (bottom) .. 40; values 1..5 on ticks of 1
    // fill it: epoch e at x = 70 + 90·(e − 1), value v at y = 300 − 65·(v − 1).
    const plot::Series rising{"training", {1, 2, 3, 4, 5}, "red", false};
    const std::string svg = plot::curves_svg({{"loss", {rising}}}, 5);
    CHECK(svg.find("points=\"70.0,300.0 160.0,235.0 250.0,170.0 340.0,105.0 430.0,40.0\"") !=
          std::string::npos);
}
