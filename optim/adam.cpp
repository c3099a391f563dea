#include "optim/adam.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace xgrad::optim {

namespace detail {

template <class T>
void adam_update(T* theta, const T* grad, std::size_t n, AdamState<T>& s, const AdamHyper& h) {
    s.step += 1;
    const double t = static_cast<double>(s.step);
    // NOTE: bias corrections in double; ε is added after the square root, as in PyTorch.
    const T step_size = T(h.lr / (1 - std::pow(h.beta1, t)));
    const T inv_sqrt_bc2 = T(1 / std::sqrt(1 - std::pow(h.beta2, t)));
    const T b1 = T(h.beta1), b2 = T(h.beta2), eps = T(h.eps);
    const T l2 = h.decoupled ? T(0) : T(h.weight_decay);
    const T shrink = h.decoupled ? T(1 - h.lr * h.weight_decay) : T(1);
    T* __restrict m = s.exp_avg.data();
    T* __restrict v = s.exp_avg_sq.data();
    T* __restrict th = theta;
    const T* __restrict gr = grad;
    // One loop per variant, without a branch inside, so the compiler vectorises it.
    auto run = [&](auto amsgrad, T* __restrict v_max) {
        for (std::size_t k = 0; k < n; ++k) {
            const T g = gr[k] + l2 * th[k];
            m[k] = b1 * m[k] + (1 - b1) * g;
            v[k] = b2 * v[k] + (1 - b2) * g * g;
            T v_used = v[k];
            if constexpr (decltype(amsgrad)::value) v_used = v_max[k] = std::max(v_max[k], v[k]);
            const T denom = std::sqrt(v_used) * inv_sqrt_bc2 + eps;
            th[k] = th[k] * shrink - step_size * m[k] / denom;  // AdamW: θ(1 − γλ) first
        }
    };
    if (h.amsgrad) {
        run(std::true_type{}, s.max_exp_avg_sq.data());
    } else {
        run(std::false_type{}, nullptr);
    }
}

template void adam_update<float>(float*, const float*, std::size_t, AdamState<float>&,
                                 const AdamHyper&);
template void adam_update<double>(double*, const double*, std::size_t, AdamState<double>&,
                                  const AdamHyper&);

template <class T>
AdamBase<T>::AdamBase(const char* name, std::vector<Tensor<T>> params, const AdamHyper& hyper)
    : Optimizer<T>(name, std::move(params), hyper.lr), hyper_(hyper), state_(this->params_.size()) {
    this->check_non_negative("eps", hyper.eps);
    this->check_non_negative("weight_decay", hyper.weight_decay);
    if (!(hyper.beta1 >= 0 && hyper.beta1 < 1) || !(hyper.beta2 >= 0 && hyper.beta2 < 1)) {
        throw ValueError(fmt::format("{}: betas must be in [0, 1); got beta1={}, beta2={}",
                                     this->name(), hyper.beta1, hyper.beta2));
    }
}

template <class T>
void AdamBase<T>::step() {
    NoGradGuard no_grad;
    AdamHyper h = hyper_;
    h.lr = this->lr();
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
        const Tensor<T> grad = this->grad_of(i);
        if (!grad.defined()) continue;
        auto& s = state_[i];
        if (s.step == 0) {
            s.exp_avg = this->state_like(i);
            s.exp_avg_sq = this->state_like(i);
            if (h.amsgrad) s.max_exp_avg_sq = this->state_like(i);
        }
        adam_update(this->params_[i].mutable_value().data(), grad.value().data(),
                    this->params_[i].size(), s, h);
    }
}

template class AdamBase<float>;
template class AdamBase<double>;

}  // namespace detail

template <class T>
Adam<T>::Adam(std::vector<Tensor<T>> params, const AdamOptions& options)
    : detail::AdamBase<T>("adam", std::move(params), options, /*decoupled=*/false) {}

template class Adam<float>;
template class Adam<double>;

}  // namespace xgrad::optim
