// libFuzzer target: load_npy on arbitrary bytes, read as float and as double (the two paths
// through the dtype conversion). An xgrad::Error is the expected outcome of a bad file; any
// other exception, a crash, a sanitizer report, a hang or an allocation past libFuzzer's limit
// is a finding. See docs/reliability.md, "Files".

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "fuzz_input.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = fuzz::write_input("load_npy", data, size);
    try {
        const xt::xarray<float> f = xgrad::load_npy<float>(path);
        const xt::xarray<double> d = xgrad::load_npy<double>(path);
        if (f.shape() != d.shape()) __builtin_trap();
    } catch (const xgrad::Error&) {
    }
    return 0;
}
