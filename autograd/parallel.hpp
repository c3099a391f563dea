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
/// chunks one after another). BLAS runs on one thread inside, even with one worker (Note [BLAS
/// threads]). Rethrows a worker's error. Which worker runs which chunk varies from call to call:
/// a result that sums over chunks must not depend on it (see reduction_chunks).
void parallel_batch(std::size_t n, std::size_t workers, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t, std::size_t)>& body);

/// How many partial sums a reduction over a batch of n items keeps, each `partial_size`
/// elements (Note [fixed reduction order]): min(n, 8), fewer when they would exceed 2^24
/// elements, at least 1. It depends on n and the size alone, never on the number of workers.
std::size_t reduction_chunks(std::size_t n, std::size_t partial_size);

/// Runs body(worker, chunk, begin, end) for each of the `chunks` fixed ranges of [0, n), chunk
/// c = [c·n/chunks, (c + 1)·n/chunks), on up to `workers` threads (parallel_batch). A chunk is
/// always one body call, whichever worker runs it, so a partial sum per chunk, added in chunk
/// order, gives the same bits with any number of workers.
void parallel_chunks(
    std::size_t n, std::size_t chunks, std::size_t workers,
    const std::function<void(std::size_t, std::size_t, std::size_t, std::size_t)>& body);

/// The thread budget the batch workers follow when tuning::batch_threads() is 0: OpenBLAS's
/// thread count as the program set it, also while parallel_batch holds BLAS at one thread.
std::size_t blas_thread_budget();

/// Held around a BLAS call (detail::gemm): outside a batch region, waits while another thread's
/// region holds BLAS at one thread, so the product runs at the program's thread count; inside
/// one (the workers' own products), does nothing: they run on one thread (Note [BLAS threads]).
class BlasProduct {
public:
    BlasProduct();
    ~BlasProduct();
    BlasProduct(const BlasProduct&) = delete;
    BlasProduct& operator=(const BlasProduct&) = delete;

private:
    bool entered_;
};

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
