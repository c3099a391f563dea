#pragma once

// Raw OpenBLAS calls for xgrad_bench. Declared here without <cblas.h>: xtensor-blas declares its
// own CBLAS prototypes, which clash with <cblas.h>, so <cblas.h> lives alone in raw_blas.cpp.

#include <string>

namespace bench {

/// Row-major C[m, n] = A[m, k] · B[k, n] with cblas_sgemm (alpha 1, beta 0).
void raw_sgemm(int m, int n, int k, const float* a, const float* b, float* c);

/// The OpenBLAS actually loaded: config string, threading model (pthread/openmp/sequential)
/// and its thread count.
std::string blas_description();

/// openblas_set_num_threads(n).
void blas_set_threads(int n);

}  // namespace bench
