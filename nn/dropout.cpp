#include "nn/dropout.hpp"

#include "autograd/ops/dropout.hpp"

#include <fmt/format.h>

namespace xgrad::nn {

template <class T>
Dropout<T>::Dropout(T p) : p_(p) {
    check_dropout_probability("dropout", p);
}

template <class T>
Tensor<T> Dropout<T>::forward(const Tensor<T>& x) {
    return dropout(x, p_, this->is_training());
}

template <class T>
std::string Dropout<T>::extra_repr() const {
    return fmt::format("p={}", p_);
}

template <class T>
Dropout2d<T>::Dropout2d(T p) : p_(p) {
    check_dropout_probability("dropout2d", p);
}

template <class T>
Tensor<T> Dropout2d<T>::forward(const Tensor<T>& x) {
    return dropout2d(x, p_, this->is_training());
}

template <class T>
std::string Dropout2d<T>::extra_repr() const {
    return fmt::format("p={}", p_);
}

template class Dropout<float>;
template class Dropout<double>;
template class Dropout2d<float>;
template class Dropout2d<double>;

}  // namespace xgrad::nn
