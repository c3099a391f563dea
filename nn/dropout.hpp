#pragma once

#include "nn/module.hpp"

#include <cstddef>

namespace xgrad::nn {

/// Inverted dropout: in training each element is zeroed with probability p and the survivors are
/// scaled by 1/(1 − p), so evaluation (where it is the identity) needs no rescaling.
/// p in [0, 1) (ValueError otherwise). Draws from xgrad::generator().
template <class T = float>
class Dropout : public Module<T> {
public:
    explicit Dropout(T p = T(0.5));
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Dropout"; }
    std::string extra_repr() const override;

private:
    T p_;
};

/// Merges axes start..end (default: everything but the batch axis) — Keras' Flatten.
template <class T = float>
class Flatten : public Module<T> {
public:
    explicit Flatten(std::ptrdiff_t start = 1, std::ptrdiff_t end = -1) : start_(start), end_(end) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Flatten"; }

private:
    std::ptrdiff_t start_, end_;
};

}  // namespace xgrad::nn
