#include "autograd/tensor.hpp"

#include "autograd/free_list.hpp"
#include "autograd/shape.hpp"
#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <xtensor/xbuilder.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace xgrad {

// Note [malloc settings]: every op returns a fresh array and drops the ones it no longer needs,
// so a training step frees and allocates the same large buffers (activations, gradients) again
// and again. With glibc's defaults, blocks above the mmap threshold (dynamic, 128 KiB to 32 MiB)
// are mapped for each allocation and unmapped on free, and a freed heap top above the trim
// threshold is handed back to the kernel: the next step faults every page back in and zeroes
// it, and each unmap shoots down the TLBs of the BLAS and batch threads. That cost a ReLU on
// 64×32×28×28 floats 18 ms instead of 3, and made the MLP step bimodal (docs/performance.md).
// So the library sets, once when it loads: mmap threshold 32 MiB (glibc's maximum), trim
// threshold 512 MiB, top pad 64 MiB — freed memory stays in the heap and is reused at once.
// The price is a process that keeps up to ~0.5 GiB of freed memory mapped. XGRAD_MALLOC_TUNING=0
// in the environment keeps glibc's defaults; other C libraries are left alone.
namespace {

bool tune_malloc() {
    const char* env = std::getenv("XGRAD_MALLOC_TUNING");
    if (env != nullptr && std::strcmp(env, "0") == 0) return false;
#ifdef __GLIBC__
    return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 512 << 20) == 1 &&
           mallopt(M_TOP_PAD, 64 << 20) == 1;
#else
    return false;
#endif
}

const bool malloc_tuned_at_load = tune_malloc();

}  // namespace

bool malloc_tuned() {
    return malloc_tuned_at_load;
}

template <class T>
Tensor<T>::Tensor(xt::xarray<T> value, bool requires_grad)
    : node_(detail::make_from_free_list<Node<T>>(std::move(value), requires_grad)) {}

template <class T>
Node<T>& Tensor<T>::checked() const {
    if (!node_)
        throw Error("tensor: this tensor is undefined (default-constructed or a missing grad)");
    return *node_;
}

template <class T>
const xt::xarray<T>& Tensor<T>::value() const {
    return checked().value;
}

template <class T>
xt::xarray<T>& Tensor<T>::mutable_value() const {
    return checked().value;
}

template <class T>
T Tensor<T>::item() const {
    const auto& v = value();
    if (v.size() != 1) {
        throw ValueError(fmt::format("item: expected a tensor with one element; got shape {}",
                                     shape_str(v.shape())));
    }
    return *v.data();
}

template <class T>
bool Tensor<T>::requires_grad() const {
    return node_ && node_->requires_grad;
}

template <class T>
Tensor<T>& Tensor<T>::requires_grad_(bool on) {
    auto& n = checked();
    if (n.op && !on) {
        throw Error(
            fmt::format("requires_grad_: '{}' is computed by {}; only leaves can stop "
                        "requiring grad (use detach())",
                        n.name, n.op));
    }
    n.requires_grad = on;
    return *this;
}

template <class T>
bool Tensor<T>::is_leaf() const {
    return checked().op == nullptr;
}

template <class T>
Tensor<T> Tensor<T>::grad() const {
    return checked().grad;
}

template <class T>
void Tensor<T>::set_grad(Tensor g) const {
    auto& n = checked();
    if (g.defined() && g.shape() != n.value.shape()) {
        throw ShapeError(
            fmt::format("set_grad: gradient shape must match the tensor; got "
                        "tensor={}, grad={}",
                        shape_str(n.value.shape()), shape_str(g.shape())));
    }
    n.grad = std::move(g);
}

template <class T>
void Tensor<T>::zero_grad() const {
    checked().grad = Tensor();
}

template <class T>
Tensor<T>& Tensor<T>::retain_grad() {
    checked().retains_grad = true;
    return *this;
}

template <class T>
HookHandle Tensor<T>::add_hook(GradHook hook) {
    Node<T>& n = checked();
    if (!n.requires_grad) {
        throw ValueError(
            "register_hook: cannot register a hook on a tensor that does not require grad");
    }
    if (!hook) throw ValueError("register_hook: the hook is empty");
    if (!n.hooks) n.hooks = std::make_unique<typename decltype(n.hooks)::element_type>();
    static std::atomic<std::uint64_t> next_id{0};
    const std::uint64_t id = ++next_id;
    n.hooks->emplace_back(id, std::move(hook));
    return HookHandle([weak = std::weak_ptr<Node<T>>(node_), id] {
        const std::shared_ptr<Node<T>> node = weak.lock();
        if (!node || !node->hooks) return;
        auto& list = *node->hooks;
        list.erase(std::remove_if(list.begin(), list.end(),
                                  [id](const auto& entry) { return entry.first == id; }),
                   list.end());
    });
}

template <class T>
void Tensor<T>::backward(const Tensor& g, bool retain_graph, bool create_graph) const {
    xgrad::backward<T>({*this}, {g}, retain_graph, create_graph);
}

template <class T>
Tensor<T> Tensor<T>::detach() const {
    return Tensor(xt::xarray<T>(value()));
}

template <class T>
Tensor<T>& Tensor<T>::set_name(std::string name) {
    checked().name = std::move(name);
    return *this;
}

template <class T>
const std::string& Tensor<T>::name() const {
    return checked().name;
}

template <class T>
const char* Tensor<T>::op_name() const {
    const auto* op = checked().op;
    return op ? op : "";
}

template <class T>
std::size_t Tensor<T>::output_index() const {
    return checked().output_index;
}

template <class T>
const FunctionBase<T>* Tensor<T>::function() const {
    const Node<T>& n = checked();
    if (n.fn) return n.fn.get();
    return n.outputs ? n.outputs->fn.get() : nullptr;
}

template <class T>
std::uint64_t Tensor<T>::tape_position() const {
    return checked().seq;
}

template <class T>
const std::vector<Tensor<T>>& Tensor<T>::inputs() const {
    return checked().inputs;
}

// Note [iterative teardown]: destroying the last handle to the head of a long chain would
// otherwise destroy its input, whose destructor destroys its input, ... one stack frame per
// op. Instead each node moves the edges of inputs it solely owns onto a local stack, so every
// node dies with no edges left and the depth stays constant.
template <class T>
std::vector<Tensor<T>> FunctionBase<T>::vjp(const Tensor<T>&, const Tensor<T>&) {
    throw Error("backward: this op has several outputs; the engine calls vjp_outputs");
}

template <class T>
std::vector<Tensor<T>> FunctionBase<T>::vjp_outputs(const std::vector<Tensor<T>>&,
                                                    const std::vector<Tensor<T>>&) {
    throw Error("backward: this op has one output; the engine calls vjp");
}

template <class T>
Node<T>::~Node() {
    fn.reset();  // saved handles first, so the edges below are the last owners
    outputs.reset();
    if (inputs.empty() && !grad.defined()) return;
    std::vector<Tensor<T>> stack = std::move(inputs);
    if (grad.defined()) stack.push_back(std::move(grad));
    while (!stack.empty()) {
        Tensor<T> t = std::move(stack.back());
        stack.pop_back();
        const auto& p = t.node_ptr();
        if (p && p.use_count() == 1) {
            p->fn.reset();
            p->outputs.reset();
            for (auto& in : p->inputs)
                stack.push_back(std::move(in));
            p->inputs.clear();
            if (p->grad.defined()) stack.push_back(std::move(p->grad));
            if (p->pending.defined()) stack.push_back(std::move(p->pending));
        }
    }
}

template <class T>
Tensor<T> scalar(T v, bool requires_grad) {
    return Tensor<T>(xt::xarray<T>(v), requires_grad);
}

namespace {
// A tensor of `shape` filled with v; `fn` names the factory the user called in the error a shape
// too large to allocate raises (Note [size limit]).
template <class T>
Tensor<T> filled(const char* fn, const Shape& shape, T v, bool requires_grad) {
    checked_numel(fn, "shape", shape);
    xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
    a.fill(v);
    return Tensor<T>(std::move(a), requires_grad);
}
}  // namespace

template <class T>
Tensor<T> full(const Shape& shape, T v, bool requires_grad) {
    return filled<T>("full", shape, v, requires_grad);
}

template <class T>
Tensor<T> zeros(const Shape& shape, bool requires_grad) {
    return filled<T>("zeros", shape, T(0), requires_grad);
}

template <class T>
Tensor<T> ones(const Shape& shape, bool requires_grad) {
    return filled<T>("ones", shape, T(1), requires_grad);
}

#define XGRAD_INSTANTIATE(T)                           \
    template class Tensor<T>;                          \
    template struct Node<T>;                           \
    template struct FunctionBase<T>;                   \
    template Tensor<T> scalar<T>(T, bool);             \
    template Tensor<T> full<T>(const Shape&, T, bool); \
    template Tensor<T> zeros<T>(const Shape&, bool);   \
    template Tensor<T> ones<T>(const Shape&, bool);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
