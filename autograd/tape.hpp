#pragma once

#include "autograd/free_list.hpp"
#include "autograd/tensor.hpp"

#include <array>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace xgrad {

/// What a VJP returns: one gradient per input, in input order.
template <class T, std::size_t N>
using Grads = std::array<Tensor<T>, N>;

/// One step of a backward pass, as handed to a tracer (see trace_backward in autograd/graph.hpp).
template <class T>
struct BackwardStep {
    Tensor<T> output;                     // the tensor whose VJP ran
    Tensor<T> grad_output;                // the summed gradient it received
    std::vector<Tensor<T>> grad_inputs;   // what the VJP returned, one per input (may be undefined)
};

template <class T>
using BackwardTracer = std::function<void(const BackwardStep<T>&)>;

namespace detail {

/// Next tape position (global, monotonically increasing, shared by all threads).
std::uint64_t next_sequence_number();

/// Throws AnomalyError when `value` holds NaN/Inf (called only in anomaly mode).
template <class T>
void check_finite(const xt::xarray<T>& value, const char* op, std::uint64_t seq, const char* phase);

template <class Op, class = void>
struct has_attributes : std::false_type {};
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

    std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>& y) override {
        auto grads = op.vjp(g, y);
        if constexpr (std::is_same_v<decltype(grads), std::vector<Tensor<T>>>) {
            return grads;
        } else {
            return std::vector<Tensor<T>>(std::make_move_iterator(grads.begin()),
                                          std::make_move_iterator(grads.end()));
        }
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
    if (!grad_enabled() || !any_requires_grad(inputs)) return make_constant<T, Op>(std::move(y));
    auto node = make_from_free_list<Node<T>>(std::move(y), true);
    node->op = Op::name;
    node->seq = next_sequence_number();
    node->inputs = std::move(inputs);
    node->fn = std::make_unique<OpFunction<T, std::decay_t<Op>>>(std::forward<Op>(op));
    if (anomaly_enabled()) check_finite(node->value, Op::name, node->seq, "forward");
    return Tensor<T>(std::move(node));
}

}  // namespace detail

/// Runs an op struct on tensor inputs and records it on the tape when grad mode is on and an
/// input requires grad. The struct provides `static constexpr const char* name`, `forward(inputs...)`
/// returning the value, and `vjp(g, y)` returning Grads<T, N> (see docs/custom-ops.md).
template <class Op, class T, class... Rest>
Tensor<T> record(Op op, const Tensor<T>& first, const Rest&... rest) {
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

/// Backward from several outputs at once, each with its gradient (undefined = ones for a scalar).
template <class T>
void backward(const std::vector<Tensor<T>>& outputs, const std::vector<Tensor<T>>& grad_outputs,
              bool retain_graph = false, bool create_graph = false,
              const BackwardTracer<T>& tracer = nullptr);

/// Gradients of `outputs` with respect to `inputs`, returned rather than accumulated into .grad.
/// With create_graph the returned gradients are themselves differentiable (second derivatives).
/// retain_graph defaults to create_graph. An input the outputs do not depend on gets zeros.
template <class T>
std::vector<Tensor<T>> grad(const std::vector<Tensor<T>>& outputs,
                            const std::vector<Tensor<T>>& inputs, bool create_graph = false,
                            std::optional<bool> retain_graph = std::nullopt,
                            const std::vector<Tensor<T>>& grad_outputs = {});

/// Single output, single input form: d output / d input (output a scalar, or `grad_output` given).
template <class T>
Tensor<T> grad(const Tensor<T>& output, const Tensor<T>& input, bool create_graph = false,
               std::optional<bool> retain_graph = std::nullopt,
               const Tensor<T>& grad_output = Tensor<T>());

}  // namespace xgrad
