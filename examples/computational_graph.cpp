// J = 3(a + b·c), the lecture's graph: u = b·c, v = a + u, J = 3v.
// Prints the tape (forward, in execution order), each local step of backward (reverse order),
// writes graph.dot with values and gradients, and ends with the four figures of the lecture.
//
//   ./computational_graph [--dot PATH]        then: dot -Tpng graph.dot -o graph.png

#include <xgrad.hpp>

#include <fmt/format.h>

#include <cstring>
#include <string>

using namespace xgrad;

int main(int argc, char** argv) {
    std::string dot_path = "graph.dot";
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--dot") == 0) dot_path = argv[i + 1];
    }

    auto a = scalar(5.0, true).set_name("a");
    auto b = scalar(3.0, true).set_name("b");
    auto c = scalar(2.0, true).set_name("c");
    auto u = (b * c).set_name("u");    // u = 6
    auto v = (a + u).set_name("v");    // v = 11
    auto J = (3.0 * v).set_name("J");  // J = 33
    u.retain_grad();                   // keep the intermediate gradients for the picture
    v.retain_grad();
    J.retain_grad();

    fmt::print("forward (the tape, in execution order):\n");
    print_tape(J);

    fmt::print("\nbackward (reverse tape order, one VJP per op):\n");
    for (const auto& step : trace_backward(J))
        fmt::print("{}\n", format_step(step, J));

    save_dot(J, dot_path);
    fmt::print("\nwrote {} (render: dot -Tpng {} -o graph.png)\n\n", dot_path, dot_path);

    fmt::print("J: {:g}\ndJ/da: {:g}\ndJ/db: {:g}\ndJ/dc: {:g}\n", J.item(), a.grad().item(),
               b.grad().item(), c.grad().item());
    const bool ok =
        J.item() == 33 && a.grad().item() == 3 && b.grad().item() == 6 && c.grad().item() == 9;
    return ok ? 0 : 1;
}
