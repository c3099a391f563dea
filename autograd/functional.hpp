#pragma once

#include "autograd/tensor.hpp"

#include <functional>

namespace xgrad {

// Whole derivatives of small functions, built on grad() (PyTorch's torch.autograd.functional).
// Each costs one backward per output element: meant for teaching, tests and small problems.

/// The Jacobian of `f` at `x`: J[i..., j...] = ∂f(x)[i...]/∂x[j...], of shape f(x).shape ++
/// x.shape (a 0-d output gives x's shape: the gradient). `f` is called once, with grad mode on,
/// on x (or, when x does not require grad, on a leaf holding its value). An output element that
/// does not depend on x gives a row of zeros. With `create_graph` the result is differentiable
/// again, with respect to x. T: float or double.
template <class T>
Tensor<T> jacobian(const std::function<Tensor<T>(const Tensor<T>&)>& f, const Tensor<T>& x,
                   bool create_graph = false);

/// The Hessian of a function `f` with one output element at `x`: H[i..., j...] =
/// ∂²f/∂x[i...]∂x[j...], of shape x.shape ++ x.shape: the Jacobian of the gradient. ValueError
/// when f(x) has more than one element.
template <class T>
Tensor<T> hessian(const std::function<Tensor<T>(const Tensor<T>&)>& f, const Tensor<T>& x,
                  bool create_graph = false);

}  // namespace xgrad
