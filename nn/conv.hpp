#pragma once

#include "autograd/ops/conv.hpp"
#include "nn/module.hpp"

#include <cstddef>
#include <string>

namespace xgrad::nn {

/// Options of Conv2d and ConvTranspose2d: channels and kernel size, then fluent attributes —
/// `nn::Conv2d(nn::Conv2dOptions(1, 32, 5).padding(Padding::same))`. Defaults as PyTorch:
/// stride 1, padding 0, dilation 1, groups 1, output_padding 0 (transposed only), with bias.
class Conv2dOptions {
public:
    Conv2dOptions(std::size_t in_channels, std::size_t out_channels, Size2 kernel_size)
        : in_(in_channels), out_(out_channels), kernel_(kernel_size) {}

    Conv2dOptions& stride(Size2 s) {
        conv_.stride(s);
        return *this;
    }
    Conv2dOptions& padding(Size2 p) {
        conv_.padding(p);
        return *this;
    }
    Conv2dOptions& padding(Padding p) {
        conv_.padding(p);
        return *this;
    }
    Conv2dOptions& dilation(Size2 d) {
        conv_.dilation(d);
        return *this;
    }
    Conv2dOptions& groups(std::size_t g) {
        conv_.groups(g);
        return *this;
    }
    Conv2dOptions& output_padding(Size2 p) {
        conv_.output_padding(p);
        return *this;
    }
    Conv2dOptions& bias(bool on) {
        bias_ = on;
        return *this;
    }

    std::size_t in_channels() const { return in_; }
    std::size_t out_channels() const { return out_; }
    const Size2& kernel_size() const { return kernel_; }
    bool bias() const { return bias_; }
    /// The attributes as the functional ops take them.
    const ConvOptions& conv() const { return conv_; }

private:
    std::size_t in_, out_;
    Size2 kernel_;
    ConvOptions conv_;
    bool bias_ = true;
};

/// The transposed convolution takes the same options (output_padding applies to it only).
using ConvTranspose2dOptions = Conv2dOptions;

/// 2-D convolution layer: x [n, in, h, w] → [n, out, oh, ow] (conv2d). Parameters: weight
/// [out, in/groups, kh, kw], then bias [out]. Initialised as PyTorch does (kaiming_uniform with
/// a = √5): U(−1/√fan_in, 1/√fan_in) for both, fan_in = in/groups·kh·kw; use nn::init to change
/// it (init::he_uniform_ for ReLU networks, init::glorot_uniform_ as Keras).
template <class T = float>
class Conv2d : public Module<T> {
public:
    explicit Conv2d(const Conv2dOptions& options);
    Conv2d(std::size_t in_channels, std::size_t out_channels, Size2 kernel_size)
        : Conv2d(Conv2dOptions(in_channels, out_channels, kernel_size)) {}

    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Conv2d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<Conv2d>(options_);
    }
    std::string extra_repr() const override;

    const Tensor<T>& weight() const { return weight_; }
    const Tensor<T>& bias() const { return bias_; }  ///< undefined without a bias
    const Conv2dOptions& options() const { return options_; }

private:
    Conv2dOptions options_;
    Tensor<T> weight_, bias_;
};

/// Transposed convolution layer (upsampling in decoders and generators): x [n, in, h, w] →
/// [n, out, oh, ow], oh = (h − 1)·stride − 2·padding + dilation·(kh − 1) + output_padding + 1
/// (conv_transpose2d). Parameters: weight [in, out/groups, kh, kw] (PyTorch's layout), then bias
/// [out]. Initialised as PyTorch does: U(±1/√fan_in) with fan_in computed from the weight's
/// shape, i.e. out/groups·kh·kw (PyTorch's convention for transposed convolutions).
template <class T = float>
class ConvTranspose2d : public Module<T> {
public:
    explicit ConvTranspose2d(const ConvTranspose2dOptions& options);
    ConvTranspose2d(std::size_t in_channels, std::size_t out_channels, Size2 kernel_size)
        : ConvTranspose2d(ConvTranspose2dOptions(in_channels, out_channels, kernel_size)) {}

    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "ConvTranspose2d"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<ConvTranspose2d>(options_);
    }
    std::string extra_repr() const override;

    const Tensor<T>& weight() const { return weight_; }
    const Tensor<T>& bias() const { return bias_; }  ///< undefined without a bias
    const ConvTranspose2dOptions& options() const { return options_; }

private:
    ConvTranspose2dOptions options_;
    Tensor<T> weight_, bias_;
};

}  // namespace xgrad::nn
