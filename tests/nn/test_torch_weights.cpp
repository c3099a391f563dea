// Weights trained in PyTorch load into the equivalent xgrad model (tests/data/torch, made by
// scripts/make-torch-weights-fixture.py with np.savez of model.state_dict()): the names are
// PyTorch's ("0.weight", "2.bias"), the layouts too (Linear [out, in], Conv2d [out, in, kh, kw]),
// and the model's output on the stored input agrees with PyTorch's (float32, rtol 1e-5, atol 1e-6:
// a few float roundings apart, the sums are accumulated in a different order).

#include "autograd/io.hpp"
#include "nn/activation.hpp"
#include "nn/conv.hpp"
#include "nn/flatten.hpp"
#include "nn/linear.hpp"
#include "nn/pool.hpp"
#include "nn/sequential.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

#include <map>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

std::vector<std::string> names(const nn::Module<float>& m) {
    std::vector<std::string> out;
    for (const auto& [name, p] : m.named_parameters())
        out.push_back(name);
    return out;
}

// Loads <name>.npz into `model` with Module::load and compares model(x) with PyTorch's y.
void check_against_torch(nn::Sequential<float>& model, const std::string& name) {
    model.load(testing::data_path("torch/" + name + ".npz"));
    const auto io = load_npz<float>(testing::data_path("torch/" + name + "_io.npz"));
    const xt::xarray<float> y = model(Tensor<float>(io.at("x"))).value();
    REQUIRE(y.shape() == io.at("y").shape());
    CHECK(xt::allclose(y, io.at("y"), 1e-5, 1e-6));
}

}  // namespace

TEST_CASE("torch weights: Linear, ReLU, Linear loads a PyTorch state_dict and gives its output") {
    nn::Sequential<float> model;
    model.add(nn::Linear<float>(4, 8));
    model.add(nn::ReLU<float>());
    model.add(nn::Linear<float>(8, 3));
    CHECK(names(model) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    const auto state = load_npz<float>(testing::data_path("torch/mlp.npz"));
    CHECK(state.at("0.weight").shape() == model.state_dict().at("0.weight").shape());  // [8, 4]
    check_against_torch(model, "mlp");
    CHECK(model.state_dict().at("2.weight") == state.at("2.weight"));  // loaded as stored
}

TEST_CASE("torch weights: Conv2d, ReLU, MaxPool2d, Flatten, Linear gives PyTorch's output") {
    nn::Sequential<float> model;
    model.add(nn::Conv2d<float>(1, 4, 3));
    model.add(nn::ReLU<float>());
    model.add(nn::MaxPool2d<float>(2));
    model.add(nn::Flatten<float>());
    model.add(nn::Linear<float>(36, 3));
    CHECK(names(model) == std::vector<std::string>{"0.weight", "0.bias", "4.weight", "4.bias"});
    const auto state = load_npz<float>(testing::data_path("torch/conv.npz"));
    CHECK(state.at("0.weight").shape() == Shape{4, 1, 3, 3});  // [out, in, kh, kw] in both
    CHECK(model.state_dict().at("0.weight").shape() == Shape{4, 1, 3, 3});
    check_against_torch(model, "conv");
}

TEST_CASE("torch weights: a model whose layers are numbered differently names the missing entry") {
    nn::Sequential<float> model;  // no ReLU: the second Linear is "1", PyTorch's file says "2"
    model.add(nn::Linear<float>(4, 8));
    model.add(nn::Linear<float>(8, 3));
    CHECK_THROWS_WITH_AS(model.load(testing::data_path("torch/mlp.npz")),
                         doctest::Contains("1.weight"), Error);
}
