#pragma once

#include "autograd/config.hpp"  // before any xtensor header (Note [xtensor allocator])

#include "autograd/errors.hpp"
#include "autograd/shape.hpp"

#include <xtensor/xarray.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace xgrad {

template <class T>
struct Node;
template <class T>
class Tensor;
template <class T>
struct OutputSet;

/// The recorded half of an op: its saved values and its vector-Jacobian product.
/// `record` (autograd/tape.hpp) wraps every op struct in one of these.
template <class T>
struct FunctionBase {
    virtual ~FunctionBase() = default;
    /// An op with one output: one gradient per input, in input order; an undefined Tensor means
    /// "no gradient".
    virtual std::vector<Tensor<T>> vjp(const Tensor<T>& g, const Tensor<T>& y);
    /// An op with several outputs (record_multi): the same from the gradient of every output
    /// (zeros for an output that received none) and the outputs (undefined once destroyed).
    virtual std::vector<Tensor<T>> vjp_outputs(const std::vector<Tensor<T>>& gs,
                                               const std::vector<Tensor<T>>& ys);
    /// The op's attributes for the tape listing ("axis=1"), empty when it has none.
    virtual std::string attributes() const = 0;
};

/// What the outputs of one op with several outputs share (Note [several outputs] in tape.hpp).
template <class T>
struct OutputSet {
    std::unique_ptr<FunctionBase<T>> fn;        // saved values + VJP; null once released
    std::vector<std::weak_ptr<Node<T>>> nodes;  // the outputs, in order
    std::vector<Shape> shapes;                  // their shapes (zeros for a missing gradient)
};

/// What register_hook (and nn::Module's hook registrations) return: remove() unregisters the
/// hook. Removing twice, or after the tensor or module is gone, does nothing. Copies share the
/// registration; dropping a handle does not remove its hook (as in PyTorch).
class HookHandle {
public:
    HookHandle() = default;
    explicit HookHandle(std::function<void()> remover)
        : state_(std::make_shared<std::function<void()>>(std::move(remover))) {}
    /// Unregisters the hook (once).
    void remove() {
        if (state_ && *state_) {
            auto f = std::move(*state_);
            *state_ = nullptr;
            f();
        }
    }
    /// True until remove() was called (on this handle or a copy).
    bool active() const { return state_ && *state_; }

private:
    std::shared_ptr<std::function<void()>> state_;
};

/// A cheap, copyable handle (shared ownership) to a node of the graph: a value, its gradient and,
/// for a computed tensor, the op that made it. T is float by default; double for gradient checks.
template <class T = float>
class Tensor {
public:
    using value_type = T;
    using array_type = xt::xarray<T>;

    /// An undefined tensor (no node): what `grad()` returns before any backward.
    Tensor() = default;
    /// A leaf holding `value` (any shape, copied into a contiguous row-major array).
    explicit Tensor(xt::xarray<T> value, bool requires_grad = false);
    /// Wraps an existing node (engine use).
    explicit Tensor(std::shared_ptr<Node<T>> node) : node_(std::move(node)) {}

    bool defined() const { return node_ != nullptr; }
    const xt::xarray<T>& value() const;
    /// The value for in-place updates that are not recorded (optimizer steps, initialisers).
    /// Const like the handle it is called on: a Tensor is a shared handle, as in PyTorch.
    xt::xarray<T>& mutable_value() const;
    const Shape& shape() const { return value().shape(); }
    std::size_t dim() const { return value().dimension(); }
    std::size_t size() const { return value().size(); }
    /// The single element of a one-element tensor; throws ValueError otherwise.
    T item() const;
    /// Element access on the value, e.g. `t(0, 1)`, or `t()` on a scalar.
    template <class... Idx>
    T operator()(Idx... idx) const {
        return value()(idx...);
    }

    bool requires_grad() const;
    /// Marks a leaf as a parameter to differentiate; throws Error on a computed tensor.
    Tensor& requires_grad_(bool on = true);
    /// True for tensors made by the user (no recording op).
    bool is_leaf() const;
    /// The accumulated gradient (same shape as the value), undefined before any backward.
    Tensor grad() const;
    /// Replaces the gradient (optimizers, tests); an undefined `g` clears it.
    void set_grad(Tensor g) const;
    /// Drops the gradient (PyTorch's `zero_grad(set_to_none=True)`).
    void zero_grad() const;
    /// Keeps the gradient of a non-leaf tensor after backward (for teaching and debugging).
    Tensor& retain_grad();

    /// A gradient hook: sees the gradient of a tensor and returns a replacement (same shape) or
    /// an undefined Tensor to leave it as it is.
    using GradHook = std::function<Tensor(const Tensor& grad)>;
    /// Calls `hook` with this tensor's gradient every time backward() or grad() computes it
    /// (PyTorch's Tensor.register_hook; Note [gradient hooks] in tape.cpp): the whole gradient,
    /// summed over every use of the tensor, before it is accumulated into .grad (a leaf, or
    /// retain_grad), captured by grad(), or passed on to the op that made the tensor. `hook`
    /// returns a Tensor (the replacement, or undefined to keep the gradient) or nothing (it only
    /// looks). Hooks run in registration order, each seeing the result of the one before. Under
    /// create_graph the gradient carries a graph and a replacement built from it is
    /// differentiated too. ValueError on a tensor that does not require grad; ShapeError, from
    /// backward, for a replacement of another shape.
    template <class F>
    HookHandle register_hook(F hook) {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, const Tensor&>>) {
            return add_hook([hook = std::move(hook)](const Tensor& g) mutable {
                hook(g);
                return Tensor();
            });
        } else {
            return add_hook(GradHook(std::move(hook)));
        }
    }

    /// Backpropagates from this tensor: a scalar, or any shape with an explicit gradient `g` of
    /// the same shape. Gradients accumulate into every leaf that requires grad.
    void backward(const Tensor& g = Tensor(), bool retain_graph = false,
                  bool create_graph = false) const;

    /// A leaf sharing nothing with the graph: same value (copied), no history, no grad.
    Tensor detach() const;

    /// A name for the tape listing and DOT export ("a", "u").
    Tensor& set_name(std::string name);
    const std::string& name() const;
    /// Name of the op that made this tensor ("mul"), or "" for a leaf.
    const char* op_name() const;
    /// Which output of its op this tensor is: 0, or k for the k-th output of an op with several.
    std::size_t output_index() const;
    /// The recorded op that made this tensor (its attributes, its VJP), or null for a leaf and
    /// once a backward without retain_graph released it.
    const FunctionBase<T>* function() const;
    /// Tape position: the op's sequence number in execution order (0 for leaves).
    std::uint64_t tape_position() const;
    /// The tensors this one was computed from (empty for a leaf).
    const std::vector<Tensor>& inputs() const;

    Node<T>* node() const { return node_.get(); }
    const std::shared_ptr<Node<T>>& node_ptr() const { return node_; }
    /// True when both handles refer to the same node.
    bool same(const Tensor& other) const { return node_ == other.node_; }

private:
    Node<T>& checked() const;
    HookHandle add_hook(GradHook hook);
    std::shared_ptr<Node<T>> node_;
};

namespace detail {
inline std::atomic<std::int64_t> live_node_count{0};
// Keeps live_node_count as a member of every node: one relaxed atomic add when a node is made,
// one when it is freed (on any thread).
struct LiveNodeCount {
    LiveNodeCount() { live_node_count.fetch_add(1, std::memory_order_relaxed); }
    ~LiveNodeCount() { live_node_count.fetch_sub(1, std::memory_order_relaxed); }
    LiveNodeCount(const LiveNodeCount&) = delete;
    LiveNodeCount& operator=(const LiveNodeCount&) = delete;
};
}  // namespace detail

/// The number of graph nodes alive in the process, all threads together: leaves (parameters,
/// inputs, gradients) and recorded results. A training loop that frees each step's graph keeps
/// it flat from one step to the next (tests/reliability/test_memory.cpp).
inline std::int64_t live_nodes() {
    return detail::live_node_count.load(std::memory_order_relaxed);
}

/// A node of the graph. Users reach it through Tensor; the engine reads and writes its fields.
template <class T>
struct Node {
    xt::xarray<T> value;
    Tensor<T> grad;                         // accumulated gradient (leaves, retained non-leaves)
    std::unique_ptr<FunctionBase<T>> fn;    // saved values + VJP; null for leaves and once released
    std::shared_ptr<OutputSet<T>> outputs;  // instead of fn, for an output of an op with several
    std::size_t output_index = 0;           // which output of that op this node is
    std::vector<Tensor<T>> inputs;      // edges to the inputs, kept for the walk and the listing
    const char* op = nullptr;           // op name, null for a leaf
    std::uint64_t seq = 0;              // tape position, 0 for a leaf
    std::uint64_t created = next_id();  // creation order (orders leaves in listings)
    bool requires_grad = false;
    bool retains_grad = false;
    bool released = false;  // saved values freed by a backward without retain_graph
    detail::LiveNodeCount counted;
    // Gradient hooks in registration order, with the id their handle removes (null: none).
    std::unique_ptr<std::vector<std::pair<std::uint64_t, typename Tensor<T>::GradHook>>> hooks;
    std::string name;
    const char* site = nullptr;   // anomaly mode: the AnomalyLabel it was recorded under
    const char* scope = nullptr;  // the NameScope path it was recorded in ("encoder.0"), or none

    // Engine scratch, only meaningful during one backward pass.
    Tensor<T> pending;
    bool queued = false;

    static std::uint64_t next_id() {
        static thread_local std::uint64_t counter = 0;
        return ++counter;
    }

    Node() = default;
    explicit Node(xt::xarray<T>&& v, bool rg = false) : value(std::move(v)), requires_grad(rg) {}
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    ~Node();  // iterative: a 10^6-op chain is torn down without recursion
};

// ---- grad mode and anomaly mode (thread-local) ----

namespace detail {
inline thread_local bool grad_mode = true;
inline thread_local bool anomaly_mode = false;
inline thread_local const char* anomaly_site = nullptr;  // the innermost AnomalyLabel's text
inline thread_local const char* scope = nullptr;         // the innermost NameScope's path
}  // namespace detail

/// True while operations are recorded (the default).
inline bool grad_enabled() {
    return detail::grad_mode;
}
inline void set_grad_enabled(bool on) {
    detail::grad_mode = on;
}

/// Turns recording off for a scope (inference, optimizer updates).
class NoGradGuard {
public:
    NoGradGuard() : previous_(detail::grad_mode) { detail::grad_mode = false; }
    ~NoGradGuard() { detail::grad_mode = previous_; }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

/// Sets grad mode to `on` for a scope (the engine uses it for create_graph).
class GradModeGuard {
public:
    explicit GradModeGuard(bool on) : previous_(detail::grad_mode) { detail::grad_mode = on; }
    ~GradModeGuard() { detail::grad_mode = previous_; }
    GradModeGuard(const GradModeGuard&) = delete;
    GradModeGuard& operator=(const GradModeGuard&) = delete;

private:
    bool previous_;
};

/// True while anomaly mode checks every forward and backward result for NaN/Inf.
inline bool anomaly_enabled() {
    return detail::anomaly_mode;
}
inline void set_anomaly_enabled(bool on) {
    detail::anomaly_mode = on;
}

/// Anomaly mode for a scope: the first op producing NaN or Inf throws AnomalyError naming the op,
/// its tape position, its inputs and, under an AnomalyLabel, where it was created.
class AnomalyGuard {
public:
    explicit AnomalyGuard(bool on = true) : previous_(detail::anomaly_mode) {
        detail::anomaly_mode = on;
    }
    ~AnomalyGuard() { detail::anomaly_mode = previous_; }
    AnomalyGuard(const AnomalyGuard&) = delete;
    AnomalyGuard& operator=(const AnomalyGuard&) = delete;

private:
    bool previous_;
};

/// Names, for anomaly mode, the code that runs in its scope: every op recorded inside it keeps
/// the label and the file and line of the AnomalyLabel, and an AnomalyError about that op (in
/// its forward, or later in its backward) says where it was created:
///     AnomalyLabel label("attention scores");
///     // anomaly: backward of exp (tape #41) produced Inf (in its mul); inputs: #40 div [8, 8];
///     // created in attention scores (model.cpp:42)
/// Labels nest, outermost first ("Sequential > Linear(in=3, out=1, bias=true)": nn::Module labels
/// each forward with its type and settings). Label texts are kept for the life of the process:
/// use fixed ones. Outside anomaly mode an AnomalyLabel does nothing.
class AnomalyLabel {
public:
    explicit AnomalyLabel(const std::string& label, const char* file = __builtin_FILE(),
                          int line = __builtin_LINE());
    ~AnomalyLabel() {
        if (active_) detail::anomaly_site = previous_;
    }
    AnomalyLabel(const AnomalyLabel&) = delete;
    AnomalyLabel& operator=(const AnomalyLabel&) = delete;

private:
    const char* previous_ = nullptr;
    bool active_ = false;
};

/// Names the ops recorded while it lives, as TensorFlow's name_scope: every node recorded inside
/// keeps the dotted path of the scopes around it ("encoder.0"), which print_tape and to_dot
/// group the ops by (autograd/graph.hpp). Scopes nest; an empty name adds no level. nn::Module's
/// call opens one per module with the name it was registered under, so a model's tape reads by
/// module. Paths are kept for the life of the process (one string per distinct path).
class NameScope {
public:
    explicit NameScope(const std::string& name) : NameScope(detail::scope, name) {}
    /// The scope `name` below `base` (null: at the top) instead of below the current one.
    NameScope(const char* base, const std::string& name);
    ~NameScope() { detail::scope = previous_; }
    NameScope(const NameScope&) = delete;
    NameScope& operator=(const NameScope&) = delete;

    /// The path ops are recorded under now (null outside every scope).
    static const char* current() { return detail::scope; }

private:
    const char* previous_;
};

/// True when xgrad set glibc's malloc, as the library loaded, to keep freed memory for reuse
/// instead of unmapping it (Note [malloc settings] in tensor.cpp); false with the environment
/// variable XGRAD_MALLOC_TUNING=0 or another C library.
bool malloc_tuned();

// ---- factories ----

/// A 0-d tensor.
template <class T = float>
Tensor<T> scalar(T v, bool requires_grad = false);
/// A tensor of the given shape filled with `v`.
template <class T = float>
Tensor<T> full(const Shape& shape, T v, bool requires_grad = false);
template <class T = float>
Tensor<T> zeros(const Shape& shape, bool requires_grad = false);
template <class T = float>
Tensor<T> ones(const Shape& shape, bool requires_grad = false);
/// A leaf from an array (the same as the constructor, with type deduction).
template <class T>
Tensor<T> tensor(xt::xarray<T> value, bool requires_grad = false) {
    return Tensor<T>(std::move(value), requires_grad);
}

}  // namespace xgrad
