#pragma once

// A new op added from outside the library (the worked example of docs/custom-ops.md):
// swish(x) = x·σ(x), one struct with its forward and its VJP. main.cpp checks it with
// xgrad::gradcheck, attention.cpp trains a model that uses it.

#include <xgrad.hpp>

#include <xtensor/xmath.hpp>

struct Swish {
    static constexpr const char* name = "swish";
    xgrad::Tensor<double> x;  // the VJP reads the input

    xt::xarray<double> forward(const xgrad::Tensor<double>& x_in) {
        x = x_in;
        return x.value() / (1.0 + xt::exp(-x.value()));
    }
    // y = x·σ(x)  ⇒  ∂L/∂x = g ⊙ (σ(x) + y ⊙ (1 − σ(x)))
    xgrad::Grads<double, 1> vjp(const xgrad::Tensor<double>& g,
                                const xgrad::Tensor<double>& y) const {
        auto s = xgrad::sigmoid(x);
        return {g * (s + y * (1.0 - s))};
    }
};

inline xgrad::Tensor<double> swish(const xgrad::Tensor<double>& x) {
    return xgrad::record(Swish{}, x);
}
