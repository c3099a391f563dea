#pragma once

// The one raw BLAS entry point of the library. <cblas.h> is included only in blas.cpp:
// xtensor-blas declares its own CBLAS prototypes, and the two clash in one translation unit.

#include <cstddef>

namespace xgrad {
namespace detail {

/// C = alpha·op(A)·op(B) + beta·C on row-major buffers (cblas_sgemm/cblas_dgemm), where op(X) is
/// X or Xᵀ by its flag. op(A) is [m, k], op(B) is [k, n], C is [m, n]; lda, ldb, ldc are the row
/// strides of the stored matrices (A stored [m, k] has lda ≥ k, stored [k, m] has lda ≥ m).
/// Empty products are handled here (k = 0 scales C by beta) so callers need no special case.
/// T is float or double.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc);

}  // namespace detail
}  // namespace xgrad
