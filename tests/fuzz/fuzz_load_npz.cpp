// libFuzzer target: load_npz on arbitrary bytes, every entry and then the entry "w" by name. An
// xgrad::Error is the expected outcome of a bad file; any other exception, a crash, a sanitizer
// report, a hang or an allocation past libFuzzer's limit is a finding. See docs/reliability.md,
// "Files".

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "fuzz_input.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = fuzz::write_input("load_npz", data, size);
    try {
        xgrad::load_npz<float>(path);
    } catch (const xgrad::Error&) {
    }
    try {
        xgrad::load_npz<double>(path, "w");
    } catch (const xgrad::Error&) {
    }
    return 0;
}
