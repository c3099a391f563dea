#include "nn/conv.hpp"
#include "nn/norm.hpp"
#include "nn/pool.hpp"

#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "nn/activation.hpp"
#include "nn/dropout.hpp"
#include "nn/flatten.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include <cmath>
#include <cstdio>
#include <string>

using namespace xgrad;

namespace {

// The TensorFlow tutorial's MNIST network: conv 5×5 32 same, pool 2, conv 5×5 64 same, pool 2,
// dense 1024, dense 10, on 1×28×28 images.
nn::Sequential<float> tutorial_net() {
    nn::Sequential<float> model;
    model.add(nn::Conv2d<float>(nn::Conv2dOptions(1, 32, 5).padding(Padding::same)));
    model.add(nn::ReLU<float>());
    model.add(nn::MaxPool2d<float>(2));
    model.add(nn::Conv2d<float>(nn::Conv2dOptions(32, 64, 5).padding(Padding::same)));
    model.add(nn::ReLU<float>());
    model.add(nn::MaxPool2d<float>(2));
    model.add(nn::Flatten<float>());
    model.add(nn::Linear<float>(7 * 7 * 64, 1024));
    model.add(nn::ReLU<float>());
    model.add(nn::Linear<float>(1024, 10));
    return model;
}

// A row of the summary with the layer type `a`, the output shape `b` and the parameter count
// `c` (the last column).
bool has_line(const std::string& text, const std::string& a, const std::string& b,
              const std::string& c) {
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        const std::string line = text.substr(start, end - start);
        if (line.find(a) != std::string::npos && line.find(b) != std::string::npos &&
            line.size() > c.size() &&
            line.compare(line.size() - c.size() - 1, c.size() + 1, " " + c) == 0) {
            return true;
        }
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return false;
}

}  // namespace

TEST_CASE("Conv2d: the TensorFlow tutorial network has 3,274,634 parameters") {
    auto model = tutorial_net();
    // conv1 32·1·5·5 + 32 = 832; conv2 64·32·5·5 + 64 = 51,264;
    // dense 3136·1024 + 1024 = 3,212,288; dense 1024·10 + 10 = 10,250
    CHECK(nn::count_parameters(model) == 832 + 51264 + 3212288 + 10250);
    CHECK(nn::count_parameters(model) == 3274634);
    const std::string table = nn::summary(model, {1, 28, 28});
    INFO(table);
    CHECK(has_line(table, "(Conv2d)", "[None, 32, 28, 28]", "832"));
    CHECK(has_line(table, "(MaxPool2d)", "[None, 32, 14, 14]", "0"));
    CHECK(has_line(table, "(Conv2d)", "[None, 64, 14, 14]", "51,264"));
    CHECK(has_line(table, "(MaxPool2d)", "[None, 64, 7, 7]", "0"));
    CHECK(has_line(table, "(Flatten)", "[None, 3136]", "0"));
    CHECK(has_line(table, "(Linear)", "[None, 1024]", "3,212,288"));
    CHECK(has_line(table, "(Linear)", "[None, 10]", "10,250"));
    CHECK(table.find("Total params: 3,274,634") != std::string::npos);
    manual_seed(0);
    CHECK(model(randn<float>({2, 1, 28, 28})).shape() == Shape{2, 10});
}

TEST_CASE("Conv2d: PyTorch's default init, U(±1/sqrt(fan_in)), fan_in = in/groups·kh·kw") {
    manual_seed(1);
    nn::Conv2d<double> conv(nn::Conv2dOptions(4, 32, {5, 3}).groups(2));
    CHECK(conv.weight().shape() == Shape{32, 2, 5, 3});
    CHECK(nn::init::fans(conv.weight().shape()) == std::pair<std::size_t, std::size_t>{30, 480});
    const double bound = 1 / std::sqrt(30.0);  // fan_in = 2·5·3
    CHECK(xt::amax(xt::abs(conv.weight().value()))() <= bound);
    CHECK(xt::amax(xt::abs(conv.weight().value()))() > 0.9 * bound);  // 960 draws fill the range
    CHECK(xt::amax(xt::abs(conv.bias().value()))() <= bound);
    auto named = conv.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "weight");
    CHECK(named[1].first == "bias");
    CHECK(conv.extra_repr() == "in=4, out=32, kernel_size=[5, 3], groups=2, bias=true");
}

TEST_CASE("nn::init: Glorot and He use the kernel's fans") {
    manual_seed(2);
    auto w = zeros<double>({64, 32, 5, 5});
    nn::init::glorot_uniform_(w);  // a = √(6/(fan_in + fan_out)), fan_in = 800, fan_out = 1600
    const double glorot = std::sqrt(6.0 / (800 + 1600));
    CHECK(xt::amax(xt::abs(w.value()))() <= glorot);
    CHECK(xt::amax(xt::abs(w.value()))() > 0.99 * glorot);
    nn::init::he_uniform_(w);  // a = √(6/fan_in)
    CHECK(xt::amax(xt::abs(w.value()))() <= std::sqrt(6.0 / 800));
    CHECK(xt::amax(xt::abs(w.value()))() > 0.99 * std::sqrt(6.0 / 800));
}

TEST_CASE("ConvTranspose2d: doubles the size with stride 2, kernel 4, padding 1") {
    manual_seed(3);
    nn::ConvTranspose2d<double> up(nn::ConvTranspose2dOptions(8, 4, 4).stride(2).padding(1));
    CHECK(up.weight().shape() == Shape{8, 4, 4, 4});  // [in, out/groups, kh, kw]
    const double bound = 1 / std::sqrt(4.0 * 16);     // PyTorch: fan_in from dim 1 = out·kh·kw
    CHECK(xt::amax(xt::abs(up.weight().value()))() <= bound);
    CHECK(up(randn<double>({2, 8, 7, 7})).shape() == Shape{2, 4, 14, 14});  // (7−1)·2 − 2 + 3 + 1
    CHECK(nn::count_parameters(up) == 8 * 4 * 4 * 4 + 4);
}

TEST_CASE("Conv2d: an input with the wrong channels names the layer and the shape") {
    nn::Conv2d<double> conv(3, 8, 3);
    CHECK_THROWS_WITH_AS(conv(zeros<double>({2, 4, 8, 8})),
                         "conv2d: expected x [n, 3, h, w]; got x=[2, 4, 8, 8]", ShapeError);
    CHECK_THROWS_AS(nn::Conv2d<double>(nn::Conv2dOptions(3, 8, 3).groups(2)), ValueError);
}

TEST_CASE("BatchNorm2d: parameters, buffers and PyTorch's running statistics") {
    nn::BatchNorm2d<double> bn(3);
    auto params = bn.named_parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].first == "weight");
    CHECK(params[1].first == "bias");
    auto buffers = bn.named_buffers();
    REQUIRE(buffers.size() == 3);
    CHECK(buffers[0].first == "running_mean");
    CHECK(buffers[1].first == "running_var");
    CHECK(buffers[2].first == "num_batches_tracked");
    // Channel 0 holds 1, 3 (and 1, 3): mean 2, biased variance 1, unbiased 4/3.
    xt::xarray<double> x = xt::zeros<double>({2, 3, 1, 2});
    x(0, 0, 0, 0) = 1;
    x(0, 0, 0, 1) = 3;
    x(1, 0, 0, 0) = 1;
    x(1, 0, 0, 1) = 3;
    const auto y = bn(Tensor<double>(x));
    CHECK(y(0, 0, 0, 0) == doctest::Approx(-1 / std::sqrt(1 + 1e-5)));
    CHECK(bn.running_mean()(0) == doctest::Approx(0.2));                   // 0.1·2
    CHECK(bn.running_var()(0) == doctest::Approx(0.9 + 0.1 * 4.0 / 3.0));  // unbiased
    CHECK(bn.running_var()(1) == doctest::Approx(0.9));                    // constant channel
    CHECK(buffers[2].second.item() == 1);
    bn.eval();
    const auto z = bn(Tensor<double>(x));  // (1 − 0.2)/√(0.9 + 0.4/3 + eps)
    CHECK(z(0, 0, 0, 0) == doctest::Approx(0.8 / std::sqrt(0.9 + 0.4 / 3 + 1e-5)));
    CHECK(buffers[2].second.item() == 1);  // evaluation does not count
}

TEST_CASE("BatchNorm1d: [n, c] and [n, c, l], and momentum none is a cumulative average") {
    nn::BatchNorm1d<double> bn(nn::BatchNormOptions(2).momentum(std::nullopt));
    bn(Tensor<double>(xt::xarray<double>{{1, 0}, {3, 0}}));                      // channel 0 mean 2
    bn(Tensor<double>(xt::xarray<double>{{{5, 7}, {0, 0}}, {{5, 7}, {0, 0}}}));  // mean 6
    CHECK(bn.running_mean()(0) == doctest::Approx(4));                           // (2 + 6)/2
    CHECK_THROWS_WITH_AS(
        bn(zeros<double>({2, 2, 2, 2})),
        "batch_norm1d: expected x [n, c] or [n, c, l] with c=2; got x=[2, 2, 2, 2]", ShapeError);
}

TEST_CASE("BatchNorm2d: without running statistics the batch is used in evaluation too") {
    nn::BatchNorm2d<double> bn(nn::BatchNormOptions(1).track_running_stats(false).affine(false));
    CHECK(bn.named_buffers().empty());
    CHECK(bn.parameters().empty());
    bn.eval();
    const auto y = bn(Tensor<double>(xt::xarray<double>{{{{1, 3}}}}));
    CHECK(y(0, 0, 0, 1) == doctest::Approx(1 / std::sqrt(1 + 1e-5)));
}

TEST_CASE("summary: pooling, normalisation and dropout layers with their shapes and counts") {
    nn::Sequential<float> model;
    model.add(nn::Conv2d<float>(nn::Conv2dOptions(3, 16, 3).padding(1).bias(false)));
    model.add(nn::BatchNorm2d<float>(16));
    model.add(nn::ReLU<float>());
    model.add(nn::AvgPool2d<float>(PoolOptions(3).stride(2).padding(1)));
    model.add(nn::Dropout2d<float>(0.1f));
    model.add(nn::AdaptiveAvgPool2d<float>({4, 2}));
    model.add(nn::GlobalAvgPool2d<float>());
    model.add(nn::BatchNorm1d<float>(16));
    model.add(nn::Linear<float>(16, 5));
    const std::string table = nn::summary(model, {3, 32, 32});
    INFO(table);
    CHECK(has_line(table, "(Conv2d)", "[None, 16, 32, 32]", "432"));      // 16·3·3·3, no bias
    CHECK(has_line(table, "(BatchNorm2d)", "[None, 16, 32, 32]", "32"));  // weight + bias
    CHECK(has_line(table, "(AvgPool2d)", "[None, 16, 16, 16]", "0"));
    CHECK(has_line(table, "(Dropout2d)", "[None, 16, 16, 16]", "0"));
    CHECK(has_line(table, "(AdaptiveAvgPool2d)", "[None, 16, 4, 2]", "0"));
    CHECK(has_line(table, "(GlobalAvgPool2d)", "[None, 16]", "0"));
    CHECK(has_line(table, "(BatchNorm1d)", "[None, 16]", "32"));
    CHECK(table.find("Total params: 581") != std::string::npos);  // 432 + 32 + 32 + 85
    CHECK(model.is_training());                                   // summary restores the mode
}

TEST_CASE("BatchNorm2d: running statistics survive save and load") {
    nn::BatchNorm2d<float> bn(2);
    manual_seed(5);
    bn(randn<float>({4, 2, 3, 3}, 1.0f, 2.0f));
    const std::string path = "test_conv_modules_bn.npz";
    bn.save(path);
    nn::BatchNorm2d<float> other(2);
    other.load(path);
    std::remove(path.c_str());
    CHECK(other.running_mean().value() == bn.running_mean().value());
    CHECK(other.running_var().value() == bn.running_var().value());
    CHECK(other.named_buffers()[2].second.item() == 1);
}
