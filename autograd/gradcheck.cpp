#include "autograd/gradcheck.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>

namespace xgrad {
namespace {

xt::xarray<double> random_like(const Shape& shape, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    xt::xarray<double> out = xt::xarray<double>::from_shape(shape);
    for (auto& v : out)
        v = dist(rng);
    return out;
}

// ⟨u, y⟩ for the numeric side.
double contract(const xt::xarray<double>& u, const xt::xarray<double>& y) {
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
        s += u.data()[i] * y.data()[i];
    return s;
}

}  // namespace

GradcheckResult gradcheck(const TensorFn& fn, const std::vector<Tensor<double>>& inputs,
                          const GradcheckOptions& options) {
    std::vector<Tensor<double>> checked;
    for (const auto& x : inputs) {
        if (x.requires_grad()) checked.push_back(x);
    }
    GradcheckResult result;
    if (checked.empty()) {
        result.ok = false;
        result.message = "gradcheck: no input requires grad, so nothing is checked";
        return result;
    }
    Tensor<double> y = fn(inputs);
    std::mt19937_64 rng(options.seed);
    const xt::xarray<double> u = random_like(y.shape(), rng);
    // An output with no graph (a linear op's second derivative) has a zero gradient, and so has
    // an input fn does not use (allow_unused): the finite differences below must confirm it.
    std::vector<Tensor<double>> analytic;
    if (y.requires_grad()) {
        analytic = grad<double>({y}, checked, GradOptions().allow_unused(), {Tensor<double>(u)});
    } else {
        for (const auto& x : checked)
            analytic.push_back(zeros<double>(x.shape()));
    }
    for (std::size_t k = 0; k < checked.size(); ++k) {
        auto& x = checked[k].mutable_value();
        for (std::size_t j = 0; j < x.size(); ++j) {
            const double saved = x.data()[j];
            x.data()[j] = saved + options.eps;
            const double plus = contract(u, fn(inputs).value());
            x.data()[j] = saved - options.eps;
            const double minus = contract(u, fn(inputs).value());
            x.data()[j] = saved;
            const double numeric = (plus - minus) / (2 * options.eps);
            const double a = analytic[k].value().data()[j];
            const double err = std::abs(a - numeric);
            result.max_abs_error = std::max(result.max_abs_error, err);
            if (!(err <= options.atol + options.rtol * std::abs(numeric)) && result.ok) {
                result.ok = false;
                result.message = fmt::format(
                    "gradcheck: input {} (shape {}), element {}: analytic {:.10g} vs numeric "
                    "{:.10g} (|diff| {:.3g} > atol {} + rtol {}·|numeric|)",
                    k, shape_str(x.shape()), j, a, numeric, err, options.atol, options.rtol);
            }
        }
    }
    return result;
}

GradcheckResult gradgradcheck(const TensorFn& fn, const std::vector<Tensor<double>>& inputs,
                              const GradcheckOptions& options) {
    std::mt19937_64 rng(options.seed + 1);
    // Shapes of the output and of the checked inputs, from one plain evaluation.
    Tensor<double> y0 = fn(inputs);
    std::vector<xt::xarray<double>> v;
    for (const auto& x : inputs) {
        if (x.requires_grad()) v.push_back(random_like(x.shape(), rng));
    }
    // h(x, u) = Σ_k ⟨∂(uᵀ fn)/∂x_k, v_k⟩, built with create_graph so it is differentiable in x
    // and in the upstream gradient u, which is checked as one more input: the derivative in u
    // runs the VJP of each op the first backward recorded.
    std::vector<Tensor<double>> with_u = inputs;
    with_u.push_back(Tensor<double>(random_like(y0.shape(), rng), true));
    auto h = [&](const std::vector<Tensor<double>>& xs) {
        std::vector<Tensor<double>> wrt;
        for (std::size_t k = 0; k + 1 < xs.size(); ++k) {
            if (xs[k].requires_grad()) wrt.push_back(xs[k]);
        }
        const std::vector<Tensor<double>> fn_inputs(xs.begin(), xs.end() - 1);
        Tensor<double> y = fn(fn_inputs);
        // allow_unused: an input may not reach the first derivative (zero second derivative).
        auto g = grad<double>({y}, wrt, GradOptions().create_graph().allow_unused(), {xs.back()});
        Tensor<double> total = scalar(0.0);
        for (std::size_t k = 0; k < g.size(); ++k) {
            total = add(total, sum(mul(g[k], Tensor<double>(v[k]))));
        }
        return total;
    };
    GradcheckResult r = gradcheck(h, with_u, options);
    if (!r.ok) r.message = "gradgradcheck: " + r.message.substr(sizeof("gradcheck: ") - 1);
    return r;
}

}  // namespace xgrad
