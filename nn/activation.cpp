#include "nn/activation.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/softmax.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <utility>

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
GELU<T>::GELU(std::string approximate) : approximate_(std::move(approximate)) {
    if (approximate_ != "none" && approximate_ != "tanh") {
        throw ValueError(fmt::format("gelu: approximate must be \"none\" or \"tanh\"; got \"{}\"",
                                     approximate_));
    }
}
template <class T>
Tensor<T> GELU<T>::forward(const Tensor<T>& x) {
    return gelu(x, approximate_);
}
template <class T>
Tensor<T> SiLU<T>::forward(const Tensor<T>& x) {
    return silu(x);
}
template <class T>
Tensor<T> SELU<T>::forward(const Tensor<T>& x) {
    return selu(x);
}
template <class T>
PReLU<T>::PReLU(std::size_t num_parameters, T init) {
    if (num_parameters == 0) {
        throw ValueError("prelu: num_parameters must be positive; got num_parameters=0");
    }
    check_size("prelu", "num_parameters", num_parameters);  // Note [size limit]
    weight_ = this->register_parameter("weight", full<T>({num_parameters}, init));
}
template <class T>
Tensor<T> PReLU<T>::forward(const Tensor<T>& x) {
    return prelu(x, weight_);
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

template <class T>
std::string GELU<T>::extra_repr() const {
    return fmt::format("approximate={}", approximate_);
}
template <class T>
std::string PReLU<T>::extra_repr() const {
    return fmt::format("num_parameters={}", weight_.size());
}

#define XGRAD_INSTANTIATE(T)     \
    template class Sigmoid<T>;   \
    template class Tanh<T>;      \
    template class ReLU<T>;      \
    template class LeakyReLU<T>; \
    template class ELU<T>;       \
    template class GELU<T>;      \
    template class SiLU<T>;      \
    template class SELU<T>;      \
    template class PReLU<T>;     \
    template class Softmax<T>;   \
    template class LogSoftmax<T>;
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn
