#pragma once

#include "nn/sequential.hpp"

#include <cstddef>

namespace xgrad::nn {

/// Runs `model` on x in `segments` runs of consecutive layers, each but the last through
/// xgrad::checkpoint (PyTorch's torch.utils.checkpoint.checkpoint_sequential): the result and
/// its gradients are those of model(x), but only the tensors between segments are kept from the
/// forward; each segment's intermediates are rebuilt when backward reaches it. With n layers,
/// about √n segments keep the least (docs/tape.md, "Gradient checkpointing"). Layers
/// run again in backward: their forward hooks fire twice and batch norm in training mode counts
/// the batch twice in its running statistics, as in PyTorch. The parameter names are the
/// model's own. ValueError when segments is 0 or more than the model has layers.
template <class T>
Tensor<T> checkpoint_sequential(Sequential<T>& model, std::size_t segments, const Tensor<T>& x);

}  // namespace xgrad::nn
