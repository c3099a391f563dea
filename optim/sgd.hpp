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
/// Parameters: leaves of any shape, in one list or in groups with options of their own (Note
/// [parameter groups]). Throws ValueError for lr, momentum or weight_decay < 0 and for nesterov
/// without momentum > 0 and dampening 0. State: state.<i>.momentum_buffer.
template <class T = float>
class SGD : public Optimizer<T> {
public:
    using Group = ParamGroup<T, SGDOptions>;

    /// One group: every parameter with `options`.
    SGD(std::vector<Tensor<T>> params, const SGDOptions& options);
    /// Several groups; a group without options of its own takes `defaults`.
    SGD(std::vector<Group> groups, const SGDOptions& defaults);

    using Optimizer<T>::step;
    void step() override;

    bool has_momentum() const override { return true; }
    double group_momentum(std::size_t g) const override { return options_.at(g).momentum(); }
    void set_group_momentum(std::size_t g, double momentum) override;

    /// The options of group g (its lr is group_lr(g), which schedules change).
    const SGDOptions& group_options(std::size_t g) const { return options_.at(g); }

    /// Appends a parameter group (PyTorch's add_param_group): `group.params` with
    /// `group.options`, or the optimizer's defaults (the constructor's options) when it has
    /// none; e.g. `add_param_group({head.parameters(), SGDOptions(defaults).lr(0.1)})`.
    /// ValueError for options out of range or a parameter already in a group (Note [parameter
    /// groups]); nothing changes then.
    void add_param_group(const Group& group);

private:
    struct State {
        xt::xarray<T> momentum_buffer;  // b, allocated on the first step with momentum
        bool started = false;
    };

    void check(const SGDOptions& options, std::size_t g) const;
    void save_state(typename Optimizer<T>::StateDict& out) const override;
    std::function<void()> load_state(detail::StateReader<T>& in) override;

    SGDOptions defaults_;              // for add_param_group
    std::vector<SGDOptions> options_;  // per group
    std::vector<State> state_;         // per parameter
};

}  // namespace xgrad::optim
