#pragma once

#include "autograd/tensor.hpp"

#include <functional>
#include <vector>

namespace xgrad {

/// A segment of a computation for checkpoint(): tensors in, tensors out.
template <class T>
using SegmentFn = std::function<std::vector<Tensor<T>>(const std::vector<Tensor<T>>&)>;

/// Gradient checkpointing (PyTorch's torch.utils.checkpoint): returns fn(inputs), recorded as
/// one op that keeps only the segment's inputs and outputs; the tensors fn makes in between are
/// freed as soon as it returns, and backward runs fn again to rebuild them (Note [checkpoint] in
/// checkpoint.cpp). Memory for compute: a deep network split into segments holds one segment's
/// intermediates at a time instead of all of them, for one more forward of each segment.
///
/// - fn may use tensors it captures (a module's parameters): they get their gradients as if fn
///   had run plainly, found by walking the graph fn built.
/// - fn must compute the same thing when run again: random draws (dropout) repeat, because the
///   thread's generator is put back to where the first run found it; a module's running
///   statistics (batch norm in training mode) are updated twice, as in PyTorch.
/// - Everything fn captures must outlive the backward of the result.
/// - Differentiable again (create_graph), and usable with grad().
/// Under NoGradGuard, or when nothing fn reaches requires grad, it is plain fn(inputs).
template <class T>
std::vector<Tensor<T>> checkpoint(const SegmentFn<T>& fn, const std::vector<Tensor<T>>& inputs);

/// The same for a segment with one input and one output: `checkpoint(block, x)`.
template <class T>
Tensor<T> checkpoint(const std::function<Tensor<T>(const Tensor<T>&)>& fn, const Tensor<T>& x);

}  // namespace xgrad
