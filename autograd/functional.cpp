#include "autograd/functional.hpp"

#include "autograd/ops/index.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <vector>

namespace xgrad {

namespace {

// The rows ∂y[k]/∂x for every element k of y (a graph from x to y), stacked and shaped
// y.shape ++ x.shape. `op` names the function the user called in errors.
template <class T>
Tensor<T> jacobian_of(const Tensor<T>& y, const Tensor<T>& x, bool create_graph) {
    Shape out_shape = y.shape();
    out_shape.insert(out_shape.end(), x.shape().begin(), x.shape().end());
    if (!y.requires_grad()) return zeros<T>(out_shape);  // y does not depend on x at all
    const auto options = GradOptions().create_graph(create_graph).retain_graph().allow_unused();
    std::vector<Tensor<T>> rows;
    rows.reserve(y.size());
    for (std::size_t k = 0; k < y.size(); ++k) {
        xt::xarray<T> e = xt::zeros<T>(y.shape());
        e.data()[k] = T(1);
        rows.push_back(grad<T>(y, x, options, Tensor<T>(std::move(e))));
    }
    if (rows.empty()) return zeros<T>(out_shape);
    std::vector<std::ptrdiff_t> shape(out_shape.begin(), out_shape.end());
    return reshape(stack(rows, 0), shape);
}

template <class T>
Tensor<T> input_copy(const Tensor<T>& x, const char* op) {
    if (!x.defined()) throw ValueError(fmt::format("{}: x is undefined", op));
    // x itself when it requires grad (so that with create_graph the result stays connected to
    // x's graph), else a leaf holding its value.
    return x.requires_grad() ? x : Tensor<T>(x.value(), true);
}

}  // namespace

template <class T>
Tensor<T> jacobian(const std::function<Tensor<T>(const Tensor<T>&)>& f, const Tensor<T>& x,
                   bool create_graph) {
    const Tensor<T> xx = input_copy(x, "jacobian");
    GradModeGuard on(true);
    const Tensor<T> y = f(xx);
    if (!y.defined()) throw ValueError("jacobian: f returned an undefined tensor");
    return jacobian_of(y, xx, create_graph);
}

template <class T>
Tensor<T> hessian(const std::function<Tensor<T>(const Tensor<T>&)>& f, const Tensor<T>& x,
                  bool create_graph) {
    const Tensor<T> xx = input_copy(x, "hessian");
    GradModeGuard on(true);
    const Tensor<T> y = f(xx);
    if (!y.defined()) throw ValueError("hessian: f returned an undefined tensor");
    if (y.size() != 1) {
        throw ValueError(fmt::format(
            "hessian: f must return one element; got shape {} (use jacobian for vector outputs)",
            shape_str(y.shape())));
    }
    if (!y.requires_grad()) {
        Shape s = x.shape();
        s.insert(s.end(), x.shape().begin(), x.shape().end());
        return zeros<T>(s);
    }
    const Tensor<T> g =
        grad<T>(y, xx, GradOptions().create_graph().allow_unused());  // differentiable
    return jacobian_of(g, xx, create_graph);
}

#define XGRAD_INSTANTIATE(T)                                                       \
    template Tensor<T> jacobian(const std::function<Tensor<T>(const Tensor<T>&)>&, \
                                const Tensor<T>&, bool);                           \
    template Tensor<T> hessian(const std::function<Tensor<T>(const Tensor<T>&)>&,  \
                               const Tensor<T>&, bool);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
