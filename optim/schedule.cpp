#include "optim/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace xgrad::optim {

namespace {

void check_gamma(const char* name, double gamma) {
    if (!(gamma >= 0)) {
        throw ValueError(fmt::format("{}: gamma must be >= 0; got gamma={}", name, gamma));
    }
}

// Multiplies the gradient of `p` by c in place; a gradient that carries a graph (create_graph)
// is not ours to edit, so it is replaced.
template <class T>
void scale_grad(const Tensor<T>& p, T c) {
    Tensor<T> g = p.grad();
    if (g.is_leaf() && !g.requires_grad()) {
        g.mutable_value() *= c;
    } else {
        p.set_grad(Tensor<T>(xt::xarray<T>(g.value() * c)));
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

template <class T>
T clip_grad_norm(const std::vector<Tensor<T>>& params, double max_norm, double norm_type) {
    if (!(max_norm >= 0)) {
        throw ValueError(
            fmt::format("clip_grad_norm: max_norm must be >= 0; got max_norm={}", max_norm));
    }
    if (!(norm_type > 0)) {
        throw ValueError(fmt::format(
            "clip_grad_norm: norm_type must be > 0 or inf; got norm_type={}", norm_type));
    }
    const bool inf_norm = std::isinf(norm_type);
    double acc = 0;  // max |g| (inf-norm) or Σ |g|^p
    bool any = false;
    for (const auto& p : params) {
        const Tensor<T> g = p.grad();
        if (!g.defined()) continue;
        any = true;
        for (T v : g.value()) {
            const double a = std::abs(double(v));
            if (inf_norm) {
                acc = std::max(acc, a);
            } else {
                acc += norm_type == 2 ? a * a : norm_type == 1 ? a : std::pow(a, norm_type);
            }
        }
    }
    if (!any) return T(0);
    const double total = inf_norm        ? acc
                         : norm_type == 2 ? std::sqrt(acc)
                         : norm_type == 1 ? acc
                                          : std::pow(acc, 1 / norm_type);
    const double clip_coef = max_norm / (total + 1e-6);
    if (clip_coef < 1) {
        NoGradGuard no_grad;
        for (const auto& p : params) {
            if (p.grad().defined()) scale_grad(p, T(clip_coef));
        }
    }
    return T(total);
}

template <class T>
void clip_grad_value(const std::vector<Tensor<T>>& params, double clip) {
    if (!(clip >= 0)) {
        throw ValueError(fmt::format("clip_grad_value: clip must be >= 0; got clip={}", clip));
    }
    NoGradGuard no_grad;
    const T c = T(clip);
    for (const auto& p : params) {
        Tensor<T> g = p.grad();
        if (!g.defined()) continue;
        if (!g.is_leaf() || g.requires_grad()) {
            g = Tensor<T>(g.value());  // a gradient with a graph is replaced, not edited
            p.set_grad(g);
        }
        for (T& v : g.mutable_value()) v = std::clamp(v, -c, c);
    }
}

template class LRScheduler<float>;
template class LRScheduler<double>;
template class StepLR<float>;
template class StepLR<double>;
template class ExponentialLR<float>;
template class ExponentialLR<double>;
template class CosineAnnealingLR<float>;
template class CosineAnnealingLR<double>;
template float clip_grad_norm<float>(const std::vector<Tensor<float>>&, double, double);
template double clip_grad_norm<double>(const std::vector<Tensor<double>>&, double, double);
template void clip_grad_value<float>(const std::vector<Tensor<float>>&, double);
template void clip_grad_value<double>(const std::vector<Tensor<double>>&, double);

}  // namespace xgrad::optim
