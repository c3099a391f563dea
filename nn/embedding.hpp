#pragma once

#include "autograd/ops/embedding.hpp"
#include "nn/module.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace xgrad::nn {

/// Options of Embedding: the table's size, then fluent attributes —
/// `nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(0))`. Defaults as PyTorch: no padding.
class EmbeddingOptions {
public:
    EmbeddingOptions(std::size_t num_embeddings, std::size_t embedding_dim)
        : num_(num_embeddings), dim_(embedding_dim) {}

    /// The row that gets no gradient (and starts as zeros), in [−num_embeddings,
    /// num_embeddings); negative counts from the end; nullopt: none.
    EmbeddingOptions& padding_idx(std::optional<std::int64_t> p) {
        padding_ = p;
        return *this;
    }

    std::size_t num_embeddings() const { return num_; }
    std::size_t embedding_dim() const { return dim_; }
    const std::optional<std::int64_t>& padding_idx() const { return padding_; }

private:
    std::size_t num_, dim_;
    std::optional<std::int64_t> padding_;
};

/// A lookup table of num_embeddings vectors of embedding_dim (word vectors, categories): indices
/// of any shape → indices.shape + [embedding_dim], row indices[i...] of the weight (embedding,
/// one op on the tape). Only the rows used get a gradient, the padding row never.
/// Parameter: weight [num_embeddings, embedding_dim], initialised N(0, 1) as PyTorch does, the
/// padding row zeroed.
template <class T = float>
class Embedding : public Module<T> {
public:
    explicit Embedding(const EmbeddingOptions& options);
    Embedding(std::size_t num_embeddings, std::size_t embedding_dim)
        : Embedding(EmbeddingOptions(num_embeddings, embedding_dim)) {}

    /// A table holding `embeddings` [num, dim] (copied, padding row included as given), as
    /// PyTorch's from_pretrained: with `freeze` the weight does not require grad (an optimizer
    /// then leaves it alone; requires_grad_(true) on weight() unfreezes it).
    static Embedding from_pretrained(const Tensor<T>& embeddings, bool freeze = true,
                                     std::optional<std::int64_t> padding_idx = std::nullopt);

    /// indices: whole numbers in [0, num_embeddings) held in a tensor, as a DataLoader batch
    /// gives them (a non-integer is a ValueError naming embedding and the position).
    Tensor<T> forward(const Tensor<T>& indices) override;
    /// The same with the indices as an Index.
    Tensor<T> forward(const Index& indices);
    std::string type_name() const override { return "Embedding"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<Embedding>(options_);
    }
    std::string extra_repr() const override;

    const Tensor<T>& weight() const { return weight_; }
    const EmbeddingOptions& options() const { return options_; }
    /// padding_idx normalised to [0, num_embeddings), or nullopt.
    const std::optional<std::int64_t>& padding_idx() const { return padding_; }

private:
    Embedding(const EmbeddingOptions& options, Tensor<T> weight);

    EmbeddingOptions options_;
    std::optional<std::int64_t> padding_;
    Tensor<T> weight_;
};

}  // namespace xgrad::nn
