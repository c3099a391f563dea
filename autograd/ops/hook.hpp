#pragma once

#include "autograd/tensor.hpp"

#include <functional>
#include <vector>

namespace xgrad {

/// Sees (and may rewrite, in place) the gradients of every output of backward_hook together.
template <class T>
using GradientsHook = std::function<void(std::vector<Tensor<T>>& grads)>;

/// Identity on a list of tensors whose backward calls `hook` once with the gradients of all its
/// outputs (zeros for an output backward did not reach), and passes on what the hook leaves
/// there (each of its output's shape: ShapeError otherwise). The op PyTorch's module backward
/// hooks are built on (BackwardHookFunction): nn::Module wraps a forward's inputs and outputs
/// in it when backward hooks are registered. Tensors that do not require grad pass through
/// unwrapped; nothing is recorded when none does or grad mode is off. Shown on the tape as
/// "backward_hook".
template <class T>
std::vector<Tensor<T>> backward_hook(const std::vector<Tensor<T>>& xs, GradientsHook<T> hook);

}  // namespace xgrad
