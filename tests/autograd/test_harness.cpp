// Walks the op registry (tests/harness.hpp): every registered op gets the same checks.

#include "harness.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/tape.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <set>

using namespace xgrad;
using harness::registry;

namespace {

std::vector<harness::Array> values(const harness::Tensors& xs) {
    std::vector<harness::Array> out;
    for (const auto& x : xs)
        out.push_back(x.value());
    return out;
}

std::string case_label(const harness::OpSpec& spec, std::size_t c) {
    std::vector<std::string> parts;
    for (const auto& s : spec.shapes[c])
        parts.push_back(shape_str(s));
    return fmt::format("{}({})", spec.name, fmt::join(parts, ", "));
}

// The inputs that require grad: what the checks differentiate with respect to.
harness::Tensors differentiated(const harness::Tensors& xs) {
    harness::Tensors wrt;
    for (const auto& x : xs) {
        if (x.requires_grad()) wrt.push_back(x);
    }
    return wrt;
}

// The names of every op on the graph that ends in `roots` (recorded ops only; leaves have none).
void collect_ops(const harness::Tensors& roots, std::set<std::string>& names) {
    std::vector<Tensor<double>> stack(roots.begin(), roots.end());
    std::set<const void*> seen;
    while (!stack.empty()) {
        const Tensor<double> t = stack.back();
        stack.pop_back();
        if (!t.defined() || !seen.insert(t.node()).second) continue;
        if (!t.is_leaf()) names.insert(t.op_name());
        for (const auto& in : t.inputs())
            stack.push_back(in);
    }
}

// What the harness runs of a spec, as graphs: the op's forward, its VJP recorded with
// create_graph (the ops the first derivative is made of), and the VJP of that graph, also
// recorded (the ops of the second derivative, in x and in the upstream gradient u).
void collect_exercised_ops(const harness::OpSpec& spec, std::set<std::string>& names) {
    for (std::size_t c = 0; c < spec.shapes.size(); ++c) {
        auto xs = harness::sample_inputs(spec, c);
        const Tensor<double> y = spec.fn(xs);
        collect_ops({y}, names);
        harness::Tensors wrt = differentiated(xs);
        if (!spec.differentiable || wrt.empty() || !y.requires_grad()) continue;
        const Tensor<double> u(xt::ones<double>(y.shape()), true);
        const auto g = grad<double>({y}, wrt, true, true, {u});
        collect_ops(g, names);
        // h = Σ_k ⟨g_k, v_k⟩ with v_k requiring grad, so that each VJP of the second backward
        // has an input that requires grad and is recorded.
        Tensor<double> h = scalar(0.0);
        for (const auto& gk : g) {
            h = add(h, sum(mul(gk, Tensor<double>(xt::ones<double>(gk.shape()), true))));
        }
        if (!h.requires_grad()) continue;
        wrt.push_back(u);
        // allow_unused: a linear op's first derivative does not depend on its inputs.
        collect_ops(grad<double>({h}, wrt, GradOptions().create_graph().allow_unused()), names);
    }
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

// No hand-written list: the engine registers every op struct the library can record
// (xgrad::registered_ops), and each one must run in some registered spec's checks, directly or
// as part of another op's first or second derivative.
TEST_CASE("harness: every op the library can record is exercised by a registered spec") {
    std::set<std::string> exercised;
    for (const auto& spec : registry())
        collect_exercised_ops(spec, exercised);
    std::size_t builtin = 0;
    for (const auto& op : registered_ops()) {
        if (!op.builtin()) continue;
        ++builtin;
        INFO("op: ", op.name, " (", op.type, ")");
        CHECK(exercised.count(op.name) == 1);
    }
    CHECK(builtin >= 60);  // the registry is filled: the library records ~70 op structs
}

TEST_CASE("harness: an op's fast VJP and its composed VJP give the same gradient") {
    for (const auto& spec : registry()) {
        if (!spec.differentiable) continue;
        for (std::size_t c = 0; c < spec.shapes.size(); ++c) {
            INFO("case: ", case_label(spec, c));
            auto xs = harness::sample_inputs(spec, c);
            const harness::Tensors wrt = differentiated(xs);
            const Tensor<double> y = spec.fn(xs);
            if (wrt.empty() || !y.requires_grad()) continue;
            std::mt19937_64 rng(c);
            const Tensor<double> u(harness::uniform(0.5, 1.5)(y.shape(), rng));
            const auto fast = grad<double>({y}, wrt, false, true, {u});     // fast_vjp
            const auto composed = grad<double>({y}, wrt, true, true, {u});  // vjp
            for (std::size_t k = 0; k < wrt.size(); ++k) {
                CHECK(xt::allclose(fast[k].value(), composed[k].value(), 1e-12, 1e-14));
            }
        }
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
            for (std::size_t i = 0; i < rev.size(); ++i)
                rev[i] = rev.size() - 1 - i;
            xs[0] = Tensor<double>(xt::xarray<double>(xt::transpose(xs[0].value())), true);
            auto through_permute = [&](const harness::Tensors& in) {
                harness::Tensors args = in;
                args[0] = permute(in[0], rev);
                return spec.fn(args);
            };
            auto direct = xs;
            direct[0] = permute(xs[0], rev).detach();
            CHECK(
                xt::allclose(through_permute(xs).value(), spec.ref(values(direct)), 1e-12, 1e-12));
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
        for (const auto& s : spec.bad)
            xs.push_back(zeros<double>(s, true));
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
        for (const auto& s : spec.bad)
            CHECK(message.find(shape_str(s)) != std::string::npos);
    }
}
