#include "autograd/random.hpp"

#include <doctest/doctest.h>
#include <xtensor/xreducer.hpp>
#include <xtensor/xsort.hpp>

using namespace xgrad;

TEST_CASE("manual_seed: the same seed gives the same draws") {
    manual_seed(42);
    auto a = randn<double>({100});
    manual_seed(42);
    auto b = randn<double>({100});
    CHECK(a.value() == b.value());
}

TEST_CASE("rand: values stay between lo and hi and fill the range") {
    manual_seed(1);
    auto r = rand<double>({10000}, -2.0, 3.0);
    CHECK(xt::amin(r.value())() >= -2.0);
    CHECK(xt::amax(r.value())() < 3.0);
    CHECK(xt::mean(r.value())() == doctest::Approx(0.5).epsilon(0.05));  // (−2 + 3) / 2
}

TEST_CASE("rand: an empty range is a ValueError") {
    CHECK_THROWS_AS(rand<double>({2}, 1.0, 1.0), ValueError);
}
