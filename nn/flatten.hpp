#pragma once

#include "nn/module.hpp"

#include <cstddef>
#include <string>
#include <utility>

namespace xgrad::nn {

/// Merges axes start..end (default: everything but the batch axis) — Keras' Flatten. Negative
/// axes count from the end; ShapeError when x has no such axes or start > end (see flatten()).
template <class T = float>
class Flatten : public Module<T> {
public:
    explicit Flatten(std::ptrdiff_t start = 1, std::ptrdiff_t end = -1)
        : start_(start), end_(end) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Flatten"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<Flatten>(start_, end_);
    }

private:
    std::ptrdiff_t start_, end_;
};

/// Flatten's inverse on the axes after the batch (PyTorch's nn.Unflatten(1, sizes)): x [n, m] →
/// [n, sizes...], m = Π sizes; a decoder's dense output as feature maps. ShapeError naming
/// "unflatten" and both shapes when x is not [n, Π sizes].
template <class T = float>
class Unflatten : public Module<T> {
public:
    explicit Unflatten(Shape sizes) : sizes_(std::move(sizes)) {}
    Tensor<T> forward(const Tensor<T>& x) override;
    std::string type_name() const override { return "Unflatten"; }
    std::shared_ptr<Module<T>> clone() const override {
        return this->template clone_as<Unflatten>(sizes_);
    }

private:
    Shape sizes_;
};

}  // namespace xgrad::nn
