// The module tree: named_modules, apply, requires_grad_ (freezing), load_state_dict's result and
// the nested summary.

#include "nn/module.hpp"

#include "autograd/errors.hpp"
#include "autograd/graph.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "nn/activation.hpp"
#include "nn/containers.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"
#include "optim/sgd.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace xgrad;

namespace {
// A Sequential encoder inside a custom module with a ModuleList of heads:
// encoder.0 (Linear 4→3), encoder.1 (ReLU), heads.0 (Linear 3→2), heads.1 (Linear 3→1).
struct Net : nn::Module<double> {
    std::shared_ptr<nn::Sequential<double>> encoder =
        register_module("encoder", std::make_shared<nn::Sequential<double>>());
    std::shared_ptr<nn::ModuleList<double>> heads =
        register_module("heads", std::make_shared<nn::ModuleList<double>>());
    Net() {
        encoder->add(nn::Linear<double>(4, 3));
        encoder->add(nn::ReLU<double>());
        heads->append(nn::Linear<double>(3, 2));
        heads->append(nn::Linear<double>(3, 1));
    }
    Tensor<double> forward(const Tensor<double>& x) override {
        const Tensor<double> h = (*encoder)(x);
        const Tensor<double> a = sum((*(*heads)[0])(h));  // heads.0 first: the summary's order
        return a + sum((*(*heads)[1])(h));
    }
    std::string type_name() const override { return "Net"; }
};

std::vector<std::string> names_of(
    const std::vector<std::pair<std::string, nn::Module<double>*>>& v) {
    std::vector<std::string> out;
    for (const auto& [name, m] : v)
        out.push_back(name + ":" + m->type_name());
    return out;
}
}  // namespace

TEST_CASE("Module: named_modules lists self first, then depth first with dotted names") {
    Net net;
    CHECK(names_of(net.named_modules()) ==
          std::vector<std::string>{":Net", "encoder:Sequential", "encoder.0:Linear",
                                   "encoder.1:ReLU", "heads:ModuleList", "heads.0:Linear",
                                   "heads.1:Linear"});
    CHECK(net.modules().size() == 7);
    CHECK(net.modules()[0] == &net);
    CHECK(net.named_children().size() == 2);
    // A module registered twice is listed once, at its first place (PyTorch's remove_duplicate).
    nn::Sequential<double> twice;
    const auto relu = twice.add(nn::ReLU<double>());
    twice.add(relu);
    CHECK(names_of(twice.named_modules()) == std::vector<std::string>{":Sequential", "0:ReLU"});
}

TEST_CASE("Module: apply visits the children first, then the module itself") {
    Net net;
    std::vector<std::string> order;
    CHECK(&net.apply([&](nn::Module<double>& m) { order.push_back(m.type_name()); }) == &net);
    CHECK(order == std::vector<std::string>{"Linear", "ReLU", "Sequential", "Linear", "Linear",
                                            "ModuleList", "Net"});
    CHECK_THROWS_WITH_AS(net.apply({}), "apply: the function is empty", ValueError);
}

TEST_CASE("Module: apply with dynamic_cast initialises every Linear") {
    Net net;
    net.apply([](nn::Module<double>& m) {
        if (auto* fc = dynamic_cast<nn::Linear<double>*>(&m)) {
            nn::init::constant_(fc->weight(), 0.5);
            nn::init::zeros_(fc->bias());
        }
    });
    for (const auto& [name, p] : net.named_parameters()) {
        INFO(name);
        const double expected = name.find("weight") != std::string::npos ? 0.5 : 0.0;
        CHECK(xt::all(xt::equal(p.value(), expected)));
    }
    CHECK(net.named_parameters().size() == 6);  // three Linear layers, weight and bias each
}

TEST_CASE("Module: requires_grad_(false) freezes a sub-module, SGD leaves it unchanged") {
    manual_seed(1);
    Net net;
    CHECK(&net.encoder->requires_grad_(false) == net.encoder.get());
    for (const auto& [name, p] : net.named_parameters())
        CHECK(p.requires_grad() == (name.rfind("heads", 0) == 0));
    const auto encoder_before = net.encoder->state_dict();
    const auto heads_before = net.heads->state_dict();
    optim::SGD<double> sgd(net.parameters(), optim::SGDOptions(0.1));
    net(randn<double>({5, 4})).backward();
    for (const auto& p : net.encoder->parameters())
        CHECK_FALSE(p.grad().defined());  // no gradient reaches a frozen parameter
    for (const auto& p : net.heads->parameters())
        CHECK(p.grad().defined());
    sgd.step();
    for (const auto& [name, value] : net.encoder->state_dict())
        CHECK(value == encoder_before.at(name));
    const auto w = net.heads->state_dict().at("0.weight");
    CHECK_FALSE(w == heads_before.at("0.weight"));
    net.requires_grad_();  // unfreezes everything
    for (const auto& p : net.parameters())
        CHECK(p.requires_grad());
}

TEST_CASE("Module: load_state_dict(strict=false) returns the missing and unexpected keys") {
    Net a, b;
    auto state = a.state_dict();
    state.erase("heads.1.bias");
    state.erase("encoder.0.weight");
    state["heads.2.weight"] = xt::zeros<double>({1, 3});
    state["extra"] = xt::zeros<double>({1});
    const nn::IncompatibleKeys r = b.load_state_dict(state, false);
    CHECK(r.missing_keys == std::vector<std::string>{"encoder.0.weight", "heads.1.bias"});
    CHECK(r.unexpected_keys == std::vector<std::string>{"extra", "heads.2.weight"});
    CHECK(b.state_dict().at("heads.0.weight") == a.state_dict().at("heads.0.weight"));
    // strict: the same mismatch is still an error, and a full state returns empty lists
    CHECK_THROWS_WITH_AS(b.load_state_dict(state),
                         doctest::Contains("missing entry 'heads.1.bias'"), ValueError);
    const nn::IncompatibleKeys full = b.load_state_dict(a.state_dict());
    CHECK(full.missing_keys.empty());
    CHECK(full.unexpected_keys.empty());
    state["heads.0.bias"] = xt::zeros<double>({5});  // a wrong shape is an error either way
    CHECK_THROWS_AS(b.load_state_dict(state, false), ShapeError);
}

TEST_CASE("Module: load returns load_state_dict's keys") {
    nn::Linear<double> small(2, 1, false), big(2, 1);
    const std::string path = "xgrad_test_module_tree_load.npz";
    small.save(path);
    const nn::IncompatibleKeys r = big.load(path, false);
    CHECK(r.missing_keys == std::vector<std::string>{"bias"});
    CHECK(r.unexpected_keys.empty());
    CHECK(big.weight().value() == small.weight().value());
    CHECK_THROWS_WITH_AS(big.load(path), doctest::Contains("missing entry 'bias'"), ValueError);
    std::remove(path.c_str());
}

TEST_CASE("summary: a nested model shows dotted names indented under their parents") {
    Net net;
    net.heads->requires_grad_(false);
    // encoder: 4·3 + 3 = 15; heads: 3·2 + 2 = 8 and 3·1 + 1 = 4 (frozen, non-trainable); the
    // ModuleList is never called itself, so it has no row; the Sequential has no own params.
    const std::string expected =
        "Model: Net\n"
        "________________________________________________________________________\n"
        "Layer (type)                      Output Shape                   Param #\n"
        "========================================================================\n"
        "encoder (Sequential)              [None, 3]                           --\n"
        "  encoder.0 (Linear)              [None, 3]                           15\n"
        "  encoder.1 (ReLU)                [None, 3]                            0\n"
        "heads.0 (Linear)                  [None, 2]                            8\n"
        "heads.1 (Linear)                  [None, 1]                            4\n"
        "========================================================================\n"
        "Total params: 27\n"
        "Trainable params: 15\n"
        "Non-trainable params: 12\n"
        "________________________________________________________________________\n";
    CHECK(nn::summary(net, {4}) == expected);
}

TEST_CASE("summary: the name column widens for a long dotted name") {
    nn::Sequential<double> outer;
    auto inner = outer.add(nn::Sequential<double>());
    auto deeper = inner->add(nn::Sequential<double>());
    deeper->add(nn::Linear<double>(2, 2));
    const std::string table = nn::summary(outer, {2});
    INFO(table);
    CHECK(table.find("\n    0.0.0 (Linear)") != std::string::npos);  // depth 3: two indents
    struct Owner : nn::Module<double> {                              // a dict key makes a long name
        std::string key = std::string(40, 'k');
        std::shared_ptr<nn::ModuleDict<double>> d =
            register_module("d", std::make_shared<nn::ModuleDict<double>>());
        Owner() { d->insert(key, nn::Linear<double>(2, 2)); }
        Tensor<double> forward(const Tensor<double>& x) override { return (*(*d)[key])(x); }
        std::string type_name() const override { return "Owner"; }
    } owner;
    const std::string wide = nn::summary(owner, {2});
    INFO(wide);
    // the label "d.kkk… (Linear)" (2 + 40 + 9 = 51 characters) and two spaces before the shape
    CHECK(wide.find("\nd." + owner.key + " (Linear)  [None, 2]") != std::string::npos);
}

TEST_CASE("summary: a module called but not registered is shown as unregistered") {
    struct Loose : nn::Module<double> {
        std::shared_ptr<nn::Linear<double>> fc =
            register_module("fc", std::make_shared<nn::Linear<double>>(2, 3));
        nn::Tanh<double> tanh;  // a member, not registered: parameters() cannot see it either
        Tensor<double> forward(const Tensor<double>& x) override { return tanh((*fc)(x)); }
        std::string type_name() const override { return "Loose"; }
    } model;
    const std::string table = nn::summary(model, {2});
    INFO(table);
    CHECK(table.find("\nfc (Linear)") != std::string::npos);
    CHECK(table.find("\n(unregistered) (Tanh)") != std::string::npos);
    CHECK(table.find("Total params: 9\n") != std::string::npos);  // 2·3 + 3
}

TEST_CASE("Module: ops are recorded under the module's place in the tree (Note [module scopes])") {
    Net net;
    const Tensor<double> x = randn<double>({2, 4});
    // Every op's scope, in tape order.
    const auto scopes = [](const Tensor<double>& y) {
        std::vector<std::string> out;
        for (const auto& t : tape_of(y))
            if (!t.is_leaf()) out.push_back(t.node()->scope ? t.node()->scope : "-");
        return out;
    };
    const Tensor<double> y = net(x);
    // encoder.0's linear, encoder.1's relu, heads.0's linear and its sum in Net's forward (no
    // scope: the model itself is the outermost module), heads.1 likewise, then the add.
    CHECK(scopes(y) ==
          std::vector<std::string>{"encoder.0", "encoder.1", "heads.0", "-", "heads.1", "-", "-"});
    {
        NameScope run("run");  // a scope around the model comes first
        CHECK(scopes(net(x))[0] == "run.encoder.0");
    }
    // A sub-module called on its own is named from itself, until the model is called again.
    CHECK(scopes((*net.encoder)(x)) == std::vector<std::string>{"0", "1"});
    CHECK(scopes(net(x))[0] == "encoder.0");
    // Parameters are named as state_dict() names them; a name the program chose is kept.
    CHECK(net.heads->at<nn::Linear<double>>(1)->weight().name() == "heads.1.weight");
    Tensor<double> bias = net.encoder->at<nn::Linear<double>>(0)->bias();
    bias.set_name("b0");
    net(x);
    CHECK(bias.name() == "b0");
    const std::string tape = format_tape(y);
    CHECK(tape.find("encoder.0.weight") != std::string::npos);
    CHECK(tape.find("  in encoder.0:\n") < tape.find("  in encoder.1:\n"));
    CHECK(tape.find("  in heads.1:\n") != std::string::npos);
}
