#pragma once

#include "optim/optimizer.hpp"

#include <map>
#include <string>
#include <vector>

namespace xgrad::optim {

// Note [schedules]
// A schedule holds its optimizer by reference (the optimizer must outlive it) and acts on every
// parameter group, each from its own base_lr. At construction it records each group's lr as the
// group's initial_lr unless a schedule did so before (PyTorch's group.setdefault('initial_lr')),
// and base_lr is that initial_lr; then it sets the lr of epoch 0 (only LinearLR and OneCycleLR
// change it there). Each step() advances the epoch (last_epoch) and sets every group's lr. The
// "chainable" schedules (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR) use
// PyTorch's recursive rule, which starts from the group's current lr: a learning rate set by
// hand between steps is carried forward, and two of them stepped together compose (a LinearLR
// warmup times an ExponentialLR decay). OneCycleLR is a closed form of the step count.
// "Epoch" is whatever the caller steps at: once per epoch (StepLR, CosineAnnealingLR, ...) or
// once per batch (OneCycleLR, a LinearLR warmup over iterations), after the optimizer's step.
// ReduceLROnPlateau is apart: its step(metric) takes the monitored value.
// A schedule acts on the groups its optimizer had when the schedule was built: a group added
// later with add_param_group keeps the lr it was given (and has no initial_lr) until a schedule
// built after it takes it over. (PyTorch sets initial_lr only at a scheduler's construction
// too, but its chainable schedules then scale every group, and ReduceLROnPlateau fails with an
// IndexError on the new group; here the rule is one for all.)
// state_dict() holds what stepping changes (last_epoch, base_lrs, and ReduceLROnPlateau's
// counters), as doubles; the arguments come from the constructor, so resume by building the
// same schedule over the loaded optimizer and loading its state. The optimizer's lrs are in the
// optimizer's own state dict.

/// Base of the learning-rate schedules stepped without a metric (see Note [schedules]).
template <class T = float>
class LRScheduler {
public:
    using StateDict = std::map<std::string, xt::xarray<double>>;

    virtual ~LRScheduler() = default;

    /// Advances one epoch (or batch) and sets every group's learning rate for it.
    void step() {
        ++last_epoch_;
        try {
            apply();
        } catch (...) {
            --last_epoch_;
            throw;
        }
    }
    /// Steps taken so far (0 after construction).
    int last_epoch() const { return last_epoch_; }
    /// The first group's base learning rate (see Note [schedules]).
    double base_lr() const { return base_lrs_[0]; }
    /// Every group's base learning rate.
    const std::vector<double>& base_lrs() const { return base_lrs_; }
    /// The first group's current learning rate.
    double get_last_lr() const { return optimizer_->lr(); }
    /// Every group's current learning rate.
    std::vector<double> get_last_lrs() const;
    /// Lowercase name used in error messages ("step_lr").
    const char* name() const { return name_; }
    /// The optimizer whose learning rates it sets.
    Optimizer<T>& optimizer() const { return *optimizer_; }

    /// "last_epoch" [] and "base_lrs" [groups].
    StateDict state_dict() const;
    /// Restores what state_dict() returned; ValueError when the group count differs or an entry
    /// is missing. The optimizer's learning rates are not touched (they are in its own state).
    void load_state_dict(const StateDict& state);
    /// Writes state_dict() to `path` as .npz (atomic).
    void save(const std::string& path) const;
    /// Reads a file save() wrote and loads it.
    void load(const std::string& path);

protected:
    LRScheduler(const char* name, Optimizer<T>& optimizer);
    /// Sets the learning rates of epoch last_epoch_; by default each group's is
    /// next_lr(g, its current lr).
    virtual void apply();
    /// The learning rate of group g at epoch last_epoch_ from that of the epoch before.
    virtual double next_lr(std::size_t /*g*/, double lr) const { return lr; }

    Optimizer<T>* optimizer_;
    std::vector<double> base_lrs_;
    int last_epoch_ = 0;
    const char* name_;
};

/// Multiplies the learning rate by gamma every step_size epochs:
///   lr(epoch) = base_lr · gamma^⌊epoch / step_size⌋.
/// step_size >= 1, gamma >= 0; ValueError otherwise.
template <class T = float>
class StepLR : public LRScheduler<T> {
public:
    StepLR(Optimizer<T>& optimizer, int step_size, double gamma = 0.1);

private:
    double next_lr(std::size_t g, double lr) const override;
    int step_size_;
    double gamma_;
};

/// Multiplies the learning rate by gamma at each milestone (an epoch listed twice multiplies
/// twice): lr(epoch) = base_lr · gamma^(number of milestones <= epoch).
/// gamma >= 0, milestones >= 0; ValueError otherwise.
template <class T = float>
class MultiStepLR : public LRScheduler<T> {
public:
    MultiStepLR(Optimizer<T>& optimizer, std::vector<int> milestones, double gamma = 0.1);

private:
    double next_lr(std::size_t g, double lr) const override;
    std::vector<int> milestones_;
    double gamma_;
};

/// Multiplies the learning rate by gamma every epoch: lr(epoch) = base_lr · gamma^epoch.
/// gamma >= 0; ValueError otherwise.
template <class T = float>
class ExponentialLR : public LRScheduler<T> {
public:
    ExponentialLR(Optimizer<T>& optimizer, double gamma);

private:
    double next_lr(std::size_t g, double lr) const override;
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
    double next_lr(std::size_t g, double lr) const override;
    int t_max_;
    double eta_min_;
};

/// Options of LinearLR (PyTorch's defaults): start_factor 1/3, end_factor 1, total_iters 5.
class LinearLROptions {
public:
    /// Factor of base_lr at epoch 0, in (0, 1].
    LinearLROptions& start_factor(double v) {
        start_factor_ = v;
        return *this;
    }
    double start_factor() const { return start_factor_; }
    /// Factor of base_lr from epoch total_iters on, in [0, 1].
    LinearLROptions& end_factor(double v) {
        end_factor_ = v;
        return *this;
    }
    double end_factor() const { return end_factor_; }
    /// Epochs (or batches) of the ramp, >= 1.
    LinearLROptions& total_iters(int v) {
        total_iters_ = v;
        return *this;
    }
    int total_iters() const { return total_iters_; }

private:
    double start_factor_ = 1.0 / 3;
    double end_factor_ = 1;
    int total_iters_ = 5;
};

/// Linear ramp of the learning rate's factor (a warmup when start_factor < end_factor):
///   lr(epoch) = base_lr · (start + (end − start) · min(epoch, total_iters) / total_iters).
/// Sets the lr of epoch 0 at construction. ValueError for factors or total_iters out of range.
template <class T = float>
class LinearLR : public LRScheduler<T> {
public:
    explicit LinearLR(Optimizer<T>& optimizer, const LinearLROptions& options = LinearLROptions());

private:
    double next_lr(std::size_t g, double lr) const override;
    LinearLROptions options_;
};

/// Annealing of OneCycleLR between two values.
enum class Anneal { cos, linear };

/// Options of OneCycleLR (PyTorch's defaults): pct_start 0.3, anneal cos, cycle_momentum on with
/// base_momentum 0.85 and max_momentum 0.95, div_factor 25, final_div_factor 1e4, three_phase
/// off.
class OneCycleLROptions {
public:
    /// The peak learning rate of every group (or one per group), reached after pct_start of
    /// total_steps (>= 1) steps.
    OneCycleLROptions(double max_lr, int total_steps)
        : max_lrs_{max_lr}, total_steps_(total_steps) {}
    OneCycleLROptions(std::vector<double> max_lrs, int total_steps)
        : max_lrs_(std::move(max_lrs)), total_steps_(total_steps) {}

    const std::vector<double>& max_lrs() const { return max_lrs_; }
    int total_steps() const { return total_steps_; }
    /// Fraction of the steps spent increasing the learning rate, in [0, 1].
    OneCycleLROptions& pct_start(double v) {
        pct_start_ = v;
        return *this;
    }
    double pct_start() const { return pct_start_; }
    /// Anneal::cos or Anneal::linear.
    OneCycleLROptions& anneal_strategy(Anneal v) {
        anneal_ = v;
        return *this;
    }
    Anneal anneal_strategy() const { return anneal_; }
    /// Cycle the momentum (Adam's beta1) inversely to the learning rate.
    OneCycleLROptions& cycle_momentum(bool v) {
        cycle_momentum_ = v;
        return *this;
    }
    bool cycle_momentum() const { return cycle_momentum_; }
    /// Momentum at the learning rate's peak.
    OneCycleLROptions& base_momentum(double v) {
        base_momentum_ = v;
        return *this;
    }
    double base_momentum() const { return base_momentum_; }
    /// Momentum at the start and the end.
    OneCycleLROptions& max_momentum(double v) {
        max_momentum_ = v;
        return *this;
    }
    double max_momentum() const { return max_momentum_; }
    /// initial_lr = max_lr / div_factor, > 0.
    OneCycleLROptions& div_factor(double v) {
        div_factor_ = v;
        return *this;
    }
    double div_factor() const { return div_factor_; }
    /// min_lr = initial_lr / final_div_factor, > 0.
    OneCycleLROptions& final_div_factor(double v) {
        final_div_factor_ = v;
        return *this;
    }
    double final_div_factor() const { return final_div_factor_; }
    /// Three phases (up, down to initial_lr, down to min_lr) instead of two (up, down to min_lr).
    OneCycleLROptions& three_phase(bool v) {
        three_phase_ = v;
        return *this;
    }
    bool three_phase() const { return three_phase_; }

private:
    std::vector<double> max_lrs_;
    int total_steps_;
    double pct_start_ = 0.3;
    Anneal anneal_ = Anneal::cos;
    bool cycle_momentum_ = true;
    double base_momentum_ = 0.85;
    double max_momentum_ = 0.95;
    double div_factor_ = 25;
    double final_div_factor_ = 1e4;
    bool three_phase_ = false;
};

/// The 1cycle policy (PyTorch's OneCycleLR), stepped once per batch: from initial_lr =
/// max_lr / div_factor up to max_lr over the first pct_start·total_steps steps, then down to
/// min_lr = initial_lr / final_div_factor at step total_steps − 1 (with three_phase: down to
/// initial_lr, symmetrically, then to min_lr), annealing by cosine or linearly; the momentum
/// moves the opposite way between max_momentum and base_momentum. Sets each group's
/// initial_lr, lr and momentum at construction. The step after the last batch (step
/// total_steps) extrapolates past the last phase, as PyTorch's; where a linear anneal would go
/// below 0 there, the lr is 0 (and the momentum stays between base_momentum and max_momentum).
/// Stepping more than total_steps times is a ValueError, as are arguments out of range and
/// cycle_momentum with an optimizer that has no momentum (Adagrad, L-BFGS).
template <class T = float>
class OneCycleLR : public LRScheduler<T> {
public:
    OneCycleLR(Optimizer<T>& optimizer, const OneCycleLROptions& options);

private:
    struct Phase {
        double end_step;
        int start_lr, end_lr, start_momentum, end_momentum;  // 0 initial, 1 max, 2 min
    };
    void apply() override;
    double anneal(double start, double end, double pct) const;

    OneCycleLROptions options_;
    std::vector<Phase> phases_;
    std::vector<std::vector<double>> lrs_;  // per group: initial, max, min
};

/// Direction of ReduceLROnPlateau's metric: min (a loss) or max (an accuracy).
enum class PlateauMode { min, max };
/// How ReduceLROnPlateau's threshold is read: rel (a fraction of the best) or abs.
enum class ThresholdMode { rel, abs };

/// Options of ReduceLROnPlateau (PyTorch's defaults): mode min, factor 0.1, patience 10,
/// threshold 1e-4, threshold_mode rel, cooldown 0, min_lr 0, eps 1e-8.
class ReduceLROnPlateauOptions {
public:
    ReduceLROnPlateauOptions& mode(PlateauMode v) {
        mode_ = v;
        return *this;
    }
    PlateauMode mode() const { return mode_; }
    /// New lr = lr · factor, in [0, 1).
    ReduceLROnPlateauOptions& factor(double v) {
        factor_ = v;
        return *this;
    }
    double factor() const { return factor_; }
    /// Epochs without improvement tolerated before a reduction, >= 0.
    ReduceLROnPlateauOptions& patience(int v) {
        patience_ = v;
        return *this;
    }
    int patience() const { return patience_; }
    /// Improvement needed: mode min, rel: metric < best·(1 − threshold); abs: metric < best −
    /// threshold (max mirrored). >= 0.
    ReduceLROnPlateauOptions& threshold(double v) {
        threshold_ = v;
        return *this;
    }
    double threshold() const { return threshold_; }
    ReduceLROnPlateauOptions& threshold_mode(ThresholdMode v) {
        threshold_mode_ = v;
        return *this;
    }
    ThresholdMode threshold_mode() const { return threshold_mode_; }
    /// Epochs after a reduction during which bad epochs are not counted, >= 0.
    ReduceLROnPlateauOptions& cooldown(int v) {
        cooldown_ = v;
        return *this;
    }
    int cooldown() const { return cooldown_; }
    /// Lower bound of every group's lr (or one per group), >= 0.
    ReduceLROnPlateauOptions& min_lr(double v) {
        min_lrs_ = {v};
        return *this;
    }
    ReduceLROnPlateauOptions& min_lr(std::vector<double> v) {
        min_lrs_ = std::move(v);
        return *this;
    }
    const std::vector<double>& min_lrs() const { return min_lrs_; }
    /// A reduction smaller than eps is not made, >= 0.
    ReduceLROnPlateauOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    double eps() const { return eps_; }

private:
    PlateauMode mode_ = PlateauMode::min;
    double factor_ = 0.1;
    int patience_ = 10;
    double threshold_ = 1e-4;
    ThresholdMode threshold_mode_ = ThresholdMode::rel;
    int cooldown_ = 0;
    std::vector<double> min_lrs_{0.0};
    double eps_ = 1e-8;
};

/// Reduces every group's learning rate by `factor` when a metric has stopped improving for
/// more than `patience` epochs (PyTorch's ReduceLROnPlateau): step(metric) once per epoch,
/// typically with the validation loss. lr ← max(lr · factor, min_lr), unless that changes it by
/// eps or less. ValueError for options out of range.
template <class T = float>
class ReduceLROnPlateau {
public:
    using StateDict = std::map<std::string, xt::xarray<double>>;

    explicit ReduceLROnPlateau(Optimizer<T>& optimizer, const ReduceLROnPlateauOptions& options =
                                                            ReduceLROnPlateauOptions());

    /// Records this epoch's metric and reduces the learning rates if it is time.
    void step(double metric);

    int last_epoch() const { return last_epoch_; }
    /// The best metric so far (+inf for min, −inf for max before the first step).
    double best() const { return best_; }
    int num_bad_epochs() const { return num_bad_epochs_; }
    int cooldown_counter() const { return cooldown_counter_; }
    /// The first group's current learning rate.
    double get_last_lr() const { return optimizer_->lr(); }
    const char* name() const { return "reduce_lr_on_plateau"; }
    /// The optimizer whose learning rates it sets.
    Optimizer<T>& optimizer() const { return *optimizer_; }

    /// "last_epoch", "best", "num_bad_epochs", "cooldown_counter" (each []).
    StateDict state_dict() const;
    void load_state_dict(const StateDict& state);
    void save(const std::string& path) const;
    void load(const std::string& path);

private:
    bool is_better(double a, double best) const;

    Optimizer<T>* optimizer_;
    ReduceLROnPlateauOptions options_;
    std::vector<double> min_lrs_;  // per group
    double best_;
    int num_bad_epochs_ = 0;
    int cooldown_counter_ = 0;
    int last_epoch_ = 0;
};

}  // namespace xgrad::optim
