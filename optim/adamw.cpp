#include "optim/adamw.hpp"

namespace xgrad::optim {

template <class T>
AdamW<T>::AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options)
    : AdamW(std::vector<Group>{Group(std::move(params))}, options) {}

template <class T>
AdamW<T>::AdamW(const std::vector<Group>& groups, const AdamWOptions& defaults)
    : detail::AdamBase<T>("adamw", groups, defaults, /*decoupled=*/true) {}

template class AdamW<float>;
template class AdamW<double>;

}  // namespace xgrad::optim
