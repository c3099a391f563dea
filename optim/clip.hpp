#pragma once

#include "autograd/tensor.hpp"

#include <vector>

// Gradient clipping: called between backward() and an optimizer's step(), it edits the
// gradients the step will read, in place.
namespace xgrad::optim {

/// Scales every gradient of `params` by max_norm / (total + 1e-6) when that is below 1, where
/// total is the norm_type-norm of all gradients together (as if concatenated; norm_type = inf
/// takes the largest |g|). Parameters without a gradient are skipped. Returns total (before
/// clipping; 0 when no parameter has a gradient). max_norm >= 0, norm_type > 0 or inf;
/// ValueError otherwise.
template <class T>
T clip_grad_norm(const std::vector<Tensor<T>>& params, double max_norm, double norm_type = 2);

/// Clamps every gradient element of `params` into [−clip, clip]; clip >= 0, ValueError otherwise.
template <class T>
void clip_grad_value(const std::vector<Tensor<T>>& params, double clip);

}  // namespace xgrad::optim
