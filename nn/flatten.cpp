#include "nn/flatten.hpp"

#include "autograd/ops/shape.hpp"

namespace xgrad::nn {

template <class T>
Tensor<T> Flatten<T>::forward(const Tensor<T>& x) {
    return flatten(x, start_, end_);
}

template class Flatten<float>;
template class Flatten<double>;

}  // namespace xgrad::nn
