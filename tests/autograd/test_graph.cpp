#include "autograd/graph.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"

#include "lecture_graph.hpp"

#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include <cmath>
#include <string>

using namespace xgrad;

TEST_CASE("format_tape: one line per op in execution order, with values") {
    testing::LectureGraph g;
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
    testing::LectureGraph g;
    auto steps = trace_backward(g.J);
    REQUIRE(steps.size() == 3);
    CHECK(steps[0].output.same(g.J));
    CHECK(steps[1].output.same(g.v));
    CHECK(steps[2].output.same(g.u));
    CHECK(steps[2].grad_output.item() == 3);  // dJ/du
    CHECK(format_step(steps[2], g.J).find("dJ/db += 6, dJ/dc += 9") != std::string::npos);
}

TEST_CASE("to_dot: tensors with values and gradients, ops as ellipses") {
    testing::LectureGraph g;
    g.J.backward();
    const std::string dot = to_dot(g.J);
    CHECK(dot.rfind("digraph xgrad {", 0) == 0);
    CHECK(dot.find("label=\"a = 5\\ngrad = 3\"") != std::string::npos);
    CHECK(dot.find("shape=ellipse, label=\"#" + std::to_string(g.u.tape_position()) + " mul\"") !=
          std::string::npos);
}

TEST_CASE("save_dot: an unwritable path is an IoError naming it") {
    testing::LectureGraph g;
    CHECK_THROWS_WITH_AS(save_dot(g.J, "/nonexistent-dir/graph.dot"),
                         doctest::Contains("/nonexistent-dir/graph.dot"), IoError);
}

TEST_CASE("NameScope: ops record the dotted path of the scopes around them") {
    const auto x = scalar(2.0, true);
    Tensor<double> outside = x * 2.0, inner, empty, after;
    {
        NameScope enc("encoder");
        {
            NameScope fc("fc1");
            inner = x * 3.0;
            NameScope none("");  // no level of its own
            empty = x * 4.0;
        }
        after = x * 5.0;
    }
    CHECK(outside.node()->scope == nullptr);
    CHECK(std::string(inner.node()->scope) == "encoder.fc1");
    CHECK(std::string(empty.node()->scope) == "encoder.fc1");
    CHECK(std::string(after.node()->scope) == "encoder");
    CHECK(NameScope::current() == nullptr);
    CHECK(inner.node()->scope == empty.node()->scope);  // one string per path
}

TEST_CASE("format_tape: ops grouped under their scope, large values as statistics") {
    const Tensor<double> x(xt::xarray<double>(xt::arange<double>(12.0).reshape({3, 4})), true);
    Tensor<double> y;
    {
        NameScope s("block");
        y = x * 2.0;
    }
    const Tensor<double> z = sum(y);
    const std::string tape = format_tape(z);
    const auto block = tape.find("  in block:\n"),
               outside = tape.find("  (outside every module)\n");
    REQUIRE(block != std::string::npos);
    REQUIRE(outside != std::string::npos);
    CHECK(block < tape.find("mul("));
    CHECK(tape.find("mul(") < outside);
    CHECK(outside < tape.find("sum("));
    // x = 0..11: 12 values are shown by their minimum, mean and maximum
    CHECK(tape.find("[3, 4] = {min 0, mean 5.5, max 11}") != std::string::npos);
    CHECK(format_value(xt::xarray<double>{1, 2, 3}) == "[1, 2, 3]");
    CHECK(format_value(xt::xarray<double>(xt::ones<double>({9}) * NAN)).find("min nan") !=
          std::string::npos);
    // the lecture graph, without scopes, has no headings
    testing::LectureGraph g;
    CHECK(format_tape(g.J).find(" in ") == std::string::npos);
}

TEST_CASE("to_dot: one nested cluster per scope, parameters inside, data outside") {
    const auto data = scalar(1.0).set_name("data");
    const auto w = scalar(0.5, true).set_name("w");
    Tensor<double> y;
    {
        NameScope outer("net");
        NameScope inner("fc");
        y = data * w;
    }
    const std::string dot = to_dot(y);
    const auto net = dot.find("label=\"net\""), fc = dot.find("label=\"net.fc\"");
    REQUIRE(net != std::string::npos);
    REQUIRE(fc != std::string::npos);
    CHECK(net < fc);  // net.fc opens inside net
    const auto w_box = dot.find("label=\"w = 0.5\""), data_box = dot.find("label=\"data = 1\"");
    REQUIRE(w_box != std::string::npos);
    REQUIRE(data_box != std::string::npos);
    CHECK(w_box > fc);      // the parameter sits in its consumer's cluster
    CHECK(data_box < net);  // the data before every cluster
    CHECK(dot.find("  }\n  }\n") != std::string::npos);  // both clusters closed
}
