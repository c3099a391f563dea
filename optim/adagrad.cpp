#include "optim/adagrad.hpp"

#include <cmath>

namespace xgrad::optim {

template <class T>
Adagrad<T>::Adagrad(std::vector<Tensor<T>> params, const AdagradOptions& options)
    : Adagrad(std::vector<Group>{Group(std::move(params))}, options) {}

template <class T>
Adagrad<T>::Adagrad(std::vector<Group> groups, const AdagradOptions& defaults)
    : Optimizer<T>("adagrad", Optimizer<T>::params_of(groups),
                   Optimizer<T>::lrs_of(groups, defaults)),
      defaults_(defaults),
      options_(Optimizer<T>::options_of(groups, defaults)),
      state_(this->params_.size()) {
    for (std::size_t g = 0; g < options_.size(); ++g)
        check(options_[g], g);
}

template <class T>
void Adagrad<T>::add_param_group(const Group& group) {
    const AdagradOptions o = group.options ? *group.options : defaults_;
    check(o, this->num_groups());
    this->append_group(group.params, o.lr());
    options_.push_back(o);
    state_.resize(this->params_.size());
}

template <class T>
void Adagrad<T>::check(const AdagradOptions& options, std::size_t g) const {
    this->check_non_negative("lr_decay", options.lr_decay(), g);
    this->check_non_negative("weight_decay", options.weight_decay(), g);
    this->check_non_negative("initial_accumulator_value", options.initial_accumulator_value(), g);
    this->check_non_negative("eps", options.eps(), g);
}

template <class T>
void Adagrad<T>::step() {
    NoGradGuard no_grad;
    for (std::size_t group = 0; group < options_.size(); ++group) {
        const AdagradOptions& o = options_[group];
        const T wd = T(o.weight_decay()), eps = T(o.eps());
        for (std::size_t i = this->group_begin(group); i < this->group_begin(group + 1); ++i) {
            const Tensor<T> grad = this->grad_of(i);
            if (!grad.defined()) continue;
            State& s = state_[i];
            if (s.step == 0) s.sum = this->state_like(i, T(o.initial_accumulator_value()));
            s.step += 1;
            const T clr = T(this->group_lr(group) / (1 + double(s.step - 1) * o.lr_decay()));
            T* theta = this->params_[i].mutable_value().data();
            const T* g_in = grad.value().data();
            T* sum = s.sum.data();
            const std::size_t n = this->params_[i].size();
            for (std::size_t k = 0; k < n; ++k) {
                const T g = g_in[k] + wd * theta[k];
                sum[k] += g * g;
                theta[k] -= clr * g / (std::sqrt(sum[k]) + eps);
            }
        }
    }
}

template <class T>
void Adagrad<T>::save_state(typename Optimizer<T>::StateDict& out) const {
    for (std::size_t g = 0; g < options_.size(); ++g) {
        const AdagradOptions& o = options_[g];
        const std::string p = fmt::format("param_groups.{}.", g);
        out[p + "lr_decay"] = detail::scalar_array(o.lr_decay());
        out[p + "weight_decay"] = detail::scalar_array(o.weight_decay());
        out[p + "initial_accumulator_value"] = detail::scalar_array(o.initial_accumulator_value());
        out[p + "eps"] = detail::scalar_array(o.eps());
    }
    for (std::size_t i = 0; i < state_.size(); ++i) {
        if (state_[i].step == 0) continue;
        out[fmt::format("state.{}.step", i)] = detail::scalar_array(double(state_[i].step));
        out[fmt::format("state.{}.sum", i)] = detail::widen(state_[i].sum);
    }
}

template <class T>
std::function<void()> Adagrad<T>::load_state(detail::StateReader<T>& in) {
    std::vector<AdagradOptions> options;
    for (std::size_t g = 0; g < options_.size(); ++g) {
        AdagradOptions o(0);  // lr is the base class's
        o.lr_decay(in.group(g, "lr_decay"))
            .weight_decay(in.group(g, "weight_decay"))
            .initial_accumulator_value(in.group(g, "initial_accumulator_value"))
            .eps(in.group(g, "eps"));
        check(o, g);
        options.push_back(o);
    }
    std::vector<State> state(state_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
        if (!in.has_state(i, "step")) continue;
        state[i].step = in.count(i, "step");
        state[i].sum = in.buffer(i, "sum");
    }
    return [this, options = std::move(options), state = std::move(state)]() mutable {
        options_ = std::move(options);
        state_ = std::move(state);
    };
}

template class Adagrad<float>;
template class Adagrad<double>;

}  // namespace xgrad::optim
