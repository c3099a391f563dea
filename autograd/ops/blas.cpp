// See the note in blas.hpp: this file must not include any xtensor-blas header.
#include "autograd/ops/blas.hpp"

#include "autograd/errors.hpp"
#include "autograd/parallel.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <type_traits>

namespace xgrad {
namespace detail {
namespace {

// CBLAS takes int sizes (OpenBLAS's `blasint` is int unless built for 64-bit integers).
int to_int(std::size_t v) {
    if (v > static_cast<std::size_t>(INT_MAX)) {
        throw ValueError(
            fmt::format("gemm: size {} exceeds the BLAS integer range ({})", v, INT_MAX));
    }
    return static_cast<int>(v);
}

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        // op(A)·op(B) is all zeros; BLAS would reject lda = 0, so scale C here.
        for (std::size_t i = 0; i < m; ++i) {
            T* row = c + i * ldc;
            if (beta == T(0)) {
                std::fill(row, row + n, T(0));  // NOTE: beta = 0 overwrites, even NaN
            } else {
                for (std::size_t j = 0; j < n; ++j) {
                    row[j] *= beta;
                }
            }
        }
        return;
    }
    const auto ta = trans_a ? CblasTrans : CblasNoTrans;
    const auto tb = trans_b ? CblasTrans : CblasNoTrans;
    const BlasProduct product;  // at the program's BLAS thread count (Note [BLAS threads])
    if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, ta, tb, to_int(m), to_int(n), to_int(k), alpha, a, to_int(lda),
                    b, to_int(ldb), beta, c, to_int(ldc));
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, to_int(m), to_int(n), to_int(k), alpha, a, to_int(lda),
                    b, to_int(ldb), beta, c, to_int(ldc));
    }
}

template void gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*,
                          std::size_t, const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*,
                           std::size_t, const double*, std::size_t, double, double*, std::size_t);

}  // namespace detail
}  // namespace xgrad
