#pragma once

#include "autograd/graph.hpp"

#include <cstddef>
#include <string>

// What every picture xgrad draws shares: SVG text (no image library needed), a standalone
// document's start and end, and text made safe to put in it. Pictures are written to files with
// xgrad::save_text (autograd/io.hpp), atomically.
namespace xgrad::plot {

/// `text` with &, <, >, " and ' replaced by entities, for SVG text content and attribute values
/// (the engine's own, autograd/graph.hpp, which save_html uses too).
using xgrad::xml_escaped;

/// The start of a standalone SVG document of width × height px: the <svg> element with
/// `attributes` after its size (each written ` name="value"`, e.g. ` font-family="sans-serif"`),
/// then a rectangle filling the page with the colour `background`. With `xml_declaration` the
/// line <?xml version="1.0" encoding="UTF-8"?> comes first. svg_end() closes the document.
std::string svg_begin(std::size_t width, std::size_t height, const std::string& attributes,
                      const std::string& background, bool xml_declaration = false);

/// The end of a document svg_begin() started: "</svg>" and a newline.
std::string svg_end();

}  // namespace xgrad::plot
