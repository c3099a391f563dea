// Samplers (nn/sampler.hpp) and DataLoaderOptions::sampler: each epoch's indices come from the
// sampler, drawn from the loader's generator; shuffle and a sampler together are refused.

#include "nn/sampler.hpp"

#include "autograd/errors.hpp"
#include "autograd/random.hpp"
#include "autograd/shape.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>
#include <vector>

using namespace xgrad;

namespace {

// n examples: inputs [n, 1] = 10·i, targets [n] = i.
nn::Dataset<float> numbered(std::size_t n) {
    nn::Dataset<float> d{xt::xarray<float>::from_shape(Shape{n, 1}),
                         xt::xarray<float>::from_shape(Shape{n})};
    for (std::size_t i = 0; i < n; ++i) {
        d.inputs(i, 0) = float(10 * i);
        d.targets(i) = float(i);
    }
    return d;
}

// The targets of one epoch in visiting order; checks that each x row belongs to its target.
std::vector<int> epoch(nn::DataLoader<float>& loader) {
    std::vector<int> order;
    for (const auto& [x, y] : loader) {
        for (std::size_t i = 0; i < y.size(); ++i) {
            CHECK(x(i, 0) == 10 * y(i));
            order.push_back(int(y(i)));
        }
    }
    return order;
}

}  // namespace

TEST_CASE("RandomSampler: bit-identical to shuffle(true), seeded or from xgrad::generator()") {
    const auto d = numbered(50);
    nn::DataLoader<float> shuffled(d, nn::DataLoaderOptions(8).shuffle(true).seed(7));
    nn::DataLoader<float> sampled(d, nn::DataLoaderOptions(8).sampler(nn::RandomSampler()).seed(7));
    for (int e = 0; e < 3; ++e)
        CHECK(epoch(shuffled) == epoch(sampled));
    nn::DataLoader<float> a(d, nn::DataLoaderOptions(8).shuffle(true));
    nn::DataLoader<float> b(d, nn::DataLoaderOptions(8).sampler(nn::RandomSampler()));
    manual_seed(11);
    const auto a1 = epoch(a);
    manual_seed(11);
    CHECK(epoch(b) == a1);
}

TEST_CASE("SequentialSampler: the dataset order, as without a sampler") {
    const auto d = numbered(5);
    nn::DataLoader<float> loader(d, nn::DataLoaderOptions(2).sampler(nn::SequentialSampler()));
    CHECK(loader.num_batches() == 3);
    CHECK(epoch(loader) == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("SubsetRandomSampler: a permutation of the subset each epoch, seeded") {
    const auto d = numbered(20);
    const std::vector<std::size_t> subset{1, 3, 5, 7, 11, 13, 17};
    const auto options = nn::DataLoaderOptions(3).sampler(nn::SubsetRandomSampler(subset)).seed(5);
    nn::DataLoader<float> a(d, options), b(d, options);
    CHECK(a.num_batches() == 3);  // 7 indices: 3 + 3 + 1
    const auto a1 = epoch(a), a2 = epoch(a);
    CHECK(a1 == epoch(b));
    CHECK(a2 == epoch(b));
    CHECK(a1 != a2);  // 2/7! chance of a false failure
    auto sorted = a1;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<int>{1, 3, 5, 7, 11, 13, 17});
}

TEST_CASE("WeightedRandomSampler: draws with replacement in proportion to the weights") {
    const auto d = numbered(4);
    // Example 3 never (weight 0); example 0 three times as often as 1 or 2.
    const nn::WeightedRandomSampler sampler({3, 1, 1, 0}, 5000);
    nn::DataLoader<float> loader(d, nn::DataLoaderOptions(100).sampler(sampler).seed(1));
    CHECK(loader.num_batches() == 50);
    std::vector<int> counts(4);
    for (const int i : epoch(loader))
        ++counts[std::size_t(i)];
    CHECK(counts[3] == 0);
    CHECK(counts[0] + counts[1] + counts[2] == 5000);
    CHECK(counts[0] == doctest::Approx(3000).epsilon(0.05));  // 3/5 of 5000, sd ≈ 35
    CHECK(counts[1] == doctest::Approx(1000).epsilon(0.12));  // 1/5 of 5000, sd ≈ 28
}

TEST_CASE("WeightedRandomSampler: without replacement, distinct indices drawn by weight") {
    // Every epoch: 3 distinct indices, never the zero-weight one.
    const nn::WeightedRandomSampler three({4, 1, 2, 0, 1}, 3, /*replacement=*/false);
    CHECK(three.size(5) == 3);
    std::mt19937_64 rng(5);
    std::vector<int> first(5);  // how often each index is drawn first
    for (int e = 0; e < 4000; ++e) {
        const auto idx = three.indices(5, rng);
        REQUIRE(idx.size() == 3);
        CHECK(std::set<std::size_t>(idx.begin(), idx.end()).size() == 3);
        CHECK(std::find(idx.begin(), idx.end(), std::size_t(3)) == idx.end());
        ++first[idx[0]];
    }
    // The first draw is in proportion to the weights: 4/8, 1/8, 2/8, 0, 1/8 of 4000.
    CHECK(first[0] == doctest::Approx(2000).epsilon(0.06));  // sd ≈ 32
    CHECK(first[2] == doctest::Approx(1000).epsilon(0.1));   // sd ≈ 27
    CHECK(first[3] == 0);
    // As many samples as positive weights: a permutation of them.
    const nn::WeightedRandomSampler all({1, 1, 0, 1}, 3, false);
    auto idx = all.indices(4, rng);
    std::sort(idx.begin(), idx.end());
    CHECK(idx == std::vector<std::size_t>{0, 1, 3});
    CHECK_THROWS_WITH_AS(nn::WeightedRandomSampler({1, 0, 1}, 3, false),
                         "weighted_random_sampler: without replacement, expected num_samples <= "
                         "the number of positive weights; got num_samples=3, 2 positive weights",
                         ValueError);
}

TEST_CASE("DataLoader: a sampler with shuffle, bad indices or bad weights are ValueErrors") {
    const auto d = numbered(4);
    CHECK_THROWS_WITH_AS(
        nn::DataLoader<float>(
            d, nn::DataLoaderOptions(2).shuffle(true).sampler(nn::SequentialSampler())),
        doctest::Contains("data_loader: the sampler option is mutually exclusive with shuffle"),
        ValueError);
    nn::DataLoader<float> loader(d,
                                 nn::DataLoaderOptions(2).sampler(nn::SubsetRandomSampler({0, 9})));
    CHECK_THROWS_WITH_AS(loader.batch(0), doctest::Contains("before the first begin()"), Error);
    CHECK_THROWS_WITH_AS(loader.begin(),
                         doctest::Contains("the SubsetRandomSampler returned index 9 for a "
                                           "dataset of 4 examples"),
                         ValueError);
    CHECK_THROWS_WITH_AS(nn::WeightedRandomSampler({1, -1}, 3),
                         doctest::Contains("weighted_random_sampler: expected finite weights >= "
                                           "0; got weights[1]=-1"),
                         ValueError);
    CHECK_THROWS_WITH_AS(nn::WeightedRandomSampler({0, 0}, 3), doctest::Contains("a positive sum"),
                         ValueError);
    nn::DataLoader<float> many(
        d, nn::DataLoaderOptions(2).sampler(nn::WeightedRandomSampler({1, 1, 1, 1, 1}, 3)));
    CHECK_THROWS_WITH_AS(many.begin(), doctest::Contains("(4 examples); got 5 weights"),
                         ValueError);
}
