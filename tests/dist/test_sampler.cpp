// DistributedSampler (dist/sampler.hpp), with the rank and the number of processes given
// explicitly: no MPI launch. The shards of one epoch are disjoint and make the epoch; padding and
// drop_last follow PyTorch; every process computes the same permutation from seed + epoch.

#include "dist/sampler.hpp"

#include "autograd/errors.hpp"
#include "autograd/shape.hpp"
#include "dist/dist.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

using namespace xgrad;

namespace {

// Each process's indices of one epoch, for p processes and n examples.
std::vector<std::vector<std::size_t>> shards(std::size_t p, std::size_t n,
                                             dist::DistributedSamplerOptions o, std::size_t epoch) {
    std::vector<std::vector<std::size_t>> out;
    std::mt19937_64 rng(123);
    for (std::size_t r = 0; r < p; ++r) {
        dist::DistributedSampler s(p, r, o);
        s.set_epoch(epoch);
        out.push_back(s.indices(n, rng));
        CHECK(out.back().size() == s.size(n));
    }
    return out;
}

}  // namespace

TEST_CASE("distributed_sampler: shards are disjoint and their union is the epoch") {
    for (std::size_t p : {1, 2, 3, 4}) {
        const auto s = shards(p, 12, dist::DistributedSamplerOptions().seed(5), 0);
        std::vector<std::size_t> all;
        for (const auto& shard : s) {
            CHECK(shard.size() == 12 / p);
            all.insert(all.end(), shard.begin(), shard.end());
        }
        std::sort(all.begin(), all.end());
        std::vector<std::size_t> expected(12);
        std::iota(expected.begin(), expected.end(), std::size_t(0));
        CHECK(all == expected);  // each of 0..11 exactly once
    }
}

TEST_CASE("distributed_sampler: without shuffle process r takes r, r + p, ...") {
    const auto s = shards(3, 7, dist::DistributedSamplerOptions().shuffle(false), 0);
    // 7 padded to 9 with the first two: 0 1 2 3 4 5 6 0 1
    CHECK(s[0] == std::vector<std::size_t>{0, 3, 6});
    CHECK(s[1] == std::vector<std::size_t>{1, 4, 0});
    CHECK(s[2] == std::vector<std::size_t>{2, 5, 1});
}

TEST_CASE("distributed_sampler: drop_last drops the tail") {
    const auto s =
        shards(3, 8, dist::DistributedSamplerOptions().shuffle(false).drop_last(true), 0);
    CHECK(s[0] == std::vector<std::size_t>{0, 3});  // 8 cut to 6: 0..5
    CHECK(s[1] == std::vector<std::size_t>{1, 4});
    CHECK(s[2] == std::vector<std::size_t>{2, 5});
    CHECK(
        dist::DistributedSampler(4, 0, dist::DistributedSamplerOptions().drop_last(true)).size(3) ==
        0);
}

TEST_CASE("distributed_sampler: padding repeats the start of the permutation, cyclically") {
    // 2 examples on 5 processes: the order padded to 5 is a b a b a.
    const auto s = shards(5, 2, dist::DistributedSamplerOptions().seed(9), 0);
    const std::size_t a = s[0][0], b = s[1][0];
    CHECK(a != b);
    CHECK(s[2][0] == a);
    CHECK(s[3][0] == b);
    CHECK(s[4][0] == a);
}

TEST_CASE("distributed_sampler: the permutation depends on seed and epoch only") {
    const auto o = dist::DistributedSamplerOptions().seed(7);
    const auto e0 = shards(2, 50, o, 0), e0_again = shards(2, 50, o, 0), e1 = shards(2, 50, o, 1);
    CHECK(e0 == e0_again);  // the loader's generator (seeded differently per call) is ignored
    CHECK(e0 != e1);
    CHECK(e0 != shards(2, 50, dist::DistributedSamplerOptions().seed(8), 0));
    std::vector<std::size_t> sorted = e1[0];
    sorted.insert(sorted.end(), e1[1].begin(), e1[1].end());
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < 50; ++i)
        CHECK(sorted[i] == i);  // still a permutation
}

TEST_CASE("distributed_sampler: a rank not below num_replicas is refused") {
    CHECK_THROWS_WITH_AS(dist::DistributedSampler(2, 2),
                         "distributed_sampler: expected 0 <= rank < num_replicas; got rank=2, "
                         "num_replicas=2",
                         ValueError);
    CHECK_THROWS_AS(dist::DistributedSampler(0, 0), ValueError);
}

TEST_CASE("distributed_sampler: feeds a DataLoader its shard") {
    nn::Dataset<float> d{xt::xarray<float>::from_shape(Shape{6, 1}),
                         xt::xarray<float>::from_shape(Shape{6})};
    for (std::size_t i = 0; i < 6; ++i)
        d.inputs(i, 0) = d.targets(i) = float(i);
    auto sampler = std::make_shared<dist::DistributedSampler>(
        2, 1, dist::DistributedSamplerOptions().shuffle(false));
    nn::DataLoader<float> loader(d, nn::DataLoaderOptions(2).sampler(sampler));
    std::vector<float> seen;
    for (const auto& [x, y] : loader) {
        for (std::size_t i = 0; i < y.size(); ++i)
            seen.push_back(y(i));
    }
    CHECK(seen == std::vector<float>{1, 3, 5});
}

TEST_CASE("dist: rank, size and barrier need MPI running") {
    if (dist::is_initialized()) return;  // (xgrad_tests never starts MPI)
    CHECK_THROWS_WITH_AS(dist::rank(), doctest::Contains("dist::rank: MPI is not initialized"),
                         Error);
    CHECK_THROWS_WITH_AS(dist::size(), doctest::Contains("dist::size: MPI is not initialized"),
                         Error);
    CHECK_THROWS_AS(dist::barrier(), Error);
    CHECK_THROWS_WITH_AS(dist::DistributedSampler(), doctest::Contains("MPI is not initialized"),
                         Error);
}
