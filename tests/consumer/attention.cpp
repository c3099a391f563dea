// Layers of a user's own, in a user's own project built against the installed xgrad
// (docs/custom-layers.md, "A layer of your own, in your own project"):
// - SelfAttention, single-head scaled dot-product self-attention composed from xgrad ops, so its
//   gradient needs no code of its own;
// - Swish, an activation written as a new op with its own VJP (swish.hpp).
// Both are checked with xgrad::gradcheck; then a small model using both learns the largest of a
// sequence of numbers, beside the same model without the attention layer. The largest is not a
// sum of a function of each element, so a model that treats positions apart and averages them
// cannot compute it; attention compares positions. Exits non-zero when a check fails, or unless
// the model with attention ends with under a third of the test error of the one without.

#include "swish.hpp"

#include <xgrad.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

using namespace xgrad;
using D = double;

// softmax(q·kᵀ/√d)·v with q, k, v = x·W_qᵀ, x·W_kᵀ, x·W_vᵀ, then ·W_oᵀ: x [n, T, d] → [n, T, d].
Tensor<D> self_attention(const Tensor<D>& x, const Tensor<D>& wq, const Tensor<D>& wk,
                         const Tensor<D>& wv, const Tensor<D>& wo) {
    const Tensor<D> q = linear(x, wq), k = linear(x, wk), v = linear(x, wv);
    const double scale = 1.0 / std::sqrt(static_cast<double>(x.shape().back()));
    const Tensor<D> weights = softmax(matmul(q, k, false, true) * scale, -1);  // [n, T, T]
    return linear(matmul(weights, v), wo);
}

class SelfAttention : public nn::Module<D> {
public:
    explicit SelfAttention(std::size_t dim)
        : dim_(dim),
          wq_(register_parameter("query", square(dim))),
          wk_(register_parameter("key", square(dim))),
          wv_(register_parameter("value", square(dim))),
          wo_(register_parameter("out", square(dim))) {}
    Tensor<D> forward(const Tensor<D>& x) override { return self_attention(x, wq_, wk_, wv_, wo_); }
    std::string type_name() const override { return "SelfAttention"; }
    std::string extra_repr() const override { return fmt::format("dim={}", dim_); }
    std::shared_ptr<nn::Module<D>> clone() const override { return clone_as<SelfAttention>(dim_); }

private:
    static Tensor<D> square(std::size_t dim) {
        Tensor<D> w = zeros<D>({dim, dim}, true);
        nn::init::glorot_uniform_(w);
        return w;
    }
    std::size_t dim_;
    Tensor<D> wq_, wk_, wv_, wo_;
};

class SwishActivation : public nn::Module<D> {
public:
    Tensor<D> forward(const Tensor<D>& x) override { return swish(x); }
    std::string type_name() const override { return "SwishActivation"; }
    std::shared_ptr<nn::Module<D>> clone() const override { return clone_as<SwishActivation>(); }
};

// [n, T, 1] → [n, 1]: embed each number, attend (with a residual connection; left out when
// `attend` is false), swish, average over the sequence, read out.
class MaxNet : public nn::Module<D> {
public:
    MaxNet(std::size_t dim, bool attend)
        : embed_(register_module("embed", std::make_shared<nn::Linear<D>>(1, dim))),
          attention_(attend ? register_module("attention", std::make_shared<SelfAttention>(dim))
                            : nullptr),
          act_(register_module("act", std::make_shared<SwishActivation>())),
          head_(register_module("head", std::make_shared<nn::Linear<D>>(dim, 1))) {}
    Tensor<D> forward(const Tensor<D>& x) override {
        Tensor<D> h = (*embed_)(x);
        if (attention_) h = h + (*attention_)(h);
        return (*head_)(mean((*act_)(h), {1}));
    }
    std::string type_name() const override { return "MaxNet"; }

private:
    std::shared_ptr<nn::Linear<D>> embed_;
    std::shared_ptr<SelfAttention> attention_;
    std::shared_ptr<SwishActivation> act_;
    std::shared_ptr<nn::Linear<D>> head_;
};

// n sequences of t numbers uniform in [−1, 1] ([n, t, 1]) and the largest of each ([n, 1]).
std::pair<Tensor<D>, Tensor<D>> sequences(std::size_t n, std::size_t t, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> value(-1.0, 1.0);
    xt::xarray<D> x = xt::zeros<D>({n, t, std::size_t(1)});
    xt::xarray<D> y = xt::zeros<D>({n, std::size_t(1)}) - 1.0;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < t; ++j) {
            x(i, j, 0) = value(rng);
            y(i, 0) = std::max(y(i, 0), x(i, j, 0));
        }
    return {Tensor<D>(std::move(x)), Tensor<D>(std::move(y))};
}

// Trains a MaxNet on fresh batches (the same ones for every model: `seed`) and returns its mean
// squared error on 1000 test sequences.
double train_and_test(MaxNet& model, std::size_t length, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    optim::Adam<D> adam(model.parameters(), optim::AdamOptions(0.01));
    for (int step = 1; step <= 1000; ++step) {
        const auto [x, y] = sequences(64, length, rng);
        adam.zero_grad();
        Tensor<D> loss = nn::mse_loss(model(x), y);
        loss.backward();
        adam.step();
        if (step % 250 == 0) fmt::print("  step {}: loss {:.5f}\n", step, loss.item());
    }
    NoGradGuard off;
    const auto [x, y] = sequences(1000, length, rng);
    return nn::mse_loss(model(x), y).item();
}

int main() {
    manual_seed(0);
    // 1. The gradients of both layers against central finite differences, the attention's with
    //    respect to its input and all four weights, to second order too.
    const TensorFn attention = [](const std::vector<Tensor<D>>& in) {
        return self_attention(in[0], in[1], in[2], in[3], in[4]);
    };
    std::vector<Tensor<D>> inputs = {randn<D>({2, 3, 4}, 0.0, 1.0, true)};
    for (int i = 0; i < 4; ++i)
        inputs.push_back(randn<D>({4, 4}, 0.0, 0.5, true));
    const GradcheckResult attention_first = gradcheck(attention, inputs);
    const GradcheckResult attention_second = gradgradcheck(attention, inputs);
    const GradcheckResult swish_first =
        gradcheck([](const std::vector<Tensor<D>>& in) { return swish(in[0]); },
                  {randn<D>({3, 4}, 0.0, 2.0, true)});
    fmt::print(
        "self_attention gradcheck: {}\nself_attention gradgradcheck: {}\n"
        "swish gradcheck: {}\n",
        attention_first ? "ok" : attention_first.message,
        attention_second ? "ok" : attention_second.message,
        swish_first ? "ok" : swish_first.message);
    if (!attention_first || !attention_second || !swish_first) return 1;

    // 2. The largest of 8 numbers, with and without attention.
    const std::size_t length = 8;
    MaxNet with(16, true), without(16, false);
    fmt::print("{}", nn::summary(with, {length, 1}));
    fmt::print("with attention:\n");
    const double with_mse = train_and_test(with, length, 1);
    fmt::print("without attention:\n");
    const double without_mse = train_and_test(without, length, 1);
    fmt::print("test_mse_with_attention: {:.5f}\ntest_mse_without_attention: {:.5f}\n", with_mse,
               without_mse);
    return with_mse < without_mse / 3 ? 0 : 1;
}
