#pragma once

#include "nn/module.hpp"

#include <cstddef>
#include <string>

// Activation layers: stateless modules around the elementwise ops (no parameters).
namespace xgrad::nn {

template <class T = float>
class Sigmoid : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Sigmoid"; }
    std::shared_ptr<Module<T>> clone() const override { return this->template clone_as<Sigmoid>(); }
};

template <class T = float>
class Tanh : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Tanh"; }
    std::shared_ptr<Module<T>> clone() const override { return this->template clone_as<Tanh>(); }
};

template <class T = float>
class ReLU : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "ReLU"; }
    std::shared_ptr<Module<T>> clone() const override { return this->template clone_as<ReLU>(); }
};

/// x for x > 0, slope·x otherwise (PyTorch's default slope 0.01).
template <class T = float>
class LeakyReLU : public Module<T> {
public:
    explicit LeakyReLU(T slope = T(0.01)) : slope_(slope) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "LeakyReLU"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<LeakyReLU>(slope_);
    }
    std::string extra_repr() const override;

private:
    T slope_;
};

/// x for x > 0, alpha·(eˣ − 1) otherwise.
template <class T = float>
class ELU : public Module<T> {
public:
    explicit ELU(T alpha = T(1)) : alpha_(alpha) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "ELU"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<ELU>(alpha_);
    }
    std::string extra_repr() const override;

private:
    T alpha_;
};

/// GELU, x·Φ(x); approximate "tanh" uses the tanh formula (xgrad::gelu), "none" the exact erf one.
template <class T = float>
class GELU : public Module<T> {
public:
    explicit GELU(std::string approximate = "none");
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "GELU"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<GELU>(approximate_);
    }
    std::string extra_repr() const override;

private:
    std::string approximate_;
};

/// SiLU (swish), x·σ(x).
template <class T = float>
class SiLU : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "SiLU"; }
    std::shared_ptr<Module<T>> clone() const override { return this->template clone_as<SiLU>(); }
};

/// SELU, scale·elu(x, alpha) with PyTorch's constants.
template <class T = float>
class SELU : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "SELU"; }
    std::shared_ptr<Module<T>> clone() const override { return this->template clone_as<SELU>(); }
};

/// PReLU: x for x > 0, w·x otherwise, with learnable slopes: one shared (num_parameters = 1, the
/// default) or one per channel of axis 1 (num_parameters = C), each initialised to `init` (0.25,
/// as PyTorch). Parameters: weight [num_parameters].
template <class T = float>
class PReLU : public Module<T> {
public:
    explicit PReLU(std::size_t num_parameters = 1, T init = T(0.25));
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "PReLU"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<PReLU>(weight_.size());
    }
    std::string extra_repr() const override;

    const Tensor<T>& weight() const { return weight_; }

private:
    Tensor<T> weight_;
};

/// softmax along `axis` (the last by default).
template <class T = float>
class Softmax : public Module<T> {
public:
    explicit Softmax(std::ptrdiff_t axis = -1) : axis_(axis) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Softmax"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<Softmax>(axis_);
    }

private:
    std::ptrdiff_t axis_;
};

/// log softmax along `axis` (the last by default).
template <class T = float>
class LogSoftmax : public Module<T> {
public:
    explicit LogSoftmax(std::ptrdiff_t axis = -1) : axis_(axis) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "LogSoftmax"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<LogSoftmax>(axis_);
    }

private:
    std::ptrdiff_t axis_;
};

}  // namespace xgrad::nn
