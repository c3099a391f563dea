#include "nn/module.hpp"

#include "autograd/errors.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

using namespace xgrad;

namespace {
// The custom layer of docs/custom-layers.md: y = x ⊙ scale + shift.
template <class T>
struct Affine : nn::Module<T> {
    Tensor<T> scale_, shift_;
    explicit Affine(std::size_t n)
        : scale_(this->register_parameter("scale", ones<T>({n}))),
          shift_(this->register_parameter("shift", zeros<T>({n}))) {}
    Tensor<T> forward(const Tensor<T>& x) override { return x * scale_ + shift_; }
    std::string type_name() const override { return "Affine"; }
};

template <class T>
struct Block : nn::Module<T> {
    std::shared_ptr<Affine<T>> first_, second_;
    Block()
        : first_(this->register_module("first", std::make_shared<Affine<T>>(2))),
          second_(this->register_module("second", std::make_shared<Affine<T>>(2))) {}
    Tensor<T> forward(const Tensor<T>& x) override { return (*second_)((*first_)(x)); }
    std::string type_name() const override { return "Block"; }
};
}  // namespace

TEST_CASE("Module: named_parameters lists members then children, with dotted names") {
    Block<double> block;
    auto named = block.named_parameters();
    REQUIRE(named.size() == 4);
    CHECK(named[0].first == "first.scale");
    CHECK(named[1].first == "first.shift");
    CHECK(named[2].first == "second.scale");
    CHECK(named[3].first == "second.shift");
    CHECK(named[0].second.requires_grad());
    CHECK(block.parameters().size() == 4);
}

TEST_CASE("Module: a custom layer trains through backward") {
    Affine<double> layer(2);
    auto y = sum(layer(Tensor<double>(xt::xarray<double>{3, 4})));  // 3·1 + 0 + 4·1 + 0
    y.backward();
    CHECK(y.item() == 7);
    CHECK(layer.scale_.grad().value() == xt::xarray<double>{3, 4});  // ∂y/∂scale = x
    CHECK(layer.shift_.grad().value() == xt::xarray<double>{1, 1});
    layer.zero_grad();
    CHECK(!layer.scale_.grad().defined());
}

TEST_CASE("Module: train and eval reach every child") {
    Block<double> block;
    block.eval();
    CHECK(!block.first_->is_training());
    block.train();
    CHECK(block.second_->is_training());
}

TEST_CASE("Module: load_state_dict copies values in place and checks names and shapes") {
    Block<double> a, b;
    a.first_->scale_.mutable_value() = xt::xarray<double>{5, 6};
    const Tensor<double> handle = b.first_->scale_;
    b.load_state_dict(a.state_dict());
    CHECK(handle.value() == xt::xarray<double>{5, 6});  // same tensor, new value
    auto state = a.state_dict();
    state["second.shift"] = xt::zeros<double>({3});
    CHECK_THROWS_WITH_AS(b.load_state_dict(state),
                         doctest::Contains("'second.shift' has shape [3]"), ShapeError);
    state.erase("second.shift");
    CHECK_THROWS_WITH_AS(b.load_state_dict(state),
                         doctest::Contains("missing entry 'second.shift'"), ValueError);
    state["second.shift"] = xt::zeros<double>({2});
    state["extra"] = xt::zeros<double>({1});
    CHECK_THROWS_WITH_AS(b.load_state_dict(state), doctest::Contains("unexpected entry 'extra'"),
                         ValueError);
    CHECK_NOTHROW(b.load_state_dict(state, false));
}

TEST_CASE("summary: 784-300-100-10 has 266,610 parameters") {
    nn::Sequential<> model;
    model.add(nn::Linear(784, 300));
    model.add(nn::ReLU());
    model.add(nn::Linear(300, 100));
    model.add(nn::ReLU());
    model.add(nn::Linear(100, 10));
    const std::string table = nn::summary(model, {784});
    // 784·300 + 300 = 235,500;  300·100 + 100 = 30,100;  100·10 + 10 = 1,010
    CHECK(table.find("Total params: 266,610") != std::string::npos);
    CHECK(table.find("235,500") != std::string::npos);
    CHECK(table.find("[None, 300]") != std::string::npos);
    CHECK(table.find("[None, 10]") != std::string::npos);
    CHECK(nn::count_parameters(model) == 266610);
}

TEST_CASE("Linear: forward is x·Wᵀ + b") {
    nn::Linear<double> layer(2, 1);
    layer.weight().mutable_value() = xt::xarray<double>{{2, 3}};
    layer.bias().mutable_value() = xt::xarray<double>{1};
    Tensor<double> x(xt::xarray<double>{{1, 1}, {2, -1}});
    auto y = layer(x);
    CHECK(y(0, 0) == 6);  // 2·1 + 3·1 + 1
    CHECK(y(1, 0) == 2);  // 2·2 − 3·1 + 1
}

TEST_CASE("Linear: gradients of input, weight and bias pass gradcheck") {
    manual_seed(3);
    nn::Linear<double> layer(4, 3);
    Tensor<double> x = randn<double>({5, 4}, 0.0, 1.0, true);
    auto r =
        gradcheck([&](const auto& in) { return layer(in[0]); }, {x, layer.weight(), layer.bias()});
    CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("Linear: a wrong input width names the linear op and every shape") {
    nn::Linear<> layer(784, 300);
    CHECK_THROWS_WITH_AS(layer(zeros<float>({32, 100})),
                         "linear: expected x [..., in], weight [out, in], bias [out]; got "
                         "x=[32, 100], weight=[300, 784], bias=[300]",
                         ShapeError);
}

TEST_CASE("Module: save and load round-trip bit-exact through .npz") {
    const std::string path = "xgrad_test_module_roundtrip.npz";
    Block<float> a, b;
    a.first_->scale_.mutable_value() = xt::xarray<float>{0.1f, -3.25e-7f};
    a.second_->shift_.mutable_value() = xt::xarray<float>{1.0f / 3.0f, 7e30f};
    a.save(path);
    b.load(path);
    for (const auto& [name, value] : a.state_dict()) {
        const auto loaded = b.state_dict().at(name);
        REQUIRE(loaded.shape() == value.shape());
        CHECK(std::equal(value.begin(), value.end(), loaded.begin()));  // exact, not approximate
    }
    std::remove(path.c_str());
}

TEST_CASE(
    "Module: a failed save keeps the last good checkpoint, a truncated one is a clear error") {
    const std::string path = "xgrad_test_module_checkpoint.npz";
    Block<double> good, other;
    good.first_->scale_.mutable_value() = xt::xarray<double>{2, 3};
    good.save(path);
    // Saving into a directory that does not exist fails before touching `path`.
    CHECK_THROWS_AS(good.save("no_such_directory/model.npz"), IoError);
    other.load(path);
    CHECK(other.first_->scale_.value() == xt::xarray<double>{2, 3});

    // Truncate a copy: loading names the file.
    const std::string cut = "xgrad_test_module_truncated.npz";
    {
        std::ifstream in(path, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream out(cut, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    }
    CHECK_THROWS_WITH_AS(other.load(cut), doctest::Contains(cut.c_str()), IoError);
    CHECK(other.first_->scale_.value() == xt::xarray<double>{2, 3});  // untouched
    std::remove(path.c_str());
    std::remove(cut.c_str());
}

namespace {
// Two inputs, two outputs: (a + b, a ⊙ b).
struct SumAndProduct : nn::Module<double> {
    std::vector<Tensor<double>> forward_list(const std::vector<Tensor<double>>& in) override {
        return {in.at(0) + in.at(1), in.at(0) * in.at(1)};
    }
    std::string type_name() const override { return "SumAndProduct"; }
};
// One input, two outputs: (x, x²).
struct Powers : nn::Module<double> {
    std::vector<Tensor<double>> forward_list(const std::vector<Tensor<double>>& in) override {
        return {in.at(0), in.at(0) * in.at(0)};
    }
    std::string type_name() const override { return "Powers"; }
};
// Overrides neither forward.
struct Empty : nn::Module<double> {
    std::string type_name() const override { return "Empty"; }
};
}  // namespace

TEST_CASE("Module: forward_list takes and returns several tensors, and forward(x) bridges to it") {
    SumAndProduct m;
    const auto ys = m({scalar(2.0), scalar(5.0)});
    REQUIRE(ys.size() == 2);
    CHECK(ys[0].item() == 7);
    CHECK(ys[1].item() == 10);
    Powers powers;
    CHECK(powers({scalar(3.0)})[1].item() == 9);
    CHECK_THROWS_WITH_AS(powers(scalar(3.0)),
                         "powers: forward returns 2 tensors; call it with a list, "
                         "module({x, ...}), to get them all",
                         Error);
    nn::Linear<double> layer(2, 1);
    CHECK(layer(std::vector<Tensor<double>>{ones<double>({3, 2})})[0].shape() == Shape{3, 1});
    CHECK_THROWS_WITH_AS(layer({ones<double>({3, 2}), ones<double>({3, 2})}),
                         "linear: takes one input tensor; got 2", Error);
    Empty e;
    CHECK_THROWS_WITH_AS(e(scalar(1.0)),
                         "empty: the module overrides neither forward nor forward_list", Error);
}

TEST_CASE("Sequential: forward_list feeds a layer's outputs to the next, and summary lists them") {
    nn::Sequential<double> model;
    model.add(SumAndProduct());
    model.add(SumAndProduct());
    const auto ys = model({scalar(2.0), scalar(5.0)});  // (7, 10), then (17, 70)
    CHECK(ys[0].item() == 17);
    CHECK(ys[1].item() == 70);
}

TEST_CASE("summary: a layer called with a list shows every output's shape") {
    struct Model : nn::Module<double> {
        std::shared_ptr<Powers> powers = register_module("powers", std::make_shared<Powers>());
        Tensor<double> forward(const Tensor<double>& x) override { return (*powers)({x})[1]; }
        std::string type_name() const override { return "Model"; }
    } model;
    const std::string table = nn::summary(model, {3});
    CHECK(table.find("powers (Powers)") != std::string::npos);  // its registered name
    CHECK(table.find("[[None, 3], [None, 3]]") != std::string::npos);
}
