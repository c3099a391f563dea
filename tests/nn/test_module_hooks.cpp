// Module hooks (Note [module hooks] in nn/module.cpp): forward pre-hooks, forward hooks, and the
// full backward (pre-)hooks, with removable handles.

#include "nn/module.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "autograd/tape.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"
#include "nn/rnn.hpp"
#include "nn/sequential.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace xgrad;
using Tensors = std::vector<Tensor<double>>;

TEST_CASE("module hooks: forward pre-hooks and forward hooks see and replace, in order") {
    manual_seed(0);
    nn::Linear<double> fc(3, 2);
    const auto x = randn<double>({4, 3});
    const Tensor<double> plain = fc(x * 2.0);
    std::vector<std::string> order;
    auto pre = fc.register_forward_pre_hook([&](nn::Module<double>& m, Tensors& in) {
        CHECK(&m == &fc);
        order.push_back("pre");
        in[0] = in[0] * 2.0;
    });
    auto post = fc.register_forward_hook([&](nn::Module<double>&, const Tensors& in, Tensors& out) {
        order.push_back("forward");
        CHECK(in[0].value() == (x * 2.0).value());  // the inputs forward got
        out[0] = out[0] + 1.0;
    });
    const Tensor<double> y = fc(x);
    CHECK(order == std::vector<std::string>{"pre", "forward"});
    CHECK(xt::allclose(y.value(), plain.value() + 1.0));
    pre.remove();
    post.remove();
    CHECK(xt::allclose(fc(x).value(), fc.forward(x).value()));
    order.clear();
    fc(x);
    CHECK(order.empty());
}

TEST_CASE("module hooks: forward hooks on a Sequential's children record every activation") {
    manual_seed(1);
    nn::Sequential<double> model;
    model.add(std::make_shared<nn::Linear<double>>(3, 5));
    model.add(std::make_shared<nn::ReLU<double>>());
    model.add(std::make_shared<nn::Linear<double>>(5, 2));
    std::vector<Shape> shapes;
    std::vector<HookHandle> handles;
    for (const auto& [name, child] : model.children()) {
        handles.push_back(
            child->register_forward_hook([&](nn::Module<double>&, const Tensors&, Tensors& out) {
                shapes.push_back(out[0].shape());
            }));
    }
    model(randn<double>({4, 3}));
    CHECK(shapes == std::vector<Shape>{{4, 5}, {4, 5}, {4, 2}});
}

TEST_CASE("module hooks: full backward hooks see dL/dy and dL/dx and may replace them") {
    manual_seed(2);
    nn::Linear<double> fc(3, 2);
    const auto x = randn<double>({4, 3}, 0.0, 1.0, true);
    const auto G = randn<double>({4, 2});
    // Reference gradients without hooks.
    sum(fc(x) * G).backward();
    const xt::xarray<double> dx = x.grad().value(), dw = fc.parameters()[0].grad().value();
    x.zero_grad();
    fc.zero_grad();

    std::vector<std::string> order;
    Tensors seen_out, seen_in, seen_out_in_full;
    fc.register_full_backward_pre_hook([&](nn::Module<double>&, Tensors& gout) {
        order.push_back("pre");
        seen_out = gout;
    });
    fc.register_full_backward_hook([&](nn::Module<double>&, Tensors& gin, const Tensors& gout) {
        order.push_back("full");
        seen_in = gin;
        seen_out_in_full = gout;
        gin[0] = gin[0] * 0.0;  // x receives nothing
    });
    sum(fc(x) * G).backward();
    CHECK(order == std::vector<std::string>{"pre", "full"});
    REQUIRE(seen_out.size() == 1);
    CHECK(seen_out[0].value() == G.value());
    CHECK(seen_out_in_full[0].value() == G.value());
    REQUIRE(seen_in.size() == 1);
    CHECK(xt::allclose(seen_in[0].value(), dx));
    CHECK(x.grad().value() == xt::zeros<double>({4, 3}));
    CHECK(xt::allclose(fc.parameters()[0].grad().value(), dw));  // the weights are untouched
}

TEST_CASE("module hooks: a backward pre-hook that scales dL/dy scales every gradient inside") {
    manual_seed(3);
    nn::Linear<double> fc(3, 2);
    const auto x = randn<double>({4, 3});
    sum(fc(x)).backward();
    const xt::xarray<double> dw = fc.parameters()[0].grad().value();
    fc.zero_grad();
    auto h = fc.register_full_backward_pre_hook(
        [](nn::Module<double>&, Tensors& gout) { gout[0] = gout[0] * 3.0; });
    sum(fc(x)).backward();
    CHECK(xt::allclose(fc.parameters()[0].grad().value(), 3.0 * dw));
    h.remove();
    fc.zero_grad();
    sum(fc(x)).backward();
    CHECK(xt::allclose(fc.parameters()[0].grad().value(), dw));
}

TEST_CASE("module hooks: the full hook runs when no input requires grad, with none for it") {
    manual_seed(4);
    nn::Linear<double> fc(3, 2);
    int calls = 0;
    fc.register_full_backward_hook([&](nn::Module<double>&, Tensors& gin, const Tensors& gout) {
        ++calls;
        REQUIRE(gin.size() == 1);
        CHECK(!gin[0].defined());
        CHECK(gout.size() == 1);
    });
    sum(fc(randn<double>({4, 3}))).backward();
    CHECK(calls == 1);
}

TEST_CASE("module hooks: an LSTM's hooks get all three outputs, zeros for those unused") {
    manual_seed(5);
    nn::LSTM<double> lstm(nn::RNNOptions(2, 3));
    const auto x = randn<double>({4, 1, 2}, 0.0, 1.0, true);
    int calls = 0;
    lstm.register_full_backward_pre_hook([&](nn::Module<double>&, Tensors& gout) {
        ++calls;
        REQUIRE(gout.size() == 3);  // output, h_n, c_n
        CHECK(gout[0].shape() == Shape{4, 1, 3});
        CHECK(xt::all(xt::equal(gout[1].value(), 0.0)));
        CHECK(xt::all(xt::equal(gout[2].value(), 0.0)));
    });
    Tensors grad_in;
    lstm.register_full_backward_hook(
        [&](nn::Module<double>&, Tensors& gin, const Tensors&) { grad_in = gin; });
    const Tensors ys = lstm({x});
    sum(ys[0]).backward();
    CHECK(calls == 1);
    REQUIRE(grad_in.size() == 1);
    CHECK(xt::allclose(grad_in[0].value(), x.grad().value()));
}

TEST_CASE("module hooks: the wrapping ops show on the tape, and without hooks there are none") {
    manual_seed(6);
    nn::Linear<double> fc(3, 2);
    const auto x = randn<double>({1, 3}, 0.0, 1.0, true);
    CHECK(std::string(fc(x).inputs()[0].op_name()) != "backward_hook");
    auto h = fc.register_full_backward_hook([](nn::Module<double>&, Tensors&, const Tensors&) {});
    const auto y = fc(x);
    CHECK(std::string(y.op_name()) == "backward_hook");
    h.remove();
    CHECK(std::string(fc(x).op_name()) != "backward_hook");
    {
        NoGradGuard off;  // and none under NoGradGuard
        fc.register_full_backward_hook([](nn::Module<double>&, Tensors&, const Tensors&) {});
        CHECK(fc(x).is_leaf());
    }
}

TEST_CASE("module hooks: errors name the registration and the module") {
    nn::Linear<double> fc(3, 2);
    CHECK_THROWS_WITH_AS(fc.register_forward_hook(nullptr),
                         doctest::Contains("register_forward_hook: the hook is empty"), ValueError);
    fc.register_forward_pre_hook([](nn::Module<double>&, Tensors& in) { in.push_back(in[0]); });
    CHECK_THROWS_WITH_AS(fc(zeros<double>({1, 3})),
                         doctest::Contains("linear: a forward pre-hook left 2 inputs for "
                                           "forward(x)"),
                         ValueError);
}
