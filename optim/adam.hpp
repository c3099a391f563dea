#pragma once

#include "optim/optimizer.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace xgrad::optim {

/// Options of Adam (PyTorch's defaults): lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 0, amsgrad off.
class AdamOptions {
public:
    explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}

    /// Learning rate γ, >= 0.
    AdamOptions& lr(double v) { lr_ = v; return *this; }
    double lr() const { return lr_; }
    /// Decay rates β1, β2 of the first and second moments, each in [0, 1).
    AdamOptions& betas(double beta1, double beta2) { betas_ = {beta1, beta2}; return *this; }
    std::pair<double, double> betas() const { return betas_; }
    /// ε added to the denominator after the square root, >= 0.
    AdamOptions& eps(double v) { eps_ = v; return *this; }
    double eps() const { return eps_; }
    /// L2 penalty λ, >= 0, added to the gradient: g + λ·θ.
    AdamOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
    double weight_decay() const { return weight_decay_; }
    /// AMSGrad: divide by the running maximum of the second moment.
    AdamOptions& amsgrad(bool v) { amsgrad_ = v; return *this; }
    bool amsgrad() const { return amsgrad_; }

private:
    double lr_;
    std::pair<double, double> betas_{0.9, 0.999};
    double eps_ = 1e-8;
    double weight_decay_ = 0;
    bool amsgrad_ = false;
};

namespace detail {

/// Per-parameter state of Adam and AdamW, allocated on the parameter's first step.
template <class T>
struct AdamState {
    xt::xarray<T> exp_avg;         // m
    xt::xarray<T> exp_avg_sq;      // v
    xt::xarray<T> max_exp_avg_sq;  // v_max (amsgrad only)
    std::int64_t step = 0;         // t
};

/// The hyperparameters of one Adam/AdamW update; `decoupled` selects AdamW's weight decay.
struct AdamHyper {
    double lr, beta1, beta2, eps, weight_decay;
    bool amsgrad, decoupled;
};

/// Checks Adam/AdamW options, naming `name` in the ValueError.
void check_adam_options(const char* name, double lr, std::pair<double, double> betas, double eps,
                        double weight_decay);

/// One Adam/AdamW update of `theta` (n elements) from `grad`, in place.
template <class T>
void adam_update(T* theta, const T* grad, std::size_t n, AdamState<T>& s, const AdamHyper& h);

}  // namespace detail

/// Adam (PyTorch's torch.optim.Adam), t counting this parameter's steps from 1:
///   g ← ∇θ + λ·θ
///   m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²
///   m̂ = m / (1 − β1^t)
///   v̂ = v / (1 − β2^t), or with amsgrad v_max ← max(v_max, v), v̂ = v_max / (1 − β2^t)
///   θ ← θ − γ·m̂ / (√v̂ + ε)
/// Parameters: leaves of any shape. Throws ValueError for lr, eps or weight_decay < 0 and for
/// betas outside [0, 1).
template <class T = float>
class Adam : public Optimizer<T> {
public:
    Adam(std::vector<Tensor<T>> params, const AdamOptions& options = AdamOptions());

    using Optimizer<T>::step;
    void step() override;

private:
    AdamOptions options_;
    std::vector<detail::AdamState<T>> state_;
};

}  // namespace xgrad::optim
