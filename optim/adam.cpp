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
AdamBase<T>::AdamBase(const char* name, std::vector<std::vector<Tensor<T>>> groups,
                      std::vector<AdamHyper> hyper, AdamHyper defaults)
    : Optimizer<T>(name, std::move(groups), lrs(hyper)),
      defaults_(defaults),
      hyper_(std::move(hyper)),
      state_(this->params_.size()) {
    for (std::size_t g = 0; g < hyper_.size(); ++g)
        check(hyper_[g], g);
}

template <class T>
void AdamBase<T>::add_group(std::vector<Tensor<T>> params, const std::optional<AdamHyper>& hyper) {
    const AdamHyper h = hyper ? *hyper : defaults_;
    check(h, this->num_groups());
    this->append_group(std::move(params), h.lr);
    hyper_.push_back(h);
    state_.resize(this->params_.size());
}

template <class T>
void AdamBase<T>::check(const AdamHyper& h, std::size_t g) const {
    this->check_non_negative("eps", h.eps, g);
    this->check_non_negative("weight_decay", h.weight_decay, g);
    if (!(h.beta1 >= 0 && h.beta1 < 1) || !(h.beta2 >= 0 && h.beta2 < 1)) {
        throw ValueError(fmt::format("{}: betas must be in [0, 1); got beta1={}, beta2={}{}",
                                     this->name(), h.beta1, h.beta2, this->group_suffix(g)));
    }
}

template <class T>
void AdamBase<T>::set_group_momentum(std::size_t g, double beta1) {
    AdamHyper h = hyper_.at(g);
    h.beta1 = beta1;
    check(h, g);
    hyper_[g] = h;
}

template <class T>
void AdamBase<T>::step() {
    NoGradGuard no_grad;
    for (std::size_t group = 0; group < hyper_.size(); ++group) {
        AdamHyper h = hyper_[group];
        h.lr = this->group_lr(group);
        for (std::size_t i = this->group_begin(group); i < this->group_begin(group + 1); ++i) {
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
}

template <class T>
void AdamBase<T>::save_state(typename Optimizer<T>::StateDict& out) const {
    for (std::size_t g = 0; g < hyper_.size(); ++g) {
        const AdamHyper& h = hyper_[g];
        const std::string p = fmt::format("param_groups.{}.", g);
        out[p + "beta1"] = scalar_array(h.beta1);
        out[p + "beta2"] = scalar_array(h.beta2);
        out[p + "eps"] = scalar_array(h.eps);
        out[p + "weight_decay"] = scalar_array(h.weight_decay);
        out[p + "amsgrad"] = scalar_array(h.amsgrad);
    }
    for (std::size_t g = 0; g < hyper_.size(); ++g) {
        for (std::size_t i = this->group_begin(g); i < this->group_begin(g + 1); ++i) {
            const auto& s = state_[i];
            if (s.step == 0) continue;
            out[fmt::format("state.{}.step", i)] = scalar_array(double(s.step));
            out[fmt::format("state.{}.exp_avg", i)] = widen(s.exp_avg);
            out[fmt::format("state.{}.exp_avg_sq", i)] = widen(s.exp_avg_sq);
            if (hyper_[g].amsgrad) {
                out[fmt::format("state.{}.max_exp_avg_sq", i)] = widen(s.max_exp_avg_sq);
            }
        }
    }
}

template <class T>
std::function<void()> AdamBase<T>::load_state(StateReader<T>& in) {
    std::vector<AdamHyper> hyper = hyper_;
    for (std::size_t g = 0; g < hyper.size(); ++g) {
        AdamHyper& h = hyper[g];
        h.beta1 = in.group(g, "beta1");
        h.beta2 = in.group(g, "beta2");
        h.eps = in.group(g, "eps");
        h.weight_decay = in.group(g, "weight_decay");
        h.amsgrad = in.group(g, "amsgrad") != 0;
        check(h, g);
    }
    std::vector<AdamState<T>> state(state_.size());
    for (std::size_t g = 0; g < hyper.size(); ++g) {
        for (std::size_t i = this->group_begin(g); i < this->group_begin(g + 1); ++i) {
            if (!in.has_state(i, "step")) continue;
            auto& s = state[i];
            s.step = in.count(i, "step");
            s.exp_avg = in.buffer(i, "exp_avg");
            s.exp_avg_sq = in.buffer(i, "exp_avg_sq");
            if (hyper[g].amsgrad) s.max_exp_avg_sq = in.buffer(i, "max_exp_avg_sq");
        }
    }
    return [this, hyper = std::move(hyper), state = std::move(state)]() mutable {
        hyper_ = std::move(hyper);
        state_ = std::move(state);
    };
}

template class AdamBase<float>;
template class AdamBase<double>;

}  // namespace detail

template <class T>
Adam<T>::Adam(std::vector<Tensor<T>> params, const AdamOptions& options)
    : Adam(std::vector<Group>{Group(std::move(params))}, options) {}

template <class T>
Adam<T>::Adam(const std::vector<Group>& groups, const AdamOptions& defaults)
    : detail::AdamBase<T>("adam", groups, defaults, /*decoupled=*/false) {}

template class Adam<float>;
template class Adam<double>;

}  // namespace xgrad::optim
