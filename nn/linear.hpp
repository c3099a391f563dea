#pragma once

#include "nn/module.hpp"

namespace xgrad::nn {

/// y = x·Wᵀ + b as one op (tape name "linear"), what Linear::forward runs: x [..., in] (rank >= 1),
/// weight [out, in], bias [out] or undefined → [..., out]. The same contract and errors as
/// xgrad::linear (autograd/ops/linalg.hpp), which it calls for a 1-D x or no bias; otherwise the
/// bias is written into the result and one gemm adds x·Wᵀ to it (beta = 1), and the VJP computes
/// ∂L/∂x = G·W, ∂L/∂W = Gᵀ·x (leading axes folded into rows) and ∂L/∂b = Σ_rows G with gemms and
/// one pass, only for inputs that require grad. With create_graph the VJP is built from xgrad
/// ops (matmul, reshape, sum), so second derivatives work. See Note [fused linear].
template <class T>
Tensor<T> fused_linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias);

/// Dense layer y = x·Wᵀ + b: x [..., in] → [..., out]; weight [out, in] (PyTorch's layout, and the
/// lecture's Θ without its bias column), bias [out]. Initialised as PyTorch does:
/// U(−1/√in, 1/√in) for both; use nn::init to change it. Parameters: weight, then bias.
template <class T = float>
class Linear : public Module<T> {
public:
    Linear(std::size_t in_features, std::size_t out_features, bool bias = true);

    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Linear"; }
    std::string extra_repr() const override;

    const Tensor<T>& weight() const { return weight_; }
    const Tensor<T>& bias() const { return bias_; }  ///< undefined without a bias

private:
    std::size_t in_, out_;
    Tensor<T> weight_, bias_;
};

}  // namespace xgrad::nn
