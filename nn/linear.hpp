#pragma once

#include "nn/module.hpp"

namespace xgrad::nn {

/// Dense layer y = x·Wᵀ + b: x [..., in] → [..., out]; weight [out, in] (PyTorch's layout, and the
/// lecture's Θ without its bias column), bias [out]; forward is xgrad::linear, one op on the tape.
/// Initialised as PyTorch does: U(−1/√in, 1/√in) for both; use nn::init to change it.
/// Parameters: weight, then bias.
template <class T = float>
class Linear : public Module<T> {
public:
    Linear(std::size_t in_features, std::size_t out_features, bool bias = true);

    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Linear"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<Linear>(in_, out_, bias_.defined());
    }
    std::string extra_repr() const override;

    const Tensor<T>& weight() const { return weight_; }
    const Tensor<T>& bias() const { return bias_; }  ///< undefined without a bias

private:
    std::size_t in_, out_;
    Tensor<T> weight_, bias_;
};

}  // namespace xgrad::nn
