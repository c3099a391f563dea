#pragma once

// The op registry: every differentiable op is registered once, in its family's test file, with
// sample shapes, an independent reference forward and its shape errors. test_harness.cpp walks
// the registry and checks each op the same way (see docs/custom-ops.md).

#include "autograd/gradcheck.hpp"
#include "autograd/tensor.hpp"

#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace harness {

using Array = xt::xarray<double>;
using Tensors = std::vector<xgrad::Tensor<double>>;
using Fn = std::function<xgrad::Tensor<double>(const Tensors&)>;
using Reference = std::function<Array(const std::vector<Array>&)>;
/// Draws one input of the given shape.
using Sampler = std::function<Array(const xgrad::Shape&, std::mt19937_64&)>;

/// Uniform values in [lo, hi).
Sampler uniform(double lo = -2.0, double hi = 2.0);
/// Uniform in [lo, hi) but at least `margin` away from each of `kinks` (ReLU at 0, clamp bounds).
Sampler away_from(std::vector<double> kinks, double margin = 0.1, double lo = -2.0,
                  double hi = 2.0);
/// Distinct values spaced at least 0.1 apart, offset by `offset` (max/min without ties).
Sampler distinct(double offset = 0.0);
/// Integers 0..n−1 as doubles (conditions, indices).
Sampler integers(int n);

/// Elementwise reference: the scalar formula `f` applied to every value of the one input.
template <class F>
Reference map(F f) {
    return [f](const std::vector<Array>& a) {
        Array r = a[0];
        for (auto& v : r)
            v = f(v);
        return r;
    };
}

/// A position in a row-major array, one index per axis: references that walk an output by
/// position stay independent of the library's own offset arithmetic.
using Pos = std::vector<std::size_t>;
/// The position of the row-major flat index `flat` in shape `s`.
Pos unravel(std::size_t flat, const xgrad::Shape& s);
/// The row-major flat index of position `p` in shape `s`.
std::size_t ravel(const Pos& p, const xgrad::Shape& s);

/// One op as the harness sees it; built fluently.
struct OpSpec {
    OpSpec(std::string name, Fn fn) : name(std::move(name)), fn(std::move(fn)) {}

    OpSpec& reference(Reference r) {
        ref = std::move(r);
        return *this;
    }
    /// Input shapes of one sample (one shape per input); give several cases.
    OpSpec& cases(std::vector<std::vector<xgrad::Shape>> c) {
        shapes = std::move(c);
        return *this;
    }
    /// Sampler per input index (the last one repeats).
    OpSpec& samplers(std::vector<Sampler> s) {
        draw = std::move(s);
        return *this;
    }
    /// Inputs that are not differentiated (a condition, a mask).
    OpSpec& constant_inputs(std::vector<std::size_t> idx) {
        constants = std::move(idx);
        return *this;
    }
    /// Input shapes that must raise ShapeError naming the op and each of these shapes.
    OpSpec& bad_shapes(std::vector<xgrad::Shape> s) {
        bad = std::move(s);
        return *this;
    }
    /// The op takes any shape; says why there is no shape-error case.
    OpSpec& any_shape(std::string why) {
        any_shape_reason = std::move(why);
        return *this;
    }
    /// First-order only, with the reason (piecewise-linear ops are checked: their second
    /// derivative is zero away from kinks).
    OpSpec& first_order_only(std::string why) {
        second_order = false;
        first_order_reason = std::move(why);
        return *this;
    }
    /// No gradient at all (comparisons): forward and shape errors only.
    OpSpec& not_differentiable() {
        differentiable = false;
        return *this;
    }
    OpSpec& tolerances(double rtol, double atol, std::string why) {
        options.rtol = rtol;
        options.atol = atol;
        tolerance_reason = std::move(why);
        return *this;
    }

    std::string name;
    Fn fn;
    Reference ref;
    std::vector<std::vector<xgrad::Shape>> shapes;
    std::vector<Sampler> draw;
    std::vector<std::size_t> constants;
    std::vector<xgrad::Shape> bad;
    std::string any_shape_reason;
    bool second_order = true;
    std::string first_order_reason;
    bool differentiable = true;
    xgrad::GradcheckOptions options;
    std::string tolerance_reason;
};

std::vector<OpSpec>& registry();

struct Register {
    explicit Register(OpSpec spec) { registry().push_back(std::move(spec)); }
};

/// Draws the inputs of case `c` of `spec` (fixed seed per op and case); differentiable inputs
/// require grad.
Tensors sample_inputs(const OpSpec& spec, std::size_t c);

}  // namespace harness

#define XGRAD_HARNESS_CONCAT2(a, b) a##b
#define XGRAD_HARNESS_CONCAT(a, b) XGRAD_HARNESS_CONCAT2(a, b)
/// Registers an op with the shared harness: XGRAD_REGISTER_OP(harness::OpSpec("add", ...)...);
#define XGRAD_REGISTER_OP(spec)                                                         \
    static const harness::Register XGRAD_HARNESS_CONCAT(xgrad_harness_reg_, __LINE__) { \
        spec                                                                            \
    }
