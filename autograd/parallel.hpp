#pragma once

// The batch workers: a batch's images (or planes) shared between the cores on a pool of
// persistent threads (Note [batch threads] in parallel.cpp). The convolutions (im2col and
// direct paths) and pooling split their batches with it. Internal: the knobs that steer it are
// in autograd/tuning.hpp.

#include <cstddef>
#include <functional>
#include <vector>

namespace xgrad::detail {

/// How many workers parallel_batch will use for a batch of n items and `work` units of work:
/// tuning::batch_threads (or OpenBLAS's thread count) capped at n, and 1 below
/// tuning::batch_parallel_min_work.
std::size_t batch_workers(std::size_t n, double work);

/// Runs body(worker, begin, end) over [0, n) in chunks of `grain` items, handed out to up to
/// `workers` threads (the caller is worker 0; worker ids are < workers and each runs its
/// chunks one after another); BLAS runs single-threaded meanwhile. Rethrows a worker's error.
void parallel_batch(std::size_t n, std::size_t workers, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t, std::size_t)>& body);

/// The scratch buffers of the batch workers' kernels (the convolutions), one of each per thread:
/// a helper thread of the batch pool keeps its own between calls (a fresh multi-MB allocation
/// per call costs page faults on every conv).
enum class Scratch { padded_source, block_outputs, im2col_plane };

/// The calling thread's buffer of kind `K`, grown to at least `size` elements.
template <class T, Scratch K>
T* thread_buffer(std::size_t size) {
    thread_local std::vector<T> buffer;
    if (buffer.size() < size) buffer.resize(size);
    return buffer.data();
}

}  // namespace xgrad::detail
