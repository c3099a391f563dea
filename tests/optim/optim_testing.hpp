#pragma once

// Helpers shared by the optimizer tests: a fixed gradient, and a parameter checked against
// hand-computed values.

#include "autograd/tensor.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <utility>
#include <vector>

namespace optim_testing {

/// Gives `p` the gradient `g`, as a backward pass would.
inline void set_grad(const xgrad::Tensor<double>& p, xt::xarray<double> g) {
    p.set_grad(xgrad::Tensor<double>(std::move(g)));
}

/// Every element of `p` equals `expected` to 1e-6 relative (hand values carry 6 decimals).
inline void check_values(const xgrad::Tensor<double>& p, const std::vector<double>& expected) {
    REQUIRE(p.size() == expected.size());
    for (std::size_t k = 0; k < expected.size(); ++k) {
        CHECK(p.value().data()[k] == doctest::Approx(expected[k]).epsilon(1e-6));
    }
}

}  // namespace optim_testing
