#pragma once

// The lecture's graph J = 3(a + b·c) with a = 5, b = 3, c = 2 (u = b·c, v = a + u, J = 3v), each
// tensor named as on the blackboard: what the graph-export tests (print_tape, to_dot, to_html)
// draw.

#include "autograd/ops/elementwise.hpp"
#include "autograd/tensor.hpp"

namespace testing {

struct LectureGraph {
    xgrad::Tensor<double> a = xgrad::scalar(5.0, true).set_name("a");
    xgrad::Tensor<double> b = xgrad::scalar(3.0, true).set_name("b");
    xgrad::Tensor<double> c = xgrad::scalar(2.0, true).set_name("c");
    xgrad::Tensor<double> u = (b * c).set_name("u");
    xgrad::Tensor<double> v = (a + u).set_name("v");
    xgrad::Tensor<double> J = (3.0 * v).set_name("J");
};

}  // namespace testing
