#pragma once

#include "autograd/ops/pool.hpp"
#include "nn/module.hpp"

#include <string>

namespace xgrad::nn {

/// Max pooling layer (max_pool2d): `nn::MaxPool2d(2)`, or
/// `nn::MaxPool2d(PoolOptions(3).stride(2).padding(1))`. No parameters.
template <class T = float>
class MaxPool2d : public Module<T> {
public:
    explicit MaxPool2d(const PoolOptions& options) : options_(options) {
        check_pool_options("max_pool2d", options_, true);
    }
    Tensor<T> forward(const Tensor<T>& x) override { return max_pool2d(x, options_); }
    std::string type_name() const override { return "MaxPool2d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<MaxPool2d>(options_);
    }
    std::string extra_repr() const override;

private:
    PoolOptions options_;
};

/// Average pooling layer (avg_pool2d). No parameters.
template <class T = float>
class AvgPool2d : public Module<T> {
public:
    explicit AvgPool2d(const PoolOptions& options) : options_(options) {
        check_pool_options("avg_pool2d", options_, false);
    }
    Tensor<T> forward(const Tensor<T>& x) override { return avg_pool2d(x, options_); }
    std::string type_name() const override { return "AvgPool2d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<AvgPool2d>(options_);
    }
    std::string extra_repr() const override;

private:
    PoolOptions options_;
};

/// Adaptive average pooling to a fixed output size (adaptive_avg_pool2d): [n, c, h, w] →
/// [n, c, oh, ow] whatever h and w. No parameters.
template <class T = float>
class AdaptiveAvgPool2d : public Module<T> {
public:
    explicit AdaptiveAvgPool2d(Size2 output_size) : output_size_(output_size) {
        check_pool_output_size("adaptive_avg_pool2d", output_size_);
    }
    Tensor<T> forward(const Tensor<T>& x) override { return adaptive_avg_pool2d(x, output_size_); }
    std::string type_name() const override { return "AdaptiveAvgPool2d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<AdaptiveAvgPool2d>(output_size_);
    }
    std::string extra_repr() const override { return "output_size=" + size2_str(output_size_); }

private:
    Size2 output_size_;
};

/// Global average pooling, Keras' GlobalAveragePooling2D: [n, c, h, w] → [n, c], one mean per
/// channel (global_avg_pool2d), so a Linear layer can follow directly. No parameters.
template <class T = float>
class GlobalAvgPool2d : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override { return global_avg_pool2d(x); }
    std::string type_name() const override { return "GlobalAvgPool2d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<GlobalAvgPool2d>();
    }
};

}  // namespace xgrad::nn
