#include "plot/heatmap.hpp"

#include "autograd/errors.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <iterator>
#include <regex>
#include <string>

using namespace xgrad;

namespace {

std::ptrdiff_t occurrences(const std::string& text, const char* what) {
    const std::regex pattern(what);
    return std::distance(std::sregex_iterator(text.begin(), text.end(), pattern),
                         std::sregex_iterator());
}

}  // namespace

TEST_CASE("confusion_matrix_svg: a cell per count, coloured by count, with names and axes") {
    // [[2, 1], [0, 4]]: the largest count, 4, is the darkest blue; 0 is white; 2 is halfway
    // (255 + (0x08 - 255)·0.5 = 131.5 → 132 = 0x84, 255 + (0x30 - 255)·0.5 = 151.5 → 152 = 0x98,
    // 255 + (0x6b - 255)·0.5 = 181 = 0xb5)
    const std::string svg = plot::confusion_matrix_svg({2, 1, 0, 4}, 2, {"cat", "d<g"},
                                                       plot::Normalize::none, "test set");
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(occurrences(svg, "<rect class=\"cell\"") == 4);
    CHECK(svg.find("fill=\"#08306b\" stroke=\"#fff\"/>\n<text x=\"139.0\" y=\"120.0\" "
                   "text-anchor=\"middle\" font-size=\"12\" fill=\"#fff\">4</text>") !=
          std::string::npos);  // white text on the darkest cell
    CHECK(svg.find("fill=\"#ffffff\"") != std::string::npos);
    CHECK(svg.find("fill=\"#8498b5\"") != std::string::npos);
    CHECK(svg.find(">d&lt;g</text>") != std::string::npos);
    CHECK(occurrences(svg, ">cat</text>") == 2);  // a row label and a column label
    CHECK(svg.find(">predicted</text>") != std::string::npos);
    CHECK(svg.find(">true</text>") != std::string::npos);
    CHECK(svg.find(">test set</text>") != std::string::npos);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
}

TEST_CASE("confusion_matrix_svg: normalized rows show fractions") {
    // rows [3, 1] and [0, 0]: 0.75 and 0.25; an empty row is 0.00
    const std::string svg = plot::confusion_matrix_svg({3, 1, 0, 0}, 2, {}, plot::Normalize::rows);
    CHECK(svg.find(">0.75</text>") != std::string::npos);
    CHECK(svg.find(">0.25</text>") != std::string::npos);
    CHECK(occurrences(svg, ">0.00</text>") == 2);
    CHECK(occurrences(svg, ">0</text>") == 2);  // the class names 0 and 1, along both axes
}

TEST_CASE("confusion_matrix_svg: wrong sizes are named, a file that cannot be written too") {
    CHECK_THROWS_WITH_AS(plot::confusion_matrix_svg({1, 2, 3}, 2),
                         doctest::Contains("got 3 counts, num_classes=2"), ShapeError);
    CHECK_THROWS_WITH_AS(plot::confusion_matrix_svg({1, 2, 3, 4}, 2, {"a", "b", "c"}),
                         "confusion_matrix_svg: expected 2 class names (one per class); got 3",
                         ValueError);
    testing::TempDir dir;
    const std::string path = dir / "cm.svg";
    plot::save_confusion_matrix_svg(path, {1, 0, 0, 1}, 2);
    CHECK(testing::read_file(path) == plot::confusion_matrix_svg({1, 0, 0, 1}, 2));
    const std::string missing = dir / "no/such/dir/cm.svg";
    CHECK_IO_ERROR(plot::save_confusion_matrix_svg(missing, {1, 0, 0, 1}, 2),
                   "save_confusion_matrix_svg: cannot create the temporary file '" + missing,
                   missing);
}
