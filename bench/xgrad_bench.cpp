// xgrad side of the engine benchmark; torch_bench.cpp runs the same workloads on LibTorch.
// Each workload is one training-style iteration: zero the leaves' gradients, forward, backward.
// Output format: see timing.hpp. Driver: scripts/bench.sh (side-by-side table with ratios).
//
//   ./xgrad_bench [--threads N]        XGRAD_BENCH_SECONDS=S sets the time per workload (default 1)

#include "raw_blas.hpp"
#include "timing.hpp"

#include <xgrad.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

// J = 3(a + b·c) on scalars: the lecture's graph, three ops, pure per-op overhead.
void scalar_graph() {
    auto a = scalar(5.0f, true), b = scalar(3.0f, true), c = scalar(2.0f, true);
    auto step = [&] {
        a.zero_grad();
        b.zero_grad();
        c.zero_grad();
        auto J = 3.0f * (a + b * c);
        J.backward();
    };
    bench::print_row("scalar_J_fwd_bwd", bench::measure(step));
    step();
    std::printf("# check scalar_J: dJ/da=%g dJ/db=%g dJ/dc=%g (expect 3 6 9)\n", a.grad().item(),
                b.grad().item(), c.grad().item());
}

// 1000 elementwise ops on a one-element tensor: x ← x·1.0001, x ← x + 0.0001, alternating.
void chain() {
    auto x0 = full<float>({1}, 1.0f, true);
    auto step = [&] {
        x0.zero_grad();
        auto x = x0;
        for (int i = 0; i < 500; ++i) {
            x = x * 1.0001f;
            x = x + 0.0001f;
        }
        x.backward();
    };
    bench::print_row("chain1000_fwd_bwd", bench::measure(step));
    step();
    std::printf("# check chain1000: dx/dx0=%.6f (expect 1.0001^500 = 1.051268)\n",
                x0.grad().item());
}

// C = A·B on [n, n] floats: forward alone, forward + backward of sum(C), and raw cblas_sgemm
// on the same A and B buffers (into a preallocated C) as the reference for the forward.
void matmul_workloads(int n) {
    manual_seed(0);
    auto A = rand<float>({std::size_t(n), std::size_t(n)}, -1.0f, 1.0f, true);
    auto B = rand<float>({std::size_t(n), std::size_t(n)}, -1.0f, 1.0f, true);
    const std::string tag = "matmul" + std::to_string(n);

    auto fwd_bwd = [&] {
        A.zero_grad();
        B.zero_grad();
        auto loss = sum(matmul(A, B));
        loss.backward();
    };
    bench::print_row((tag + "_fwd_bwd").c_str(), bench::measure(fwd_bwd));

    auto fwd = [&] {
        auto C = matmul(A, B);  // recorded (A, B require grad), as in training
    };
    bench::print_row((tag + "_fwd").c_str(), bench::measure(fwd));

    std::vector<float> c(std::size_t(n) * std::size_t(n));
    auto raw = [&] { bench::raw_sgemm(n, n, n, A.value().data(), B.value().data(), c.data()); };
    bench::print_row(("sgemm" + std::to_string(n) + "_raw").c_str(), bench::measure(raw));

    // Same numbers from both paths (sanity check of the benchmark, not a test).
    auto C = matmul(A, B);
    float max_diff = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
        const float d = C.value().data()[i] - c[i];
        max_diff = std::max(max_diff, d < 0 ? -d : d);
    }
    std::printf("# check %s: max |matmul - sgemm| = %g\n", tag.c_str(), double(max_diff));
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = bench::thread_count(argc, argv);
    bench::blas_set_threads(threads);
    std::printf("# side: xgrad\n# threads: %d\n# blas: %s\n", threads,
                bench::blas_description().c_str());
    bench::print_header();
    scalar_graph();
    chain();
    matmul_workloads(256);
    matmul_workloads(1024);
    return 0;
}
