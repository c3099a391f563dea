#include "autograd/graph.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "lecture_graph.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include <string>

using namespace xgrad;
using namespace testing;  // TempDir, read_file

namespace {

bool has(const std::string& page, const std::string& s) {
    return page.find(s) != std::string::npos;
}
}  // namespace

TEST_CASE("to_html: every tensor of the graph with its name, op and value") {
    testing::LectureGraph g;
    const std::string page = to_html(g.J);
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    for (const char* name : {"a", "b", "c", "u", "v", "J", "3"})
        CHECK(has(page, std::string("\"name\":\"") + name + "\""));
    CHECK(has(page, "\"call\":\"mul(b, c)\""));
    CHECK(has(page, "\"call\":\"add(a, u)\""));
    CHECK(has(page, "\"value\":\"11\""));  // v = 5 + 3·2
    CHECK(has(page, "<title>xgrad: the graph of J</title>"));
}

TEST_CASE("to_html: the backward steps carry the tape's gradients, as format_value writes them") {
    testing::LectureGraph g;
    const std::string page = to_html(g.J);
    // to_html ran backward: the leaves hold dJ/da, dJ/db, dJ/dc = 3, 6, 9
    REQUIRE(g.a.grad().defined());
    CHECK(g.a.grad().item() == 3);
    for (const Tensor<double>& x : {g.a, g.b, g.c}) {
        const std::string acc = "\"acc\":\"" + format_value(x.grad().value()) + "\"";
        CHECK_MESSAGE(has(page, acc), acc);
    }
    // the step of u = b·c: it receives dJ/du = 3, passes 3·c = 6 to b and 3·b = 9 to c, whose
    // local derivatives are c = 2 and b = 3
    CHECK(has(page, "\"gin\":\"3\",\"text\":\"#" + std::to_string(g.u.tape_position())));
    CHECK(has(page, "\"contrib\":\"6\",\"local\":\"2\",\"acc\":\"6\""));
    CHECK(has(page, "\"contrib\":\"9\",\"local\":\"3\",\"acc\":\"9\""));
}

TEST_CASE("to_html: a gradient summed over two uses, and one a leaf held before") {
    const auto x = scalar(2.0, true).set_name("x");
    x.set_grad(scalar(100.0));             // left by an earlier backward
    const auto y = (x * x).set_name("y");  // dy/dx = 2x = 4: mul passes x = 2 to each input
    const std::string page = to_html(y);
    CHECK(x.grad().item() == 104);
    CHECK(has(page, "\"contrib\":\"2\",\"local\":\"2\",\"acc\":\"102\""));
    CHECK(has(page, "\"contrib\":\"2\",\"local\":\"2\",\"acc\":\"104\""));
}

TEST_CASE("to_html: large tensors as statistics, modules as scopes") {
    auto w = Tensor<double>(xt::xarray<double>(xt::arange<double>(12.0).reshape({3, 4})), true)
                 .set_name("w");
    Tensor<double> y;
    {
        NameScope s("block");
        y = w * 2.0;
    }
    const std::string page = to_html(sum(y));
    CHECK(has(page, "\"value\":\"{min 0, mean 5.5, max 11}\""));
    CHECK(has(page, "\"value\":\"{min 0, mean 11, max 22}\""));  // y = 2w
    CHECK(has(page, "\"scope\":\"block\""));
    CHECK(has(page, "\"acc\":\"{min 2, mean 2, max 2}\""));  // d sum(2w)/dw = 2 everywhere
}

TEST_CASE("to_html: names are escaped and the page fetches nothing") {
    const auto a = scalar(1.0, true).set_name("<script>alert(1)</script>");
    const auto b = scalar(2.0, true).set_name("b&\"c'");
    const auto y = (a * b).set_name("y<1>");
    const std::string page = to_html(y);
    CHECK_FALSE(has(page, "alert(1)</script>"));
    CHECK_FALSE(has(page, "<script>alert"));
    CHECK(has(page, "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"));
    CHECK(has(page, "b\\u0026\\\"c'"));
    CHECK(has(page, "<title>xgrad: the graph of y&lt;1&gt;</title>"));
    CHECK_FALSE(has(page, "http://"));
    CHECK_FALSE(has(page, "https://"));
    CHECK_FALSE(has(page, "<script src"));
    CHECK_FALSE(has(page, "<link"));
}

TEST_CASE("save_html: writes the page, and an unwritable path is an IoError naming it") {
    TempDir dir;
    const std::string path = dir / "graph.html";
    {
        testing::LectureGraph g;
        save_html(g.J, path);
        const std::string page = read_file(path);
        CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
        CHECK(has(page, "\"call\":\"mul(b, c)\""));
        CHECK(page.size() > 1000);
    }
    testing::LectureGraph g;
    CHECK_THROWS_WITH_AS(save_html(g.J, "/nonexistent-dir/graph.html"),
                         doctest::Contains("save_html: "), IoError);
}
