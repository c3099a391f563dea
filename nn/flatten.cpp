#include "nn/flatten.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <vector>

namespace xgrad::nn {

template <class T>
Tensor<T> Flatten<T>::forward(const Tensor<T>& x) {
    return flatten(x, start_, end_);
}

template <class T>
Tensor<T> Unflatten<T>::forward(const Tensor<T>& x) {
    std::size_t m = 1;
    for (std::size_t d : sizes_)
        m *= d;
    if (x.dim() != 2 || x.shape()[1] != m) {
        throw ShapeError(fmt::format("unflatten: expected x [n, {}] for sizes {}; got x={}", m,
                                     shape_str(sizes_), shape_str(x.shape())));
    }
    std::vector<std::ptrdiff_t> to = {static_cast<std::ptrdiff_t>(x.shape()[0])};
    for (std::size_t d : sizes_)
        to.push_back(static_cast<std::ptrdiff_t>(d));
    return reshape(x, to);
}

template class Flatten<float>;
template class Flatten<double>;
template class Unflatten<float>;
template class Unflatten<double>;

}  // namespace xgrad::nn
