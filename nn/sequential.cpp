#include "nn/sequential.hpp"

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

template class Sequential<float>;
template class Sequential<double>;

}  // namespace xgrad::nn
