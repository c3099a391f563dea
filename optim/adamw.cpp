#include "optim/adamw.hpp"

namespace xgrad::optim {

template <class T>
AdamW<T>::AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options)
    : detail::AdamBase<T>("adamw", std::move(params), options, /*decoupled=*/true) {}

template class AdamW<float>;
template class AdamW<double>;

}  // namespace xgrad::optim
