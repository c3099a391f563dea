// xgrad's two convolution paths side by side (Note [direct conv] in autograd/ops/conv_direct.cpp):
// each of the three products of a conv layer (forward, input gradient, weight gradient) at the
// bench's layer shapes, with im2col + OpenBLAS and with the direct kernels. Output format: see
// timing.hpp, plus a GFLOP/s column.
//
//   ./conv_paths [--threads N]      (OPENBLAS_NUM_THREADS / --threads: workers of the batch)

#include "timing.hpp"

#include <xgrad.hpp>  // tuning::conv_path, tuning::batch_threads (autograd/tuning.hpp)

#include <cstdio>
#include <string>

using namespace xgrad;

namespace {

void print_row(const std::string& name, const bench::Stats& st, double flop) {
    std::printf("%s\t%.3f\t%.3f\t%.3f\t%zu\t%zu\t%.1f\n", name.c_str(), st.median_us, st.p10_us,
                st.p90_us, st.samples, st.iters, flop / st.median_us / 1e3);
    std::fflush(stdout);
}

// A batch of 64 images, c → o channels, h×h, k×k kernel, padding `pad`.
void layer(const char* tag, std::size_t c, std::size_t h, std::size_t o, std::size_t k,
           std::size_t pad) {
    NoGradGuard no_grad;
    manual_seed(1);
    const std::size_t n = 64;
    const auto x = randn<float>({n, c, h, h});
    const auto w = randn<float>({o, c, k, k});
    const std::size_t oh = h + 2 * pad - k + 1;
    const auto g = randn<float>({n, o, oh, oh});
    const auto opt = ConvOptions().padding(pad);
    const double flop = 2.0 * double(n * o * c * k * k * oh * oh);
    for (const auto path : {tuning::ConvPath::im2col, tuning::ConvPath::direct}) {
        tuning::conv_path() = path;
        const std::string p = path == tuning::ConvPath::direct ? "direct" : "im2col";
        const std::string name = std::string(tag) + "_";
        print_row(name + "fwd_" + p, bench::measure([&] { conv2d(x, w, Tensor<float>(), opt); }),
                  flop);
        print_row(name + "dx_" + p,
                  bench::measure([&] { conv_transpose2d(g, w, Tensor<float>(), opt); }), flop);
        print_row(name + "dw_" + p, bench::measure([&] {
                      conv2d_weight(x, g, {k, k}, opt);
                  }),
                  flop);
    }
    tuning::conv_path() = tuning::ConvPath::automatic;
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = bench::thread_count(argc, argv);
    tuning::batch_threads() = static_cast<std::size_t>(threads);
    std::printf("# side: xgrad conv paths\n# threads: %d\n", threads);
    std::printf("workload\tmedian_us\tp10_us\tp90_us\tsamples\titers\tgflops\n");
    layer("conv1", 1, 28, 32, 5, 2);  // the bench's conv workloads (xgrad_bench --only conv)
    layer("conv2", 32, 14, 64, 5, 2);
    layer("conv3x3", 64, 16, 64, 3, 1);
    layer("lenet1", 1, 28, 6, 5, 2);  // LeNet-5's two convolutions
    layer("lenet2", 6, 14, 16, 5, 0);
    return 0;
}
