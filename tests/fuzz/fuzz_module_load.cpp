// libFuzzer target: Module::load of arbitrary bytes into a small fixed model, a Sequential of
// Linear(4, 3) and Conv2d(1, 2, 3) (entries 0.weight [3, 4], 0.bias [3], 1.weight [2, 1, 3, 3],
// 1.bias [2]). An xgrad::Error is the expected outcome of a bad file, and then the model must be
// unchanged; any other exception, a changed model, a crash, a sanitizer report, a hang or an
// allocation past libFuzzer's limit is a finding. See docs/reliability.md, "Files".

#include "autograd/errors.hpp"
#include "fuzz_input.hpp"
#include "nn/conv.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace {

xgrad::nn::Sequential<float>& model() {
    static auto* m = [] {
        auto* s = new xgrad::nn::Sequential<float>;  // lives as long as the process
        s->add(xgrad::nn::Linear<float>(4, 3));
        s->add(xgrad::nn::Conv2d<float>(1, 2, 3));
        return s;
    }();
    return *m;
}

bool same(const std::map<std::string, xt::xarray<float>>& a,
          const std::map<std::string, xt::xarray<float>>& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [name, value] : a) {
        const auto it = b.find(name);
        if (it == b.end() || it->second.shape() != value.shape()) return false;
        for (std::size_t i = 0; i < value.size(); ++i) {
            // Bitwise, so NaN equals NaN.
            if (__builtin_memcmp(&value.data()[i], &it->second.data()[i], sizeof(float)) != 0)
                return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::map<std::string, xt::xarray<float>> initial = model().state_dict();
    const std::string& path = fuzz::write_input("module_load", data, size);
    for (const bool strict : {true, false}) {
        try {
            model().load(path, strict);
            model().load_state_dict(initial);  // the next input starts from the same model
        } catch (const xgrad::Error&) {
            if (!same(model().state_dict(), initial)) __builtin_trap();  // a failed load changed it
        }
    }
    return 0;
}
