#include "optim/rmsprop.hpp"

#include <cmath>

namespace xgrad::optim {

template <class T>
RMSprop<T>::RMSprop(std::vector<Tensor<T>> params, const RMSpropOptions& options)
    : Optimizer<T>("rmsprop", std::move(params), options.lr()),
      options_(options),
      state_(this->params_.size()) {
    this->check_non_negative("alpha", options.alpha());
    this->check_non_negative("eps", options.eps());
    this->check_non_negative("weight_decay", options.weight_decay());
    this->check_non_negative("momentum", options.momentum());
}

template <class T>
void RMSprop<T>::step() {
    NoGradGuard no_grad;
    const T lr = T(this->lr()), alpha = T(options_.alpha()), eps = T(options_.eps());
    const T wd = T(options_.weight_decay()), mu = T(options_.momentum());
    const bool centered = options_.centered(), with_momentum = options_.momentum() > 0;
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
        const Tensor<T> grad = this->grad_of(i);
        if (!grad.defined()) continue;
        State& s = state_[i];
        if (!s.started) {
            s.square_avg = this->state_like(i);
            if (centered) s.grad_avg = this->state_like(i);
            if (with_momentum) s.momentum_buffer = this->state_like(i);
            s.started = true;
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

template class RMSprop<float>;
template class RMSprop<double>;

}  // namespace xgrad::optim
