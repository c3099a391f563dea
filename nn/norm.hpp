#pragma once

#include "nn/module.hpp"

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

namespace xgrad::nn {

/// Options of BatchNorm1d/BatchNorm2d, PyTorch's defaults: eps 1e-5, momentum 0.1 (nullopt:
/// a cumulative average over all batches seen), affine weight/bias, running statistics tracked.
class BatchNormOptions {
public:
    BatchNormOptions(std::size_t num_features) : features_(num_features) {}  // NOLINT: implicit

    BatchNormOptions& eps(double e) {
        eps_ = e;
        return *this;
    }
    BatchNormOptions& momentum(std::optional<double> m) {
        momentum_ = m;
        return *this;
    }
    BatchNormOptions& affine(bool on) {
        affine_ = on;
        return *this;
    }
    BatchNormOptions& track_running_stats(bool on) {
        track_ = on;
        return *this;
    }

    std::size_t num_features() const { return features_; }
    double eps() const { return eps_; }
    const std::optional<double>& momentum() const { return momentum_; }
    bool affine() const { return affine_; }
    bool track_running_stats() const { return track_; }

private:
    std::size_t features_;
    double eps_ = 1e-5;
    std::optional<double> momentum_ = 0.1;
    bool affine_ = true, track_ = true;
};

/// Batch normalisation (batch_norm) with PyTorch's semantics: in training, each channel is
/// normalised with the batch's mean and (biased) variance, and the running statistics move
/// towards them, r ← (1 − momentum)·r + momentum·s, with the unbiased variance; in evaluation
/// the running statistics are used (the batch does not matter). Without track_running_stats
/// the batch statistics are used in both modes.
/// Parameters: weight [c] (ones), bias [c] (zeros) when affine. Buffers (saved in the state
/// dict, not trained): running_mean [c] (zeros), running_var [c] (ones), num_batches_tracked []
/// (a count, stored as T) when tracking.
template <class T = float>
class BatchNorm : public Module<T> {
public:
    /// A sum over processes that differentiates (dist::all_sum): y = Σ_p x_p on every process p.
    using ProcessSum = std::function<Tensor<T>(const Tensor<T>&)>;

    Tensor<T> forward(const Tensor<T>& x) override;
    std::string extra_repr() const override;

    /// Synchronised statistics (PyTorch's SyncBatchNorm; dist::convert_sync_batch_norm sets it):
    /// in training mode the mean and variance are those of the batches of every process
    /// together, through `sum` (Note [synchronised batch norm] in norm.cpp). Every process must
    /// then run forward and backward of this layer together, as for any collective. An empty
    /// function goes back to the batch of this process alone. A clone() is not synchronised.
    void set_process_sum(ProcessSum sum) { process_sum_ = std::move(sum); }
    bool synchronized() const { return static_cast<bool>(process_sum_); }

    const Tensor<T>& weight() const { return weight_; }  ///< undefined without affine
    const Tensor<T>& bias() const { return bias_; }
    const Tensor<T>& running_mean() const { return running_mean_; }  ///< undefined untracked
    const Tensor<T>& running_var() const { return running_var_; }
    const BatchNormOptions& options() const { return options_; }

protected:
    /// `name` ("batch_norm2d") begins its error messages; `ranks` lists the accepted input
    /// ranks; `layout` describes them for errors.
    BatchNorm(const char* name, const BatchNormOptions& options, std::vector<std::size_t> ranks,
              std::string layout);

private:
    const char* name_;
    BatchNormOptions options_;
    std::vector<std::size_t> ranks_;
    std::string layout_;
    Tensor<T> weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
    ProcessSum process_sum_;

    Tensor<T> synchronized_forward(const Tensor<T>& x, T momentum);
};

/// Batch normalisation of x [n, c] (after a Linear layer) or [n, c, l].
template <class T = float>
class BatchNorm1d : public BatchNorm<T> {
public:
    explicit BatchNorm1d(const BatchNormOptions& options)
        : BatchNorm<T>("batch_norm1d", options, {2, 3}, "[n, c] or [n, c, l]") {}
    std::string type_name() const override { return "BatchNorm1d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<BatchNorm1d>(this->options());
    }
};

/// Batch normalisation of images x [n, c, h, w], one mean and variance per channel over
/// n·h·w values.
template <class T = float>
class BatchNorm2d : public BatchNorm<T> {
public:
    explicit BatchNorm2d(const BatchNormOptions& options)
        : BatchNorm<T>("batch_norm2d", options, {4}, "[n, c, h, w]") {}
    std::string type_name() const override { return "BatchNorm2d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<BatchNorm2d>(this->options());
    }
};

/// Options of LayerNorm, PyTorch's defaults: eps 1e-5, elementwise_affine (a weight and a bias
/// of normalized_shape), with bias. `nn::LayerNorm<>(64)`, `nn::LayerNorm<>({8, 64})` or
/// `nn::LayerNorm<>(nn::LayerNormOptions({8, 64}).eps(1e-6).elementwise_affine(false))`.
class LayerNormOptions {
public:
    LayerNormOptions(Shape normalized_shape)  // NOLINT: implicit, as PyTorch's LayerNorm([8, 64])
        : shape_(std::move(normalized_shape)) {}
    LayerNormOptions(std::initializer_list<std::size_t> normalized_shape)  // NOLINT: implicit
        : shape_(normalized_shape) {}
    LayerNormOptions(std::size_t features) : shape_({features}) {}  // NOLINT: implicit

    LayerNormOptions& eps(double e) {
        eps_ = e;
        return *this;
    }
    LayerNormOptions& elementwise_affine(bool on) {
        affine_ = on;
        return *this;
    }
    /// Without it (and with elementwise_affine) the layer scales but does not shift.
    LayerNormOptions& bias(bool on) {
        bias_ = on;
        return *this;
    }

    const Shape& normalized_shape() const { return shape_; }
    double eps() const { return eps_; }
    bool elementwise_affine() const { return affine_; }
    bool bias() const { return bias_; }

private:
    Shape shape_;
    double eps_ = 1e-5;
    bool affine_ = true, bias_ = true;
};

/// Layer normalisation (layer_norm) with PyTorch's semantics: each sample is normalised over
/// its last k axes (normalized_shape) with its own mean and biased variance, the same in
/// training and evaluation (no running statistics), then scaled and shifted per element.
/// x [..., normalized_shape...] → the same shape.
/// Parameters: weight (ones), then bias (zeros), both of normalized_shape, when
/// elementwise_affine (bias only with bias(true)).
template <class T = float>
class LayerNorm : public Module<T> {
public:
    explicit LayerNorm(const LayerNormOptions& options);

    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "LayerNorm"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<LayerNorm>(options_);
    }
    std::string extra_repr() const override;

    const Tensor<T>& weight() const { return weight_; }  ///< undefined without the affine part
    const Tensor<T>& bias() const { return bias_; }      ///< undefined without a bias
    const LayerNormOptions& options() const { return options_; }

private:
    LayerNormOptions options_;
    Tensor<T> weight_, bias_;
};

}  // namespace xgrad::nn
