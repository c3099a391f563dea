#include "nn/norm.hpp"

#include "autograd/ops/norm.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace xgrad::nn {

template <class T>
BatchNorm<T>::BatchNorm(const char* name, const BatchNormOptions& options,
                        std::vector<std::size_t> ranks, std::string layout)
    : name_(name), options_(options), ranks_(std::move(ranks)), layout_(std::move(layout)) {
    const std::size_t c = options_.num_features();
    const auto& m = options_.momentum();
    if (c == 0 || !(options_.eps() > 0) || (m && !(*m >= 0 && *m <= 1))) {
        throw ValueError(
            fmt::format("{}: expected num_features > 0, eps > 0 and momentum "
                        "in [0, 1]; got num_features={}, eps={}, momentum={}",
                        name_, c, options_.eps(), m ? fmt::format("{}", *m) : "none"));
    }
    check_size(name_, "num_features", c);  // Note [size limit]
    if (options_.affine()) {
        weight_ = this->register_parameter("weight", ones<T>({c}));
        bias_ = this->register_parameter("bias", zeros<T>({c}));
    }
    if (options_.track_running_stats()) {
        running_mean_ = this->register_buffer("running_mean", zeros<T>({c}));
        running_var_ = this->register_buffer("running_var", ones<T>({c}));
        num_batches_tracked_ = this->register_buffer("num_batches_tracked", zeros<T>({}));
    }
}

template <class T>
Tensor<T> BatchNorm<T>::forward(const Tensor<T>& x) {
    const std::size_t c = options_.num_features();
    if (std::find(ranks_.begin(), ranks_.end(), x.dim()) == ranks_.end() || x.shape()[1] != c) {
        throw ShapeError(fmt::format("{}: expected x {} with c={}; got x={}", name_, layout_, c,
                                     shape_str(x.shape())));
    }
    const bool tracked = options_.track_running_stats();
    // Untracked statistics: the batch's, in evaluation too (PyTorch's rule).
    const bool use_batch = this->is_training() || !tracked;
    T momentum = T(0);
    if (this->is_training() && tracked) {
        T& count = *num_batches_tracked_.mutable_value().data();
        count += T(1);
        momentum = options_.momentum() ? static_cast<T>(*options_.momentum()) : T(1) / count;
    }
    return batch_norm(x, tracked ? running_mean_ : Tensor<T>(),
                      tracked ? running_var_ : Tensor<T>(), weight_, bias_, use_batch, momentum,
                      static_cast<T>(options_.eps()));
}

template <class T>
std::string BatchNorm<T>::extra_repr() const {
    const auto& m = options_.momentum();
    return fmt::format("num_features={}, eps={}, momentum={}, affine={}, track_running_stats={}",
                       options_.num_features(), options_.eps(),
                       m ? fmt::format("{}", *m) : std::string("none"), options_.affine(),
                       options_.track_running_stats());
}

template <class T>
LayerNorm<T>::LayerNorm(const LayerNormOptions& options) : options_(options) {
    const Shape& shape = options_.normalized_shape();
    if (shape.empty() || std::find(shape.begin(), shape.end(), 0) != shape.end() ||
        !(options_.eps() > 0)) {
        throw ValueError(
            fmt::format("layer_norm: expected a normalized_shape of at least one axis, each of "
                        "length >= 1, and eps > 0; got normalized_shape={}, eps={}",
                        shape_str(shape), options_.eps()));
    }
    checked_numel("layer_norm", "normalized_shape", shape);  // Note [size limit]
    if (options_.elementwise_affine()) {
        weight_ = this->register_parameter("weight", ones<T>(shape));
        if (options_.bias()) bias_ = this->register_parameter("bias", zeros<T>(shape));
    }
}

template <class T>
Tensor<T> LayerNorm<T>::forward(const Tensor<T>& x) {
    return layer_norm(x, options_.normalized_shape(), weight_, bias_,
                      static_cast<T>(options_.eps()));  // checks the shapes
}

template <class T>
std::string LayerNorm<T>::extra_repr() const {
    return fmt::format("normalized_shape={}, eps={}, elementwise_affine={}, bias={}",
                       shape_str(options_.normalized_shape()), options_.eps(),
                       options_.elementwise_affine(), options_.bias());
}

template class BatchNorm<float>;
template class BatchNorm<double>;
template class BatchNorm1d<float>;
template class BatchNorm1d<double>;
template class BatchNorm2d<float>;
template class BatchNorm2d<double>;
template class LayerNorm<float>;
template class LayerNorm<double>;

}  // namespace xgrad::nn
