// libFuzzer target: nn::read_idx on arbitrary bytes (plain or gzip IDX). An xgrad::Error is the
// expected outcome of a bad file; any other exception, a crash, a sanitizer report, a hang or an
// allocation past libFuzzer's limit is a finding. See docs/reliability.md, "Files".

#include "autograd/errors.hpp"
#include "fuzz_input.hpp"
#include "nn/data.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = fuzz::write_input("read_idx", data, size);
    try {
        const xt::xarray<std::uint8_t> a = xgrad::nn::read_idx(path);
        if (a.dimension() == 0) __builtin_trap();  // the reader promises at least one axis
    } catch (const xgrad::Error&) {
    }
    return 0;
}
