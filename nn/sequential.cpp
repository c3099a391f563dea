#include "nn/sequential.hpp"

#include <fmt/format.h>

namespace xgrad::nn {

template <class T>
Tensor<T> Sequential<T>::forward(const Tensor<T>& x) {
    Tensor<T> y = x;
    for (const auto& [name, layer] : this->children())
        y = (*layer)(y);
    return y;
}

template <class T>
std::vector<Tensor<T>> Sequential<T>::forward_list(const std::vector<Tensor<T>>& inputs) {
    std::vector<Tensor<T>> ys = inputs;
    for (const auto& [name, layer] : this->children())
        ys = (*layer)(ys);
    return ys;
}

template <class T>
std::shared_ptr<Module<T>> Sequential<T>::clone() const {
    auto copy = std::make_shared<Sequential>();
    for (const auto& [name, layer] : this->children())
        copy->add(layer->clone());
    this->copy_state_into(*copy);
    return copy;
}

template <class T>
const std::shared_ptr<Module<T>>& Sequential<T>::operator[](std::size_t i) const {
    if (i >= size()) {
        throw ValueError(fmt::format(
            "sequential: index {} is out of range for a Sequential of size {}", i, size()));
    }
    return this->children()[i].second;
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace xgrad::nn
