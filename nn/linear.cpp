#include "nn/linear.hpp"

#include "autograd/ops/linalg.hpp"
#include "autograd/shape.hpp"
#include "nn/init.hpp"

#include <fmt/format.h>

#include <cmath>

namespace xgrad::nn {

template <class T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, bool bias)
    : in_(in_features), out_(out_features) {
    if (in_features == 0 || out_features == 0) {
        throw ValueError(fmt::format("linear: features must be positive; got in={}, out={}",
                                     in_features, out_features));
    }
    check_size("linear", "in_features", in_features);  // Note [size limit]
    check_size("linear", "out_features", out_features);
    checked_numel("linear", "weight", {out_features, in_features});
    const T bound = T(1) / std::sqrt(static_cast<T>(in_features));
    weight_ = this->register_parameter("weight", zeros<T>({out_features, in_features}));
    init::uniform_(weight_, -bound, bound);
    if (bias) {
        bias_ = this->register_parameter("bias", zeros<T>({out_features}));
        init::uniform_(bias_, -bound, bound);
    }
}

template <class T>
Tensor<T> Linear<T>::forward(const Tensor<T>& x) {
    return linear(x, weight_, bias_);  // checks the shapes
}

template <class T>
std::string Linear<T>::extra_repr() const {
    return fmt::format("in={}, out={}, bias={}", in_, out_, bias_.defined());
}

template class Linear<float>;
template class Linear<double>;

}  // namespace xgrad::nn
