#include "autograd/ops/hook.hpp"

#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <utility>

namespace xgrad {
namespace ops {
namespace {

template <class T>
struct BackwardHook {
    static constexpr const char* name = "backward_hook";
    GradientsHook<T> hook;

    std::vector<xt::xarray<T>> forward(const std::vector<Tensor<T>>& xs) const {
        std::vector<xt::xarray<T>> ys;
        ys.reserve(xs.size());
        for (const auto& x : xs)
            ys.push_back(x.value());
        return ys;
    }
    // The identity's VJP passes each gradient on; the hook may rewrite them first.
    std::vector<Tensor<T>> vjp(const std::vector<Tensor<T>>& gs,
                               const std::vector<Tensor<T>>&) const {
        std::vector<Tensor<T>> out = gs;
        hook(out);
        if (out.size() != gs.size()) {
            throw ShapeError(fmt::format("backward_hook: the hook left {} gradients for {} outputs",
                                         out.size(), gs.size()));
        }
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (!out[i].defined()) {
                out[i] = gs[i];
            } else if (out[i].shape() != gs[i].shape()) {
                throw ShapeError(fmt::format(
                    "backward_hook: the hook left a gradient of shape {} for output {} of "
                    "shape {}",
                    shape_str(out[i].shape()), i, shape_str(gs[i].shape())));
            }
        }
        return out;
    }
};

}  // namespace
}  // namespace ops

template <class T>
std::vector<Tensor<T>> backward_hook(const std::vector<Tensor<T>>& xs, GradientsHook<T> hook) {
    std::vector<Tensor<T>> wrapped, out = xs;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (xs[i].defined() && xs[i].requires_grad()) {
            wrapped.push_back(xs[i]);
            where.push_back(i);
        }
    }
    if (wrapped.empty() || !grad_enabled()) return out;
    const auto ys = record_list_multi(ops::BackwardHook<T>{std::move(hook)}, wrapped);
    for (std::size_t k = 0; k < where.size(); ++k)
        out[where[k]] = ys[k];
    return out;
}

template std::vector<Tensor<float>> backward_hook(const std::vector<Tensor<float>>&,
                                                  GradientsHook<float>);
template std::vector<Tensor<double>> backward_hook(const std::vector<Tensor<double>>&,
                                                   GradientsHook<double>);

}  // namespace xgrad
