#pragma once

// Looking at the graph, for teaching and debugging: the tape as text, Graphviz DOT with values
// and gradients, and a backward pass traced step by step. See docs/tape.md.

#include "autograd/tape.hpp"

#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

namespace xgrad {

/// Every tensor the graph of `output` reaches: leaves first (in order of first use), then the
/// recorded ops in tape order (ending with `output`).
template <class T>
std::vector<Tensor<T>> tape_of(const Tensor<T>& output);

/// The label a listing uses for `t`: its name, else a one-element constant's value ("3"), else
/// "t<tape position>" for a computed tensor or "leaf" for an unnamed leaf.
template <class T>
std::string display_name(const Tensor<T>& t);

/// The tape of `output` as text, one line per op, in execution order (the Wengert list):
///   #2 v = add(a, u)  [] = 11
template <class T>
std::string format_tape(const Tensor<T>& output);

/// Writes format_tape(output) to `out` (stdout by default).
template <class T>
void print_tape(const Tensor<T>& output, std::FILE* out = stdout);

/// The graph of `output` in Graphviz DOT: a box per tensor with its value and, once backward has
/// run, its gradient (leaves, and non-leaves that retain_grad()); an ellipse per op.
template <class T>
std::string to_dot(const Tensor<T>& output);

/// Writes to_dot(output) to `path` (through a temporary file and a rename); IoError on failure.
template <class T>
void save_dot(const Tensor<T>& output, const std::string& path);

/// Runs output.backward() (accumulating into leaves as usual) and returns each local step: which
/// op's VJP ran, the gradient it received and the gradients it produced.
template <class T>
std::vector<BackwardStep<T>> trace_backward(const Tensor<T>& output, bool retain_graph = false);

/// One traced step as text, named after `output` (the tensor backward started from):
///   #3 J = mul(3, v)   dJ/dJ = 1   =>   dJ/dv += 3
template <class T>
std::string format_step(const BackwardStep<T>& step, const Tensor<T>& output);

/// Values for a listing: a scalar as "11", up to 8 elements as "[1, 2]", else the shape.
template <class T>
std::string format_value(const xt::xarray<T>& value);

/// The graph of `output` as one self-contained HTML page (inline CSS and script, nothing fetched)
/// a student steps through: forward op by op, then backward VJP by VJP, with each tensor's value
/// and gradient as format_value shows them, laid out left to right, modules collapsible (Note
/// [html page] in autograd/html.cpp). Runs output.backward() as trace_backward does (`output` a
/// scalar; the leaves accumulate their gradients as usual) and shows that pass.
template <class T>
std::string to_html(const Tensor<T>& output, bool retain_graph = false);

/// Writes to_html(output) to `path` (through a temporary file and a rename); IoError on failure.
template <class T>
void save_html(const Tensor<T>& output, const std::string& path, bool retain_graph = false);

/// `text` with &, <, >, " and ' replaced by entities: safe as XML, HTML or SVG text content and
/// attribute values (save_html's page; plot::xml_escaped for the pictures).
std::string xml_escaped(const std::string& text);

namespace detail {

/// The call a listing shows for computed tensor `t`: "mul(b, c)", attributes after a ';'.
template <class T>
std::string call_text(const Tensor<T>& t);

/// The NameScope the op of `t` was recorded in ("" for none).
template <class T>
std::string scope_of(const Tensor<T>& t);

/// The scope each tensor of `tape` is drawn in (Note [graph clusters]); absent: outside every
/// scope.
template <class T>
std::unordered_map<const Node<T>*, std::string> placed_scopes(const std::vector<Tensor<T>>& tape);

}  // namespace detail

}  // namespace xgrad
