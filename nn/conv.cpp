#include "nn/conv.hpp"

#include "autograd/shape.hpp"
#include "nn/init.hpp"

#include <fmt/format.h>

#include <cmath>

namespace xgrad::nn {
namespace {

// Checks the options when the layer is built: the channels and kernel size, and the attributes
// as the functional ops check them.
void check_options(const char* layer, const Conv2dOptions& o, bool transposed) {
    const std::size_t g = o.conv().groups();
    if (o.in_channels() == 0 || o.out_channels() == 0 || o.kernel_size().h == 0 ||
        o.kernel_size().w == 0 || g == 0 || o.in_channels() % g != 0 || o.out_channels() % g != 0) {
        throw ValueError(
            fmt::format("{}: channels and kernel size must be positive and the "
                        "channels divisible by groups; got in={}, out={}, "
                        "kernel_size={}, groups={}",
                        layer, o.in_channels(), o.out_channels(), size2_str(o.kernel_size()), g));
    }
    check_size(layer, "in_channels", o.in_channels());  // Note [size limit]
    check_size(layer, "out_channels", o.out_channels());
    check_size(layer, "kernel_size", o.kernel_size().h);
    check_size(layer, "kernel_size", o.kernel_size().w);
    check_conv_options(layer, o.conv(), transposed);
}

// The weight's shape, its element count checked (Note [size limit]).
Shape weight_shape(const char* layer, std::size_t first, std::size_t second, Size2 k) {
    const Shape shape{first, second, k.h, k.w};
    checked_numel(layer, "weight", shape);
    return shape;
}

// PyTorch's reset_parameters: kaiming_uniform(a = √5) is U(±1/√fan_in); the bias uses the same
// bound. fan_in comes from the weight's shape (dims 1, 2, 3).
template <class T>
void default_init(const Tensor<T>& weight, const Tensor<T>& bias) {
    const T bound = T(1) / std::sqrt(static_cast<T>(init::fans(weight.shape()).first));
    init::uniform_(weight, -bound, bound);
    if (bias.defined()) init::uniform_(bias, -bound, bound);
}

std::string describe(const Conv2dOptions& o, bool transposed) {
    const ConvOptions& c = o.conv();
    std::string s = fmt::format("in={}, out={}, kernel_size={}", o.in_channels(), o.out_channels(),
                                size2_str(o.kernel_size()));
    if (c.stride() != Size2(1)) s += ", stride=" + size2_str(c.stride());
    if (c.padding_same()) {
        s += ", padding=same";
    } else if (c.padding() != Size2(0)) {
        s += ", padding=" + size2_str(c.padding());
    }
    if (transposed && c.output_padding() != Size2(0)) {
        s += ", output_padding=" + size2_str(c.output_padding());
    }
    if (c.dilation() != Size2(1)) s += ", dilation=" + size2_str(c.dilation());
    if (c.groups() != 1) s += fmt::format(", groups={}", c.groups());
    s += fmt::format(", bias={}", o.bias());
    return s;
}

template <class T>
void check_input(const char* layer, const Tensor<T>& x, std::size_t channels) {
    if (x.dim() != 4 || x.shape()[1] != channels) {
        throw ShapeError(fmt::format("{}: expected x [n, {}, h, w]; got x={}", layer, channels,
                                     shape_str(x.shape())));
    }
}

}  // namespace

template <class T>
Conv2d<T>::Conv2d(const Conv2dOptions& options) : options_(options) {
    check_options("conv2d", options_, false);
    weight_ = this->register_parameter(
        "weight", zeros<T>(weight_shape("conv2d", options_.out_channels(),
                                        options_.in_channels() / options_.conv().groups(),
                                        options_.kernel_size())));
    if (options_.bias()) {
        bias_ = this->register_parameter("bias", zeros<T>({options_.out_channels()}));
    }
    default_init(weight_, bias_);
}

template <class T>
Tensor<T> Conv2d<T>::forward(const Tensor<T>& x) {
    check_input("conv2d", x, options_.in_channels());
    return conv2d(x, weight_, bias_, options_.conv());
}

template <class T>
std::string Conv2d<T>::extra_repr() const {
    return describe(options_, false);
}

template <class T>
ConvTranspose2d<T>::ConvTranspose2d(const ConvTranspose2dOptions& options) : options_(options) {
    check_options("conv_transpose2d", options_, true);
    weight_ = this->register_parameter(
        "weight", zeros<T>(weight_shape("conv_transpose2d", options_.in_channels(),
                                        options_.out_channels() / options_.conv().groups(),
                                        options_.kernel_size())));
    if (options_.bias()) {
        bias_ = this->register_parameter("bias", zeros<T>({options_.out_channels()}));
    }
    default_init(weight_, bias_);
}

template <class T>
Tensor<T> ConvTranspose2d<T>::forward(const Tensor<T>& x) {
    check_input("conv_transpose2d", x, options_.in_channels());
    return conv_transpose2d(x, weight_, bias_, options_.conv());
}

template <class T>
std::string ConvTranspose2d<T>::extra_repr() const {
    return describe(options_, true);
}

template class Conv2d<float>;
template class Conv2d<double>;
template class ConvTranspose2d<float>;
template class ConvTranspose2d<double>;

}  // namespace xgrad::nn
