#include "optim/schedule.hpp"

#include <fmt/format.h>

#include <cmath>

namespace xgrad::optim {

namespace {

void check_gamma(const char* name, double gamma) {
    if (!(gamma >= 0)) {
        throw ValueError(fmt::format("{}: gamma must be >= 0; got gamma={}", name, gamma));
    }
}

}  // namespace

template <class T>
StepLR<T>::StepLR(Optimizer<T>& optimizer, int step_size, double gamma)
    : LRScheduler<T>(optimizer), step_size_(step_size), gamma_(gamma) {
    if (step_size < 1) {
        throw ValueError(
            fmt::format("step_lr: step_size must be >= 1; got step_size={}", step_size));
    }
    check_gamma("step_lr", gamma);
}

template <class T>
double StepLR<T>::next_lr(double lr) const {
    return this->last_epoch_ % step_size_ == 0 ? lr * gamma_ : lr;
}

template <class T>
ExponentialLR<T>::ExponentialLR(Optimizer<T>& optimizer, double gamma)
    : LRScheduler<T>(optimizer), gamma_(gamma) {
    check_gamma("exponential_lr", gamma);
}

template <class T>
double ExponentialLR<T>::next_lr(double lr) const {
    return lr * gamma_;
}

template <class T>
CosineAnnealingLR<T>::CosineAnnealingLR(Optimizer<T>& optimizer, int T_max, double eta_min)
    : LRScheduler<T>(optimizer), t_max_(T_max), eta_min_(eta_min) {
    if (T_max < 1) {
        throw ValueError(
            fmt::format("cosine_annealing_lr: T_max must be >= 1; got T_max={}", T_max));
    }
    if (!(eta_min >= 0)) {
        throw ValueError(
            fmt::format("cosine_annealing_lr: eta_min must be >= 0; got eta_min={}", eta_min));
    }
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
