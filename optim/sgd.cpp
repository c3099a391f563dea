#include "optim/sgd.hpp"

#include <fmt/format.h>

namespace xgrad::optim {

template <class T>
SGD<T>::SGD(std::vector<Tensor<T>> params, const SGDOptions& options)
    : Optimizer<T>("sgd", std::move(params), options.lr()),
      options_(options),
      state_(this->params_.size()) {
    this->check_non_negative("momentum", options.momentum());
    this->check_non_negative("weight_decay", options.weight_decay());
    if (options.nesterov() && (options.momentum() <= 0 || options.dampening() != 0)) {
        throw ValueError(
            fmt::format("sgd: nesterov requires momentum > 0 and dampening = 0; got momentum={}, "
                        "dampening={}",
                        options.momentum(), options.dampening()));
    }
}

template <class T>
void SGD<T>::step() {
    NoGradGuard no_grad;
    const T lr = T(this->lr());
    const T mu = T(options_.momentum());
    const T damp = T(1 - options_.dampening());
    const T wd = T(options_.weight_decay());
    const bool nesterov = options_.nesterov();
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
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

template class SGD<float>;
template class SGD<double>;

}  // namespace xgrad::optim
