#include "nn/norm.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/norm.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
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
    if (process_sum_ && this->is_training()) return synchronized_forward(x, momentum);
    return batch_norm(x, tracked ? running_mean_ : Tensor<T>(),
                      tracked ? running_var_ : Tensor<T>(), weight_, bias_, use_batch, momentum,
                      static_cast<T>(options_.eps()));
}

// Note [synchronised batch norm]
// With a process sum (set_process_sum; dist::all_sum), training normalises with the statistics of
// every process's batch together, PyTorch's SyncBatchNorm. It is composed from recorded ops, so
// backward needs no code of its own: the sum's VJP is the sum of the incoming gradients over the
// processes, which is what the statistics' gradient needs (the other processes' losses depend on
// this process's values through the shared mean and variance). Two passes, as the variance of
// one pass (E[x²] − E[x]²) loses digits when the mean is large next to the spread:
//   n    = Σ_p n_p                             (a count, no gradient)
//   mean = Σ_p Σ_i x_i / n                      (one sum over processes of [c] values)
//   var  = Σ_p Σ_i (x_i − mean)² / n            (a second one)
//   y    = (x − mean) / √(var + eps) · weight + bias
// and the running statistics move as batch_norm's do, with the unbiased var·n/(n − 1). Evaluation
// (and an untracked layer's evaluation) uses this process's values alone: validation shards may
// differ in size between processes, and no collective runs outside training.
template <class T>
Tensor<T> BatchNorm<T>::synchronized_forward(const Tensor<T>& x, T momentum) {
    const std::size_t c = options_.num_features();
    Axes axes;
    std::vector<std::ptrdiff_t> cshape(x.dim(), 1);
    for (std::size_t a = 0; a < x.dim(); ++a) {
        if (a != 1) axes.push_back(static_cast<std::ptrdiff_t>(a));
    }
    cshape[1] = static_cast<std::ptrdiff_t>(c);
    const T n = process_sum_(scalar<T>(static_cast<T>(x.size() / c))).item();
    if (!(n > T(1))) {
        throw ValueError(
            fmt::format("{}: training needs more than one value per channel over the processes "
                        "to estimate a variance; got x={} and {} values in all",
                        name_, shape_str(x.shape()), n));
    }
    const Tensor<T> mean = process_sum_(sum(x, axes, true)) / n;
    const Tensor<T> d = x - mean;
    const Tensor<T> var = process_sum_(sum(d * d, axes, true)) / n;
    Tensor<T> y = d / sqrt(var + static_cast<T>(options_.eps()));
    if (options_.affine()) y = y * reshape(weight_, cshape) + reshape(bias_, cshape);
    if (options_.track_running_stats()) {
        T* rm = running_mean_.mutable_value().data();
        T* rv = running_var_.mutable_value().data();
        const T* m = mean.value().data();
        const T* v = var.value().data();
        for (std::size_t ch = 0; ch < c; ++ch) {
            rm[ch] = (T(1) - momentum) * rm[ch] + momentum * m[ch];
            rv[ch] = (T(1) - momentum) * rv[ch] + momentum * v[ch] * n / (n - T(1));
        }
    }
    return y;
}

template <class T>
std::string BatchNorm<T>::extra_repr() const {
    const auto& m = options_.momentum();
    return fmt::format("num_features={}, eps={}, momentum={}, affine={}, track_running_stats={}",
                       options_.num_features(), options_.eps(),
                       m ? fmt::format("{}", *m) : std::string("none"), options_.affine(),
                       options_.track_running_stats()) +
           (process_sum_ ? ", synchronized" : "");
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
