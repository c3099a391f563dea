#include "autograd/tensor.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#ifdef __GLIBC__
#include <malloc.h>
#endif

using namespace xgrad;

TEST_CASE("Tensor: requires_grad_ changes a leaf's flag and refuses to clear a computed one's") {
    Tensor<double> a(xt::xarray<double>{1, 2}), b(xt::xarray<double>{3, 4}, true);
    CHECK(&a.requires_grad_() == &a);
    CHECK(a.requires_grad());
    a.requires_grad_(false);  // a frozen leaf: backward gives it no gradient
    CHECK_FALSE(a.requires_grad());
    sum(a * b).backward();
    CHECK_FALSE(a.grad().defined());
    CHECK(b.grad().value() == xt::xarray<double>{1, 2});  // d(a·b)/db = a
    Tensor<double> c = a * b;                             // computed from b: requires grad
    CHECK_THROWS_WITH_AS(c.requires_grad_(false),
                         doctest::Contains("only leaves can stop requiring grad (use detach())"),
                         Error);
    CHECK(c.requires_grad());  // unchanged
}

// Under AddressSanitizer (XGRAD_TEST_ASAN, testing.hpp) malloc is not glibc's: the test
// below only runs in normal builds.
#if defined(__GLIBC__) && !defined(XGRAD_TEST_ASAN)
TEST_CASE("malloc_tuned: a freed 16 MiB value stays in the heap for the next one") {
    REQUIRE(malloc_tuned());  // ctest runs without XGRAD_MALLOC_TUNING=0
    const struct mallinfo2 before = mallinfo2();
    struct mallinfo2 during {};
    {
        Tensor<float> big(xt::zeros<float>({std::size_t(4) << 20}));  // 16 MiB
        during = mallinfo2();
    }
    const struct mallinfo2 after = mallinfo2();
    CHECK(during.hblkhd == before.hblkhd);  // not mapped on its own, but
    CHECK(during.uordblks >= before.uordblks + (std::size_t(16) << 20));  // served from the heap
    CHECK(after.arena == during.arena);              // not trimmed: the next step reuses it
    CHECK(after.fordblks >= std::size_t(16) << 20);  // and it is free for reuse
}
#endif
