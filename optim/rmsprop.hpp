#pragma once

#include "optim/optimizer.hpp"

#include <vector>

namespace xgrad::optim {

/// Options of RMSprop (PyTorch's defaults): lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0,
/// momentum 0, centered off.
class RMSpropOptions {
public:
    explicit RMSpropOptions(double lr = 1e-2) : lr_(lr) {}

    /// Learning rate γ, >= 0.
    RMSpropOptions& lr(double v) {
        lr_ = v;
        return *this;
    }
    double lr() const { return lr_; }
    /// Smoothing constant α of the square average, >= 0.
    RMSpropOptions& alpha(double v) {
        alpha_ = v;
        return *this;
    }
    double alpha() const { return alpha_; }
    /// ε added to the denominator after the square root, >= 0.
    RMSpropOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    double eps() const { return eps_; }
    /// L2 penalty λ, >= 0, added to the gradient: g + λ·θ.
    RMSpropOptions& weight_decay(double v) {
        weight_decay_ = v;
        return *this;
    }
    double weight_decay() const { return weight_decay_; }
    /// Momentum factor μ, >= 0 (0 turns momentum off).
    RMSpropOptions& momentum(double v) {
        momentum_ = v;
        return *this;
    }
    double momentum() const { return momentum_; }
    /// Centered RMSprop: normalise by an estimate of the gradient's variance.
    RMSpropOptions& centered(bool v) {
        centered_ = v;
        return *this;
    }
    bool centered() const { return centered_; }

private:
    double lr_;
    double alpha_ = 0.99;
    double eps_ = 1e-8;
    double weight_decay_ = 0;
    double momentum_ = 0;
    bool centered_ = false;
};

/// RMSprop (PyTorch's torch.optim.RMSprop):
///   g ← ∇θ + λ·θ
///   v ← α·v + (1 − α)·g²            ṽ = v
///   with centered: g_avg ← α·g_avg + (1 − α)·g,   ṽ = v − g_avg²
///   with μ > 0: b ← μ·b + g / (√ṽ + ε),  θ ← θ − γ·b
///   else:       θ ← θ − γ·g / (√ṽ + ε)
/// Parameters: leaves of any shape, in one list or in groups (Note [parameter groups]). Throws
/// ValueError for lr, alpha, eps, weight_decay or momentum < 0. State: state.<i>.square_avg,
/// grad_avg (centered), momentum_buffer (momentum > 0).
template <class T = float>
class RMSprop : public Optimizer<T> {
public:
    using Group = ParamGroup<T, RMSpropOptions>;

    /// One group: every parameter with `options`.
    RMSprop(std::vector<Tensor<T>> params, const RMSpropOptions& options = RMSpropOptions());
    /// Several groups; a group without options of its own takes `defaults`.
    RMSprop(std::vector<Group> groups, const RMSpropOptions& defaults = RMSpropOptions());

    using Optimizer<T>::step;
    void step() override;

    bool has_momentum() const override { return true; }
    double group_momentum(std::size_t g) const override { return options_.at(g).momentum(); }
    void set_group_momentum(std::size_t g, double momentum) override;

    /// The options of group g (its lr is group_lr(g), which schedules change).
    const RMSpropOptions& group_options(std::size_t g) const { return options_.at(g); }

    /// Appends a parameter group (PyTorch's add_param_group): `group.params` with
    /// `group.options`, or the optimizer's defaults (the constructor's options) when it has
    /// none; e.g. `add_param_group({head.parameters(), RMSpropOptions(defaults).lr(0.1)})`.
    /// ValueError for options out of range or a parameter already in a group (Note [parameter
    /// groups]); nothing changes then.
    void add_param_group(const Group& group);

private:
    struct State {
        xt::xarray<T> square_avg;       // v
        xt::xarray<T> grad_avg;         // g_avg (centered only)
        xt::xarray<T> momentum_buffer;  // b (momentum only)
        bool started = false, has_grad_avg = false, has_momentum_buffer = false;
    };

    void check(const RMSpropOptions& options, std::size_t g) const;
    void save_state(typename Optimizer<T>::StateDict& out) const override;
    std::function<void()> load_state(detail::StateReader<T>& in) override;

    RMSpropOptions defaults_;              // for add_param_group
    std::vector<RMSpropOptions> options_;  // per group
    std::vector<State> state_;             // per parameter
};

}  // namespace xgrad::optim
