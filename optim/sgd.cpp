#include "optim/sgd.hpp"

#include <fmt/format.h>

namespace xgrad::optim {

template <class T>
SGD<T>::SGD(std::vector<Tensor<T>> params, const SGDOptions& options)
    : SGD(std::vector<Group>{Group(std::move(params))}, options) {}

template <class T>
SGD<T>::SGD(std::vector<Group> groups, const SGDOptions& defaults)
    : Optimizer<T>("sgd", Optimizer<T>::params_of(groups), Optimizer<T>::lrs_of(groups, defaults)),
      defaults_(defaults),
      options_(Optimizer<T>::options_of(groups, defaults)),
      state_(this->params_.size()) {
    for (std::size_t g = 0; g < options_.size(); ++g)
        check(options_[g], g);
}

template <class T>
void SGD<T>::add_param_group(const Group& group) {
    const SGDOptions o = group.options ? *group.options : defaults_;
    check(o, this->num_groups());
    this->append_group(group.params, o.lr());
    options_.push_back(o);
    state_.resize(this->params_.size());
}

template <class T>
void SGD<T>::check(const SGDOptions& options, std::size_t g) const {
    this->check_non_negative("momentum", options.momentum(), g);
    this->check_non_negative("weight_decay", options.weight_decay(), g);
    if (options.nesterov() && (options.momentum() <= 0 || options.dampening() != 0)) {
        throw ValueError(
            fmt::format("sgd: nesterov requires momentum > 0 and dampening = 0; got momentum={}, "
                        "dampening={}{}",
                        options.momentum(), options.dampening(), this->group_suffix(g)));
    }
}

template <class T>
void SGD<T>::set_group_momentum(std::size_t g, double momentum) {
    SGDOptions o = options_.at(g);
    o.momentum(momentum);
    check(o, g);
    options_[g] = o;
}

template <class T>
void SGD<T>::step() {
    NoGradGuard no_grad;
    for (std::size_t group = 0; group < options_.size(); ++group) {
        const SGDOptions& o = options_[group];
        const T lr = T(this->group_lr(group));
        const T mu = T(o.momentum());
        const T damp = T(1 - o.dampening());
        const T wd = T(o.weight_decay());
        const bool nesterov = o.nesterov();
        for (std::size_t i = this->group_begin(group); i < this->group_begin(group + 1); ++i) {
            const Tensor<T> grad = this->grad_of(i);
            if (!grad.defined()) continue;
            T* theta = this->params_[i].mutable_value().data();
            const T* g_in = grad.value().data();
            const std::size_t n = this->params_[i].size();
            if (mu == T(0)) {
                for (std::size_t k = 0; k < n; ++k)
                    theta[k] -= lr * (g_in[k] + wd * theta[k]);
                continue;
            }
            State& s = state_[i];
            if (!s.started) s.momentum_buffer = this->state_like(i);
            T* b = s.momentum_buffer.data();
            const T new_weight = s.started ? damp : T(1);  // b ← g on the first step
            const T old_weight = s.started ? mu : T(0);
            s.started = true;
            for (std::size_t k = 0; k < n; ++k) {
                const T g = g_in[k] + wd * theta[k];
                b[k] = old_weight * b[k] + new_weight * g;
                theta[k] -= lr * (nesterov ? g + mu * b[k] : b[k]);
            }
        }
    }
}

template <class T>
void SGD<T>::save_state(typename Optimizer<T>::StateDict& out) const {
    for (std::size_t g = 0; g < options_.size(); ++g) {
        const SGDOptions& o = options_[g];
        const std::string p = fmt::format("param_groups.{}.", g);
        out[p + "momentum"] = detail::scalar_array(o.momentum());
        out[p + "dampening"] = detail::scalar_array(o.dampening());
        out[p + "nesterov"] = detail::scalar_array(o.nesterov());
        out[p + "weight_decay"] = detail::scalar_array(o.weight_decay());
    }
    for (std::size_t i = 0; i < state_.size(); ++i) {
        if (state_[i].started) {
            out[fmt::format("state.{}.momentum_buffer", i)] =
                detail::widen(state_[i].momentum_buffer);
        }
    }
}

template <class T>
std::function<void()> SGD<T>::load_state(detail::StateReader<T>& in) {
    std::vector<SGDOptions> options;
    for (std::size_t g = 0; g < options_.size(); ++g) {
        SGDOptions o(0);  // lr is the base class's
        o.momentum(in.group(g, "momentum"))
            .dampening(in.group(g, "dampening"))
            .nesterov(in.group(g, "nesterov") != 0)
            .weight_decay(in.group(g, "weight_decay"));
        check(o, g);
        options.push_back(o);
    }
    std::vector<State> state(state_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
        if (!in.has_state(i, "momentum_buffer")) continue;
        state[i].momentum_buffer = in.buffer(i, "momentum_buffer");
        state[i].started = true;
    }
    return [this, options = std::move(options), state = std::move(state)]() mutable {
        options_ = std::move(options);
        state_ = std::move(state);
    };
}

template class SGD<float>;
template class SGD<double>;

}  // namespace xgrad::optim
