#include "autograd/random.hpp"

#include <doctest/doctest.h>
#include <xtensor/xreducer.hpp>
#include <xtensor/xsort.hpp>

#include <atomic>
#include <thread>

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

TEST_CASE("manual_seed: each thread has its own generator, seeded in that thread") {
    // Two threads seed 9 and draw at once; each gets the whole sequence of seed 9 (with one
    // shared generator, their draws would interleave).
    manual_seed(9);
    const auto expected = randn<double>({20000}).value();
    std::atomic<int> ready{0};
    xt::xarray<double> got[2];
    auto job = [&](int t) {
        manual_seed(9);
        ++ready;
        while (ready < 2)
            std::this_thread::yield();  // start drawing together
        got[t] = randn<double>({20000}).value();
    };
    std::thread a(job, 0), b(job, 1);
    a.join();
    b.join();
    CHECK(got[0] == expected);
    CHECK(got[1] == expected);
}

TEST_CASE("manual_seed: a thread that draws without seeding starts from the last seed") {
    manual_seed(21);
    const auto first = randn<double>({5}).value();
    const auto next = randn<double>({5}).value();  // main's generator has moved on
    xt::xarray<double> in_thread;
    std::thread([&] { in_thread = randn<double>({5}).value(); }).join();
    CHECK(in_thread == first);
    CHECK(in_thread != next);
}
