// ModuleList and ModuleDict (nn/containers.hpp), and Sequential's indexing.

#include "nn/containers.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace xgrad;

namespace {
std::vector<std::string> parameter_names(const nn::Module<double>& m) {
    std::vector<std::string> out;
    for (const auto& [name, p] : m.named_parameters())
        out.push_back(name);
    return out;
}
}  // namespace

TEST_CASE("ModuleList: append, index, iterate, and parameters named by position") {
    nn::ModuleList<double> list;
    CHECK(list.empty());
    const auto fc = list.append(nn::Linear<double>(3, 2));
    list.push_back(std::make_shared<nn::ReLU<double>>());
    list.append(nn::Linear<double>(2, 1, false));
    REQUIRE(list.size() == 3);
    CHECK(list[0] == fc);
    CHECK(list[1]->type_name() == "ReLU");
    CHECK(list.at<nn::Linear<double>>(2)->weight().shape() == Shape{1, 2});
    std::vector<std::string> types;
    for (const auto& m : list)
        types.push_back(m->type_name());
    CHECK(types == std::vector<std::string>{"Linear", "ReLU", "Linear"});
    CHECK(parameter_names(list) == std::vector<std::string>{"0.weight", "0.bias", "2.weight"});
    CHECK(nn::count_parameters(list) == 3 * 2 + 2 + 2);  // 0: 3·2 + 2; 2: 2·1, no bias
    // The list's own modules drive the owner's forward: x → fc0 → relu → fc2.
    Tensor<double> x = ones<double>({4, 3});
    for (const auto& m : list)
        x = (*m)(x);
    CHECK(x.shape() == Shape{4, 1});
}

TEST_CASE("ModuleList: built from a vector, in order") {
    nn::ModuleList<double> list(
        {std::make_shared<nn::Tanh<double>>(), std::make_shared<nn::Sigmoid<double>>()});
    REQUIRE(list.size() == 2);
    CHECK(list[0]->type_name() == "Tanh");
    CHECK(list[1]->type_name() == "Sigmoid");
    CHECK(list.children()[1].first == "1");
}

TEST_CASE("ModuleList: errors name the index, the size and the type") {
    nn::ModuleList<double> list;
    list.append(nn::ReLU<double>());
    CHECK_THROWS_WITH_AS(list[3], "module_list: index 3 is out of range for a ModuleList of size 1",
                         ValueError);
    CHECK_THROWS_WITH_AS(list.at<nn::Linear<double>>(0),
                         doctest::Contains("module_list: at(0): module 0 is a ReLU"), ValueError);
    CHECK_THROWS_WITH_AS(list.append(std::shared_ptr<nn::ReLU<double>>()),
                         "module_list: append: the module pointer is null", ValueError);
    CHECK_THROWS_WITH_AS(list(ones<double>({1, 2})),
                         doctest::Contains("module_list: ModuleList has no forward"), Error);
    CHECK_THROWS_WITH_AS(list({ones<double>({1, 2})}),
                         doctest::Contains("module_list: ModuleList has no forward"), Error);
}

TEST_CASE("ModuleDict: insert by name, look up, keys in insertion order") {
    nn::ModuleDict<double> heads;
    const auto cls = heads.insert("class", nn::Linear<double>(4, 3));
    heads.insert("box", std::make_shared<nn::Linear<double>>(4, 2));
    heads.insert("act", nn::ReLU<double>());
    CHECK(heads.size() == 3);
    CHECK(heads.keys() == std::vector<std::string>{"class", "box", "act"});  // not sorted
    CHECK(heads.contains("box"));
    CHECK_FALSE(heads.contains("boxes"));
    CHECK(heads["class"] == cls);
    CHECK(heads.at<nn::Linear<double>>("box")->weight().shape() == Shape{2, 4});
    CHECK(parameter_names(heads) ==
          std::vector<std::string>{"class.weight", "class.bias", "box.weight", "box.bias"});
    std::vector<std::string> seen;
    for (const auto& [name, m] : heads)
        seen.push_back(name + ":" + m->type_name());
    CHECK(seen == std::vector<std::string>{"class:Linear", "box:Linear", "act:ReLU"});
    CHECK((*heads["box"])(ones<double>({5, 4})).shape() == Shape{5, 2});
}

TEST_CASE("ModuleDict: a missing key names it and the keys present, bad inserts are refused") {
    nn::ModuleDict<double> heads(
        {{"a", std::make_shared<nn::ReLU<double>>()}, {"b", std::make_shared<nn::Tanh<double>>()}});
    CHECK_THROWS_WITH_AS(heads["c"], "module_dict: no module named 'c'; the keys are [a, b]",
                         ValueError);
    CHECK_THROWS_WITH_AS(heads.at<nn::Linear<double>>("a"),
                         doctest::Contains("module_dict: at('a'): module 'a' is a ReLU"),
                         ValueError);
    CHECK_THROWS_WITH_AS(heads.insert("a", nn::Tanh<double>()),
                         "module_dict: insert('a'): the key is already present", ValueError);
    CHECK_THROWS_WITH_AS(heads.insert("x.y", nn::Tanh<double>()),
                         doctest::Contains("a key must be non-empty and hold no '.'"), ValueError);
    CHECK_THROWS_AS(heads.insert("", nn::Tanh<double>()), ValueError);
    CHECK_THROWS_WITH_AS(heads.insert("n", std::shared_ptr<nn::Tanh<double>>()),
                         "module_dict: insert('n'): the module pointer is null", ValueError);
    CHECK(heads.keys() == std::vector<std::string>{"a", "b"});  // nothing was added
    CHECK_THROWS_WITH_AS(heads(ones<double>({1})),
                         doctest::Contains("module_dict: ModuleDict has no forward"), Error);
}

TEST_CASE("Sequential: seq[i] and at<M>(i) reach the layers, with clear errors") {
    nn::Sequential<double> seq;
    const auto fc = seq.add(nn::Linear<double>(3, 2));
    seq.add(nn::ReLU<double>());
    CHECK(seq[0] == fc);
    CHECK(seq[1]->type_name() == "ReLU");
    CHECK(seq.at<nn::Linear<double>>(0)->weight().shape() == Shape{2, 3});
    CHECK_THROWS_WITH_AS(seq[2], "sequential: index 2 is out of range for a Sequential of size 2",
                         ValueError);
    CHECK_THROWS_WITH_AS(seq.at<nn::Linear<double>>(1),
                         doctest::Contains("sequential: at(1): layer 1 is a ReLU"), ValueError);
    CHECK_THROWS_WITH_AS(seq.add(std::shared_ptr<nn::ReLU<double>>()),
                         "sequential: add: the module pointer is null", ValueError);
}

namespace {
// The model of docs/custom-layers.md ("Containers"), as printed there.
struct DocsNet : nn::Module<> {
    std::shared_ptr<nn::Sequential<>> encoder =
        register_module("encoder", std::make_shared<nn::Sequential<>>());
    std::shared_ptr<nn::ModuleList<>> blocks =
        register_module("blocks", std::make_shared<nn::ModuleList<>>());
    std::shared_ptr<nn::ModuleDict<>> heads =
        register_module("heads", std::make_shared<nn::ModuleDict<>>());
    DocsNet() {
        encoder->add(nn::Linear(784, 64));
        encoder->add(nn::ReLU());
        for (int i = 0; i < 3; ++i)
            blocks->append(nn::Linear(64, 64));
        heads->insert("class", nn::Linear(64, 10));
        heads->insert("box", nn::Linear(64, 4));
    }
    Tensor<float> forward(const Tensor<float>& x) override {
        Tensor<float> h = (*encoder)(x);
        for (const auto& block : *blocks)
            h = h + (*block)(h);
        return (*(*heads)["class"])(h);
    }
    std::string type_name() const override { return "Net"; }
};
}  // namespace

TEST_CASE(
    "ModuleList and ModuleDict: the model of docs/custom-layers.md runs and names its parameters") {
    DocsNet net;
    CHECK(net(zeros<float>({2, 784})).shape() == Shape{2, 10});
    const auto named = net.named_parameters();
    REQUIRE(named.size() == 2 + 3 * 2 + 2 * 2);
    CHECK(named[2].first == "blocks.0.weight");
    CHECK(named[8].first == "heads.class.weight");
    CHECK(named[11].first == "heads.box.bias");
}
