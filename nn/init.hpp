#pragma once

#include "autograd/tensor.hpp"

#include <cstddef>
#include <utility>

/// Initialisers: each fills a tensor's value in place from xgrad::generator() (manual_seed makes
/// a run reproducible). Fan-in/fan-out follow PyTorch: a weight [out, in, k...] has
/// fan_in = in·k..., fan_out = out·k... (a Linear [out, in], a Conv2d [out, in, kh, kw]).
namespace xgrad::nn::init {

/// (fan_in, fan_out) of a weight shape; rank ≥ 2 (ValueError otherwise).
std::pair<std::size_t, std::size_t> fans(const Shape& shape);

template <class T>
void uniform_(Tensor<T> t, T lo, T hi);
template <class T>
void normal_(Tensor<T> t, T mean, T stddev);
template <class T>
void constant_(Tensor<T> t, T value);
template <class T>
void zeros_(Tensor<T> t);
/// The lectures' symmetric init: U(−ε, ε), ε = 0.12 by default.
template <class T>
void epsilon_uniform_(Tensor<T> t, T epsilon = T(0.12));
/// Glorot/Xavier uniform: U(−a, a), a = gain·√(6 / (fan_in + fan_out)) (Keras' default).
template <class T>
void glorot_uniform_(Tensor<T> t, T gain = T(1));
/// Glorot/Xavier normal: N(0, σ²), σ = gain·√(2 / (fan_in + fan_out)).
template <class T>
void glorot_normal_(Tensor<T> t, T gain = T(1));
/// He/Kaiming uniform for ReLU: U(−a, a), a = √(6 / fan_in).
template <class T>
void he_uniform_(Tensor<T> t);
/// He/Kaiming normal for ReLU: N(0, σ²), σ = √(2 / fan_in).
template <class T>
void he_normal_(Tensor<T> t);

}  // namespace xgrad::nn::init
