#pragma once

#include "optim/optimizer.hpp"

namespace xgrad::optim {

// Note [schedules]
// A schedule holds its optimizer by reference (the optimizer must outlive it) and remembers the
// optimizer's learning rate at construction as base_lr, at epoch 0. Each step(), called once per
// epoch after that epoch's optimizer steps, advances the epoch and sets the optimizer's lr with
// PyTorch's recursive ("chainable") rule, which starts from the optimizer's current lr: a
// learning rate set by hand between epochs is carried forward, not overwritten.

/// Base of the learning-rate schedules (see Note [schedules]).
template <class T = float>
class LRScheduler {
public:
    virtual ~LRScheduler() = default;

    /// Advances one epoch and sets the optimizer's learning rate for it.
    void step() {
        ++last_epoch_;
        optimizer_->set_lr(next_lr(optimizer_->lr()));
    }
    /// Epochs stepped so far (0 after construction).
    int last_epoch() const { return last_epoch_; }
    /// The learning rate the optimizer had at construction.
    double base_lr() const { return base_lr_; }
    /// The optimizer's current learning rate.
    double get_last_lr() const { return optimizer_->lr(); }

protected:
    explicit LRScheduler(Optimizer<T>& optimizer)
        : optimizer_(&optimizer), base_lr_(optimizer.lr()) {}
    /// The learning rate of epoch last_epoch_ from that of the epoch before.
    virtual double next_lr(double lr) const = 0;

    Optimizer<T>* optimizer_;
    double base_lr_;
    int last_epoch_ = 0;
};

/// Multiplies the learning rate by gamma every step_size epochs:
///   lr(epoch) = base_lr · gamma^⌊epoch / step_size⌋.
/// step_size >= 1, gamma >= 0; ValueError otherwise.
template <class T = float>
class StepLR : public LRScheduler<T> {
public:
    StepLR(Optimizer<T>& optimizer, int step_size, double gamma = 0.1);

private:
    double next_lr(double lr) const override;
    int step_size_;
    double gamma_;
};

/// Multiplies the learning rate by gamma every epoch: lr(epoch) = base_lr · gamma^epoch.
/// gamma >= 0; ValueError otherwise.
template <class T = float>
class ExponentialLR : public LRScheduler<T> {
public:
    ExponentialLR(Optimizer<T>& optimizer, double gamma);

private:
    double next_lr(double lr) const override;
    double gamma_;
};

/// Cosine annealing from base_lr down to eta_min over T_max epochs (SGDR without restarts):
///   lr(epoch) = eta_min + (base_lr − eta_min) · (1 + cos(π · epoch / T_max)) / 2,
/// which climbs back up over the next T_max epochs if stepping continues.
/// T_max >= 1, eta_min >= 0; ValueError otherwise.
template <class T = float>
class CosineAnnealingLR : public LRScheduler<T> {
public:
    CosineAnnealingLR(Optimizer<T>& optimizer, int T_max, double eta_min = 0);

private:
    double next_lr(double lr) const override;
    int t_max_;
    double eta_min_;
};

}  // namespace xgrad::optim
