#pragma once

#include "optim/adam.hpp"
#include "optim/optimizer.hpp"

#include <utility>
#include <vector>

namespace xgrad::optim {

/// Options of AdamW (PyTorch's defaults): lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 1e-2 (decoupled), amsgrad off.
class AdamWOptions {
public:
    explicit AdamWOptions(double lr = 1e-3) : lr_(lr) {}

    /// Learning rate γ, >= 0.
    AdamWOptions& lr(double v) { lr_ = v; return *this; }
    double lr() const { return lr_; }
    /// Decay rates β1, β2 of the first and second moments, each in [0, 1).
    AdamWOptions& betas(double beta1, double beta2) { betas_ = {beta1, beta2}; return *this; }
    std::pair<double, double> betas() const { return betas_; }
    /// ε added to the denominator after the square root, >= 0.
    AdamWOptions& eps(double v) { eps_ = v; return *this; }
    double eps() const { return eps_; }
    /// Decoupled weight decay λ, >= 0: θ ← θ − γ·λ·θ before the Adam step.
    AdamWOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
    double weight_decay() const { return weight_decay_; }
    /// AMSGrad: divide by the running maximum of the second moment.
    AdamWOptions& amsgrad(bool v) { amsgrad_ = v; return *this; }
    bool amsgrad() const { return amsgrad_; }

private:
    double lr_;
    std::pair<double, double> betas_{0.9, 0.999};
    double eps_ = 1e-8;
    double weight_decay_ = 1e-2;
    bool amsgrad_ = false;
};

/// AdamW (PyTorch's torch.optim.AdamW): Adam with weight decay decoupled from the gradient,
/// so it reaches neither moment. t counts this parameter's steps from 1:
///   θ ← θ − γ·λ·θ
///   m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²        (g = ∇θ, no λ term)
///   m̂ = m / (1 − β1^t)
///   v̂ = v / (1 − β2^t), or with amsgrad v_max ← max(v_max, v), v̂ = v_max / (1 − β2^t)
///   θ ← θ − γ·m̂ / (√v̂ + ε)
/// Parameters: leaves of any shape. Throws ValueError for lr, eps or weight_decay < 0 and for
/// betas outside [0, 1).
template <class T = float>
class AdamW : public Optimizer<T> {
public:
    AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options = AdamWOptions());

    using Optimizer<T>::step;
    void step() override;

private:
    AdamWOptions options_;
    std::vector<detail::AdamState<T>> state_;
};

}  // namespace xgrad::optim
