#include "optim/schedule.hpp"

#include <fmt/format.h>

#include <cmath>

namespace xgrad::optim {

namespace {

// Throws ValueError "name: what must be >= least; got what=v" unless v >= least (NaN fails).
void check_at_least(const char* name, const char* what, double v, int least) {
    if (!(v >= least)) {
        throw ValueError(
            fmt::format("{}: {} must be >= {}; got {}={}", name, what, least, what, v));
    }
}

}  // namespace

template <class T>
StepLR<T>::StepLR(Optimizer<T>& optimizer, int step_size, double gamma)
    : LRScheduler<T>(optimizer), step_size_(step_size), gamma_(gamma) {
    check_at_least("step_lr", "step_size", step_size, 1);
    check_at_least("step_lr", "gamma", gamma, 0);
}

template <class T>
double StepLR<T>::next_lr(double lr) const {
    return this->last_epoch_ % step_size_ == 0 ? lr * gamma_ : lr;
}

template <class T>
ExponentialLR<T>::ExponentialLR(Optimizer<T>& optimizer, double gamma)
    : LRScheduler<T>(optimizer), gamma_(gamma) {
    check_at_least("exponential_lr", "gamma", gamma, 0);
}

template <class T>
double ExponentialLR<T>::next_lr(double lr) const {
    return lr * gamma_;
}

template <class T>
CosineAnnealingLR<T>::CosineAnnealingLR(Optimizer<T>& optimizer, int T_max, double eta_min)
    : LRScheduler<T>(optimizer), t_max_(T_max), eta_min_(eta_min) {
    check_at_least("cosine_annealing_lr", "T_max", T_max, 1);
    check_at_least("cosine_annealing_lr", "eta_min", eta_min, 0);
}

template <class T>
double CosineAnnealingLR<T>::next_lr(double lr) const {
    // PyTorch's recursive form: the ratio of consecutive closed-form values, applied to the
    // current lr. Where the previous epoch sat at the minimum (its cosine is −1, the ratio
    // undefined), the closed-form increment is added instead.
    const double pi = 3.14159265358979323846;
    const int e = this->last_epoch_;
    if ((e - 1 - t_max_) % (2 * t_max_) == 0) {
        return lr + (this->base_lr_ - eta_min_) * (1 - std::cos(pi / t_max_)) / 2;
    }
    return (1 + std::cos(pi * e / t_max_)) / (1 + std::cos(pi * (e - 1) / t_max_)) *
               (lr - eta_min_) +
           eta_min_;
}

template class LRScheduler<float>;
template class LRScheduler<double>;
template class StepLR<float>;
template class StepLR<double>;
template class ExponentialLR<float>;
template class ExponentialLR<double>;
template class CosineAnnealingLR<float>;
template class CosineAnnealingLR<double>;
}  // namespace xgrad::optim
