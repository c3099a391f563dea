#include "nn/dropout.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/norm.hpp"
#include "autograd/random.hpp"

#include <fmt/format.h>

#include <random>

namespace xgrad::nn {
namespace {

template <class T>
void check_p(const char* module, T p) {
    if (!(p >= T(0) && p < T(1))) {
        throw ValueError(fmt::format("{}: p must be in [0, 1); got p={}", module, p));
    }
}

}  // namespace

template <class T>
Dropout<T>::Dropout(T p) : p_(p) {
    check_p("Dropout", p);
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
Dropout2d<T>::Dropout2d(T p) : p_(p) {
    check_p("Dropout2d", p);
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
