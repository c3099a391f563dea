#pragma once

#include "nn/module.hpp"

#include <string>

namespace xgrad::nn {

/// Inverted dropout: in training each element is zeroed with probability p and the survivors are
/// scaled by 1/(1 − p), so evaluation (where it is the identity) needs no rescaling.
/// p in [0, 1) (ValueError otherwise). Draws from xgrad::generator(). Forward is xgrad::dropout.
template <class T = float>
class Dropout : public Module<T> {
public:
    explicit Dropout(T p = T(0.5));
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Dropout"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<Dropout>(p_);
    }
    std::string extra_repr() const override;

private:
    T p_;
};

/// Channel dropout (dropout2d): in training whole channels of x [n, c, h, w] are zeroed with
/// probability p and the rest scaled by 1/(1 − p); the identity in evaluation. p in [0, 1)
/// (ValueError otherwise). Draws from xgrad::generator(). Forward is xgrad::dropout2d.
template <class T = float>
class Dropout2d : public Module<T> {
public:
    explicit Dropout2d(T p = T(0.5));
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Dropout2d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<Dropout2d>(p_);
    }
    std::string extra_repr() const override;

private:
    T p_;
};

}  // namespace xgrad::nn
