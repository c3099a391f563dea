// The raw loops behind broadcasting binary ops, sums and broadcast copies (autograd/ops/kernels)
// against xtensor's own broadcasting and reducers, over random shapes of rank 0-5 with every
// pattern of broadcast axes (merged runs, strided runs, scalar operands, empty tensors).

#include "autograd/ops/kernels.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xreducer.hpp>

#include <random>

using namespace xgrad;

namespace {
// A shape of rank min_rank..5 with axes of 1..4 (0..4 when `allow_empty`).
Shape random_shape(std::mt19937& rng, std::size_t min_rank, bool allow_empty) {
    Shape s(std::uniform_int_distribution<std::size_t>(min_rank, 5)(rng));
    for (auto& d : s)
        d = std::uniform_int_distribution<std::size_t>(allow_empty ? 0 : 1, 4)(rng);
    return s;
}

// A generator for the shapes, with xtensor's own (for the values) seeded alike.
std::mt19937 seeded(unsigned seed) {
    xt::random::seed(seed);
    return std::mt19937(seed);
}

// A shape that broadcasts to `to`: a suffix of it with some axes set to 1.
Shape broadcastable_to(std::mt19937& rng, const Shape& to) {
    const std::size_t rank = std::uniform_int_distribution<std::size_t>(0, to.size())(rng);
    Shape s(to.end() - static_cast<std::ptrdiff_t>(rank), to.end());
    for (auto& d : s) {
        if (std::bernoulli_distribution(0.4)(rng)) d = 1;
    }
    return s;
}

xt::xarray<double> random_array(const Shape& s) {
    return xt::random::rand<double>(s, -1.0, 1.0);
}
}  // namespace

TEST_CASE("kernels::binary matches xtensor broadcasting on random shapes") {
    std::mt19937 rng = seeded(7);
    for (int trial = 0; trial < 400; ++trial) {
        const Shape out = random_shape(rng, 0, trial % 10 == 0);
        Shape a_shape = broadcastable_to(rng, out), b_shape = broadcastable_to(rng, out);
        if (trial % 2) std::swap(a_shape, b_shape);
        const Shape full = broadcast_shapes("test", a_shape, b_shape);
        const auto a = random_array(a_shape), b = random_array(b_shape);
        xt::xarray<double> got = xt::xarray<double>::from_shape(full);
        kernels::binary(full, a.data(), a_shape, b.data(), b_shape, got.data(),
                        [](double x, double y) { return 3 * x - y; });
        const xt::xarray<double> want = 3 * a - b;
        INFO("a=", shape_str(a_shape), " b=", shape_str(b_shape));
        REQUIRE(got.shape() == want.shape());
        // Equal up to rounding: the compiler may fuse 3x − y into one FMA on either side.
        CHECK(xt::allclose(got, want, 1e-15, 1e-15));
    }
}

TEST_CASE("kernels::broadcast_copy matches xt::broadcast") {
    std::mt19937 rng = seeded(11);
    for (int trial = 0; trial < 300; ++trial) {
        const Shape to = random_shape(rng, 0, trial % 10 == 0);
        const Shape from = broadcastable_to(rng, to);
        const auto x = random_array(from);
        xt::xarray<double> got = xt::xarray<double>::from_shape(to);
        kernels::broadcast_copy(x.data(), from, to, got.data());
        const xt::xarray<double> want = xt::broadcast(x, to);
        INFO("from=", shape_str(from), " to=", shape_str(to));
        CHECK(got == want);
    }
}

TEST_CASE("kernels::sum_axes matches xt::sum for every subset of axes") {
    std::mt19937 rng = seeded(13);
    for (int trial = 0; trial < 300; ++trial) {
        const Shape shape = random_shape(rng, 1, trial % 10 == 0);
        const std::size_t rank = shape.size();
        std::vector<std::size_t> axes;
        for (std::size_t i = 0; i < rank; ++i) {
            if (std::bernoulli_distribution(0.5)(rng)) axes.push_back(i);
        }
        if (axes.empty()) axes.push_back(rank - 1);
        const auto x = random_array(shape);
        Shape kept;
        for (std::size_t i = 0; i < rank; ++i) {
            if (!std::binary_search(axes.begin(), axes.end(), i)) kept.push_back(shape[i]);
        }
        xt::xarray<double> got = xt::xarray<double>::from_shape(kept);
        kernels::sum_axes(x.data(), shape, axes, got.data());
        xt::xarray<double> want = xt::zeros<double>(kept);
        if (x.size() > 0) want = xt::sum(x, axes, xt::evaluation_strategy::immediate);
        INFO("shape=", shape_str(shape), " axes=", fmt::format("{}", fmt::join(axes, ",")));
        REQUIRE(got.shape() == want.shape());
        CHECK(xt::allclose(got, want, 1e-12, 1e-12));
    }
}

TEST_CASE("kernels::sum_axes keeps float error small on long sums") {
    // 2^20 copies of 0.1f: a single running float sum drifts by ~1%; blocked sums stay close.
    const std::size_t n = std::size_t(1) << 20;
    xt::xarray<float> x = xt::xarray<float>::from_shape({n});
    x.fill(0.1f);
    float out = 0;
    kernels::sum_axes(x.data(), x.shape(), {0}, &out);
    CHECK(std::abs(double(out) - double(0.1f) * double(n)) / (0.1 * double(n)) < 1e-6);
}
