#include "autograd/tape.hpp"

#include "autograd/ops/elementwise.hpp"

#include <doctest/doctest.h>

using namespace xgrad;

TEST_CASE("backward: the lecture graph J = 3(a + b·c)") {
    auto a = scalar(5.0, true), b = scalar(3.0, true), c = scalar(2.0, true);
    auto u = b * c;    // u = 6
    auto v = a + u;    // v = 11
    auto J = 3.0 * v;  // J = 33
    J.backward();
    CHECK(J.item() == 33);
    CHECK(a.grad().item() == 3);  // dJ/da = 3
    CHECK(b.grad().item() == 6);  // dJ/db = 3·c
    CHECK(c.grad().item() == 9);  // dJ/dc = 3·b
}
