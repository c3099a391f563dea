#include "autograd/checkpoint.hpp"

#include "autograd/errors.hpp"
#include "autograd/random.hpp"
#include "autograd/shape.hpp"
#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <random>
#include <unordered_set>
#include <utility>

namespace xgrad {

// Note [checkpoint]
// checkpoint(fn, inputs) runs fn once with grad mode on and walks the graph it built from the
// outputs back. A node made during that run (tape position after the run began) is inside the
// segment; every other tensor that requires grad where the walk meets it is on the segment's
// boundary: an input, a parameter fn captured, an earlier result fn closed over. The outputs'
// values are copied out and the graph is dropped, which frees every intermediate, and one op is
// recorded, "checkpoint", whose inputs are the boundary (the explicit inputs first) and whose
// outputs are fn's. So the tape shows the segment as one step, and backward, grad() and hooks
// treat the boundary tensors like any op's inputs.
//
// Its VJP runs fn again on the same tensors, with grad mode on and the thread's generator set
// back to where the first run found it, and computes the gradients of the new outputs with
// respect to the boundary with detail::grad_to_boundary: a walk that captures each boundary
// tensor's gradient and goes no further, so the graph outside the segment is left to the outer
// backward (which passes those gradients on exactly once). The recomputed graph lives only
// during that VJP. With create_graph the walk records, and because fn ran on the real boundary
// tensors, the gradients are differentiable with respect to them: second derivatives work.
// A second run that reaches a tensor the first did not (fn depends on something that changed)
// is an error rather than a silently wrong gradient.
namespace ops {
namespace {

// The tensors on the boundary of the graph between `outputs` and the tape position `start`:
// `args` first (those that are defined), then every other tensor requiring grad that the walk
// from the outputs meets outside the segment, each once, in the order met.
template <class T>
std::vector<Tensor<T>> segment_boundary(const std::vector<Tensor<T>>& outputs, std::uint64_t start,
                                        const std::vector<Tensor<T>>& args) {
    std::vector<Tensor<T>> boundary;
    std::unordered_set<const Node<T>*> seen;
    for (const auto& a : args) {
        if (a.defined() && seen.insert(a.node()).second) boundary.push_back(a);
    }
    std::vector<Tensor<T>> stack;
    std::unordered_set<const Node<T>*> walked;
    for (const auto& y : outputs)
        if (y.defined() && y.requires_grad()) stack.push_back(y);
    while (!stack.empty()) {
        Tensor<T> t = std::move(stack.back());
        stack.pop_back();
        const Node<T>* n = t.node();
        if (!walked.insert(n).second) continue;
        if (n->op && n->seq > start && !seen.count(n)) {
            for (const auto& in : n->inputs)
                if (in.requires_grad()) stack.push_back(in);
        } else if (seen.insert(n).second) {
            boundary.push_back(t);
        }
    }
    return boundary;
}

// Sets the thread's generator to `state` for its lifetime.
class GeneratorReplay {
public:
    explicit GeneratorReplay(const std::mt19937_64& state) : saved_(generator()) {
        generator() = state;
    }
    ~GeneratorReplay() { generator() = saved_; }
    GeneratorReplay(const GeneratorReplay&) = delete;
    GeneratorReplay& operator=(const GeneratorReplay&) = delete;

private:
    std::mt19937_64 saved_;
};

template <class T>
struct Checkpoint {
    static constexpr const char* name = "checkpoint";
    SegmentFn<T> fn;
    std::vector<Tensor<T>> args;        // fn's arguments
    std::mt19937_64 rng;                // the thread's generator before fn's first run
    std::vector<xt::xarray<T>> values;  // fn's outputs (moved out by forward)

    std::vector<xt::xarray<T>> forward(const std::vector<Tensor<T>>&) { return std::move(values); }

    // y = fn(boundary)  ⇒  ∂L/∂boundary from fn run again (Note [checkpoint])
    std::vector<Tensor<T>> vjp(const std::vector<Tensor<T>>& gs,
                               const std::vector<Tensor<T>>& ys) const {
        const bool create_graph = grad_enabled();
        std::vector<Tensor<T>> outs;
        std::uint64_t start = 0;
        {
            GradModeGuard on(true);
            GeneratorReplay replay(rng);
            start = detail::next_sequence_number();
            outs = fn(args);
        }
        if (outs.size() != gs.size()) {
            throw Error(
                fmt::format("checkpoint: run again, the segment returned {} tensors "
                            "instead of {}",
                            outs.size(), gs.size()));
        }
        std::vector<Tensor<T>> seeds, seed_grads;
        for (std::size_t i = 0; i < outs.size(); ++i) {
            if (outs[i].shape() != gs[i].shape()) {
                throw ShapeError(fmt::format(
                    "checkpoint: run again, the segment's output {} has shape {} instead of {}", i,
                    shape_str(outs[i].shape()), shape_str(gs[i].shape())));
            }
            if (outs[i].requires_grad()) {
                seeds.push_back(outs[i]);
                seed_grads.push_back(gs[i]);
            }
        }
        // The node's inputs: the boundary the first run found (its ys share them).
        const std::vector<Tensor<T>>& boundary = inputs_of(ys);
        const std::vector<Tensor<T>> again = segment_boundary(outs, start, args);
        std::unordered_set<const Node<T>*> known;
        for (const auto& b : boundary)
            known.insert(b.node());
        for (const auto& b : again) {
            if (!known.count(b.node())) {
                throw Error(
                    "checkpoint: run again, the segment used a tensor its first run did not "
                    "(the function must compute the same thing both times)");
            }
        }
        if (seeds.empty()) return std::vector<Tensor<T>>(boundary.size());
        return detail::grad_to_boundary(seeds, seed_grads, boundary, create_graph);
    }

    static const std::vector<Tensor<T>>& inputs_of(const std::vector<Tensor<T>>& ys) {
        for (const auto& y : ys)
            if (y.defined()) return y.node()->inputs;
        throw Error("checkpoint: every output was destroyed before backward reached it");
    }
};

}  // namespace
}  // namespace ops

template <class T>
std::vector<Tensor<T>> checkpoint(const SegmentFn<T>& fn, const std::vector<Tensor<T>>& inputs) {
    if (!grad_enabled()) return fn(inputs);
    const std::mt19937_64 rng = generator();
    const std::uint64_t start = detail::next_sequence_number();
    std::vector<Tensor<T>> outs = fn(inputs);
    std::vector<Tensor<T>> boundary = ops::segment_boundary(outs, start, inputs);
    bool any = false;
    for (const auto& b : boundary)
        any = any || b.requires_grad();
    if (!any) return outs;
    std::vector<xt::xarray<T>> values;
    values.reserve(outs.size());
    for (const auto& y : outs)
        values.push_back(y.value());
    outs.clear();  // drops the segment's graph: its intermediates are freed here
    return record_list_multi(ops::Checkpoint<T>{fn, inputs, rng, std::move(values)}, boundary);
}

template <class T>
Tensor<T> checkpoint(const std::function<Tensor<T>(const Tensor<T>&)>& fn, const Tensor<T>& x) {
    const SegmentFn<T> segment = [fn](const std::vector<Tensor<T>>& xs) {
        return std::vector<Tensor<T>>{fn(xs[0])};
    };
    return checkpoint<T>(segment, std::vector<Tensor<T>>{x})[0];
}

#define XGRAD_INSTANTIATE(T)                                                         \
    template std::vector<Tensor<T>> checkpoint(const SegmentFn<T>&,                  \
                                               const std::vector<Tensor<T>>&);       \
    template Tensor<T> checkpoint(const std::function<Tensor<T>(const Tensor<T>&)>&, \
                                  const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
