#include "plot/svg.hpp"

#include <fmt/format.h>

namespace xgrad::plot {

std::string svg_begin(std::size_t width, std::size_t height, const std::string& attributes,
                      const std::string& background, bool xml_declaration) {
    return fmt::format(
        "{}<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\"{}>\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"{}\"/>\n",
        xml_declaration ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : "", width, height,
        attributes, background);
}

std::string svg_end() {
    return "</svg>\n";
}

}  // namespace xgrad::plot
