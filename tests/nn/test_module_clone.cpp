// Module::clone (deep copies) for every built-in module, nn::clone, and a user's layer.

#include "nn/module.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "nn/activation.hpp"
#include "nn/containers.hpp"
#include "nn/conv.hpp"
#include "nn/dropout.hpp"
#include "nn/embedding.hpp"
#include "nn/flatten.hpp"
#include "nn/linear.hpp"
#include "nn/norm.hpp"
#include "nn/pool.hpp"
#include "nn/rnn.hpp"
#include "nn/sequential.hpp"
#include "optim/sgd.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace xgrad;
using M = std::shared_ptr<nn::Module<double>>;

namespace {
// Every built-in module, with attributes away from their defaults.
std::vector<M> every_module() {
    auto seq = std::make_shared<nn::Sequential<double>>();
    seq->add(nn::Linear<double>(3, 2));
    seq->add(nn::Dropout<double>(0.25));
    auto list = std::make_shared<nn::ModuleList<double>>();
    list->append(nn::Linear<double>(2, 2, false));
    list->append(seq);
    auto dict = std::make_shared<nn::ModuleDict<double>>();
    dict->insert("conv", nn::Conv2d<double>(1, 2, 3));
    dict->insert("list", list);
    const auto rnn = nn::RNNOptions(3, 4).num_layers(2).bidirectional(true).dropout(0.1);
    return {std::make_shared<nn::Sigmoid<double>>(),
            std::make_shared<nn::Tanh<double>>(),
            std::make_shared<nn::ReLU<double>>(),
            std::make_shared<nn::LeakyReLU<double>>(0.2),
            std::make_shared<nn::ELU<double>>(0.5),
            std::make_shared<nn::GELU<double>>("tanh"),
            std::make_shared<nn::SiLU<double>>(),
            std::make_shared<nn::SELU<double>>(),
            std::make_shared<nn::PReLU<double>>(3),
            std::make_shared<nn::Softmax<double>>(0),
            std::make_shared<nn::LogSoftmax<double>>(1),
            std::make_shared<nn::Conv2d<double>>(nn::Conv2dOptions(2, 4, 3).padding(1).groups(2)),
            std::make_shared<nn::ConvTranspose2d<double>>(
                nn::ConvTranspose2dOptions(2, 3, 2).stride(2).bias(false)),
            std::make_shared<nn::Dropout<double>>(0.3),
            std::make_shared<nn::Dropout2d<double>>(0.2),
            std::make_shared<nn::Embedding<double>>(nn::EmbeddingOptions(5, 3).padding_idx(1)),
            std::make_shared<nn::Flatten<double>>(0, 1),
            std::make_shared<nn::Linear<double>>(3, 2),
            std::make_shared<nn::BatchNorm1d<double>>(nn::BatchNormOptions(4).momentum(0.2)),
            std::make_shared<nn::BatchNorm2d<double>>(nn::BatchNormOptions(3).affine(false)),
            std::make_shared<nn::LayerNorm<double>>(nn::LayerNormOptions(Shape{2, 3}).eps(1e-3)),
            std::make_shared<nn::MaxPool2d<double>>(PoolOptions(2).stride(1)),
            std::make_shared<nn::AvgPool2d<double>>(PoolOptions(3).stride(2).padding(1)),
            std::make_shared<nn::AdaptiveAvgPool2d<double>>(Size2{2, 1}),
            std::make_shared<nn::GlobalAvgPool2d<double>>(),
            std::make_shared<nn::RNNCell<double>>(
                nn::RNNCellOptions(3, 4).nonlinearity(nn::Nonlinearity::relu)),
            std::make_shared<nn::LSTMCell<double>>(nn::RNNCellOptions(3, 4).bias(false)),
            std::make_shared<nn::GRUCell<double>>(nn::RNNCellOptions(3, 4)),
            std::make_shared<nn::RNN<double>>(rnn),
            std::make_shared<nn::LSTM<double>>(rnn),
            std::make_shared<nn::GRU<double>>(nn::RNNOptions(3, 4).batch_first(true)),
            seq,
            list,
            dict};
}

// Makes every value distinct from a fresh module's, the first parameter frozen, the last
// child in evaluation mode: a clone that rebuilt instead of copying would differ.
void perturb(nn::Module<double>& m) {
    for (auto& [name, t] : m.named_parameters())
        t.mutable_value() = randn<double>(t.shape()).value();
    for (auto& [name, t] : m.named_buffers())
        t.mutable_value() = rand<double>(t.shape(), 1.0, 2.0).value();
    if (!m.parameters().empty()) m.parameters()[0].requires_grad_(false);
    if (!m.children().empty()) m.children().back().second->eval();
}
}  // namespace

TEST_CASE("Module: clone of every built-in module copies values, flags and modes, not storage") {
    manual_seed(7);
    for (const auto& m : every_module()) {
        INFO(m->type_name());
        perturb(*m);
        const M c = m->clone();
        REQUIRE(c);
        CHECK(c->type_name() == m->type_name());
        CHECK(c->extra_repr() == m->extra_repr());  // the attributes: slope, stride, ...
        CHECK(c->state_dict() == m->state_dict());  // parameters and buffers
        const auto mine = m->named_parameters(), theirs = c->named_parameters();
        REQUIRE(mine.size() == theirs.size());
        for (std::size_t i = 0; i < mine.size(); ++i) {
            CHECK(theirs[i].first == mine[i].first);
            CHECK(theirs[i].second.requires_grad() == mine[i].second.requires_grad());
            CHECK(theirs[i].second.node() != mine[i].second.node());  // a tensor of its own
        }
        const auto modes = m->named_modules(), cloned = c->named_modules();
        REQUIRE(modes.size() == cloned.size());
        for (std::size_t i = 0; i < modes.size(); ++i) {
            CHECK(cloned[i].first == modes[i].first);
            CHECK(cloned[i].second->is_training() == modes[i].second->is_training());
            CHECK(cloned[i].second != modes[i].second);
        }
        const auto before = m->state_dict();
        for (auto& [name, t] : c->named_buffers())
            t.mutable_value() += 1.0;
        for (auto& p : c->parameters())
            p.mutable_value() += 1.0;
        CHECK(m->state_dict() == before);  // changing the clone leaves the original
    }
}

TEST_CASE("Module: a clone trains on its own and computes what the original computes") {
    manual_seed(3);
    nn::Sequential<double> model;
    model.add(nn::Linear<double>(4, 3));
    model.add(nn::Tanh<double>());
    model.add(nn::Linear<double>(3, 1));
    const auto copy = nn::clone(model);  // std::shared_ptr<nn::Sequential<double>>
    const auto x = randn<double>({5, 4});
    CHECK(copy->forward(x).value() == model(x).value());
    const auto before = model.state_dict();
    optim::SGD<double> sgd(copy->parameters(), optim::SGDOptions(0.5));
    sum((*copy)(x)).backward();
    for (const auto& p : model.parameters())
        CHECK_FALSE(p.grad().defined());  // no graph is shared
    sgd.step();
    CHECK(model.state_dict() == before);
    CHECK_FALSE(copy->state_dict() == before);
}

TEST_CASE("Module: clone neither draws from the generator nor copies hooks") {
    manual_seed(11);
    const auto expected = randn<double>({3}).value();
    manual_seed(11);
    nn::LSTM<double> lstm(nn::RNNOptions(2, 3));
    manual_seed(11);
    const auto copy = nn::clone(lstm);  // builds an LSTM, whose constructor draws its weights
    CHECK(randn<double>({3}).value() == expected);
    int calls = 0;
    nn::Linear<double> fc(2, 2);
    auto handle =
        fc.register_forward_hook([&](nn::Module<double>&, const std::vector<Tensor<double>>&,
                                     std::vector<Tensor<double>>&) { ++calls; });
    const auto fc2 = nn::clone(fc);
    (*fc2)(ones<double>({1, 2}));
    CHECK(calls == 0);
    fc(ones<double>({1, 2}));
    CHECK(calls == 1);
}

namespace {
struct Scale : nn::Module<double> {
    Tensor<double> w_;
    explicit Scale(std::size_t n) : w_(register_parameter("w", ones<double>({n}))) {}
    Tensor<double> forward(const Tensor<double>& x) override { return x * w_; }
    std::string type_name() const override { return "Scale"; }
};

// A user's layer with a child and a one-line clone.
struct Twice : nn::Module<double> {
    std::size_t n_;
    std::shared_ptr<nn::Linear<double>> fc_;
    explicit Twice(std::size_t n)
        : n_(n), fc_(register_module("fc", std::make_shared<nn::Linear<double>>(n, n))) {}
    Tensor<double> forward(const Tensor<double>& x) override { return (*fc_)((*fc_)(x)); }
    std::string type_name() const override { return "Twice"; }
    std::shared_ptr<nn::Module<double>> clone() const override { return clone_as<Twice>(n_); }
};

// Derives from Linear and forgets to override clone.
struct NamedLinear : nn::Linear<double> {
    NamedLinear() : nn::Linear<double>(2, 2) {}
    std::string type_name() const override { return "NamedLinear"; }
};
}  // namespace

TEST_CASE("Module: a user's layer clones with clone_as, or says it must override clone") {
    manual_seed(2);
    Twice twice(3);
    twice.fc_->weight().mutable_value() *= 2.0;
    const std::shared_ptr<Twice> copy = nn::clone(twice);
    CHECK(copy->state_dict() == twice.state_dict());
    CHECK(copy->fc_->weight().node() != twice.fc_->weight().node());
    CHECK(copy->fc_ == copy->children()[0].second);  // the member is the registered child
    Scale scale(2);
    CHECK_THROWS_WITH_AS(scale.clone(),
                         doctest::Contains("clone: Scale does not implement clone(); override"),
                         Error);
    nn::Sequential<double> seq;
    seq.add(Scale(2));
    CHECK_THROWS_WITH_AS(seq.clone(), doctest::Contains("Scale does not implement clone()"), Error);
    NamedLinear named;
    CHECK_THROWS_WITH_AS(nn::clone(named),
                         doctest::Contains("NamedLinear::clone() returned a Linear"), Error);
    CHECK_THROWS_AS(nn::clone(std::shared_ptr<Scale>()), ValueError);
}
