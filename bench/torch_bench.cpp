// LibTorch side of the engine benchmark: the same workloads as xgrad_bench.cpp, written the way a
// LibTorch user would. Run it with Debian's OpenMP OpenBLAS (LD_LIBRARY_PATH=
// /usr/lib/x86_64-linux-gnu/openblas-openmp), LibTorch's best configuration (DESIGN.md, Speed).
//
//   ./torch_bench [--threads N]        XGRAD_BENCH_SECONDS=S sets the time per workload (default 1)

#include "timing.hpp"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <dlfcn.h>

#include <cstdio>
#include <sstream>
#include <string>

namespace {

torch::TensorOptions leaf() {
    return torch::TensorOptions().dtype(torch::kFloat).requires_grad(true);
}

// Gradients are reset to "none" between iterations, as xgrad's zero_grad() does
// (optimizer.zero_grad(set_to_none=true)).
void zero_grad(torch::Tensor& t) {
    t.mutable_grad().reset();
}

void scalar_graph() {
    auto a = torch::scalar_tensor(5.0, leaf());
    auto b = torch::scalar_tensor(3.0, leaf());
    auto c = torch::scalar_tensor(2.0, leaf());
    auto step = [&] {
        zero_grad(a);
        zero_grad(b);
        zero_grad(c);
        auto J = 3.0 * (a + b * c);
        J.backward();
    };
    bench::print_row("scalar_J_fwd_bwd", bench::measure(step));
    step();
    std::printf("# check scalar_J: dJ/da=%g dJ/db=%g dJ/dc=%g (expect 3 6 9)\n",
                a.grad().item<float>(), b.grad().item<float>(), c.grad().item<float>());
}

void chain() {
    auto x0 = torch::full({1}, 1.0, leaf());
    auto step = [&] {
        zero_grad(x0);
        auto x = x0;
        for (int i = 0; i < 500; ++i) {
            x = x * 1.0001;
            x = x + 0.0001;
        }
        x.backward();
    };
    bench::print_row("chain1000_fwd_bwd", bench::measure(step));
    step();
    std::printf("# check chain1000: dx/dx0=%.6f (expect 1.0001^500 = 1.051268)\n",
                x0.grad().item<float>());
}

void matmul_workloads(int n) {
    torch::manual_seed(0);
    auto A = (torch::rand({n, n}) * 2 - 1).set_requires_grad(true);
    auto B = (torch::rand({n, n}) * 2 - 1).set_requires_grad(true);
    const std::string tag = "matmul" + std::to_string(n);

    auto fwd_bwd = [&] {
        zero_grad(A);
        zero_grad(B);
        auto loss = torch::matmul(A, B).sum();
        loss.backward();
    };
    bench::print_row((tag + "_fwd_bwd").c_str(), bench::measure(fwd_bwd));

    auto fwd = [&] { auto C = torch::matmul(A, B); };
    bench::print_row((tag + "_fwd").c_str(), bench::measure(fwd));
}

// The OpenBLAS LibTorch loaded (through libblas.so.3), looked up at run time so this file does
// not depend on OpenBLAS headers.
std::string blas_description() {
    using get_str = char* (*)();
    using get_int = int (*)();
    auto config = reinterpret_cast<get_str>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
    auto parallel = reinterpret_cast<get_int>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    auto threads = reinterpret_cast<get_int>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    auto core = reinterpret_cast<get_str>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (!config || !parallel || !threads || !core) return "not OpenBLAS (no openblas_* symbols)";
    const int p = parallel();
    const char* model = p == 2 ? "openmp" : p == 1 ? "pthread" : "sequential";
    return std::string(config()) + " | threading=" + model +
           " | threads=" + std::to_string(threads()) + " | core=" + core();
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = bench::thread_count(argc, argv);
    torch::set_num_threads(threads);
    std::printf("# side: libtorch %s\n# threads: %d (torch::get_num_threads() = %d)\n# blas: %s\n",
                TORCH_VERSION, threads, torch::get_num_threads(), blas_description().c_str());
    std::istringstream info(at::get_parallel_info());
    for (std::string line; std::getline(info, line);) {
        if (!line.empty()) std::printf("# torch: %s\n", line.c_str());
    }
    bench::print_header();
    scalar_graph();
    chain();
    matmul_workloads(256);
    matmul_workloads(1024);
    return 0;
}
