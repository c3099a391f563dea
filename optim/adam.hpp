#pragma once

#include "optim/optimizer.hpp"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace xgrad::optim {

namespace detail {

/// The options Adam and AdamW share; they differ only in the default and the meaning of
/// weight_decay. `Options` (AdamOptions, AdamWOptions) is the type the setters return.
template <class Options>
class AdamOptionsBase {
public:
    /// Learning rate γ, >= 0.
    Options& lr(double v) {
        lr_ = v;
        return self();
    }
    double lr() const { return lr_; }
    /// Decay rates β1, β2 of the first and second moments, each in [0, 1).
    Options& betas(double beta1, double beta2) {
        betas_ = {beta1, beta2};
        return self();
    }
    std::pair<double, double> betas() const { return betas_; }
    /// ε added to the denominator after the square root, >= 0.
    Options& eps(double v) {
        eps_ = v;
        return self();
    }
    double eps() const { return eps_; }
    /// Weight decay λ, >= 0: Adam adds λ·θ to the gradient (L2), AdamW decouples it.
    Options& weight_decay(double v) {
        weight_decay_ = v;
        return self();
    }
    double weight_decay() const { return weight_decay_; }
    /// AMSGrad: divide by the running maximum of the second moment.
    Options& amsgrad(bool v) {
        amsgrad_ = v;
        return self();
    }
    bool amsgrad() const { return amsgrad_; }

protected:
    AdamOptionsBase(double lr, double weight_decay) : lr_(lr), weight_decay_(weight_decay) {}

private:
    Options& self() { return static_cast<Options&>(*this); }

    double lr_;
    std::pair<double, double> betas_{0.9, 0.999};
    double eps_ = 1e-8;
    double weight_decay_;
    bool amsgrad_ = false;
};

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

/// One Adam/AdamW update of `theta` (n elements) from `grad`, in place.
template <class T>
void adam_update(T* theta, const T* grad, std::size_t n, AdamState<T>& s, const AdamHyper& h);

/// The hyperparameters of `options` (decoupled: AdamW's weight decay).
template <class Options>
AdamHyper hyper_of(const AdamOptionsBase<Options>& options, bool decoupled) {
    return AdamHyper{options.lr(),  options.betas().first,  options.betas().second,
                     options.eps(), options.weight_decay(), options.amsgrad(),
                     decoupled};
}

/// What Adam and AdamW share: the update (see Adam) and its per-parameter state. With
/// `decoupled` (AdamW) the weight decay shrinks θ instead of entering the gradient. Throws
/// ValueError for lr, eps or weight_decay < 0 and for betas outside [0, 1). State:
/// state.<i>.exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad), step.
template <class T>
class AdamBase : public Optimizer<T> {
public:
    using Optimizer<T>::step;
    void step() override;

    bool has_momentum() const override { return true; }
    /// β1 of group g.
    double group_momentum(std::size_t g) const override { return hyper_.at(g).beta1; }
    /// Sets β1 of group g, in [0, 1).
    void set_group_momentum(std::size_t g, double beta1) override;

protected:
    template <class Options>
    AdamBase(const char* name, const std::vector<ParamGroup<T, Options>>& groups,
             const Options& defaults, bool decoupled)
        : AdamBase(name, Optimizer<T>::params_of(groups),
                   hypers_of(Optimizer<T>::options_of(groups, defaults), decoupled),
                   hyper_of(defaults, decoupled)) {}

    /// add_param_group's body: `params` with `hyper`, or the defaults when it is empty.
    void add_group(std::vector<Tensor<T>> params, const std::optional<AdamHyper>& hyper);

private:
    template <class Options>
    static std::vector<AdamHyper> hypers_of(const std::vector<Options>& options, bool decoupled) {
        std::vector<AdamHyper> out;
        for (const auto& o : options)
            out.push_back(hyper_of(o, decoupled));
        return out;
    }
    static std::vector<double> lrs(const std::vector<AdamHyper>& hyper) {
        std::vector<double> out;
        for (const auto& h : hyper)
            out.push_back(h.lr);
        return out;
    }

    AdamBase(const char* name, std::vector<std::vector<Tensor<T>>> groups,
             std::vector<AdamHyper> hyper, AdamHyper defaults);
    void check(const AdamHyper& h, std::size_t g) const;
    void save_state(typename Optimizer<T>::StateDict& out) const override;
    std::function<void()> load_state(StateReader<T>& in) override;

    AdamHyper defaults_;            // for add_param_group
    std::vector<AdamHyper> hyper_;  // per group; lr is the base class's (schedules change it)
    std::vector<AdamState<T>> state_;
};

}  // namespace detail

/// Options of Adam (PyTorch's defaults): lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 0 (an L2 penalty λ added to the gradient: g + λ·θ), amsgrad off.
class AdamOptions : public detail::AdamOptionsBase<AdamOptions> {
public:
    explicit AdamOptions(double lr = 1e-3) : AdamOptionsBase(lr, 0) {}
};

/// Adam (PyTorch's torch.optim.Adam), t counting this parameter's steps from 1:
///   g ← ∇θ + λ·θ
///   m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²
///   m̂ = m / (1 − β1^t)
///   v̂ = v / (1 − β2^t), or with amsgrad v_max ← max(v_max, v), v̂ = v_max / (1 − β2^t)
///   θ ← θ − γ·m̂ / (√v̂ + ε)
/// Parameters: leaves of any shape, in one list or in groups. Throws ValueError for lr, eps or
/// weight_decay < 0 and for betas outside [0, 1).
template <class T = float>
class Adam : public detail::AdamBase<T> {
public:
    using Group = ParamGroup<T, AdamOptions>;

    /// One group: every parameter with `options`.
    Adam(std::vector<Tensor<T>> params, const AdamOptions& options = AdamOptions());
    /// Several groups (Note [parameter groups]); a group without options of its own takes
    /// `defaults`.
    Adam(const std::vector<Group>& groups, const AdamOptions& defaults = AdamOptions());

    /// Appends a parameter group (PyTorch's add_param_group): `group.params` with
    /// `group.options`, or the optimizer's defaults (the constructor's options) when it has
    /// none. ValueError for options out of range or a parameter already in a group (Note
    /// [parameter groups]); nothing changes then.
    void add_param_group(const Group& group) {
        this->add_group(group.params, group.options ? std::optional<detail::AdamHyper>(
                                                          detail::hyper_of(*group.options, false))
                                                    : std::nullopt);
    }
};

}  // namespace xgrad::optim
