// Pages a student steps through in the browser (save_html): the lecture's J = 3(a + b·c) and a
// small MLP with its loss. Each page shows the graph left to right; → runs the tape op by op, then
// backward VJP by VJP, with the incoming gradient, the local derivative and the summed gradients.
// Prints every gradient the tape holds afterwards as `grad <page> <leaf|op> <name>: <value>`
// (format_value's text), which tests/html/check_pages.sh compares with what the browser shows.
//
//   ./graph_page [--out DIR]        then open DIR/lecture.html and DIR/mlp.html

#include <xgrad.hpp>

#include <fmt/format.h>

#include <cstring>
#include <string>

using namespace xgrad;

namespace {

// Keeps the gradient of every tensor of the graph (not only the leaves'), for the printout.
void retain_all(const Tensor<double>& output) {
    for (auto t : tape_of(output))
        if (!t.is_leaf()) t.retain_grad();
}

void print_grads(const std::string& page, const Tensor<double>& output) {
    for (const auto& t : tape_of(output)) {
        if (!t.grad().defined()) continue;
        fmt::print("grad {} {} {}: {}\n", page, t.is_leaf() ? "leaf" : "op", display_name(t),
                   format_value(t.grad().value()));
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string out = ".";
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--out") == 0) out = argv[i + 1];
    }

    // J = 3(a + b·c): u = 6, v = 11, J = 33; dJ/da, dJ/db, dJ/dc = 3, 6, 9
    auto a = scalar(5.0, true).set_name("a");
    auto b = scalar(3.0, true).set_name("b");
    auto c = scalar(2.0, true).set_name("c");
    auto u = (b * c).set_name("u");
    auto v = (a + u).set_name("v");
    auto J = (3.0 * v).set_name("J");
    retain_all(J);
    save_html(J, out + "/lecture.html");
    print_grads("lecture", J);

    // A 3-4-2 MLP on a batch of two, mean squared error against fixed targets.
    manual_seed(14);
    nn::Sequential<double> mlp;
    mlp.add(nn::Linear<double>(3, 4));
    mlp.add(nn::ReLU<double>());
    mlp.add(nn::Linear<double>(4, 2));
    auto x = Tensor<double>(xt::xarray<double>{{0.5, -1.0, 2.0}, {1.5, 0.25, -0.5}}).set_name("x");
    auto y = Tensor<double>(xt::xarray<double>{{1.0, 0.0}, {0.0, 1.0}}).set_name("y");
    const Tensor<double> pred = mlp(x);
    Tensor<double> loss;
    {
        NameScope scope("mse_loss");  // the loss's four ops close into one box, as a module's do
        loss = nn::mse_loss(pred, y).set_name("loss");
    }
    retain_all(loss);
    save_html(loss, out + "/mlp.html");
    print_grads("mlp", loss);

    fmt::print("wrote {0}/lecture.html and {0}/mlp.html\n", out);
    fmt::print("J: {:g}\ndJ/da: {:g}\ndJ/db: {:g}\ndJ/dc: {:g}\nloss: {:g}\n", J.item(),
               a.grad().item(), b.grad().item(), c.grad().item(), loss.item());
    const bool ok = J.item() == 33 && a.grad().item() == 3 && b.grad().item() == 6 &&
                    c.grad().item() == 9 && mlp.parameters()[0].grad().defined();
    return ok ? 0 : 1;
}
