// A new op added from outside the library (the worked example of docs/custom-ops.md):
// swish(x) = x·σ(x), one struct with its forward and its VJP, checked by xgrad::gradcheck.

#include <xgrad.hpp>

#include <fmt/format.h>

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

xgrad::Tensor<double> swish(const xgrad::Tensor<double>& x) {
    return xgrad::record(Swish{}, x);
}

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
