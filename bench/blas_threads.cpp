// Does a product's result depend on OpenBLAS's thread count? For inner dimensions k from 16 to
// 2048 and three sizes of [m, n] (m×k · k×n, both transposes, beta 0 and 1), cblas_sgemm runs on
// 1 thread and on 2, and the program prints, per k, how many of the 24 products differ in any
// bit (docs/reliability.md, "Threads and reproducibility", Note [BLAS threads] in
// autograd/parallel.cpp). OPENBLAS_CORETYPE=Haswell (or Zen) selects OpenBLAS's AVX2 kernels
// on an AVX-512 machine.
//
//   build-bench/bench/blas_threads

#include <cblas.h>

#include <cstdio>
#include <random>
#include <vector>

int main() {
    std::mt19937 gen(1);
    std::normal_distribution<float> normal;
    std::printf("OpenBLAS %s, core %s\n", openblas_get_config(), openblas_get_corename());
    std::printf("%6s %s\n", "k", "products differing between 1 and 2 threads (of 24)");
    for (int k : {16, 64, 128, 200, 256, 300, 384, 400, 512, 784, 1024, 2048}) {
        int differ = 0;
        for (int size : {64, 300, 1000}) {
            const int m = size, n = size + 17;  // n not a multiple of a kernel's width
            std::vector<float> a(std::size_t(m) * k), b(std::size_t(k) * n);
            for (auto& v : a)
                v = normal(gen);
            for (auto& v : b)
                v = normal(gen);
            for (int t = 0; t < 4; ++t) {
                const bool ta = t & 1, tb = t & 2;
                for (float beta : {0.0f, 1.0f}) {
                    std::vector<float> c[2];
                    for (int threads : {1, 2}) {
                        auto& out = c[threads - 1];
                        out.assign(std::size_t(m) * n, 0.5f);
                        openblas_set_num_threads(threads);
                        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                                    tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a.data(),
                                    ta ? m : k, b.data(), tb ? k : n, beta, out.data(), n);
                    }
                    differ += c[0] != c[1] ? 1 : 0;
                }
            }
        }
        std::printf("%6d %d\n", k, differ);
    }
}
