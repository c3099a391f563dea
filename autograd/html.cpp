#include "autograd/graph.hpp"
#include "autograd/io.hpp"

#include <fmt/format.h>

#include <unordered_map>

namespace xgrad {

// Note [html page]
// to_html writes one page with no outside resource: the graph's data as JSON in a
// <script type="application/json"> element, then the script that draws it. Every number on the
// page is text C++ made with format_value from the tape's own tensors: the forward values, and
// from the steps of one traced backward pass (trace_backward's tracer) the gradient each VJP
// received, what it passed to each input and that input's gradient summed so far, in the
// order the engine sums it. The script only shows and hides these strings; it computes none.
// Names reach the page as JSON with <, > and & written \u003c, \u003e, \u0026 (so no name can
// close the script element), and the script puts them into the page as text, never as markup.
// The page's DOM is stable for a test driving a browser: each tensor's box has data-node="<id>",
// its gradient is the text of the element with data-grad="<display name>", #status says which
// step is shown (data-phase: start, forward, backward, done), and the URL hash "#step=end",
// "#step=<n>" and "#expand=all" (joined by '&') press the same buttons a student presses.

namespace {

// A JSON string literal that is also safe inside an HTML <script> element.
std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += s[i];
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += fmt::format("\\u{:04x}", c);
        } else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
            // U+2028 and U+2029 end a line in older JavaScript parsers.
            out += static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out + "\"";
}

// Graphs with more tensors than this open with every module collapsed.
constexpr std::size_t collapse_above = 20;

// One input of a traced backward step, as the page shows it.
struct StepInput {
    std::size_t id;
    std::string contribution, local, accumulated;  // empty: none
};

const char* const page_style = R"CSS(
body { font: 14px/1.35 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { padding: 8px 14px; background: #fff; border-bottom: 1px solid #ddd; display: flex;
  flex-wrap: wrap; align-items: center; gap: 8px; }
header h1 { font-size: 16px; margin: 0 12px 0 0; }
button { font: inherit; padding: 3px 10px; border: 1px solid #bbb; border-radius: 4px;
  background: #f4f4f4; cursor: pointer; }
button:hover { background: #e8e8e8; }
#status { font-weight: 600; margin-left: 8px; }
#explain { padding: 8px 14px; background: #fff; border-bottom: 1px solid #ddd; min-height: 64px; }
#explain .line { font-family: ui-monospace, monospace; color: #555; }
#explain table { border-collapse: collapse; margin-top: 4px; }
#explain td, #explain th { padding: 1px 10px 1px 0; text-align: left; }
#explain th { font-weight: 600; color: #555; }
#wrap { overflow: auto; padding: 16px; }
#graph { position: relative; }
#edges { position: absolute; left: 0; top: 0; overflow: visible; }
#edges path { fill: none; stroke: #999; stroke-width: 1.3; }
#edges path.hot { stroke: #d9480f; stroke-width: 2.2; }
.unit { position: absolute; box-sizing: border-box; background: #fff; border: 1.5px solid #888; border-radius: 7px;
  padding: 4px 8px; white-space: nowrap; font-size: 12px; }
.unit.leaf { border-color: #2b8a3e; }
.unit.const { border-color: #aaa; color: #555; }
.unit.module { border-color: #5068c0; background: #f3f5fd; }
.unit.current { border-color: #d9480f; box-shadow: 0 0 0 3px #ffd8a8; }
.unit.input { border-color: #1971c2; box-shadow: 0 0 0 3px #d0ebff; }
.hd { font-size: 11px; color: #666; }
.module > .hd { color: #3b4fa0; cursor: pointer; font-weight: 600; font-size: 12px; }
.nm { font-weight: 600; }
.sh { font-weight: 400; color: #888; font-size: 11px; }
.val, .gr { font-family: ui-monospace, monospace; white-space: normal; max-width: 13em; }
.gr { color: #c92a2a; }
.row { border-top: 1px solid #dde; margin-top: 3px; padding-top: 2px; }
.hidden { visibility: hidden; }
.frame { font-size: 11px; color: #3b4fa0; cursor: pointer; font-weight: 600; }
.legend { color: #777; font-size: 12px; }
.big .unit { font-size: 17px; padding: 6px 12px; }
.big .hd, .big .sh, .big .frame { font-size: 14px; }
)CSS";

const char* const page_script = R"JS(
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("xgrad-data").textContent);
  const nodes = D.nodes, steps = D.backward;
  const order = nodes.filter(function (n) { return !n.leaf; }).map(function (n) { return n.id; });
  order.forEach(function (id, k) { nodes[id].fwd = k + 1; });
  const F = order.length, B = steps.length, LAST = F + B;
  const graph = document.getElementById("graph"), svg = document.getElementById("edges");
  const SVGNS = svg.namespaceURI;
  let step = 0;
  const scopes = [];
  nodes.forEach(function (n) {
    if (!n.scope) return;
    const parts = n.scope.split(".");
    for (let i = 1; i <= parts.length; ++i) {
      const s = parts.slice(0, i).join(".");
      if (scopes.indexOf(s) < 0) scopes.push(s);
    }
  });
  scopes.sort();
  const collapsed = new Set(D.collapse ? scopes : []);
  if (nodes.length <= 12) document.body.classList.add("big");  // a lecture's graph: large print

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function parentScope(s) { const i = s.lastIndexOf("."); return i < 0 ? "" : s.slice(0, i); }
  function hueOf(s) {
    let h = 0;
    for (let i = 0; i < s.length; ++i) h = (h * 31 + s.charCodeAt(i)) % 360;
    return (h * 137) % 360;
  }
  // The box a tensor is drawn in: its own, or that of the outermost collapsed module around it.
  function unitOf(n) {
    if (n.scope) {
      const parts = n.scope.split(".");
      for (let i = 1; i <= parts.length; ++i) {
        const s = parts.slice(0, i).join(".");
        if (collapsed.has(s)) return "m" + s;
      }
    }
    return "n" + n.id;
  }

  // One row of a tensor: header, name and shape, value, gradient.
  function tensorRows(box, n) {
    if (!n.leaf) box.appendChild(el("div", "hd", "#" + n.seq + " " + n.op));
    else box.appendChild(el("div", "hd", n.rg ? "leaf, requires grad" : "leaf"));
    const nm = el("div", "nm", n.name + " ");
    nm.appendChild(el("span", "sh", n.shape));
    box.appendChild(nm);
    if (!n.leaf) box.appendChild(el("div", "sh", n.name + " = " + n.call));
    const v = el("div", "val", "= " + n.value);
    v.dataset.value = n.name;
    box.appendChild(v);
    if (n.rg) {
      const g = el("div", "gr", "grad ");
      const s = el("span", "", widest[n.id] || "");  // the widest text it shows, for the layout
      s.dataset.grad = n.name;
      s.dataset.of = n.id;
      g.appendChild(s);
      box.appendChild(g);
    }
  }

  let units = null, edges = null;
  const widest = {};  // per tensor, the longest gradient text any step shows
  steps.forEach(function (s) {
    const keep = function (id, t) { if (t && (widest[id] || "").length < t.length) widest[id] = t; };
    keep(s.node, s.gin);
    s.inputs.forEach(function (i) { keep(i.id, i.acc); });
  });

  function layout() {
    graph.querySelectorAll(".unit").forEach(function (e) { e.remove(); });
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    graph.style.width = "100000px";  // measure each box at its natural width
    units = new Map();
    nodes.forEach(function (n) {
      const k = unitOf(n);
      if (!units.has(k)) units.set(k, { key: k, nodes: [], ins: [], outs: [], depth: 0, first: n.id });
      units.get(k).nodes.push(n);
    });
    edges = [];
    nodes.forEach(function (n) {
      const u = units.get(unitOf(n));
      n.inputs.forEach(function (i) {
        const w = units.get(unitOf(nodes[i]));
        if (w === u) return;
        if (u.ins.indexOf(w) < 0) { u.ins.push(w); w.outs.push(u); edges.push([w, u]); }
        u.depth = Math.max(u.depth, w.depth + 1);
      });
    });
    // A unit of leaves only sits one column before its first consumer.
    units.forEach(function (u) {
      u.onlyLeaves = u.nodes.every(function (n) { return n.leaf; });
      if (u.onlyLeaves && u.outs.length) {
        u.depth = Math.max(0, Math.min.apply(null, u.outs.map(function (w) { return w.depth; })) - 1);
        u.sortKey = Math.min.apply(null, u.outs.map(function (w) { return w.first; })) - 0.5 + u.first * 1e-6;
      } else {
        u.sortKey = u.first;
      }
    });
    units.forEach(function (u) {
      const box = el("div", "unit");
      if (u.key[0] === "m") {
        const scope = u.key.slice(1);
        box.classList.add("module");
        box.dataset.module = scope;
        const ops = u.nodes.filter(function (n) { return !n.leaf; });
        const hd = el("div", "hd", "\u25b8 " + scope);
        hd.title = "click to open";
        hd.addEventListener("click", function () { collapsed.delete(scope); layout(); show(); });
        box.appendChild(hd);
        const names = [];
        ops.forEach(function (n) { if (names.indexOf(n.op) < 0) names.push(n.op); });
        box.appendChild(el("div", "sh", ops.length + " op" + (ops.length === 1 ? "" : "s") + ": " + names.join(", ")));
        u.nodes.forEach(function (n) {
          if (!n.leaf && n !== ops[ops.length - 1]) return;
          const row = el("div", "row");
          row.dataset.node = n.id;
          tensorRows(row, n);
          box.appendChild(row);
        });
      } else {
        const n = u.nodes[0];
        box.classList.add(n.leaf ? (n.rg ? "leaf" : "const") : "op");
        box.dataset.node = n.id;
        tensorRows(box, n);
      }
      // A box inside an open module: tinted by the module, with a tag that closes it.
      const scope = u.key[0] === "m" ? parentScope(u.key.slice(1)) : u.nodes[0].scope;
      if (scope) {
        const hue = hueOf(scope);
        box.style.background = "hsl(" + hue + ", 70%, 96%)";
        box.style.borderLeft = "5px solid hsl(" + hue + ", 55%, 55%)";
        const tag = el("div", "frame", "\u25be " + scope);
        tag.title = "click to close " + scope;
        tag.dataset.frame = scope;
        tag.addEventListener("click", function () { collapsed.add(scope); layout(); show(); });
        box.insertBefore(tag, box.firstChild);
      }
      u.box = box;
      graph.appendChild(box);
    });
    // Columns by depth, boxes stacked in tape order, centred vertically.
    const cols = [];
    units.forEach(function (u) { (cols[u.depth] = cols[u.depth] || []).push(u); });
    let x = 0, tallest = 0;
    const colX = [], colH = [];
    for (let d = 0; d < cols.length; ++d) {
      const col = cols[d] || [];
      col.sort(function (a, b) { return a.sortKey - b.sortKey; });
      let w = 0, y = 0;
      col.forEach(function (u) {
        // (rounded up: a width rounded down would wrap the text it was measured with)
        u.w = Math.ceil(u.box.getBoundingClientRect().width) + 1;
        u.h = u.box.offsetHeight;
        u.box.style.width = u.w + "px";
        w = Math.max(w, u.w);
        u.y = y; y += u.h + 22;
      });
      colX[d] = x; colH[d] = y; x += w + (nodes.length <= 12 ? 70 : 44); tallest = Math.max(tallest, y);
    }
    units.forEach(function (u) {
      u.x = colX[u.depth];
      u.y += (tallest - colH[u.depth]) / 2 + 24;
      u.box.style.left = u.x + "px";
      u.box.style.top = u.y + "px";
    });
    graph.style.width = x + "px";
    graph.style.height = (tallest + 24) + "px";
    svg.setAttribute("width", x);
    svg.setAttribute("height", tallest + 24);
    edges.forEach(function (e) {
      const a = e[0], b = e[1];
      const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
      const dx = Math.max(20, (x2 - x1) / 2);
      const p = document.createElementNS(SVGNS, "path");
      p.setAttribute("d", "M" + x1 + " " + y1 + " C" + (x1 + dx) + " " + y1 + " " + (x2 - dx) + " " + y2 + " " + x2 + " " + y2);
      e.path = p;
      svg.appendChild(p);
    });
  }

  function gradsAt(j) {  // the gradients after the first j backward steps, by tensor id
    const g = {};
    for (let k = 0; k < j; ++k) {
      const s = steps[k];
      g[s.node] = s.gin;
      s.inputs.forEach(function (i) { if (i.acc) g[i.id] = i.acc; });
    }
    return g;
  }

  function show() {
    const j = Math.max(0, step - F), g = gradsAt(j);
    graph.querySelectorAll("[data-value]").forEach(function (e) {
      const n = nodes[+e.parentNode.dataset.node];
      e.classList.toggle("hidden", !(n.leaf || n.fwd <= step));
    });
    graph.querySelectorAll("[data-grad]").forEach(function (e) {
      const t = g[+e.dataset.of];
      e.textContent = t === undefined ? "" : t;
      e.parentNode.classList.toggle("hidden", t === undefined);
    });
    units.forEach(function (u) { u.box.classList.remove("current", "input"); });
    edges.forEach(function (e) { e.path.classList.remove("hot"); });
    let cur = null;
    if (step >= 1 && step <= F) cur = nodes[order[step - 1]];
    if (step > F) cur = nodes[steps[j - 1].node];
    if (cur) {
      const u = units.get(unitOf(cur));
      u.box.classList.add("current");
      cur.inputs.forEach(function (i) {
        const w = units.get(unitOf(nodes[i]));
        if (w === u) return;
        if (step > F) w.box.classList.add("input");
        edges.forEach(function (e) { if (e[0] === w && e[1] === u) e.path.classList.add("hot"); });
      });
    }
    explain(j, cur);
  }

  function explain(j, cur) {
    const box = document.getElementById("explain"), status = document.getElementById("status");
    box.textContent = "";
    status.dataset.step = step;
    if (step === 0) {
      status.dataset.phase = "start";
      status.textContent = "start: the leaves";
      box.appendChild(el("div", "", "Press \u2192 (or forward) to run the tape op by op; then backward runs each op's vector-Jacobian product in reverse tape order."));
      return;
    }
    if (step <= F) {
      status.dataset.phase = "forward";
      status.textContent = "forward " + step + "/" + F;
      box.appendChild(el("div", "", "Forward: #" + cur.seq + " computes " + cur.name + " from " + cur.inputs.map(function (i) { return nodes[i].name; }).join(", ") + "."));
      box.appendChild(el("div", "line", "#" + cur.seq + " " + cur.name + " = " + cur.call + "   " + cur.shape + " = " + cur.value));
      return;
    }
    const s = steps[j - 1];
    status.dataset.phase = j === B ? "done" : "backward";
    status.textContent = "backward " + j + "/" + B + (j === B ? " (done)" : "");
    const head = el("div", "", "Backward: the VJP of #" + cur.seq + " " + cur.name + " = " + cur.call + " receives d" + D.root + "/d" + cur.name + " = ");
    const gin = el("b", "", s.gin);
    gin.dataset.gradIn = cur.name;
    head.appendChild(gin);
    box.appendChild(head);
    const t = el("table");
    const hr = el("tr");
    ["input", "local derivative", "passed back (VJP)", "accumulated gradient"].forEach(function (h) { hr.appendChild(el("th", "", h)); });
    t.appendChild(hr);
    s.inputs.forEach(function (i) {
      const n = nodes[i.id], r = el("tr");
      r.appendChild(el("td", "", n.name));
      r.appendChild(el("td", "", i.local ? "\u2202" + cur.name + "/\u2202" + n.name + " = " + i.local : ""));
      r.appendChild(el("td", "", i.contrib ? "d" + D.root + "/d" + n.name + " += " + i.contrib : "(none)"));
      const a = el("td", "", i.acc ? "d" + D.root + "/d" + n.name + " = " : "");
      if (i.acc) {
        const v = el("span", "", i.acc);
        v.dataset.acc = n.name;
        a.appendChild(v);
      }
      r.appendChild(a);
      t.appendChild(r);
    });
    box.appendChild(t);
    box.appendChild(el("div", "line", s.text));
  }

  function go(k) { step = Math.max(0, Math.min(LAST, k)); show(); }
  const next = document.getElementById("next"), prev = document.getElementById("prev");
  next.addEventListener("click", function () { go(step + 1); });
  prev.addEventListener("click", function () { go(step - 1); });
  document.getElementById("reset").addEventListener("click", function () { go(0); });
  document.getElementById("end").addEventListener("click", function () { go(LAST); });
  document.getElementById("expand").addEventListener("click", function () { collapsed.clear(); layout(); show(); });
  document.getElementById("collapse").addEventListener("click", function () { scopes.forEach(function (s) { collapsed.add(s); }); layout(); show(); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") next.click();
    else if (e.key === "ArrowLeft") prev.click();
    else return;
    e.preventDefault();
  });
  // "#step=end", "#step=<n>", "#expand=all" / "#expand=none", joined by '&': press the buttons.
  function fromHash() {
    const want = {};
    location.hash.slice(1).split("&").forEach(function (kv) {
      const p = kv.split("=");
      if (p.length === 2) want[p[0]] = p[1];
    });
    if (want.expand === "all") document.getElementById("expand").click();
    if (want.expand === "none") document.getElementById("collapse").click();
    if (want.step !== undefined) {
      const target = want.step === "end" ? LAST : Math.min(LAST, parseInt(want.step, 10) || 0);
      while (step > target) prev.click();
      while (step < target) next.click();
    }
  }
  layout();
  show();
  fromHash();
  window.addEventListener("hashchange", fromHash);
})();
)JS";

}  // namespace

template <class T>
std::string to_html(const Tensor<T>& output, bool retain_graph) {
    const std::vector<Tensor<T>> tape = tape_of(output);
    std::unordered_map<const Node<T>*, std::size_t> index;
    for (const auto& t : tape)
        index.emplace(t.node(), index.size());
    const auto placed = detail::placed_scopes(tape);
    // Each tensor's gradient summed so far, starting from what the leaves hold already (a
    // backward adds to it), summed in the engine's order: the order of the steps.
    std::unordered_map<const Node<T>*, xt::xarray<T>> sum;
    for (const auto& t : tape) {
        if (t.is_leaf() && t.grad().defined()) sum.emplace(t.node(), t.grad().value());
    }
    const std::string root = display_name(output);
    std::string steps_json;
    std::unordered_map<const Node<T>*, std::pair<std::size_t, std::size_t>> last;  // step, input
    std::vector<std::vector<StepInput>> inputs;
    std::vector<std::string> heads;
    for (const auto& step : trace_backward(output, retain_graph)) {
        const Tensor<T>& y = step.output;
        const xt::xarray<T>& g = step.grad_output.value();
        std::vector<StepInput> ins;
        for (std::size_t i = 0; i < y.inputs().size(); ++i) {
            const Tensor<T>& x = y.inputs()[i];
            StepInput in{index.at(x.node()), "", "", ""};
            const Tensor<T>& gx = step.grad_inputs[i];
            if (gx.defined()) {
                in.contribution = format_value(gx.value());
                // For one number in and out, the VJP is the local derivative times g.
                if (g.size() == 1 && gx.size() == 1 && *g.data() != 0) {
                    in.local = fmt::format("{:g}", *gx.value().data() / *g.data());
                }
                if (x.requires_grad()) {
                    auto [it, fresh] = sum.emplace(x.node(), gx.value());
                    if (!fresh) it->second = it->second + gx.value();
                    in.accumulated = format_value(it->second);
                    last[x.node()] = {inputs.size(), ins.size()};
                }
            }
            ins.push_back(std::move(in));
        }
        heads.push_back(fmt::format("{{\"node\":{},\"gin\":{},\"text\":{}", index.at(y.node()),
                                    json_string(format_value(g)),
                                    json_string(format_step(step, output))));
        inputs.push_back(std::move(ins));
    }
    // A leaf shows its .grad at the end even where a hook changed what arrived.
    for (const auto& [node, at] : last) {
        const Tensor<T>& t = tape[index.at(node)];
        if (t.is_leaf() && t.grad().defined())
            inputs[at.first][at.second].accumulated = format_value(t.grad().value());
    }
    for (std::size_t s = 0; s < heads.size(); ++s) {
        std::vector<std::string> ins;
        for (const StepInput& in : inputs[s]) {
            const auto str = [](const std::string& v) {
                return v.empty() ? std::string("null") : json_string(v);
            };
            ins.push_back(fmt::format("{{\"id\":{},\"contrib\":{},\"local\":{},\"acc\":{}}}", in.id,
                                      str(in.contribution), str(in.local), str(in.accumulated)));
        }
        steps_json +=
            fmt::format("{}{},\"inputs\":[{}]}}\n", s ? "," : "", heads[s], fmt::join(ins, ","));
    }
    std::string nodes_json;
    for (const auto& t : tape) {
        std::vector<std::size_t> ins;
        for (const auto& in : t.inputs())
            ins.push_back(index.at(in.node()));
        const auto where = placed.find(t.node());
        nodes_json += fmt::format(
            "{}{{\"id\":{},\"name\":{},\"leaf\":{},\"rg\":{},\"op\":{},\"seq\":{},\"call\":{},"
            "\"shape\":{},\"value\":{},\"scope\":{},\"inputs\":[{}]}}\n",
            nodes_json.empty() ? "" : ",", index.at(t.node()), json_string(display_name(t)),
            t.is_leaf(), t.requires_grad(),
            json_string(t.is_leaf() ? std::string() : std::string(t.op_name())),
            t.is_leaf() ? 0 : t.tape_position(),
            json_string(t.is_leaf() ? std::string() : detail::call_text(t)),
            json_string(shape_str(t.shape())), json_string(format_value(t.value())),
            json_string(where != placed.end() ? where->second : std::string()),
            fmt::join(ins, ","));
    }
    const std::string title = xml_escaped(fmt::format("xgrad: the graph of {}", root));
    return fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n<header>\n<h1>{0}</h1>\n"
        "<button id=\"reset\" title=\"back to the start\">&#xab; start</button>\n"
        "<button id=\"prev\" title=\"one step back (&#x2190;)\">&#x25c0; back</button>\n"
        "<button id=\"next\" title=\"one step on (&#x2192;)\">step &#x25b6;</button>\n"
        "<button id=\"end\" title=\"to the end of backward\">end &#xbb;</button>\n"
        "<button id=\"expand\">open all modules</button>\n"
        "<button id=\"collapse\">close all modules</button>\n"
        "<span id=\"status\"></span>\n"
        "<span class=\"legend\">&#x2190; &#x2192; keys step; green: leaves that require grad, "
        "orange: the op of "
        "this step, blue: the inputs its VJP passes gradients to</span>\n"
        "</header>\n<div id=\"explain\"></div>\n"
        "<div id=\"wrap\"><div id=\"graph\"><svg id=\"edges\"></svg></div></div>\n"
        "<script type=\"application/json\" id=\"xgrad-data\">\n"
        "{{\"root\":{2},\"collapse\":{3},\n\"nodes\":[\n{4}],\n\"backward\":[\n{5}]}}\n"
        "</script>\n<script>{6}</script>\n</body>\n</html>\n",
        title, page_style, json_string(root), tape.size() > collapse_above, nodes_json, steps_json,
        page_script);
}

template <class T>
void save_html(const Tensor<T>& output, const std::string& path, bool retain_graph) {
    save_text("save_html", path, to_html(output, retain_graph));
}

#define XGRAD_INSTANTIATE(T)                              \
    template std::string to_html(const Tensor<T>&, bool); \
    template void save_html(const Tensor<T>&, const std::string&, bool);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
