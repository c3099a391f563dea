#include "autograd/ops/window.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>

using namespace xgrad;

TEST_CASE("valid_range: exactly the outputs whose tap reads inside the input") {
    for (long off = -6; off <= 6; ++off)
        for (std::size_t s = 1; s <= 3; ++s)
            for (std::size_t in = 0; in <= 5; ++in)
                for (std::size_t out = 0; out <= 5; ++out) {
                    INFO("off ", off, ", stride ", s, ", in ", in, ", out ", out);
                    const auto [lo, hi] = detail::valid_range(off, s, in, out);
                    REQUIRE((lo <= hi && hi <= out));
                    for (std::size_t j = 0; j < out; ++j) {
                        const long at = long(j * s) + off;  // the input column output j reads
                        CHECK((lo <= j && j < hi) == (at >= 0 && at < long(in)));
                    }
                }
}

TEST_CASE("ConvGeometry: the attributes the tape lists") {
    detail::ConvGeometry g;
    g.sh = 2, g.sw = 1, g.ph = 1, g.pw = 0, g.dh = 1, g.dw = 3, g.groups = 4;
    CHECK(g.attributes() == "stride=[2, 1], padding=[1, 0], dilation=[1, 3], groups=4");
}
