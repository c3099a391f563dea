#pragma once

#include "autograd/tape.hpp"

namespace xgrad {

/// Matrix product with NumPy's matmul rules:
/// - [m, k] @ [k, n] → [m, n];
/// - 1-D operands: [k] @ [k, n] → [n], [m, k] @ [k] → [m], [k] @ [k] → [] (dot product);
/// - batched: [..., m, k] @ [..., k, n] → [..., m, n], the batch axes broadcast (a 2-D operand is
///   shared by every batch entry).
/// Runs on BLAS gemm with transpose flags; its VJP uses the same flags, never a materialised
/// transpose. Mismatched inner sizes, batch axes that do not broadcast and rank-0 operands raise
/// ShapeError naming both shapes.
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b);

/// op(a) @ op(b) where op transposes the last two axes when its flag is set: a is [..., m, k]
/// ([..., k, m] with transpose_a), b is [..., k, n] ([..., n, k] with transpose_b), both of rank
/// ≥ 2, batch axes broadcast → [..., m, n]. What matmul and linear are built on; useful for x·Wᵀ
/// without copying W. The tape lists it as "matmul" with both flags.
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, bool transpose_a, bool transpose_b);

/// Dense layer: y = x·Wᵀ + b with x [..., in] (rank ≥ 1), weight [out, in] (PyTorch's layout),
/// bias [out] (undefined Tensor for none) → [..., out]. One op on the tape ("linear"): the bias is
/// written into the result and one gemm with transpose_b adds x·Wᵀ to it, whatever the rank of x
/// (its leading axes fold into the rows); the VJP is ∂L/∂x = G·W, ∂L/∂W = Gᵀ·x, ∂L/∂b = Σ_rows G,
/// computed only for inputs that require grad, and differentiable again under create_graph.
/// Shapes that do not fit raise ShapeError naming x, weight and bias.
template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>());

}  // namespace xgrad
