#include "autograd/tensor.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#ifdef __GLIBC__
#include <malloc.h>
#endif

using namespace xgrad;

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
