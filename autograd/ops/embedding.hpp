#pragma once

// Embedding lookup: rows of a weight matrix picked by integer indices. See
// docs/embedding-and-layer-norm.md.

#include "autograd/ops/index.hpp"
#include "autograd/tape.hpp"

#include <cstdint>
#include <optional>

namespace xgrad {

/// Row lookup, PyTorch's embedding: y[i..., :] = weight[indices[i...], :].
/// weight: [num_embeddings, embedding_dim] (rank 2, ShapeError otherwise); indices: any shape
/// (0-d and empty too), values in [0, num_embeddings) (ValueError naming the first bad index
/// and its position otherwise); the result is indices.shape + [embedding_dim].
/// The gradient with respect to weight adds g into the rows that were used (repeated indices
/// sum; unused rows get zeros). padding_idx, in [−num_embeddings, num_embeddings) (negative
/// counts from the end; ValueError otherwise), marks a row that never gets a gradient, while
/// the forward still returns its values (an nn::Embedding zeroes that row at construction).
template <class T>
Tensor<T> embedding(const Tensor<T>& weight, const Index& indices,
                    std::optional<std::int64_t> padding_idx = std::nullopt);

}  // namespace xgrad
