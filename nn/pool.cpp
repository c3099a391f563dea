#include "nn/pool.hpp"

#include <fmt/format.h>

namespace xgrad::nn {
namespace {

std::string describe(const PoolOptions& o, bool is_max) {
    std::string s =
        fmt::format("kernel_size={}, stride={}", size2_str(o.kernel_size()), size2_str(o.stride()));
    if (o.padding() != Size2(0)) s += ", padding=" + size2_str(o.padding());
    if (is_max && o.dilation() != Size2(1)) s += ", dilation=" + size2_str(o.dilation());
    if (o.ceil_mode()) s += ", ceil_mode=true";
    if (!is_max && !o.count_include_pad()) s += ", count_include_pad=false";
    return s;
}

}  // namespace

template <class T>
std::string MaxPool2d<T>::extra_repr() const {
    return describe(options_, true);
}

template <class T>
std::string AvgPool2d<T>::extra_repr() const {
    return describe(options_, false);
}

template class MaxPool2d<float>;
template class MaxPool2d<double>;
template class AvgPool2d<float>;
template class AvgPool2d<double>;
template class AdaptiveAvgPool2d<float>;
template class AdaptiveAvgPool2d<double>;
template class GlobalAvgPool2d<float>;
template class GlobalAvgPool2d<double>;

}  // namespace xgrad::nn
