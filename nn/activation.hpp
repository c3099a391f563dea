#pragma once

#include "nn/module.hpp"

#include <cstddef>

// Activation layers: stateless modules around the elementwise ops (no parameters).
namespace xgrad::nn {

template <class T = float>
class Sigmoid : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Sigmoid"; }
};

template <class T = float>
class Tanh : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Tanh"; }
};

template <class T = float>
class ReLU : public Module<T> {
public:
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "ReLU"; }
};

/// x for x > 0, slope·x otherwise (PyTorch's default slope 0.01).
template <class T = float>
class LeakyReLU : public Module<T> {
public:
    explicit LeakyReLU(T slope = T(0.01)) : slope_(slope) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "LeakyReLU"; }
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
    std::string extra_repr() const override;

private:
    T alpha_;
};

/// softmax along `axis` (the last by default).
template <class T = float>
class Softmax : public Module<T> {
public:
    explicit Softmax(std::ptrdiff_t axis = -1) : axis_(axis) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Softmax"; }

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

private:
    std::ptrdiff_t axis_;
};

}  // namespace xgrad::nn
