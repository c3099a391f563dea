#include "optim/adamw.hpp"

namespace xgrad::optim {

template <class T>
AdamW<T>::AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options)
    : Optimizer<T>("adamw", std::move(params), options.lr()),
      options_(options),
      state_(this->params_.size()) {
    detail::check_adam_options("adamw", options.lr(), options.betas(), options.eps(),
                               options.weight_decay());
}

template <class T>
void AdamW<T>::step() {
    NoGradGuard no_grad;
    const detail::AdamHyper h{this->lr(),      options_.betas().first, options_.betas().second,
                              options_.eps(),  options_.weight_decay(), options_.amsgrad(),
                              /*decoupled=*/true};
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
        const Tensor<T> grad = this->grad_of(i);
        if (!grad.defined()) continue;
        auto& s = state_[i];
        if (s.step == 0) {
            s.exp_avg = this->state_like(i);
            s.exp_avg_sq = this->state_like(i);
            if (h.amsgrad) s.max_exp_avg_sq = this->state_like(i);
        }
        detail::adam_update(this->params_[i].mutable_value().data(), grad.value().data(),
                            this->params_[i].size(), s, h);
    }
}

template class AdamW<float>;
template class AdamW<double>;

}  // namespace xgrad::optim
