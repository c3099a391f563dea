#pragma once

// Every global knob of the library, in one place. They change how fast an op runs, never what
// it computes; the defaults are the measured choices (docs/convolution.md, "Speed"). Each is a
// process-wide setting read when an op runs: set them before the work, from one thread, and
// restore them after (Override does both). Tests use them to force every path; the benchmarks
// (bench/conv_paths) to time each one.
//
// Set outside this header:
// - OPENBLAS_NUM_THREADS (environment, or openblas_set_num_threads): BLAS threads, and the
//   default budget of the batch workers (batch_threads below).
// - XGRAD_MALLOC_TUNING=0 (environment): keeps glibc's malloc settings (Note [malloc settings]
//   in autograd/tensor.cpp; malloc_tuned() in autograd/tensor.hpp tells whether they changed).

#include <cstddef>

namespace xgrad::tuning {

/// Threads the batch of a convolution or pooling may be split over (Note [batch threads] in
/// autograd/parallel.cpp); 0, the default, follows OpenBLAS's thread count
/// (OPENBLAS_NUM_THREADS).
std::size_t& batch_threads();

/// Work (multiply-adds, or elements for pooling) below which an op runs on one thread; default
/// 1e6.
double& batch_parallel_min_work();

/// Largest im2col buffer (elements) one worker builds at once; its share of the batch is
/// processed in chunks of images that fit (at least one image). Default 2^18.
std::size_t& conv_workspace_limit();

/// Which kernels run a convolution: `automatic` (the default) picks per op and shape (Note
/// [direct conv] in autograd/ops/conv_direct.cpp); the other two force one path where it
/// applies (tests compare them; benchmarks time them).
enum class ConvPath { automatic, im2col, direct };
ConvPath& conv_path();

/// Sets a knob for a scope and restores its previous value when the scope ends:
/// `tuning::Override threads(tuning::batch_threads(), 2);`
template <class T>
class Override {
public:
    Override(T& knob, T value) : knob_(knob), saved_(knob) { knob_ = value; }
    ~Override() { knob_ = saved_; }
    Override(const Override&) = delete;
    Override& operator=(const Override&) = delete;

private:
    T& knob_;
    T saved_;
};
// The knob's type decides T: `Override(batch_threads(), 2)` is an Override<std::size_t>.
template <class T, class U>
Override(T&, U) -> Override<T>;

}  // namespace xgrad::tuning
