#pragma once

#include "optim/adam.hpp"

#include <vector>

namespace xgrad::optim {

/// Options of AdamW (PyTorch's defaults): lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 1e-2 (decoupled: θ ← θ − γ·λ·θ before the Adam step), amsgrad off.
class AdamWOptions : public detail::AdamOptionsBase<AdamWOptions> {
public:
    explicit AdamWOptions(double lr = 1e-3) : AdamOptionsBase(lr, 1e-2) {}
};

/// AdamW (PyTorch's torch.optim.AdamW): Adam's update (see Adam) with the weight decay
/// decoupled from the gradient, so it reaches neither moment:
///   θ ← θ − γ·λ·θ, then Adam's step with g = ∇θ (no λ·θ term).
/// Parameters: leaves of any shape, in one list or in groups. Throws ValueError for lr, eps or
/// weight_decay < 0 and for betas outside [0, 1).
template <class T = float>
class AdamW : public detail::AdamBase<T> {
public:
    using Group = ParamGroup<T, AdamWOptions>;

    /// One group: every parameter with `options`.
    AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options = AdamWOptions());
    /// Several groups (Note [parameter groups]); a group without options of its own takes
    /// `defaults`.
    AdamW(const std::vector<Group>& groups, const AdamWOptions& defaults = AdamWOptions());

    /// Appends a parameter group, as Adam::add_param_group.
    void add_param_group(const Group& group) {
        this->add_group(group.params, group.options ? std::optional<detail::AdamHyper>(
                                                          detail::hyper_of(*group.options, true))
                                                    : std::nullopt);
    }
};

}  // namespace xgrad::optim
