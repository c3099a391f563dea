#include "nn/sequential.hpp"

namespace xgrad::nn {

template <class T>
Tensor<T> Sequential<T>::forward(const Tensor<T>& x) {
    Tensor<T> y = x;
    for (const auto& [name, layer] : this->children())
        y = (*layer)(y);
    return y;
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace xgrad::nn
