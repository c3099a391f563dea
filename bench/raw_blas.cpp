#include "raw_blas.hpp"

#include <cblas.h>

#include <string>

namespace bench {

void raw_sgemm(int m, int n, int k, const float* a, const float* b, float* c) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

std::string blas_description() {
    const int parallel = openblas_get_parallel();  // 0 sequential, 1 pthreads, 2 OpenMP
    const char* model = parallel == 2 ? "openmp" : parallel == 1 ? "pthread" : "sequential";
    return std::string(openblas_get_config()) + " | threading=" + model +
           " | threads=" + std::to_string(openblas_get_num_threads()) +
           " | core=" + openblas_get_corename();
}

void blas_set_threads(int n) {
    openblas_set_num_threads(n);
}

}  // namespace bench
