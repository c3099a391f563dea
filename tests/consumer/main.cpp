// A new op added from outside the library (the worked example of docs/custom-ops.md):
// swish(x) = x·σ(x), one struct with its forward and its VJP, checked by xgrad::gradcheck.

#include "swish.hpp"

#include <xgrad.hpp>

#include <fmt/format.h>

int main() {
    xgrad::manual_seed(0);
    auto x = xgrad::randn<double>({3, 4}, 0.0, 2.0, true);
    auto fn = [](const std::vector<xgrad::Tensor<double>>& in) { return swish(in[0]); };
    const auto first = xgrad::gradcheck(fn, {x});
    const auto second = xgrad::gradgradcheck(fn, {x});
    fmt::print("gradcheck: {}\ngradgradcheck: {}\n", first.ok ? "ok" : first.message,
               second.ok ? "ok" : second.message);
    return first.ok && second.ok ? 0 : 1;
}
