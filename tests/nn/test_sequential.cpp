#include "nn/sequential.hpp"

#include "autograd/gradcheck.hpp"
#include "autograd/random.hpp"
#include "nn/activation.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

std::vector<std::string> names(const nn::Module<double>& m) {
    std::vector<std::string> out;
    for (const auto& [name, p] : m.named_parameters())
        out.push_back(name);
    return out;
}

}  // namespace

TEST_CASE("Sequential: applies its layers in order") {
    nn::Sequential<double> model;
    auto first = model.add(nn::Linear<double>(2, 2));
    model.add(nn::ReLU<double>());
    auto last = model.add(nn::Linear<double>(2, 1, false));
    first->weight().mutable_value() = xt::xarray<double>{{1, 1}, {1, -1}};
    first->bias().mutable_value() = xt::xarray<double>{0, -1};
    last->weight().mutable_value() = xt::xarray<double>{{2, 3}};
    // x = (2, 5): Linear → (2 + 5, 2 − 5 − 1) = (7, −4), ReLU → (7, 0), Linear → 2·7 + 3·0 = 14
    const Tensor<double> y = model(Tensor<double>(xt::xarray<double>{{2, 5}}));
    CHECK(y.shape() == Shape{1, 1});
    CHECK(y(0, 0) == 14);
    CHECK(model.size() == 3);
    CHECK(model.type_name() == "Sequential");
}

TEST_CASE("Sequential: an empty model is the identity") {
    nn::Sequential<double> model;
    const Tensor<double> x(xt::xarray<double>{1, 2});
    CHECK(model(x).value() == x.value());
    CHECK(model.parameters().empty());
}

TEST_CASE("Sequential: parameters are named by position, nested models with dotted paths") {
    auto inner = std::make_shared<nn::Sequential<double>>();
    inner->add(nn::Linear<double>(3, 3));
    nn::Sequential<double> model;
    model.add(nn::Linear<double>(4, 3));
    model.add(nn::Tanh<double>());
    model.add(inner);
    model.add(nn::Linear<double>(3, 2, false));
    CHECK(names(model) ==
          std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias", "3.weight"});
    CHECK(model.parameters().size() == 5);
    CHECK(model.children()[2].second.get() == inner.get());  // shared, not copied
}

TEST_CASE("Sequential: add returns the layer it holds, so changes through it are seen") {
    nn::Sequential<float> model;
    auto layer = model.add(nn::Linear<float>(2, 1));
    layer->weight().mutable_value().fill(0.0f);
    layer->bias().mutable_value().fill(3.0f);
    CHECK(model(zeros<float>({5, 2})).value() ==
          xt::xarray<float>(xt::zeros<float>({5, 1}) + 3.0f));
    CHECK(model.parameters()[0].same(layer->weight()));
}

TEST_CASE("Sequential: gradients of the input and of every parameter pass gradcheck") {
    manual_seed(4);
    nn::Sequential<double> model;
    model.add(nn::Linear<double>(3, 4));
    model.add(nn::Tanh<double>());
    model.add(nn::Linear<double>(4, 2));
    model.add(nn::Sigmoid<double>());
    std::vector<Tensor<double>> inputs{randn<double>({5, 3}, 0.0, 1.0, true)};
    for (const auto& p : model.parameters())
        inputs.push_back(p);
    const auto r =
        gradcheck([&](const std::vector<Tensor<double>>& in) { return model(in[0]); }, inputs);
    CHECK_MESSAGE(r.ok, r.message);
    const auto rr =
        gradgradcheck([&](const std::vector<Tensor<double>>& in) { return model(in[0]); }, inputs);
    CHECK_MESSAGE(rr.ok, rr.message);
}

TEST_CASE("Sequential: train and eval reach the layers") {
    nn::Sequential<float> model;
    auto drop = model.add(nn::Dropout<float>(0.5f));
    CHECK(drop->is_training());
    model.eval();
    CHECK(!drop->is_training());
    CHECK(model(ones<float>({3, 4})).value() == xt::ones<float>({3, 4}));
    model.train();
    CHECK(drop->is_training());
}

TEST_CASE("Sequential: save and load restore the outputs of a fresh model") {
    const auto make = [] {
        nn::Sequential<float> m;
        m.add(nn::Linear<float>(3, 5));
        m.add(nn::ReLU<float>());
        m.add(nn::Linear<float>(5, 2));
        return m;
    };
    manual_seed(1);
    nn::Sequential<float> a = make();
    manual_seed(2);
    nn::Sequential<float> b = make();
    const Tensor<float> x(xt::xarray<float>{{0.5f, -1, 2}, {1, 1, 1}});
    REQUIRE(a(x).value() != b(x).value());
    const std::string path = "xgrad_test_sequential.npz";
    a.save(path);
    b.load(path);
    CHECK(a(x).value() == b(x).value());
    CHECK(b.state_dict().count("2.weight") == 1);
    std::remove(path.c_str());
}
