#include "optim/adagrad.hpp"

#include <cmath>

namespace xgrad::optim {

template <class T>
Adagrad<T>::Adagrad(std::vector<Tensor<T>> params, const AdagradOptions& options)
    : Optimizer<T>("adagrad", std::move(params), options.lr()),
      options_(options),
      state_(this->params_.size()) {
    this->check_non_negative("lr_decay", options.lr_decay());
    this->check_non_negative("weight_decay", options.weight_decay());
    this->check_non_negative("initial_accumulator_value", options.initial_accumulator_value());
    this->check_non_negative("eps", options.eps());
}

template <class T>
void Adagrad<T>::step() {
    NoGradGuard no_grad;
    const T wd = T(options_.weight_decay()), eps = T(options_.eps());
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
        const Tensor<T> grad = this->grad_of(i);
        if (!grad.defined()) continue;
        State& s = state_[i];
        if (s.step == 0) s.sum = this->state_like(i, T(options_.initial_accumulator_value()));
        s.step += 1;
        const T clr = T(this->lr() / (1 + double(s.step - 1) * options_.lr_decay()));
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

template class Adagrad<float>;
template class Adagrad<double>;

}  // namespace xgrad::optim
