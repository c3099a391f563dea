// Walks the op registry (tests/harness.hpp): every registered op gets the same checks.

#include "harness.hpp"

#include "autograd/ops/shape.hpp"
#include "autograd/tape.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

using namespace xgrad;
using harness::registry;

namespace {

std::vector<harness::Array> values(const harness::Tensors& xs) {
    std::vector<harness::Array> out;
    for (const auto& x : xs) out.push_back(x.value());
    return out;
}

std::string case_label(const harness::OpSpec& spec, std::size_t c) {
    std::vector<std::string> parts;
    for (const auto& s : spec.shapes[c]) parts.push_back(shape_str(s));
    return fmt::format("{}({})", spec.name, fmt::join(parts, ", "));
}

// `check` (gradcheck or gradgradcheck) passes on every sample case of `spec`.
void passes_on_every_case(const harness::OpSpec& spec, decltype(&gradcheck) check) {
    for (std::size_t c = 0; c < spec.shapes.size(); ++c) {
        INFO("case: ", case_label(spec, c));
        const GradcheckResult r = check(spec.fn, harness::sample_inputs(spec, c), spec.options);
        INFO(r.message);
        CHECK(r.ok);
    }
}

}  // namespace

TEST_CASE("harness: every op of the engine issue is registered") {
    const std::vector<std::string> required = {
        "add", "sub", "mul", "div", "neg", "pow", "pow_tensor", "exp", "log", "sqrt", "abs",
        "tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus", "clamp", "maximum", "minimum",
        "where", "sum", "mean", "max", "min", "sum_to", "broadcast_to", "matmul", "transpose",
        "permute", "reshape", "flatten", "squeeze", "unsqueeze", "slice", "narrow",
        "index_select", "gather", "concat", "stack", "pad", "softmax", "log_softmax", "eq", "ne",
        "lt", "le", "gt", "ge",
        // convolution, pooling and normalisation (issue 4)
        "conv2d", "conv_transpose2d", "conv2d_weight", "conv1d", "max_pool2d", "avg_pool2d",
        "adaptive_avg_pool2d", "global_avg_pool2d", "batch_norm", "dropout2d"};
    std::set<std::string> names;
    for (const auto& spec : registry()) names.insert(spec.name);
    for (const auto& n : required) {
        INFO("op: ", n);
        CHECK(names.count(n) == 1);
    }
}

TEST_CASE("harness: every op has cases, a reference and a shape-error case or a reason") {
    for (const auto& spec : registry()) {
        INFO("op: ", spec.name);
        CHECK(!spec.shapes.empty());
        CHECK(static_cast<bool>(spec.ref));
        CHECK((!spec.bad.empty() || !spec.any_shape_reason.empty()));
        CHECK((spec.second_order || !spec.first_order_reason.empty() || !spec.differentiable));
    }
}

TEST_CASE("harness: forward matches the independent reference") {
    for (const auto& spec : registry()) {
        for (std::size_t c = 0; c < spec.shapes.size(); ++c) {
            INFO("case: ", case_label(spec, c));
            auto xs = harness::sample_inputs(spec, c);
            const harness::Array expected = spec.ref(values(xs));
            const Tensor<double> y = spec.fn(xs);
            REQUIRE(y.shape() == expected.shape());
            CHECK(xt::allclose(y.value(), expected, 1e-12, 1e-12));
            if (!spec.differentiable) CHECK(!y.requires_grad());
        }
    }
}

TEST_CASE("harness: gradients match central finite differences") {
    for (const auto& spec : registry()) {
        if (spec.differentiable) passes_on_every_case(spec, gradcheck);
    }
}

TEST_CASE("harness: second-order gradients match finite differences") {
    for (const auto& spec : registry()) {
        if (spec.differentiable && spec.second_order) passes_on_every_case(spec, gradgradcheck);
    }
}

// Values are always materialised contiguous; the first input here is the output of a permute
// (a recorded op), so the op is checked on an input that arrives through a layout change.
TEST_CASE("harness: an input produced by permute gives the same values and gradients") {
    for (const auto& spec : registry()) {
        if (!spec.differentiable) continue;
        for (std::size_t c = 0; c < spec.shapes.size(); ++c) {
            auto xs = harness::sample_inputs(spec, c);
            if (xs[0].dim() < 2 || !xs[0].requires_grad()) continue;
            INFO("case: ", case_label(spec, c));
            std::vector<std::size_t> rev(xs[0].dim());
            for (std::size_t i = 0; i < rev.size(); ++i) rev[i] = rev.size() - 1 - i;
            xs[0] = Tensor<double>(xt::xarray<double>(xt::transpose(xs[0].value())), true);
            auto through_permute = [&](const harness::Tensors& in) {
                harness::Tensors args = in;
                args[0] = permute(in[0], rev);
                return spec.fn(args);
            };
            auto direct = xs;
            direct[0] = permute(xs[0], rev).detach();
            CHECK(xt::allclose(through_permute(xs).value(), spec.ref(values(direct)), 1e-12, 1e-12));
            auto r = gradcheck(through_permute, xs, spec.options);
            INFO(r.message);
            CHECK(r.ok);
        }
    }
}

TEST_CASE("harness: wrong shapes raise ShapeError naming the op and every shape") {
    for (const auto& spec : registry()) {
        if (spec.bad.empty()) continue;
        INFO("op: ", spec.name);
        harness::Tensors xs;
        for (const auto& s : spec.bad) xs.push_back(zeros<double>(s, true));
        std::string message;
        try {
            spec.fn(xs);
        } catch (const ShapeError& e) {
            message = e.what();
        }
        INFO("message: ", message);
        REQUIRE(!message.empty());
        const std::string op_prefix = message.substr(0, message.find(':'));
        CHECK(spec.name.find(op_prefix) != std::string::npos);
        for (const auto& s : spec.bad) CHECK(message.find(shape_str(s)) != std::string::npos);
    }
}
