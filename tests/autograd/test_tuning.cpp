#include "autograd/tuning.hpp"

#include <doctest/doctest.h>

#include <cstddef>

using namespace xgrad;

TEST_CASE("tuning: the defaults are the documented ones") {
    CHECK(tuning::batch_threads() == 0);  // follow OpenBLAS's thread count
    CHECK(tuning::batch_parallel_min_work() == 1e6);
    CHECK(tuning::conv_workspace_limit() == std::size_t(1) << 18);
    CHECK(tuning::conv_path() == tuning::ConvPath::automatic);
}

TEST_CASE("tuning: Override sets a knob for its scope and restores the value before it") {
    tuning::batch_threads() = 5;
    {
        const tuning::Override outer(tuning::batch_threads(), 2);
        CHECK(tuning::batch_threads() == 2);
        {
            const tuning::Override inner(tuning::batch_threads(), 3);
            CHECK(tuning::batch_threads() == 3);
        }
        CHECK(tuning::batch_threads() == 2);
    }
    CHECK(tuning::batch_threads() == 5);
    tuning::batch_threads() = 0;
    {
        const tuning::Override path(tuning::conv_path(), tuning::ConvPath::direct);
        CHECK(tuning::conv_path() == tuning::ConvPath::direct);
    }
    CHECK(tuning::conv_path() == tuning::ConvPath::automatic);
}
