#include "optim/rmsprop.hpp"

#include <cmath>

namespace xgrad::optim {

template <class T>
RMSprop<T>::RMSprop(std::vector<Tensor<T>> params, const RMSpropOptions& options)
    : RMSprop(std::vector<Group>{Group(std::move(params))}, options) {}

template <class T>
RMSprop<T>::RMSprop(std::vector<Group> groups, const RMSpropOptions& defaults)
    : Optimizer<T>("rmsprop", Optimizer<T>::params_of(groups),
                   Optimizer<T>::lrs_of(groups, defaults)),
      defaults_(defaults),
      options_(Optimizer<T>::options_of(groups, defaults)),
      state_(this->params_.size()) {
    for (std::size_t g = 0; g < options_.size(); ++g)
        check(options_[g], g);
}

template <class T>
void RMSprop<T>::add_param_group(const Group& group) {
    const RMSpropOptions o = group.options ? *group.options : defaults_;
    check(o, this->num_groups());
    this->append_group(group.params, o.lr());
    options_.push_back(o);
    state_.resize(this->params_.size());
}

template <class T>
void RMSprop<T>::check(const RMSpropOptions& options, std::size_t g) const {
    this->check_non_negative("alpha", options.alpha(), g);
    this->check_non_negative("eps", options.eps(), g);
    this->check_non_negative("weight_decay", options.weight_decay(), g);
    this->check_non_negative("momentum", options.momentum(), g);
}

template <class T>
void RMSprop<T>::set_group_momentum(std::size_t g, double momentum) {
    RMSpropOptions o = options_.at(g);
    o.momentum(momentum);
    check(o, g);
    options_[g] = o;
}

template <class T>
void RMSprop<T>::step() {
    NoGradGuard no_grad;
    for (std::size_t group = 0; group < options_.size(); ++group) {
        const RMSpropOptions& o = options_[group];
        const T lr = T(this->group_lr(group)), alpha = T(o.alpha()), eps = T(o.eps());
        const T wd = T(o.weight_decay()), mu = T(o.momentum());
        const bool centered = o.centered(), with_momentum = o.momentum() > 0;
        for (std::size_t i = this->group_begin(group); i < this->group_begin(group + 1); ++i) {
            const Tensor<T> grad = this->grad_of(i);
            if (!grad.defined()) continue;
            State& s = state_[i];
            if (!s.started) {
                s.square_avg = this->state_like(i);
                s.started = true;
            }
            // Allocated when first needed: a schedule may turn momentum on later (OneCycleLR).
            if (centered && !s.has_grad_avg) {
                s.grad_avg = this->state_like(i);
                s.has_grad_avg = true;
            }
            if (with_momentum && !s.has_momentum_buffer) {
                s.momentum_buffer = this->state_like(i);
                s.has_momentum_buffer = true;
            }
            T* theta = this->params_[i].mutable_value().data();
            const T* g_in = grad.value().data();
            T* v = s.square_avg.data();
            T* g_avg = centered ? s.grad_avg.data() : nullptr;
            T* b = with_momentum ? s.momentum_buffer.data() : nullptr;
            const std::size_t n = this->params_[i].size();
            for (std::size_t k = 0; k < n; ++k) {
                const T g = g_in[k] + wd * theta[k];
                v[k] = alpha * v[k] + (1 - alpha) * g * g;
                T v_tilde = v[k];
                if (g_avg) {
                    g_avg[k] = alpha * g_avg[k] + (1 - alpha) * g;
                    v_tilde -= g_avg[k] * g_avg[k];
                }
                const T update = g / (std::sqrt(v_tilde) + eps);
                if (b) {
                    b[k] = mu * b[k] + update;
                    theta[k] -= lr * b[k];
                } else {
                    theta[k] -= lr * update;
                }
            }
        }
    }
}

template <class T>
void RMSprop<T>::save_state(typename Optimizer<T>::StateDict& out) const {
    for (std::size_t g = 0; g < options_.size(); ++g) {
        const RMSpropOptions& o = options_[g];
        const std::string p = fmt::format("param_groups.{}.", g);
        out[p + "alpha"] = detail::scalar_array(o.alpha());
        out[p + "eps"] = detail::scalar_array(o.eps());
        out[p + "weight_decay"] = detail::scalar_array(o.weight_decay());
        out[p + "momentum"] = detail::scalar_array(o.momentum());
        out[p + "centered"] = detail::scalar_array(o.centered());
    }
    for (std::size_t i = 0; i < state_.size(); ++i) {
        const State& s = state_[i];
        if (!s.started) continue;
        out[fmt::format("state.{}.square_avg", i)] = detail::widen(s.square_avg);
        if (s.has_grad_avg) out[fmt::format("state.{}.grad_avg", i)] = detail::widen(s.grad_avg);
        if (s.has_momentum_buffer) {
            out[fmt::format("state.{}.momentum_buffer", i)] = detail::widen(s.momentum_buffer);
        }
    }
}

template <class T>
std::function<void()> RMSprop<T>::load_state(detail::StateReader<T>& in) {
    std::vector<RMSpropOptions> options;
    for (std::size_t g = 0; g < options_.size(); ++g) {
        RMSpropOptions o(0);  // lr is the base class's
        o.alpha(in.group(g, "alpha"))
            .eps(in.group(g, "eps"))
            .weight_decay(in.group(g, "weight_decay"))
            .momentum(in.group(g, "momentum"))
            .centered(in.group(g, "centered") != 0);
        check(o, g);
        options.push_back(o);
    }
    std::vector<State> state(state_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
        if (!in.has_state(i, "square_avg")) continue;
        State& s = state[i];
        s.square_avg = in.buffer(i, "square_avg");
        s.started = true;
        if (in.has_state(i, "grad_avg")) {
            s.grad_avg = in.buffer(i, "grad_avg");
            s.has_grad_avg = true;
        }
        if (in.has_state(i, "momentum_buffer")) {
            s.momentum_buffer = in.buffer(i, "momentum_buffer");
            s.has_momentum_buffer = true;
        }
    }
    return [this, options = std::move(options), state = std::move(state)]() mutable {
        options_ = std::move(options);
        state_ = std::move(state);
    };
}

template class RMSprop<float>;
template class RMSprop<double>;

}  // namespace xgrad::optim
