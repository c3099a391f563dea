#include "autograd/tape.hpp"

#include "autograd/ops/elementwise.hpp"

#include <fmt/format.h>

#include <cxxabi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace xgrad {
namespace detail {
namespace {

std::mutex& op_registry_mutex() {
    static std::mutex m;
    return m;
}
std::vector<OpInfo>& op_registry() {
    static std::vector<OpInfo> ops;
    return ops;
}

std::string demangle(const char* mangled) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> readable(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 && readable ? std::string(readable.get()) : std::string(mangled);
}

}  // namespace

bool register_op(const char* name, const char* type, bool fast_vjp) {
    std::lock_guard<std::mutex> lock(op_registry_mutex());
    op_registry().push_back(OpInfo{name, demangle(type), fast_vjp});
    return true;
}

std::uint64_t next_sequence_number() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}

namespace {

// The texts of every AnomalyLabel made, kept for the life of the process (nodes point at them).
const char* intern(std::string text) {
    static std::mutex m;
    static std::set<std::string> texts;
    std::lock_guard<std::mutex> lock(m);
    return texts.insert(std::move(text)).first->c_str();
}

// "; inputs: #11 mul [2, 3], leaf 'x' [2, 3]; created in Linear(in=2, out=3) > loss (f.cpp:9)":
// what an AnomalyError says of the op it names, beyond its name and tape position.
template <class T>
std::string anomaly_context(const std::vector<Tensor<T>>* inputs, const char* site) {
    std::string s;
    if (inputs != nullptr && !inputs->empty()) {
        std::vector<std::string> parts;
        for (const Tensor<T>& t : *inputs) {
            if (parts.size() == 6) {
                parts.emplace_back("...");
                break;
            }
            if (!t.defined()) continue;
            const Node<T>& in = *t.node();
            std::string who = in.op != nullptr ? fmt::format("#{} {}", in.seq, in.op) : "leaf";
            if (!in.name.empty()) who += fmt::format(" '{}'", in.name);
            parts.push_back(fmt::format("{} {}", who, shape_str(in.value.shape())));
        }
        s += fmt::format("; inputs: {}", fmt::join(parts, ", "));
    }
    if (site != nullptr) s += fmt::format("; created in {}", site);
    return s;
}

// The op whose VJP is running, so an op inside a VJP is reported as that VJP's step.
thread_local const char* vjp_op = nullptr;
thread_local std::uint64_t vjp_seq = 0;
thread_local const std::string* vjp_context = nullptr;  // anomaly mode: its anomaly_context

struct VjpScope {
    template <class T>
    explicit VjpScope(const Node<T>& n) : op_(vjp_op), seq_(vjp_seq), context_(vjp_context) {
        vjp_op = n.op;
        vjp_seq = n.seq;
        vjp_context = nullptr;
        if (anomaly_enabled()) {
            text_ = anomaly_context(&n.inputs, n.site);
            vjp_context = &text_;
        }
    }
    ~VjpScope() {
        vjp_op = op_;
        vjp_seq = seq_;
        vjp_context = context_;
    }
    VjpScope(const VjpScope&) = delete;
    VjpScope& operator=(const VjpScope&) = delete;

    const char* op_;
    std::uint64_t seq_;
    const std::string* context_;
    std::string text_;
};
}  // namespace

template <class T>
void check_finite(const xt::xarray<T>& value, const char* op, std::uint64_t seq, const char* phase,
                  const Node<T>* node) {
    const T* v = value.data();
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (std::isfinite(v[i])) continue;
        const char* what = std::isnan(v[i]) ? "NaN" : v[i] > 0 ? "Inf" : "-Inf";
        if (vjp_op && std::string_view(phase) == "forward") {
            throw AnomalyError(
                fmt::format("anomaly: backward of {} (tape #{}) produced {} (in its "
                            "{}){}",
                            vjp_op, vjp_seq, what, op, vjp_context ? *vjp_context : std::string()));
        }
        const std::string where = seq == 0 ? fmt::format("{} of {}", phase, op)
                                           : fmt::format("{} of {} (tape #{})", phase, op, seq);
        const std::string context = node != nullptr ? anomaly_context(&node->inputs, node->site)
                                                    : anomaly_context<T>(nullptr, anomaly_site);
        throw AnomalyError(fmt::format("anomaly: {} produced {} at element {} of {}{}", where, what,
                                       i, shape_str(value.shape()), context));
    }
}

}  // namespace detail

AnomalyLabel::AnomalyLabel(const std::string& label, const char* file, int line) {
    if (!anomaly_enabled()) return;
    previous_ = detail::anomaly_site;
    active_ = true;
    std::string text = previous_ != nullptr ? fmt::format("{} > {}", previous_, label) : label;
    if (file != nullptr) {
        const char* base = std::strrchr(file, '/');
        text += fmt::format(" ({}:{})", base != nullptr ? base + 1 : file, line);
    }
    detail::anomaly_site = detail::intern(std::move(text));
}

NameScope::NameScope(const char* base, const std::string& name) : previous_(detail::scope) {
    if (name.empty()) {
        detail::scope = base;
        return;
    }
    // Each thread remembers the paths it made, so a module called every step finds its path
    // without taking the intern table's lock.
    static thread_local std::map<std::pair<const char*, std::string>, const char*> made;
    const auto key = std::make_pair(base, name);
    auto it = made.find(key);
    if (it == made.end()) {
        const std::string path = base != nullptr ? fmt::format("{}.{}", base, name) : name;
        it = made.emplace(key, detail::intern(path)).first;
    }
    detail::scope = it->second;
}

namespace detail {
namespace {

// Heap order: larger tape position first, so each node runs after every consumer
// reachable from the outputs (Note [reverse tape order]).
template <class T>
bool earlier(const Tensor<T>& a, const Tensor<T>& b) {
    return a.node()->seq < b.node()->seq;
}

// Adds `g` into a gradient slot. Out of place, so a gradient shared with another slot (add's VJP
// hands the same g to both inputs) is never written through.
template <class T>
void accumulate(Tensor<T>& slot, Tensor<T>&& g) {
    slot = slot.defined() ? add(slot, g) : std::move(g);
}

// A leaf's .grad: owned by the leaf, so later accumulations can be in place.
template <class T>
void accumulate_leaf(Node<T>& n, Tensor<T>&& g, bool create_graph) {
    if (create_graph) {
        accumulate(n.grad, std::move(g));
    } else if (!n.grad.defined()) {
        const bool exclusive = g.node_ptr().use_count() == 1 && g.is_leaf() && !g.requires_grad();
        n.grad = exclusive ? std::move(g) : g.detach();
    } else if (!n.grad.is_leaf() || n.grad.requires_grad()) {
        n.grad = add(n.grad, g).detach();  // a gradient that carries a graph is not ours to edit
    } else {
        n.grad.mutable_value() += g.value();
    }
}

template <class T>
class Engine {
public:
    // `fn` names the function the user called ("backward", "grad") in error messages.
    Engine(const char* fn, bool retain_graph, bool create_graph, const BackwardTracer<T>& tracer)
        : fn_(fn), retain_graph_(retain_graph), create_graph_(create_graph), tracer_(tracer) {
        // Reuse the previous pass's heap storage: growing a fresh vector to thousands of entries
        // on every backward makes large allocations, which flush the allocator's fast bins.
        heap_.swap(spare_heap());
    }

    ~Engine() {
        // On an exception mid-walk, leave no scratch behind in the graph.
        for (auto& t : heap_) {
            t.node()->pending = Tensor<T>();
            t.node()->queued = false;
        }
        heap_.clear();
        if (heap_.capacity() > spare_heap().capacity()) heap_.swap(spare_heap());
    }

    void seed(const Tensor<T>& y, const Tensor<T>& g, std::size_t i) {
        if (!y.defined()) throw Error(fmt::format("{}: output {} is undefined", fn_, i));
        if (!y.requires_grad()) {
            throw Error(
                fmt::format("{}: output {} does not require grad and has no grad_fn "
                            "(no input of its graph requires grad, or it was computed "
                            "under NoGradGuard)",
                            fn_, i));
        }
        Tensor<T> seed_grad = g;
        if (!g.defined()) {
            if (y.size() != 1) {
                throw Error(
                    fmt::format("{}: a gradient can be created implicitly only for "
                                "a one-element output; got shape {}, so pass a gradient "
                                "of that shape",
                                fn_, shape_str(y.shape())));
            }
            seed_grad = ones<T>(y.shape());
        } else if (g.shape() != y.shape()) {
            throw ShapeError(
                fmt::format("{}: gradient shape must match output {}; got "
                            "output={}, gradient={}",
                            fn_, i, shape_str(y.shape()), shape_str(g.shape())));
        }
        push(y, std::move(seed_grad));
    }

    // Captures the gradient reaching each of `inputs` instead of accumulating into .grad.
    void capture(const std::vector<Tensor<T>>& inputs) {
        capturing_ = true;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            if (!inputs[i].defined()) throw Error(fmt::format("grad: input {} is undefined", i));
            captured_[inputs[i].node()].push_back(i);
        }
        results_.resize(inputs.size());
    }

    // With capture(): a captured tensor's gradient is not passed on into the graph that made it
    // (the walk ends at the inputs: checkpoint's recomputation, Note [checkpoint]).
    void stop_at_captured() { stopping_ = true; }

    std::vector<Tensor<T>> run() {
        GradModeGuard mode(create_graph_);
        while (!heap_.empty()) {
            std::pop_heap(heap_.begin(), heap_.end(), earlier<T>);
            Tensor<T> y = std::move(heap_.back());
            heap_.pop_back();
            Node<T>& n = *y.node();
            if (!n.queued) continue;  // an output whose op already ran (Note [several outputs])
            Tensor<T> g = take(n);
            if (stopping_ && captured_.count(&n) != 0) continue;
            if (!n.op) {
                if (!capturing_) accumulate_leaf(n, std::move(g), create_graph_);
                continue;
            }
            if (n.outputs) {
                step_outputs(y, g);
            } else {
                step(y, g);
            }
        }
        return std::move(results_);
    }

private:
    void push(const Tensor<T>& t, Tensor<T>&& g) {
        Node<T>& n = *t.node();
        accumulate(n.pending, std::move(g));
        if (!n.queued) {
            n.queued = true;
            heap_.push_back(t);
            std::push_heap(heap_.begin(), heap_.end(), earlier<T>);
        }
    }

    // The final gradient of `n`, taken off it: through its hooks, then captured for grad(), kept
    // by retain_grad().
    Tensor<T> take(Node<T>& n) {
        n.queued = false;
        Tensor<T> g = std::move(n.pending);
        n.pending = Tensor<T>();
        // A boundary tensor's hooks belong to the outer backward, which takes its gradient
        // again from the checkpoint op (Note [checkpoint]): they run there, once.
        const bool boundary = stopping_ && captured_.count(&n) != 0;
        if (n.hooks && !n.hooks->empty() && !boundary) g = run_hooks(n, std::move(g));
        if (capturing_) {
            auto it = captured_.find(&n);
            if (it != captured_.end()) {
                for (std::size_t i : it->second)
                    results_[i] = g;
            }
        } else if (n.op && n.retains_grad) {
            accumulate_leaf(n, Tensor<T>(g), create_graph_);
        }
        return g;
    }

    // Note [gradient hooks]
    // A tensor's hooks (Tensor::register_hook) run when the engine takes its gradient off the
    // node: once per backward or grad(), with the gradient summed over every consumer (Note
    // [reverse tape order]), before anything else sees it, so a replacement is what .grad,
    // retain_grad, grad() and the tensor's own VJP get. For an output of an op with several
    // outputs that backward never reached, the VJP gets zeros and no hook runs (nothing was
    // computed for it). The list is copied first: a hook may remove itself or register another,
    // which then runs from the next backward on.
    Tensor<T> run_hooks(const Node<T>& n, Tensor<T>&& g) const {
        const auto hooks = *n.hooks;
        for (const auto& [id, hook] : hooks) {
            Tensor<T> r = hook(g);
            if (!r.defined()) continue;
            if (r.shape() != n.value.shape()) {
                throw ShapeError(fmt::format(
                    "{}: a hook of {} returned a gradient of shape {} for a tensor of shape {}",
                    fn_, describe(n), shape_str(r.shape()), shape_str(n.value.shape())));
            }
            g = std::move(r);
        }
        return std::move(g);
    }

    static std::string describe(const Node<T>& n) {
        std::string d = n.op ? fmt::format("{} (tape #{})", n.op, n.seq) : std::string("a leaf");
        if (!n.name.empty()) d = fmt::format("'{}', {}", n.name, d);
        return d;
    }

    [[noreturn]] void throw_released(const Node<T>& n) const {
        throw Error(
            fmt::format("{}: the saved values of {} (tape #{}) were already freed by an "
                        "earlier backward or grad; pass retain_graph=true to the first one to "
                        "run through the graph again",
                        fn_, n.op, n.seq));
    }

    void step(const Tensor<T>& y, const Tensor<T>& g) {
        Node<T>& n = *y.node();
        if (n.released || !n.fn) throw_released(n);
        std::vector<Tensor<T>> grads;
        {
            VjpScope scope(n);
            grads = n.fn->vjp(g, y);
        }
        pass_on(y, g, std::move(grads));
        if (!retain_graph_) {
            n.fn.reset();
            n.released = true;
        }
    }

    // The op of `y` has several outputs: its VJP runs once, with every output's gradient (Note
    // [several outputs]); y is the output backward reached first, and g its gradient.
    void step_outputs(const Tensor<T>& y, const Tensor<T>& g) {
        Node<T>& n = *y.node();
        OutputSet<T>& set = *n.outputs;
        if (!set.fn) throw_released(n);
        const std::size_t k = set.nodes.size();
        std::vector<Tensor<T>> gs(k), ys(k);
        for (std::size_t i = 0; i < k; ++i) {
            std::shared_ptr<Node<T>> out = set.nodes[i].lock();
            if (out) ys[i] = Tensor<T>(out);
            if (i == n.output_index) {
                gs[i] = g;
            } else if (out && out->queued) {
                gs[i] = take(*out);
            }
            if (!gs[i].defined()) gs[i] = zeros<T>(set.shapes[i]);
        }
        std::vector<Tensor<T>> grads;
        {
            VjpScope scope(n);
            grads = set.fn->vjp_outputs(gs, ys);
        }
        pass_on(y, g, std::move(grads));
        if (!retain_graph_) set.fn.reset();
    }

    // Checks a VJP's gradients (count, shapes, anomaly mode), shows the step to a tracer and
    // passes each gradient on to its input.
    void pass_on(const Tensor<T>& y, const Tensor<T>& g, std::vector<Tensor<T>>&& grads) {
        const Node<T>& n = *y.node();
        if (grads.size() != n.inputs.size()) {
            throw ShapeError(
                fmt::format("backward: vjp of {} (tape #{}) returned {} gradients "
                            "for {} inputs",
                            n.op, n.seq, grads.size(), n.inputs.size()));
        }
        for (std::size_t i = 0; i < grads.size(); ++i) {
            if (!grads[i].defined()) continue;
            if (grads[i].shape() != n.inputs[i].shape()) {
                throw ShapeError(fmt::format(
                    "backward: vjp of {} (tape #{}) returned gradient {} "
                    "of shape {} for an input of shape {}",
                    n.op, n.seq, i, shape_str(grads[i].shape()), shape_str(n.inputs[i].shape())));
            }
            if (anomaly_enabled()) check_finite(grads[i].value(), n.op, n.seq, "backward", &n);
        }
        if (tracer_) tracer_(BackwardStep<T>{y, g, grads});
        for (std::size_t i = 0; i < grads.size(); ++i) {
            if (grads[i].defined() && n.inputs[i].requires_grad()) {
                push(n.inputs[i], std::move(grads[i]));
            }
        }
    }

    // One spare heap buffer per thread (a nested backward inside a VJP gets a fresh one).
    static std::vector<Tensor<T>>& spare_heap() {
        static thread_local std::vector<Tensor<T>> spare;
        return spare;
    }

    const char* fn_;
    bool retain_graph_;
    bool create_graph_;
    const BackwardTracer<T>& tracer_;
    bool capturing_ = false;
    bool stopping_ = false;
    std::vector<Tensor<T>> heap_;
    std::unordered_map<const Node<T>*, std::vector<std::size_t>> captured_;
    std::vector<Tensor<T>> results_;
};

// Note [reverse tape order]: every input of an op was created before it, so its tape position is
// smaller. Popping the largest position first therefore runs a node only after all of its
// consumers that are reachable from the outputs have added their gradients: each VJP runs
// once, with the summed gradient. Leaves (position 0) come last.

}  // namespace
}  // namespace detail

bool OpInfo::builtin() const {
    return type.rfind("xgrad::ops::", 0) == 0;
}

std::vector<OpInfo> registered_ops() {
    std::vector<OpInfo> ops;
    {
        std::lock_guard<std::mutex> lock(detail::op_registry_mutex());
        ops = detail::op_registry();
    }
    std::sort(ops.begin(), ops.end(), [](const OpInfo& a, const OpInfo& b) {
        return std::tie(a.name, a.type) < std::tie(b.name, b.type);
    });
    return ops;
}

template <class T>
void backward(const std::vector<Tensor<T>>& outputs, const std::vector<Tensor<T>>& grad_outputs,
              bool retain_graph, bool create_graph, const BackwardTracer<T>& tracer) {
    if (!grad_outputs.empty() && grad_outputs.size() != outputs.size()) {
        throw Error(fmt::format("backward: got {} outputs but {} gradients", outputs.size(),
                                grad_outputs.size()));
    }
    detail::Engine<T> engine("backward", retain_graph || create_graph, create_graph, tracer);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        engine.seed(outputs[i], grad_outputs.empty() ? Tensor<T>() : grad_outputs[i], i);
    }
    engine.run();
}

template <class T>
std::vector<Tensor<T>> grad(const std::vector<Tensor<T>>& outputs,
                            const std::vector<Tensor<T>>& inputs, const GradOptions& options,
                            const std::vector<Tensor<T>>& grad_outputs) {
    if (!grad_outputs.empty() && grad_outputs.size() != outputs.size()) {
        throw Error(fmt::format("grad: got {} outputs but {} gradients", outputs.size(),
                                grad_outputs.size()));
    }
    const BackwardTracer<T> no_tracer;
    detail::Engine<T> engine("grad", options.retain_graph(), options.create_graph(), no_tracer);
    engine.capture(inputs);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        engine.seed(outputs[i], grad_outputs.empty() ? Tensor<T>() : grad_outputs[i], i);
    }
    std::vector<Tensor<T>> result = engine.run();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (result[i].defined()) continue;
        if (options.allow_unused()) {
            result[i] = zeros<T>(inputs[i].shape());
            continue;
        }
        // PyTorch: "One of the differentiated Tensors appears to not have been used in the graph".
        throw ValueError(
            fmt::format("grad: input {} (shape {}) {}, so no gradient reaches it; pass "
                        "GradOptions().allow_unused() to get zeros for it",
                        i, shape_str(inputs[i].shape()),
                        inputs[i].requires_grad() ? "is not used by the graph of the outputs"
                                                  : "does not require grad"));
    }
    return result;
}

namespace detail {
template <class T>
std::vector<Tensor<T>> grad_to_boundary(const std::vector<Tensor<T>>& outputs,
                                        const std::vector<Tensor<T>>& grad_outputs,
                                        const std::vector<Tensor<T>>& boundary, bool create_graph) {
    const BackwardTracer<T> no_tracer;
    Engine<T> engine("checkpoint", create_graph, create_graph, no_tracer);
    engine.capture(boundary);
    engine.stop_at_captured();
    for (std::size_t i = 0; i < outputs.size(); ++i)
        engine.seed(outputs[i], grad_outputs[i], i);
    return engine.run();
}
}  // namespace detail

template <class T>
Tensor<T> grad(const Tensor<T>& output, const Tensor<T>& input, const GradOptions& options,
               const Tensor<T>& grad_output) {
    return grad<T>(std::vector<Tensor<T>>{output}, std::vector<Tensor<T>>{input}, options,
                   std::vector<Tensor<T>>{grad_output})[0];
}

template <class T>
std::vector<Tensor<T>> grad(const std::vector<Tensor<T>>& outputs,
                            const std::vector<Tensor<T>>& inputs, bool create_graph,
                            std::optional<bool> retain_graph,
                            const std::vector<Tensor<T>>& grad_outputs) {
    GradOptions options;
    options.create_graph(create_graph).retain_graph(retain_graph.value_or(create_graph));
    return grad<T>(outputs, inputs, options, grad_outputs);
}

template <class T>
Tensor<T> grad(const Tensor<T>& output, const Tensor<T>& input, bool create_graph,
               std::optional<bool> retain_graph, const Tensor<T>& grad_output) {
    return grad<T>(std::vector<Tensor<T>>{output}, std::vector<Tensor<T>>{input}, create_graph,
                   retain_graph, std::vector<Tensor<T>>{grad_output})[0];
}

#define XGRAD_INSTANTIATE(T)                                                                      \
    template void detail::check_finite<T>(const xt::xarray<T>&, const char*, std::uint64_t,       \
                                          const char*, const Node<T>*);                           \
    template void backward<T>(const std::vector<Tensor<T>>&, const std::vector<Tensor<T>>&, bool, \
                              bool, const BackwardTracer<T>&);                                    \
    template std::vector<Tensor<T>> grad<T>(const std::vector<Tensor<T>>&,                        \
                                            const std::vector<Tensor<T>>&, bool,                  \
                                            std::optional<bool>, const std::vector<Tensor<T>>&);  \
    template Tensor<T> grad<T>(const Tensor<T>&, const Tensor<T>&, bool, std::optional<bool>,     \
                               const Tensor<T>&);                                                 \
    template std::vector<Tensor<T>> grad<T>(const std::vector<Tensor<T>>&,                        \
                                            const std::vector<Tensor<T>>&, const GradOptions&,    \
                                            const std::vector<Tensor<T>>&);                       \
    template Tensor<T> grad<T>(const Tensor<T>&, const Tensor<T>&, const GradOptions&,            \
                               const Tensor<T>&);                                                 \
    template std::vector<Tensor<T>> detail::grad_to_boundary<T>(                                  \
        const std::vector<Tensor<T>>&, const std::vector<Tensor<T>>&,                             \
        const std::vector<Tensor<T>>&, bool);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
