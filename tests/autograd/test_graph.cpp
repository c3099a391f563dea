#include "autograd/graph.hpp"

#include "autograd/ops/elementwise.hpp"

#include <doctest/doctest.h>

using namespace xgrad;

namespace {
struct Lecture {  // J = 3(a + b·c)
    Tensor<double> a = scalar(5.0, true).set_name("a");
    Tensor<double> b = scalar(3.0, true).set_name("b");
    Tensor<double> c = scalar(2.0, true).set_name("c");
    Tensor<double> u = (b * c).set_name("u");
    Tensor<double> v = (a + u).set_name("v");
    Tensor<double> J = (3.0 * v).set_name("J");
};
}  // namespace

TEST_CASE("format_tape: one line per op in execution order, with values") {
    Lecture g;
    const std::string tape = format_tape(g.J);
    const auto pu = tape.find("u = mul(b, c)"), pv = tape.find("v = add(a, u)"),
               pj = tape.find("J = mul(3, v)");
    REQUIRE(pu != std::string::npos);
    REQUIRE(pv != std::string::npos);
    REQUIRE(pj != std::string::npos);
    CHECK(pu < pv);
    CHECK(pv < pj);
    CHECK(tape.find("[] = 11") != std::string::npos);  // v's value
    CHECK(tape.find("#" + std::to_string(g.v.tape_position()) + " ") != std::string::npos);
}

TEST_CASE("trace_backward: one step per op, in reverse tape order") {
    Lecture g;
    auto steps = trace_backward(g.J);
    REQUIRE(steps.size() == 3);
    CHECK(steps[0].output.same(g.J));
    CHECK(steps[1].output.same(g.v));
    CHECK(steps[2].output.same(g.u));
    CHECK(steps[2].grad_output.item() == 3);  // dJ/du
    CHECK(format_step(steps[2], g.J).find("dJ/db += 6, dJ/dc += 9") != std::string::npos);
}

TEST_CASE("to_dot: tensors with values and gradients, ops as ellipses") {
    Lecture g;
    g.J.backward();
    const std::string dot = to_dot(g.J);
    CHECK(dot.rfind("digraph xgrad {", 0) == 0);
    CHECK(dot.find("label=\"a = 5\\ngrad = 3\"") != std::string::npos);
    CHECK(dot.find("shape=ellipse, label=\"#" + std::to_string(g.u.tape_position()) + " mul\"") !=
          std::string::npos);
}

TEST_CASE("save_dot: an unwritable path is an IoError naming it") {
    Lecture g;
    CHECK_THROWS_WITH_AS(save_dot(g.J, "/nonexistent-dir/graph.dot"),
                         doctest::Contains("/nonexistent-dir/graph.dot"), IoError);
}
