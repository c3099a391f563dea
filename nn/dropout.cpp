#include "nn/dropout.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/random.hpp"

#include <fmt/format.h>

#include <random>

namespace xgrad::nn {

template <class T>
Dropout<T>::Dropout(T p) : p_(p) {
    if (!(p >= T(0) && p < T(1))) {
        throw ValueError(fmt::format("Dropout: p must be in [0, 1); got p={}", p));
    }
}

template <class T>
Tensor<T> Dropout<T>::forward(const Tensor<T>& x) {
    if (!this->is_training() || p_ == T(0)) return x;
    // The mask is a constant of the graph: y = x ⊙ m, m ∈ {0, 1/(1 − p)}.
    std::bernoulli_distribution keep(1.0 - static_cast<double>(p_));
    const T scale = T(1) / (T(1) - p_);
    xt::xarray<T> mask = xt::xarray<T>::from_shape(x.shape());
    for (auto& m : mask) m = keep(generator()) ? scale : T(0);
    return mul(x, Tensor<T>(std::move(mask)));
}

template <class T>
std::string Dropout<T>::extra_repr() const {
    return fmt::format("p={}", p_);
}

template <class T>
Tensor<T> Flatten<T>::forward(const Tensor<T>& x) {
    return flatten(x, start_, end_);
}

template class Dropout<float>;
template class Dropout<double>;
template class Flatten<float>;
template class Flatten<double>;

}  // namespace xgrad::nn
