#pragma once

#include "optim/optimizer.hpp"

#include <vector>

namespace xgrad::optim {

/// Options of SGD (PyTorch's defaults): lr required, momentum 0, dampening 0, nesterov off,
/// weight_decay 0.
class SGDOptions {
public:
    explicit SGDOptions(double lr) : lr_(lr) {}

    /// Learning rate γ, >= 0.
    SGDOptions& lr(double v) {
        lr_ = v;
        return *this;
    }
    double lr() const { return lr_; }
    /// Momentum factor μ, >= 0 (0 turns momentum off).
    SGDOptions& momentum(double v) {
        momentum_ = v;
        return *this;
    }
    double momentum() const { return momentum_; }
    /// Dampening τ of the momentum: b = μ·b + (1 − τ)·g.
    SGDOptions& dampening(double v) {
        dampening_ = v;
        return *this;
    }
    double dampening() const { return dampening_; }
    /// Nesterov momentum; needs momentum > 0 and dampening 0.
    SGDOptions& nesterov(bool v) {
        nesterov_ = v;
        return *this;
    }
    bool nesterov() const { return nesterov_; }
    /// L2 penalty λ, >= 0, added to the gradient: g + λ·θ.
    SGDOptions& weight_decay(double v) {
        weight_decay_ = v;
        return *this;
    }
    double weight_decay() const { return weight_decay_; }

private:
    double lr_;
    double momentum_ = 0;
    double dampening_ = 0;
    bool nesterov_ = false;
    double weight_decay_ = 0;
};

/// Stochastic gradient descent, optionally with momentum (PyTorch's torch.optim.SGD):
///   g ← ∇θ + λ·θ
///   b ← g on the first step, μ·b + (1 − τ)·g after          (when μ ≠ 0)
///   g ← g + μ·b with nesterov, b without                    (when μ ≠ 0)
///   θ ← θ − γ·g
/// Parameters: leaves of any shape. Throws ValueError for lr, momentum or weight_decay < 0 and
/// for nesterov without momentum > 0 and dampening 0.
template <class T = float>
class SGD : public Optimizer<T> {
public:
    SGD(std::vector<Tensor<T>> params, const SGDOptions& options);

    using Optimizer<T>::step;
    void step() override;

private:
    struct State {
        xt::xarray<T> momentum_buffer;  // b, allocated on the first step with momentum
        bool started = false;
    };

    SGDOptions options_;
    std::vector<State> state_;
};

}  // namespace xgrad::optim
