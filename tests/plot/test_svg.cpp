#include "plot/svg.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace xgrad;

TEST_CASE("xml_escaped: the five characters XML reserves become entities, others stay") {
    CHECK(plot::xml_escaped("a<b & \"c\" > d → e") == "a&lt;b &amp; &quot;c&quot; &gt; d → e");
    CHECK(plot::xml_escaped("it's") == "it&#39;s");
    CHECK(plot::xml_escaped("") == "");
}

TEST_CASE("svg_begin: the <svg> element with its attributes, a background, and svg_end") {
    CHECK(plot::svg_begin(30, 20, " font-size=\"13\"", "white") ==
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"30\" height=\"20\" "
          "font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    const std::string declared = plot::svg_begin(1, 2, "", "#fff", /*xml_declaration=*/true);
    CHECK(declared.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0) == 0);
    CHECK(plot::svg_end() == "</svg>\n");
}
