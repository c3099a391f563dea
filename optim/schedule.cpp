#include "optim/schedule.hpp"

#include "autograd/io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace xgrad::optim {

namespace {

const double pi = 3.14159265358979323846;

// Throws ValueError "name: what must be >= least; got what=v" unless v >= least (NaN fails).
void check_at_least(const char* name, const char* what, double v, double least) {
    if (!(v >= least)) {
        throw ValueError(
            fmt::format("{}: {} must be >= {}; got {}={}", name, what, least, what, v));
    }
}

// Throws ValueError "name: what must be in the range; got what=v" unless lo <= v <= hi (with
// the ends open where asked).
void check_in(const char* name, const char* what, double v, double lo, double hi, bool lo_open,
              bool hi_open) {
    const bool ok = (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
    if (!ok) {
        throw ValueError(fmt::format("{}: {} must be in {}{}, {}{}; got {}={}", name, what,
                                     lo_open ? "(" : "[", lo, hi, hi_open ? ")" : "]", what, v));
    }
}

// The one value of state[key]; ValueError naming the schedule when it is missing or not one value.
double read_scalar(const char* name, const std::map<std::string, xt::xarray<double>>& state,
                   const char* key) {
    const auto it = state.find(key);
    if (it == state.end() || it->second.size() != 1) {
        throw ValueError(
            fmt::format("{}: load_state_dict: the state has no {} (a single value)", name, key));
    }
    return it->second.data()[0];
}

int read_int(const char* name, const std::map<std::string, xt::xarray<double>>& state,
             const char* key) {
    const double v = read_scalar(name, state, key);
    if (v != std::floor(v) || std::abs(v) > std::numeric_limits<int>::max()) {
        throw ValueError(
            fmt::format("{}: load_state_dict: {} must be a whole number; got {}", name, key, v));
    }
    return int(v);
}

}  // namespace

template <class T>
LRScheduler<T>::LRScheduler(const char* name, Optimizer<T>& optimizer)
    : optimizer_(&optimizer), name_(name) {
    for (std::size_t g = 0; g < optimizer.num_groups(); ++g) {
        if (!optimizer.initial_lr(g)) optimizer.set_initial_lr(g, optimizer.group_lr(g));
        base_lrs_.push_back(*optimizer.initial_lr(g));
    }
}

template <class T>
std::vector<double> LRScheduler<T>::get_last_lrs() const {
    std::vector<double> out;
    for (std::size_t g = 0; g < optimizer_->num_groups(); ++g)
        out.push_back(optimizer_->group_lr(g));
    return out;
}

template <class T>
void LRScheduler<T>::apply() {
    // The groups the optimizer had at construction (Note [schedules]): a group added since
    // has no base_lr here.
    for (std::size_t g = 0; g < base_lrs_.size(); ++g)
        optimizer_->set_group_lr(g, next_lr(g, optimizer_->group_lr(g)));
}

template <class T>
typename LRScheduler<T>::StateDict LRScheduler<T>::state_dict() const {
    StateDict out;
    out["last_epoch"] = detail::scalar_array(last_epoch_);
    xt::xarray<double> base = xt::xarray<double>::from_shape({base_lrs_.size()});
    std::copy(base_lrs_.begin(), base_lrs_.end(), base.begin());
    out["base_lrs"] = std::move(base);
    return out;
}

template <class T>
void LRScheduler<T>::load_state_dict(const StateDict& state) {
    const int last_epoch = read_int(name_, state, "last_epoch");
    const auto it = state.find("base_lrs");
    if (it == state.end() || it->second.dimension() != 1) {
        throw ValueError(
            fmt::format("{}: load_state_dict: the state has no base_lrs (1-d)", name_));
    }
    if (it->second.size() != base_lrs_.size()) {
        throw ValueError(fmt::format(
            "{}: load_state_dict: the state has base_lrs for {} groups and the optimizer {}", name_,
            it->second.size(), base_lrs_.size()));
    }
    for (const auto& [key, value] : state) {
        if (key != "last_epoch" && key != "base_lrs") {
            throw ValueError(fmt::format(
                "{}: load_state_dict: unexpected entry {}; was it saved by another schedule?",
                name_, key));
        }
    }
    last_epoch_ = last_epoch;
    base_lrs_.assign(it->second.begin(), it->second.end());
}

template <class T>
void LRScheduler<T>::save(const std::string& path) const {
    save_npz(path, state_dict());
}

template <class T>
void LRScheduler<T>::load(const std::string& path) {
    load_state_dict(load_npz<double>(path));
}

template <class T>
StepLR<T>::StepLR(Optimizer<T>& optimizer, int step_size, double gamma)
    : LRScheduler<T>("step_lr", optimizer), step_size_(step_size), gamma_(gamma) {
    check_at_least("step_lr", "step_size", step_size, 1);
    check_at_least("step_lr", "gamma", gamma, 0);
    this->apply();
}

template <class T>
double StepLR<T>::next_lr(std::size_t /*g*/, double lr) const {
    const int e = this->last_epoch_;
    return e == 0 || e % step_size_ != 0 ? lr : lr * gamma_;
}

template <class T>
MultiStepLR<T>::MultiStepLR(Optimizer<T>& optimizer, std::vector<int> milestones, double gamma)
    : LRScheduler<T>("multi_step_lr", optimizer),
      milestones_(std::move(milestones)),
      gamma_(gamma) {
    check_at_least("multi_step_lr", "gamma", gamma, 0);
    for (const int m : milestones_)
        check_at_least("multi_step_lr", "milestone", m, 0);
    this->apply();
}

template <class T>
double MultiStepLR<T>::next_lr(std::size_t /*g*/, double lr) const {
    const auto n = std::count(milestones_.begin(), milestones_.end(), this->last_epoch_);
    return n == 0 ? lr : lr * std::pow(gamma_, double(n));
}

template <class T>
ExponentialLR<T>::ExponentialLR(Optimizer<T>& optimizer, double gamma)
    : LRScheduler<T>("exponential_lr", optimizer), gamma_(gamma) {
    check_at_least("exponential_lr", "gamma", gamma, 0);
    this->apply();
}

template <class T>
double ExponentialLR<T>::next_lr(std::size_t /*g*/, double lr) const {
    return this->last_epoch_ == 0 ? lr : lr * gamma_;
}

template <class T>
CosineAnnealingLR<T>::CosineAnnealingLR(Optimizer<T>& optimizer, int T_max, double eta_min)
    : LRScheduler<T>("cosine_annealing_lr", optimizer), t_max_(T_max), eta_min_(eta_min) {
    check_at_least("cosine_annealing_lr", "T_max", T_max, 1);
    check_at_least("cosine_annealing_lr", "eta_min", eta_min, 0);
    this->apply();
}

template <class T>
double CosineAnnealingLR<T>::next_lr(std::size_t g, double lr) const {
    // PyTorch's recursive form: the ratio of consecutive closed-form values, applied to the
    // current lr. Where the previous epoch sat at the minimum (its cosine is −1, the ratio
    // undefined), the closed-form increment is added instead.
    const int e = this->last_epoch_;
    if (e == 0) return lr;
    if ((e - 1 - t_max_) % (2 * t_max_) == 0) {
        return lr + (this->base_lrs_[g] - eta_min_) * (1 - std::cos(pi / t_max_)) / 2;
    }
    return (1 + std::cos(pi * e / t_max_)) / (1 + std::cos(pi * (e - 1) / t_max_)) *
               (lr - eta_min_) +
           eta_min_;
}

template <class T>
LinearLR<T>::LinearLR(Optimizer<T>& optimizer, const LinearLROptions& options)
    : LRScheduler<T>("linear_lr", optimizer), options_(options) {
    check_in("linear_lr", "start_factor", options.start_factor(), 0, 1, true, false);
    check_in("linear_lr", "end_factor", options.end_factor(), 0, 1, false, false);
    check_at_least("linear_lr", "total_iters", options.total_iters(), 1);
    this->apply();
}

template <class T>
double LinearLR<T>::next_lr(std::size_t /*g*/, double lr) const {
    // PyTorch's recursive form: the ratio of consecutive factors.
    const double start = options_.start_factor(), end = options_.end_factor();
    const int e = this->last_epoch_, n = options_.total_iters();
    if (e == 0) return lr * start;
    if (e > n) return lr;
    return lr * (1. + (end - start) / (n * start + (e - 1) * (end - start)));
}

template <class T>
OneCycleLR<T>::OneCycleLR(Optimizer<T>& optimizer, const OneCycleLROptions& options)
    : LRScheduler<T>("one_cycle_lr", optimizer), options_(options) {
    const char* name = "one_cycle_lr";
    check_at_least(name, "total_steps", options.total_steps(), 1);
    check_in(name, "pct_start", options.pct_start(), 0, 1, false, false);
    check_in(name, "div_factor", options.div_factor(), 0, std::numeric_limits<double>::infinity(),
             true, true);
    check_in(name, "final_div_factor", options.final_div_factor(), 0,
             std::numeric_limits<double>::infinity(), true, true);
    const std::size_t groups = optimizer.num_groups();
    const auto& max_lrs = options.max_lrs();
    if (max_lrs.size() != 1 && max_lrs.size() != groups) {
        throw ValueError(fmt::format("{}: expected one max_lr or one per group ({}); got {}", name,
                                     groups, max_lrs.size()));
    }
    if (options.cycle_momentum() && !optimizer.has_momentum()) {
        throw ValueError(fmt::format(
            "{}: cycle_momentum needs an optimizer with a momentum (SGD, RMSprop) or betas (Adam, "
            "AdamW); {} has none: set cycle_momentum(false)",
            name, optimizer.name()));
    }
    const double total = options.total_steps(), pct = options.pct_start();
    if (options.three_phase()) {
        phases_ = {{pct * total - 1, 0, 1, 1, 0},
                   {2 * pct * total - 2, 1, 0, 0, 1},
                   {total - 1, 0, 2, 1, 1}};
    } else {
        phases_ = {{pct * total - 1, 0, 1, 1, 0}, {total - 1, 1, 2, 0, 1}};
    }
    double previous_end = 0;  // a phase of no steps divides by 0 (PyTorch: ZeroDivisionError)
    for (std::size_t i = 0; i < phases_.size(); ++i) {
        if (!(phases_[i].end_step > previous_end)) {
            throw ValueError(fmt::format(
                "{}: every phase needs more than 0 steps; got phase {} ending at step {} (from {}) "
                "with pct_start={}, total_steps={}",
                name, i + 1, phases_[i].end_step, previous_end, pct, total));
        }
        previous_end = phases_[i].end_step;
    }
    for (std::size_t g = 0; g < groups; ++g) {
        const double max_lr = max_lrs.size() == 1 ? max_lrs[0] : max_lrs[g];
        check_at_least(name, "max_lr", max_lr, 0);
        const double initial = max_lr / options.div_factor();
        lrs_.push_back({initial, max_lr, initial / options.final_div_factor()});
    }
    for (std::size_t g = 0; g < groups; ++g) {
        optimizer.set_initial_lr(g, lrs_[g][0]);  // as PyTorch, which overwrites initial_lr
        this->base_lrs_[g] = lrs_[g][0];
        if (options.cycle_momentum()) optimizer.set_group_momentum(g, options.max_momentum());
    }
    this->apply();
}

template <class T>
double OneCycleLR<T>::anneal(double start, double end, double pct) const {
    if (options_.anneal_strategy() == Anneal::linear) return (end - start) * pct + start;
    return end + (start - end) / 2.0 * (std::cos(pi * pct) + 1);
}

template <class T>
void OneCycleLR<T>::apply() {
    const int step = this->last_epoch_;
    if (step > options_.total_steps()) {
        throw ValueError(fmt::format(
            "one_cycle_lr: stepped {} times; total_steps={} allows one step per batch of "
            "training, no more",
            step, options_.total_steps()));
    }
    const double momenta[2] = {options_.max_momentum(), options_.base_momentum()};  // 1: max
    for (std::size_t g = 0; g < lrs_.size(); ++g) {
        double start_step = 0;
        for (std::size_t i = 0; i < phases_.size(); ++i) {
            const Phase& p = phases_[i];
            if (step <= p.end_step || i + 1 == phases_.size()) {
                const double pct = (step - start_step) / (p.end_step - start_step);
                // NOTE: step total_steps (after the last batch) extrapolates past the last
                // phase, as PyTorch does; a linear anneal would go below 0 there, which no
                // optimizer takes, so it stops at 0.
                const double lr =
                    anneal(lrs_[g][std::size_t(p.start_lr)], lrs_[g][std::size_t(p.end_lr)], pct);
                this->optimizer_->set_group_lr(g, std::max(lr, 0.0));
                if (options_.cycle_momentum()) {
                    // start_momentum / end_momentum: 1 = max_momentum, 0 = base_momentum. The
                    // same extrapolation kept between the two (Adam's beta1 must stay < 1).
                    const double m = anneal(momenta[p.start_momentum == 1 ? 0 : 1],
                                            momenta[p.end_momentum == 1 ? 0 : 1], pct);
                    this->optimizer_->set_group_momentum(
                        g, std::clamp(m, std::min(momenta[0], momenta[1]),
                                      std::max(momenta[0], momenta[1])));
                }
                break;
            }
            start_step = p.end_step;
        }
    }
}

template <class T>
ReduceLROnPlateau<T>::ReduceLROnPlateau(Optimizer<T>& optimizer,
                                        const ReduceLROnPlateauOptions& options)
    : optimizer_(&optimizer), options_(options) {
    const char* name = "reduce_lr_on_plateau";
    check_in(name, "factor", options.factor(), 0, 1, false, true);
    check_at_least(name, "patience", options.patience(), 0);
    check_at_least(name, "threshold", options.threshold(), 0);
    check_at_least(name, "cooldown", options.cooldown(), 0);
    check_at_least(name, "eps", options.eps(), 0);
    const std::size_t groups = optimizer.num_groups();
    const auto& min_lrs = options.min_lrs();
    if (min_lrs.size() != 1 && min_lrs.size() != groups) {
        throw ValueError(fmt::format("{}: expected one min_lr or one per group ({}); got {}", name,
                                     groups, min_lrs.size()));
    }
    for (std::size_t g = 0; g < groups; ++g) {
        min_lrs_.push_back(min_lrs.size() == 1 ? min_lrs[0] : min_lrs[g]);
        check_at_least(name, "min_lr", min_lrs_.back(), 0);
    }
    best_ = options.mode() == PlateauMode::min ? std::numeric_limits<double>::infinity()
                                               : -std::numeric_limits<double>::infinity();
}

template <class T>
bool ReduceLROnPlateau<T>::is_better(double a, double best) const {
    const double t = options_.threshold();
    const bool rel = options_.threshold_mode() == ThresholdMode::rel;
    if (options_.mode() == PlateauMode::min) return rel ? a < best * (1 - t) : a < best - t;
    return rel ? a > best * (t + 1) : a > best + t;
}

template <class T>
void ReduceLROnPlateau<T>::step(double metric) {
    ++last_epoch_;
    if (is_better(metric, best_)) {
        best_ = metric;
        num_bad_epochs_ = 0;
    } else {
        ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
        --cooldown_counter_;
        num_bad_epochs_ = 0;  // bad epochs in cooldown are not counted
    }
    if (num_bad_epochs_ > options_.patience()) {
        for (std::size_t g = 0; g < min_lrs_.size(); ++g) {
            const double old_lr = optimizer_->group_lr(g);
            const double new_lr = std::max(old_lr * options_.factor(), min_lrs_[g]);
            if (old_lr - new_lr > options_.eps()) optimizer_->set_group_lr(g, new_lr);
        }
        cooldown_counter_ = options_.cooldown();
        num_bad_epochs_ = 0;
    }
}

template <class T>
typename ReduceLROnPlateau<T>::StateDict ReduceLROnPlateau<T>::state_dict() const {
    return {{"last_epoch", detail::scalar_array(last_epoch_)},
            {"best", detail::scalar_array(best_)},
            {"num_bad_epochs", detail::scalar_array(num_bad_epochs_)},
            {"cooldown_counter", detail::scalar_array(cooldown_counter_)}};
}

template <class T>
void ReduceLROnPlateau<T>::load_state_dict(const StateDict& state) {
    const char* name = "reduce_lr_on_plateau";
    const int last_epoch = read_int(name, state, "last_epoch");
    const double best = read_scalar(name, state, "best");
    const int bad = read_int(name, state, "num_bad_epochs");
    const int cooldown = read_int(name, state, "cooldown_counter");
    if (state.size() != 4) {
        throw ValueError(fmt::format(
            "{}: load_state_dict: expected last_epoch, best, num_bad_epochs, cooldown_counter; "
            "got {} entries",
            name, state.size()));
    }
    last_epoch_ = last_epoch;
    best_ = best;
    num_bad_epochs_ = bad;
    cooldown_counter_ = cooldown;
}

template <class T>
void ReduceLROnPlateau<T>::save(const std::string& path) const {
    save_npz(path, state_dict());
}

template <class T>
void ReduceLROnPlateau<T>::load(const std::string& path) {
    load_state_dict(load_npz<double>(path));
}

template class LRScheduler<float>;
template class LRScheduler<double>;
template class StepLR<float>;
template class StepLR<double>;
template class MultiStepLR<float>;
template class MultiStepLR<double>;
template class ExponentialLR<float>;
template class ExponentialLR<double>;
template class CosineAnnealingLR<float>;
template class CosineAnnealingLR<double>;
template class LinearLR<float>;
template class LinearLR<double>;
template class OneCycleLR<float>;
template class OneCycleLR<double>;
template class ReduceLROnPlateau<float>;
template class ReduceLROnPlateau<double>;

}  // namespace xgrad::optim
