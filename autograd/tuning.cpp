#include "autograd/tuning.hpp"

namespace xgrad::tuning {

std::size_t& batch_threads() {
    static std::size_t threads = 0;
    return threads;
}

double& batch_parallel_min_work() {
    // Measured in docs/convolution.md ("Earlier measurements"): splitting pays from about 10⁶
    // multiply-adds.
    static double work = 1e6;
    return work;
}

std::size_t& conv_workspace_limit() {
    // Measured in docs/convolution.md ("Speed").
    static std::size_t limit = std::size_t(1) << 18;
    return limit;
}

ConvPath& conv_path() {
    static ConvPath path = ConvPath::automatic;
    return path;
}

}  // namespace xgrad::tuning
