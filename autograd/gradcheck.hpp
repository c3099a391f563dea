#pragma once

#include "autograd/tensor.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xgrad {

/// Tolerances of a gradient check: an analytic entry a passes against the numeric n when
/// |a − n| ≤ atol + rtol·|n|.
struct GradcheckOptions {
    double eps = 1e-6;  ///< central-difference step
    double rtol = 1e-5;
    double atol = 1e-7;
    std::uint64_t seed = 0;  ///< seeds the random upstream gradient (and gradgradcheck's v)
};

/// Outcome of a check: `ok`, the largest error seen, and a message naming the first failing
/// input and element with both values. Converts to bool.
struct GradcheckResult {
    bool ok = true;
    double max_abs_error = 0;
    std::string message;
    explicit operator bool() const { return ok; }
};

using TensorFn = std::function<Tensor<double>(const std::vector<Tensor<double>>&)>;

/// Compares the gradients of fn at `inputs` from backward with central finite differences.
/// The inputs that require grad are checked; the output is contracted with a random upstream
/// gradient u (not ones), so each check covers the whole vector-Jacobian product uᵀJ.
GradcheckResult gradcheck(const TensorFn& fn, const std::vector<Tensor<double>>& inputs,
                          const GradcheckOptions& options = {});

/// Second order: checks, with gradcheck, the gradient of (x, u) ↦ ⟨∂(uᵀ fn)/∂x, v⟩ for random
/// u, v, with respect to the inputs x that require grad and to the upstream gradient u (as
/// PyTorch's gradgradcheck does), i.e. that backward with create_graph builds a correct graph
/// of the first derivative. In the messages, input k counts the inputs that require grad, then
/// u last.
GradcheckResult gradgradcheck(const TensorFn& fn, const std::vector<Tensor<double>>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace xgrad
