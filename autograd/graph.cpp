#include "autograd/graph.hpp"

#include "autograd/io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace xgrad {

std::string xml_escaped(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

template <class T>
std::vector<Tensor<T>> tape_of(const Tensor<T>& output) {
    // Iterative walk (no recursion: graphs can be 10^6 ops deep).
    std::vector<Tensor<T>> ops, leaves, stack{output};
    std::unordered_set<const Node<T>*> seen{output.node()};
    while (!stack.empty()) {
        Tensor<T> t = std::move(stack.back());
        stack.pop_back();
        (t.is_leaf() ? leaves : ops).push_back(t);
        const auto& ins = t.inputs();
        for (auto it = ins.rbegin(); it != ins.rend(); ++it) {
            if (seen.insert(it->node()).second) stack.push_back(*it);
        }
    }
    std::sort(ops.begin(), ops.end(), [](const Tensor<T>& a, const Tensor<T>& b) {
        return a.tape_position() < b.tape_position();
    });
    // Leaves in order of creation (a, b, c as the program wrote them).
    std::vector<Tensor<T>> ordered;
    std::unordered_set<const Node<T>*> listed;
    for (const auto& op : ops) {
        for (const auto& in : op.inputs()) {
            if (in.is_leaf() && listed.insert(in.node()).second) ordered.push_back(in);
        }
    }
    if (output.is_leaf()) ordered.push_back(output);
    std::sort(ordered.begin(), ordered.end(), [](const Tensor<T>& a, const Tensor<T>& b) {
        return a.node()->created < b.node()->created;
    });
    ordered.insert(ordered.end(), ops.begin(), ops.end());
    return ordered;
}

template <class T>
std::string format_value(const xt::xarray<T>& value) {
    if (value.dimension() == 0) return fmt::format("{:g}", value());
    if (value.size() <= 8) {
        return fmt::format("[{:g}]", fmt::join(value.begin(), value.end(), ", "));
    }
    // Too many to read: a few statistics instead (NaN shows as NaN in all three).
    double lo = value.data()[0], hi = lo, sum = 0;
    for (const T v : value) {
        lo = std::isnan(lo) || v < lo ? v : lo;
        hi = std::isnan(hi) || v > hi ? v : hi;
        sum += static_cast<double>(v);
    }
    for (const T v : value) {
        if (std::isnan(v)) lo = hi = v;
    }
    return fmt::format("{{min {:.4g}, mean {:.4g}, max {:.4g}}}", lo,
                       sum / static_cast<double>(value.size()), hi);
}

template <class T>
std::string display_name(const Tensor<T>& t) {
    if (!t.name().empty()) return t.name();
    if (!t.is_leaf()) return fmt::format("t{}", t.tape_position());
    if (t.size() == 1 && !t.requires_grad()) return fmt::format("{:g}", *t.value().data());
    return "leaf";
}

namespace {

// "[k]" after the op name for output k of an op with several outputs ("lstm_cell[1]").
template <class T>
std::string output_suffix(const Tensor<T>& t) {
    return t.node()->outputs ? fmt::format("[{}]", t.output_index()) : std::string();
}

}  // namespace

namespace detail {

template <class T>
std::string call_text(const Tensor<T>& t) {
    std::vector<std::string> args;
    for (const auto& in : t.inputs())
        args.push_back(display_name(in));
    const auto* fn = t.function();
    const std::string attrs = fn ? fn->attributes() : std::string();
    return fmt::format("{}{}({}{}{})", t.op_name(), output_suffix(t), fmt::join(args, ", "),
                       attrs.empty() ? "" : "; ", attrs);
}

}  // namespace detail

namespace {

// Quotes and backslashes escaped; a newline becomes DOT's "\n" line break.
std::string dot_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

namespace detail {

template <class T>
std::string scope_of(const Tensor<T>& t) {
    const char* s = t.node()->scope;
    return s != nullptr ? s : "";
}

template <class T>
std::unordered_map<const Node<T>*, std::string> placed_scopes(const std::vector<Tensor<T>>& tape) {
    std::unordered_map<const Node<T>*, std::string> placed;
    for (const auto& t : tape) {
        if (t.is_leaf()) continue;
        placed[t.node()] = scope_of(t);
        for (const auto& in : t.inputs()) {
            if (!in.is_leaf() || !in.requires_grad()) continue;
            auto [it, fresh] = placed.emplace(in.node(), scope_of(t));
            if (!fresh && it->second != scope_of(t)) it->second.clear();  // used in two scopes
        }
    }
    return placed;
}

}  // namespace detail

using detail::call_text;
using detail::scope_of;

template <class T>
std::string format_tape(const Tensor<T>& output) {
    std::string text;
    const std::vector<Tensor<T>> tape = tape_of(output);
    // With scopes on the tape (a model's modules), a heading line starts each run of ops
    // recorded in one scope.
    const bool scoped = std::any_of(tape.begin(), tape.end(),
                                    [](const Tensor<T>& t) { return !scope_of(t).empty(); });
    std::string current;
    for (const auto& t : tape) {
        if (scoped && !t.is_leaf() && scope_of(t) != current) {
            current = scope_of(t);
            text += current.empty() ? std::string("  (outside every module)\n")
                                    : fmt::format("  in {}:\n", current);
        }
        const std::string value =
            fmt::format("{} = {}", shape_str(t.shape()), format_value(t.value()));
        if (t.is_leaf()) {
            text +=
                fmt::format("   {} {:<24} {}{}\n", "  ", fmt::format("{} (leaf)", display_name(t)),
                            value, t.requires_grad() ? "  requires grad" : "");
        } else {
            text += fmt::format("#{:<4} {:<24} {}\n", t.tape_position(),
                                fmt::format("{} = {}", display_name(t), call_text(t)), value);
        }
    }
    return text;
}

template <class T>
void print_tape(const Tensor<T>& output, std::FILE* out) {
    fmt::print(out, "{}", format_tape(output));
}

// Note [graph clusters]
// to_dot draws each NameScope as a Graphviz cluster (a labelled box), nested as the scopes are:
// "encoder.0" inside "encoder". An op and the tensor it makes go into the cluster of the scope
// the op was recorded in; a leaf that requires grad (a parameter) goes into the cluster of its
// consumers when they all share one scope, so a Linear's weight and bias sit in the Linear's
// box; other leaves (the data) stay outside. Edges are drawn after every cluster is closed.
template <class T>
std::string to_dot(const Tensor<T>& output) {
    const std::vector<Tensor<T>> tape = tape_of(output);
    std::unordered_map<const Node<T>*, std::size_t> index;  // stable ids: n0, n1, ... in tape order
    for (const auto& t : tape)
        index.emplace(t.node(), index.size());
    const auto placed = detail::placed_scopes(tape);  // the scope each tensor is drawn in
    // Each tensor's box and op ellipse, collected per scope.
    std::map<std::string, std::string> body;
    std::string edges;
    for (const auto& t : tape) {
        const std::size_t id = index.at(t.node());
        const auto where = placed.find(t.node());
        std::string& out = body[where != placed.end() ? where->second : std::string()];
        const std::string name = display_name(t), value = format_value(t.value());
        std::string label = name == value ? value : fmt::format("{} = {}", name, value);
        if (t.value().size() > 8)
            label = fmt::format("{} {}\n{}", name, shape_str(t.shape()), value);
        if (t.grad().defined()) label += fmt::format("\ngrad = {}", format_value(t.grad().value()));
        out += fmt::format("  n{} [shape=box, style=rounded, label=\"{}\"{}];\n", id,
                           dot_escape(label), t.requires_grad() ? "" : ", color=gray");
        if (t.is_leaf()) continue;
        const auto* fn = t.function();
        const std::string attrs = fn ? fn->attributes() : std::string();
        out += fmt::format("  op{} [shape=ellipse, label=\"#{} {}{}{}\"];\n", id, t.tape_position(),
                           t.op_name(), output_suffix(t),
                           attrs.empty() ? "" : dot_escape("\n" + attrs));
        for (const auto& in : t.inputs()) {
            edges += fmt::format("  n{} -> op{};\n", index.at(in.node()), id);
        }
        edges += fmt::format("  op{} -> n{};\n", id, id);
    }
    // Every scope's ancestors get a cluster too ("encoder" for "encoder.0"), even when empty.
    std::set<std::string> scopes;
    for (const auto& [scope, text] : body) {
        for (std::size_t dot = scope.find('.'); dot != std::string::npos;
             dot = scope.find('.', dot + 1))
            scopes.insert(scope.substr(0, dot));
        if (!scope.empty()) scopes.insert(scope);
    }
    std::string dot = "digraph xgrad {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
    dot += body[""];
    // In sorted order a scope's descendants follow it directly ("a", "a.b", "a.b.c", "a.d", "b"),
    // so a stack of open clusters nests them.
    std::vector<std::string> open;
    std::size_t cluster = 0;
    for (const auto& scope : scopes) {
        while (!open.empty() && scope.rfind(open.back() + ".", 0) != 0) {
            dot += "  }\n";
            open.pop_back();
        }
        dot += fmt::format("  subgraph cluster_{} {{\n  label=\"{}\";\n  style=rounded;\n",
                           cluster++, dot_escape(scope));
        dot += body[scope];
        open.push_back(scope);
    }
    for (std::size_t i = 0; i < open.size(); ++i)
        dot += "  }\n";
    return dot + edges + "}\n";
}

template <class T>
void save_dot(const Tensor<T>& output, const std::string& path) {
    save_text("save_dot", path, to_dot(output));
}

template <class T>
std::vector<BackwardStep<T>> trace_backward(const Tensor<T>& output, bool retain_graph) {
    std::vector<BackwardStep<T>> steps;
    backward<T>({output}, {}, retain_graph, false,
                [&](const BackwardStep<T>& s) { steps.push_back(s); });
    return steps;
}

template <class T>
std::string format_step(const BackwardStep<T>& step, const Tensor<T>& output) {
    const std::string root = display_name(output);
    const Tensor<T>& y = step.output;
    std::vector<std::string> outs;
    for (std::size_t i = 0; i < step.grad_inputs.size(); ++i) {
        if (!step.grad_inputs[i].defined()) continue;
        outs.push_back(fmt::format("d{}/d{} += {}", root, display_name(y.inputs()[i]),
                                   format_value(step.grad_inputs[i].value())));
    }
    return fmt::format("#{} {} = {}   d{}/d{} = {}   =>   {}", y.tape_position(), display_name(y),
                       call_text(y), root, display_name(y), format_value(step.grad_output.value()),
                       fmt::join(outs, ", "));
}

#define XGRAD_INSTANTIATE(T)                                                        \
    template std::vector<Tensor<T>> tape_of(const Tensor<T>&);                      \
    template std::string display_name(const Tensor<T>&);                            \
    template std::string format_tape(const Tensor<T>&);                             \
    template void print_tape(const Tensor<T>&, std::FILE*);                         \
    template std::string to_dot(const Tensor<T>&);                                  \
    template void save_dot(const Tensor<T>&, const std::string&);                   \
    template std::vector<BackwardStep<T>> trace_backward(const Tensor<T>&, bool);   \
    template std::string format_step(const BackwardStep<T>&, const Tensor<T>&);     \
    template std::string format_value(const xt::xarray<T>&);                        \
    template std::string detail::call_text(const Tensor<T>&);                       \
    template std::string detail::scope_of(const Tensor<T>&);                        \
    template std::unordered_map<const Node<T>*, std::string> detail::placed_scopes( \
        const std::vector<Tensor<T>>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
