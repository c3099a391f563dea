#pragma once

#include "autograd/free_list.hpp"
#include "autograd/tensor.hpp"

#include <array>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace xgrad {

/// What a VJP returns: one gradient per input, in input order.
template <class T, std::size_t N>
using Grads = std::array<Tensor<T>, N>;

/// One step of a backward pass, as handed to a tracer (see trace_backward in autograd/graph.hpp).
template <class T>
struct BackwardStep {
    Tensor<T> output;                    // the tensor whose VJP ran
    Tensor<T> grad_output;               // the summed gradient it received
    std::vector<Tensor<T>> grad_inputs;  // what the VJP returned, one per input (may be undefined)
};

template <class T>
using BackwardTracer = std::function<void(const BackwardStep<T>&)>;

namespace detail {

/// Next tape position (global, monotonically increasing, shared by all threads).
std::uint64_t next_sequence_number();

/// Throws AnomalyError when `value` holds NaN/Inf (called only in anomaly mode). `node`, when
/// given, is the recorded result the value belongs to: the message lists its inputs and the
/// AnomalyLabel it was recorded under (otherwise the current one).
template <class T>
void check_finite(const xt::xarray<T>& value, const char* op, std::uint64_t seq, const char* phase,
                  const Node<T>* node = nullptr);

template <class Op, class = void>
struct has_attributes : std::false_type {};
template <class T, class Op, class = void>
struct has_fast_vjp : std::false_type {};
template <class T, class Op>
struct has_fast_vjp<T, Op,
                    std::void_t<decltype(std::declval<Op&>().fast_vjp(
                        std::declval<const Tensor<T>&>(), std::declval<const Tensor<T>&>()))>>
    : std::true_type {};
// The same for an op with several outputs, whose VJPs take every output's gradient.
template <class T, class Op, class = void>
struct has_fast_vjp_outputs : std::false_type {};
template <class T, class Op>
struct has_fast_vjp_outputs<T, Op,
                            std::void_t<decltype(std::declval<Op&>().fast_vjp(
                                std::declval<const std::vector<Tensor<T>>&>(),
                                std::declval<const std::vector<Tensor<T>>&>()))>> : std::true_type {
};

/// Adds an op to registered_ops(); `type` is its C++ type as typeid names it (mangled).
bool register_op(const char* name, const char* type, bool fast_vjp);

// One registration per op struct and element type, made when the program starts: naming
// `done` in record() instantiates it for every op the program can record.
template <class T, class Op>
struct OpRegistration {
    static const bool done;
};
template <class T, class Op>
const bool OpRegistration<T, Op>::done = register_op(Op::name, typeid(Op).name(),
                                                     has_fast_vjp<T, Op>::value ||
                                                         has_fast_vjp_outputs<T, Op>::value);

template <class T, class Grads>
std::vector<Tensor<T>> grads_vector(Grads&& grads) {
    if constexpr (std::is_same_v<std::decay_t<Grads>, std::vector<Tensor<T>>>) {
        return std::forward<Grads>(grads);
    } else {
        return std::vector<Tensor<T>>(std::make_move_iterator(grads.begin()),
                                      std::make_move_iterator(grads.end()));
    }
}
template <class Op>
struct has_attributes<Op, std::void_t<decltype(std::declval<const Op&>().attributes())>>
    : std::true_type {};

template <class T, class Op>
struct OpFunction final : FunctionBase<T> {
    explicit OpFunction(Op o) : op(std::move(o)) {}
    Op op;

    // One per recorded op: from the per-thread free list of its size, like the nodes
    // (Note [node free list]).
    static void* operator new(std::size_t size) {
        static_assert(alignof(OpFunction) <= alignof(std::max_align_t));
        return size == sizeof(OpFunction) ? FreeList<sizeof(OpFunction)>::take()
                                          : ::operator new(size);
    }
    static void operator delete(void* p, std::size_t size) {
        if (size == sizeof(OpFunction)) {
            FreeList<sizeof(OpFunction)>::give(p);
        } else {
            ::operator delete(p);
        }
    }

    // See Note [fast VJP]: grad mode is on inside a VJP exactly when backward records the
    // gradient's own graph (create_graph).
    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>& y) override {
        if constexpr (has_fast_vjp<T, Op>::value) {
            if (!grad_enabled()) return grads_vector<T>(op.fast_vjp(g, y));
        }
        return grads_vector<T>(op.vjp(g, y));
    }
    std::string attributes() const override {
        if constexpr (has_attributes<Op>::value) {
            return op.attributes();
        } else {
            return {};
        }
    }
};

// The FunctionBase of an op with several outputs (record_multi): Note [several outputs].
template <class T, class Op>
struct MultiOpFunction final : FunctionBase<T> {
    explicit MultiOpFunction(Op o) : op(std::move(o)) {}
    Op op;

    std::vector<Tensor<T>> vjp_outputs(const std::vector<Tensor<T>>& gs,
                                       const std::vector<Tensor<T>>& ys) override {
        if constexpr (has_fast_vjp_outputs<T, Op>::value) {
            if (!grad_enabled()) return grads_vector<T>(op.fast_vjp(gs, ys));
        }
        return grads_vector<T>(op.vjp(gs, ys));
    }
    std::string attributes() const override {
        if constexpr (has_attributes<Op>::value) {
            return op.attributes();
        } else {
            return {};
        }
    }
};

template <class T>
bool any_requires_grad(const std::vector<Tensor<T>>& inputs) {
    for (const auto& t : inputs) {
        if (t.requires_grad()) return true;
    }
    return false;
}

/// Wraps a forward result: a plain leaf when nothing needs recording, else a recorded node.
/// An unrecorded result (grad mode off, or no input requires grad).
template <class T, class Op>
Tensor<T> make_constant(xt::xarray<T>&& y) {
    if (anomaly_enabled()) check_finite(y, Op::name, 0, "forward");
    return Tensor<T>(std::move(y));
}

template <class T, class Op>
Tensor<T> make_result(xt::xarray<T>&& y, Op&& op, std::vector<Tensor<T>>&& inputs) {
    static_cast<void>(&OpRegistration<T, std::decay_t<Op>>::done);
    if (!grad_enabled() || !any_requires_grad(inputs)) return make_constant<T, Op>(std::move(y));
    auto node = make_from_free_list<Node<T>>(std::move(y), true);
    node->op = Op::name;
    node->seq = next_sequence_number();
    node->inputs = std::move(inputs);
    node->fn = std::make_unique<OpFunction<T, std::decay_t<Op>>>(std::forward<Op>(op));
    node->scope = scope;
    if (anomaly_enabled()) {
        node->site = anomaly_site;
        check_finite(node->value, Op::name, node->seq, "forward", node.get());
    }
    return Tensor<T>(std::move(node));
}

// Recorded outputs of an op with several outputs: one node each, consecutive tape positions,
// one shared OutputSet holding the op (Note [several outputs]); plain leaves when nothing needs
// recording.
template <class T, class Op, class Values>
std::vector<Tensor<T>> make_results(Values&& ys, Op&& op, std::vector<Tensor<T>>&& inputs) {
    static_cast<void>(&OpRegistration<T, std::decay_t<Op>>::done);
    std::vector<Tensor<T>> out;
    out.reserve(ys.size());
    if (!grad_enabled() || !any_requires_grad(inputs)) {
        for (auto& y : ys)
            out.push_back(make_constant<T, Op>(std::move(y)));
        return out;
    }
    auto set = std::make_shared<OutputSet<T>>();
    set->fn = std::make_unique<MultiOpFunction<T, std::decay_t<Op>>>(std::forward<Op>(op));
    for (std::size_t k = 0; k < ys.size(); ++k) {
        set->shapes.push_back(ys[k].shape());
        auto node = make_from_free_list<Node<T>>(std::move(ys[k]), true);
        node->op = Op::name;
        node->seq = next_sequence_number();
        node->inputs = inputs;
        node->outputs = set;
        node->output_index = k;
        node->scope = scope;
        if (anomaly_enabled()) {
            node->site = anomaly_site;
            check_finite(node->value, Op::name, node->seq, "forward", node.get());
        }
        set->nodes.push_back(node);
        out.emplace_back(std::move(node));
    }
    return out;
}

}  // namespace detail

// Note [several outputs]
// Most ops have one output; some have several (split, an LSTM cell's h and c). Each output is a
// node of its own, with its own tape position and the op's inputs as its edges, so the graph is
// walked, listed and drawn as usual ("#8 c = lstm_cell[1](gates, c0)"). The op itself lives once,
// in an OutputSet the outputs share. Its VJP needs the gradient of every output, and it gets
// them: the outputs have consecutive tape positions and every consumer of any of them comes
// later on the tape, so when backward reaches the first of them (in reverse order) all their
// gradients are final. The engine then takes every output's gradient (zeros for one that
// received none), runs the op's vjp(gs, ys) once, and skips the other outputs when it reaches
// them. An op with several outputs is a struct like any other (docs/custom-ops.md) whose
// forward returns a std::vector (or std::array) of values and whose vjp, and optional fast_vjp,
// take (gs, ys), one entry per output; ys holds undefined tensors for outputs already destroyed.

// Note [fast VJP]
// An op's `vjp` is written with xgrad ops, so that a backward with create_graph records the
// gradient's own graph and second derivatives come for free. On the ordinary path (create_graph
// off) those ops record nothing, but each still builds a tensor per intermediate; for the ops that
// dominate a training step that cost shows (docs/performance.md). Such an op may also define
//     Grads<T, N> fast_vjp(const Tensor<T>& g, const Tensor<T>& y) const;
// the same formula on raw values (a gemm, one fused loop), correct to first order only, like a
// PyTorch Function marked once_differentiable. The engine calls fast_vjp when backward does not
// record (grad mode is off inside every VJP then) and vjp when it does, so the choice lives here,
// once, not in each op. Both must give the same gradient: the op harness checks fast_vjp against
// finite differences (gradcheck), vjp to second order (gradgradcheck) and the two first
// derivatives against each other. docs/custom-ops.md shows it on a user's op.

/// Runs an op struct on tensor inputs and records it on the tape when grad mode is on and an
/// input requires grad. The struct provides `static constexpr const char* name`,
/// `forward(inputs...)` returning the value, and `vjp(g, y)` returning Grads<T, N>, optionally
/// `fast_vjp(g, y)` (Note [fast VJP]) and `attributes()` (see docs/custom-ops.md).
template <class Op, class T, class... Rest>
Tensor<T> record(Op op, const Tensor<T>& first, const Rest&... rest) {
    static_cast<void>(&detail::OpRegistration<T, Op>::done);
    xt::xarray<T> y = op.forward(first, rest...);
    if (!grad_enabled() || !(first.requires_grad() || ... || rest.requires_grad())) {
        return detail::make_constant<T, Op>(std::move(y));  // no edge list to build
    }
    return detail::make_result<T>(std::move(y), std::move(op),
                                  std::vector<Tensor<T>>{first, rest...});
}

/// The same for ops over a list of tensors (concat, stack): forward(inputs) and vjp returning
/// std::vector<Tensor<T>>.
template <class Op, class T>
Tensor<T> record_list(Op op, const std::vector<Tensor<T>>& inputs) {
    xt::xarray<T> y = op.forward(inputs);
    return detail::make_result<T>(std::move(y), std::move(op), std::vector<Tensor<T>>(inputs));
}

/// An op struct that this program can record (see registered_ops()).
struct OpInfo {
    std::string name;       ///< the tape name ("mul")
    std::string type;       ///< the C++ type, e.g. "xgrad::ops::(anonymous namespace)::Mul<float>"
    bool fast_vjp = false;  ///< it has a fast_vjp as well as its vjp (Note [fast VJP])
    /// True for the library's own ops (op structs in namespace xgrad::ops).
    bool builtin() const;
};

/// Every op struct whose record() or record_list() is compiled into the program, one entry per
/// struct and element type, sorted by name then type; filled as the program starts. The op
/// harness uses it to check that every built-in op is tested.
std::vector<OpInfo> registered_ops();

/// Runs an op struct with several outputs (Note [several outputs]): `forward(inputs...)` returns
/// their values (std::vector or std::array of xt::xarray<T>), `vjp(gs, ys)` one gradient per
/// input. Returns one tensor per output, recorded when grad mode is on and an input requires grad.
template <class Op, class T, class... Rest>
std::vector<Tensor<T>> record_multi(Op op, const Tensor<T>& first, const Rest&... rest) {
    auto ys = op.forward(first, rest...);
    return detail::make_results<T>(std::move(ys), std::move(op),
                                   std::vector<Tensor<T>>{first, rest...});
}

/// The same for an op over a list of tensors: forward(inputs).
template <class Op, class T>
std::vector<Tensor<T>> record_list_multi(Op op, const std::vector<Tensor<T>>& inputs) {
    auto ys = op.forward(inputs);
    return detail::make_results<T>(std::move(ys), std::move(op), std::vector<Tensor<T>>(inputs));
}

/// Backward from several outputs at once, each with its gradient (undefined = ones for a scalar).
template <class T>
void backward(const std::vector<Tensor<T>>& outputs, const std::vector<Tensor<T>>& grad_outputs,
              bool retain_graph = false, bool create_graph = false,
              const BackwardTracer<T>& tracer = nullptr);

namespace detail {
/// The gradients of `outputs` (each seeded with its grad_outputs entry) reaching each tensor of
/// `boundary`, one per entry (undefined where none reaches), without passing them on into the
/// graph that made the boundary: the walk covers only the graph between the two. What
/// checkpoint's recomputation runs (Note [checkpoint] in checkpoint.cpp).
template <class T>
std::vector<Tensor<T>> grad_to_boundary(const std::vector<Tensor<T>>& outputs,
                                        const std::vector<Tensor<T>>& grad_outputs,
                                        const std::vector<Tensor<T>>& boundary, bool create_graph);
}  // namespace detail

/// Options of grad(), set fluently:
/// `grad(outputs, inputs, GradOptions().create_graph().allow_unused())`.
class GradOptions {
public:
    /// Records the backward pass, so the returned gradients are differentiable again (second
    /// derivatives, Hessian-vector products).
    GradOptions& create_graph(bool on = true) {
        create_graph_ = on;
        return *this;
    }
    /// Keeps the graph's saved values for another backward or grad; defaults to create_graph.
    GradOptions& retain_graph(bool on = true) {
        retain_graph_ = on;
        return *this;
    }
    /// An input no gradient reaches (the outputs do not depend on it, or it does not require
    /// grad) gets zeros of its shape instead of raising ValueError: PyTorch's allow_unused with
    /// materialize_grads.
    GradOptions& allow_unused(bool on = true) {
        allow_unused_ = on;
        return *this;
    }

    bool create_graph() const { return create_graph_; }
    bool retain_graph() const { return retain_graph_.value_or(create_graph_); }
    bool allow_unused() const { return allow_unused_; }

private:
    bool create_graph_ = false, allow_unused_ = false;
    std::optional<bool> retain_graph_;
};

/// Gradients of `outputs` with respect to `inputs`, returned rather than accumulated into .grad,
/// one per input, each of its input's shape. `grad_outputs`: one gradient per output (undefined
/// or absent = ones, for an output of one element). An input no gradient reaches raises
/// ValueError naming its position, unless options.allow_unused() (then it gets zeros).
template <class T>
std::vector<Tensor<T>> grad(const std::vector<Tensor<T>>& outputs,
                            const std::vector<Tensor<T>>& inputs, const GradOptions& options,
                            const std::vector<Tensor<T>>& grad_outputs = {});

/// Single output, single input form: d output / d input (output a scalar, or `grad_output` given).
template <class T>
Tensor<T> grad(const Tensor<T>& output, const Tensor<T>& input, const GradOptions& options,
               const Tensor<T>& grad_output = Tensor<T>());

/// The same with the options as positional flags (allow_unused off): with create_graph the
/// returned gradients are themselves differentiable; retain_graph defaults to create_graph.
template <class T>
std::vector<Tensor<T>> grad(const std::vector<Tensor<T>>& outputs,
                            const std::vector<Tensor<T>>& inputs, bool create_graph = false,
                            std::optional<bool> retain_graph = std::nullopt,
                            const std::vector<Tensor<T>>& grad_outputs = {});

/// Single output, single input form with positional flags.
template <class T>
Tensor<T> grad(const Tensor<T>& output, const Tensor<T>& input, bool create_graph = false,
               std::optional<bool> retain_graph = std::nullopt,
               const Tensor<T>& grad_output = Tensor<T>());

}  // namespace xgrad
