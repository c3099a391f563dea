#pragma once

#include "optim/optimizer.hpp"

#include <cstdint>
#include <vector>

namespace xgrad::optim {

/// Options of Adagrad (PyTorch's defaults): lr 1e-2, lr_decay 0, weight_decay 0,
/// initial_accumulator_value 0, eps 1e-10.
class AdagradOptions {
public:
    explicit AdagradOptions(double lr = 1e-2) : lr_(lr) {}

    /// Learning rate γ, >= 0.
    AdagradOptions& lr(double v) {
        lr_ = v;
        return *this;
    }
    double lr() const { return lr_; }
    /// Learning-rate decay η, >= 0: step t uses γ / (1 + (t − 1)·η).
    AdagradOptions& lr_decay(double v) {
        lr_decay_ = v;
        return *this;
    }
    double lr_decay() const { return lr_decay_; }
    /// L2 penalty λ, >= 0, added to the gradient: g + λ·θ.
    AdagradOptions& weight_decay(double v) {
        weight_decay_ = v;
        return *this;
    }
    double weight_decay() const { return weight_decay_; }
    /// Starting value of the sum of squared gradients, >= 0.
    AdagradOptions& initial_accumulator_value(double v) {
        initial_ = v;
        return *this;
    }
    double initial_accumulator_value() const { return initial_; }
    /// ε added to the denominator after the square root, >= 0.
    AdagradOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    double eps() const { return eps_; }

private:
    double lr_;
    double lr_decay_ = 0;
    double weight_decay_ = 0;
    double initial_ = 0;
    double eps_ = 1e-10;
};

/// Adagrad (PyTorch's torch.optim.Adagrad), t counting this parameter's steps from 1 and the
/// sum starting at initial_accumulator_value:
///   γ̃ = γ / (1 + (t − 1)·η)
///   g ← ∇θ + λ·θ
///   sum ← sum + g²
///   θ ← θ − γ̃·g / (√sum + ε)
/// Parameters: leaves of any shape, in one list or in groups (Note [parameter groups]). Throws
/// ValueError for any option < 0. State: state.<i>.sum, step.
template <class T = float>
class Adagrad : public Optimizer<T> {
public:
    using Group = ParamGroup<T, AdagradOptions>;

    /// One group: every parameter with `options`.
    Adagrad(std::vector<Tensor<T>> params, const AdagradOptions& options = AdagradOptions());
    /// Several groups; a group without options of its own takes `defaults`.
    Adagrad(std::vector<Group> groups, const AdagradOptions& defaults = AdagradOptions());

    using Optimizer<T>::step;
    void step() override;

    /// The options of group g (its lr is group_lr(g), which schedules change).
    const AdagradOptions& group_options(std::size_t g) const { return options_.at(g); }

    /// Appends a parameter group (PyTorch's add_param_group): `group.params` with
    /// `group.options`, or the optimizer's defaults (the constructor's options) when it has
    /// none; e.g. `add_param_group({head.parameters(), AdagradOptions(defaults).lr(0.1)})`.
    /// ValueError for options out of range or a parameter already in a group (Note [parameter
    /// groups]); nothing changes then.
    void add_param_group(const Group& group);

private:
    struct State {
        xt::xarray<T> sum;  // running sum of g²
        std::int64_t step = 0;
    };

    void check(const AdagradOptions& options, std::size_t g) const;
    void save_state(typename Optimizer<T>::StateDict& out) const override;
    std::function<void()> load_state(detail::StateReader<T>& in) override;

    AdagradOptions defaults_;              // for add_param_group
    std::vector<AdagradOptions> options_;  // per group
    std::vector<State> state_;             // per parameter
};

}  // namespace xgrad::optim
