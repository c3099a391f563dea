#include "nn/activation.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/softmax.hpp"

#include <fmt/format.h>

namespace xgrad::nn {

template <class T>
Tensor<T> Sigmoid<T>::forward(const Tensor<T>& x) {
    return sigmoid(x);
}
template <class T>
Tensor<T> Tanh<T>::forward(const Tensor<T>& x) {
    return tanh(x);
}
template <class T>
Tensor<T> ReLU<T>::forward(const Tensor<T>& x) {
    return relu(x);
}
template <class T>
Tensor<T> LeakyReLU<T>::forward(const Tensor<T>& x) {
    return leaky_relu(x, slope_);
}
template <class T>
Tensor<T> ELU<T>::forward(const Tensor<T>& x) {
    return elu(x, alpha_);
}
template <class T>
Tensor<T> Softmax<T>::forward(const Tensor<T>& x) {
    return softmax(x, axis_);
}
template <class T>
Tensor<T> LogSoftmax<T>::forward(const Tensor<T>& x) {
    return log_softmax(x, axis_);
}

template <class T>
std::string LeakyReLU<T>::extra_repr() const {
    return fmt::format("slope={}", slope_);
}
template <class T>
std::string ELU<T>::extra_repr() const {
    return fmt::format("alpha={}", alpha_);
}

#define XGRAD_INSTANTIATE(T)     \
    template class Sigmoid<T>;   \
    template class Tanh<T>;      \
    template class ReLU<T>;      \
    template class LeakyReLU<T>; \
    template class ELU<T>;       \
    template class Softmax<T>;   \
    template class LogSoftmax<T>;
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn
