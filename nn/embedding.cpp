#include "nn/embedding.hpp"

#include "autograd/shape.hpp"
#include "nn/init.hpp"
#include "nn/loss.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace xgrad::nn {
namespace {

// Checks the options and returns padding_idx normalised to [0, num).
std::optional<std::int64_t> checked_padding(const EmbeddingOptions& options) {
    check_size("embedding", "num_embeddings", options.num_embeddings());  // Note [size limit]
    check_size("embedding", "embedding_dim", options.embedding_dim());
    const auto n = static_cast<std::int64_t>(options.num_embeddings());
    const auto& p = options.padding_idx();
    if (n == 0 || options.embedding_dim() == 0 || (p && (*p < -n || *p >= n))) {
        throw ValueError(fmt::format(
            "embedding: expected num_embeddings > 0, embedding_dim > 0 and padding_idx in "
            "[-num_embeddings, num_embeddings); got num_embeddings={}, embedding_dim={}, "
            "padding_idx={}",
            n, options.embedding_dim(), p ? fmt::format("{}", *p) : std::string("none")));
    }
    if (p && *p < 0) return *p + n;
    return p;
}

// The table's shape, every option checked first: it is allocated before the constructor runs.
Shape table_shape(const EmbeddingOptions& options) {
    checked_padding(options);
    const Shape shape{options.num_embeddings(), options.embedding_dim()};
    checked_numel("embedding", "weight", shape);
    return shape;
}

}  // namespace

template <class T>
Embedding<T>::Embedding(const EmbeddingOptions& options, Tensor<T> weight)
    : options_(options), padding_(checked_padding(options)) {
    weight_ = this->register_parameter("weight", std::move(weight));
}

template <class T>
Embedding<T>::Embedding(const EmbeddingOptions& options)
    : Embedding(options, zeros<T>(table_shape(options))) {
    init::normal_(weight_, T(0), T(1));
    if (padding_) {
        const std::size_t dim = options_.embedding_dim();
        std::fill_n(weight_.mutable_value().data() + static_cast<std::size_t>(*padding_) * dim, dim,
                    T(0));
    }
}

template <class T>
Embedding<T> Embedding<T>::from_pretrained(const Tensor<T>& embeddings, bool freeze,
                                           std::optional<std::int64_t> padding_idx) {
    if (embeddings.dim() != 2) {
        throw ShapeError(
            fmt::format("embedding: from_pretrained expects embeddings [num_embeddings, "
                        "embedding_dim]; got embeddings={}",
                        shape_str(embeddings.shape())));
    }
    const EmbeddingOptions options =
        EmbeddingOptions(embeddings.shape()[0], embeddings.shape()[1]).padding_idx(padding_idx);
    Embedding table(options, Tensor<T>(embeddings.value()));
    if (freeze) table.weight_.requires_grad_(false);
    return table;
}

template <class T>
Tensor<T> Embedding<T>::forward(const Tensor<T>& indices) {
    return forward(to_index(indices, "embedding"));
}

template <class T>
Tensor<T> Embedding<T>::forward(const Index& indices) {
    return embedding(weight_, indices, padding_);  // checks the range of every index
}

template <class T>
std::string Embedding<T>::extra_repr() const {
    std::string s = fmt::format("num_embeddings={}, embedding_dim={}", options_.num_embeddings(),
                                options_.embedding_dim());
    if (padding_) s += fmt::format(", padding_idx={}", *padding_);
    return s;
}

template class Embedding<float>;
template class Embedding<double>;

}  // namespace xgrad::nn
