#include "nn/embedding.hpp"

#include "autograd/gradcheck.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "nn/flatten.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

// The table [[0, 1], [10, 11], [20, 21]], trainable.
nn::Embedding<double> small_table(std::optional<std::int64_t> padding_idx = std::nullopt) {
    Tensor<double> w(xt::xarray<double>{{0, 1}, {10, 11}, {20, 21}});
    return nn::Embedding<double>::from_pretrained(w, false, padding_idx);
}

}  // namespace

TEST_CASE("Embedding: weight [num, dim] drawn from N(0, 1), the padding row zero") {
    manual_seed(3);
    nn::Embedding<double> emb(nn::EmbeddingOptions(1000, 8).padding_idx(-1));
    REQUIRE(emb.padding_idx().has_value());
    CHECK(*emb.padding_idx() == 999);  // −1 counts from the end
    const auto params = emb.named_parameters();
    REQUIRE(params.size() == 1);
    CHECK(params[0].first == "weight");
    CHECK(emb.weight().shape() == Shape{1000, 8});
    CHECK(emb.weight().requires_grad());
    const xt::xarray<double> w = emb.weight().value();
    CHECK(xt::all(xt::equal(xt::view(w, 999, xt::all()), 0.0)));
    const xt::xarray<double> rest = xt::view(w, xt::range(0, 999), xt::all());  // 7992 draws
    CHECK(std::abs(xt::mean(rest)()) < 0.05);
    CHECK(std::sqrt(xt::variance(rest)()) == doctest::Approx(1.0).epsilon(0.05));
    CHECK(emb.extra_repr() == "num_embeddings=1000, embedding_dim=8, padding_idx=999");
    CHECK(nn::Embedding<float>(10, 3).extra_repr() == "num_embeddings=10, embedding_dim=3");
}

TEST_CASE("Embedding: indices held in a tensor, as a DataLoader batch gives them") {
    auto emb = small_table();
    Tensor<double> idx(xt::xarray<double>{{2, 0, 2}, {1, 1, 0}});  // [2, 3] → [2, 3, 2]
    const auto y = emb(idx);
    CHECK(y.shape() == Shape{2, 3, 2});
    CHECK(y.value() ==
          xt::xarray<double>{{{20, 21}, {0, 1}, {20, 21}}, {{10, 11}, {10, 11}, {0, 1}}});
    CHECK(emb.forward(Index{1}).value() == xt::xarray<double>{{10, 11}});
    CHECK_THROWS_WITH_AS(emb(Tensor<double>(xt::xarray<double>{0.5})),
                         doctest::Contains("embedding: value 0.5 at position 0"), ValueError);
    CHECK_THROWS_WITH_AS(emb(Tensor<double>(xt::xarray<double>{0, 3})),
                         doctest::Contains("embedding: every index must lie in [0, 3)"),
                         ValueError);
}

TEST_CASE("Embedding: only the rows used get a gradient, the padding row none") {
    auto emb = small_table(0);
    const auto y = emb(Tensor<double>(xt::xarray<double>{{0, 2}, {2, 0}}));
    CHECK(y.value() == xt::xarray<double>{{{0, 1}, {20, 21}}, {{20, 21}, {0, 1}}});
    sum(y * Tensor<double>(xt::xarray<double>{1, 2})).backward();  // every position: g = [1, 2]
    // row 0: padding; row 1: unused; row 2: used twice
    CHECK(emb.weight().grad().value() == xt::xarray<double>{{0, 0}, {0, 0}, {2, 4}});
}

TEST_CASE("Embedding: the gradient with respect to the table, first and second order") {
    manual_seed(4);
    nn::Embedding<double> emb(nn::EmbeddingOptions(5, 3).padding_idx(4));
    const Tensor<double> idx(xt::xarray<double>{{3, 0, 3}, {1, 2, 0}});  // row 4 unused
    const TensorFn fn = [&](const std::vector<Tensor<double>>&) { return emb(idx); };
    const auto first = gradcheck(fn, {emb.weight()});
    INFO(first.message);
    CHECK(first.ok);
    const auto second = gradgradcheck(fn, {emb.weight()});
    INFO(second.message);
    CHECK(second.ok);
}

TEST_CASE("Embedding: from_pretrained copies the table and freezes it unless asked not to") {
    Tensor<double> w(xt::xarray<double>{{1, 2}, {3, 4}});
    auto frozen = nn::Embedding<double>::from_pretrained(w, true, 1);
    CHECK(!frozen.weight().requires_grad());
    CHECK(frozen.weight().value() == w.value());  // the padding row is kept as given
    CHECK(!frozen.weight().same(w));
    CHECK(frozen.extra_repr() == "num_embeddings=2, embedding_dim=2, padding_idx=1");
    CHECK(!frozen(Tensor<double>(xt::xarray<double>{1, 0})).requires_grad());
    CHECK(nn::Embedding<double>::from_pretrained(w, false).weight().requires_grad());
    CHECK_THROWS_WITH_AS(
        nn::Embedding<double>::from_pretrained(Tensor<double>(xt::xarray<double>{1, 2})),
        "embedding: from_pretrained expects embeddings [num_embeddings, embedding_dim]; got "
        "embeddings=[2]",
        ShapeError);
}

TEST_CASE("Embedding: a table without rows or a padding_idx outside it is a ValueError") {
    CHECK_THROWS_WITH_AS(nn::Embedding<float>(nn::EmbeddingOptions(5, 3).padding_idx(5)),
                         "embedding: expected num_embeddings > 0, embedding_dim > 0 and "
                         "padding_idx in [-num_embeddings, num_embeddings); got "
                         "num_embeddings=5, embedding_dim=3, padding_idx=5",
                         ValueError);
    CHECK_THROWS_AS(nn::Embedding<float>(0, 3), ValueError);
    CHECK_THROWS_AS(nn::Embedding<float>(nn::EmbeddingOptions(5, 3).padding_idx(-6)), ValueError);
}

TEST_CASE("summary: an Embedding ahead of a Linear layer") {
    nn::Sequential<float> model;
    model.add(nn::Embedding<float>(10, 4));
    model.add(nn::Flatten<float>());
    model.add(nn::Linear<float>(12, 2));
    const std::string table = nn::summary(model, {3});  // runs on indices [1, 3] of zeros
    INFO(table);
    CHECK(table.find("(Embedding)") != std::string::npos);
    CHECK(table.find("[None, 3, 4]") != std::string::npos);
    CHECK(table.find("Total params: 66") != std::string::npos);  // 10·4 + 12·2 + 2
}
