#include "autograd/parallel.hpp"

#include "autograd/tuning.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

// OpenBLAS's thread controls, declared here: <cblas.h> is included only by blas.cpp (see
// blas.hpp), and this file needs only these two.
extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);
}

namespace xgrad::detail {

// Note [batch threads]: a convolution over a batch is n independent image problems (the weight
// gradient sums n of them), so its images are shared between the cores, each worker with its
// own im2col buffer and single-threaded gemms on cache-sized matrices. That beats handing the
// whole batch to multi-threaded BLAS, whose im2col/col2im passes stay serial
// (docs/convolution.md, "Speed"). Pooling shares its planes the same way.
// - Budget: OpenBLAS's own thread count (OPENBLAS_NUM_THREADS=1 keeps xgrad on one core); BLAS
//   is set to one thread while the workers run and restored after (Note [BLAS threads]).
// - Helpers are persistent threads (starting one costs tens of µs). Work is handed out in
//   chunks from an atomic counter, and the caller takes chunks too: when another process holds
//   the other core, the caller simply does more of the work and never waits for a helper that
//   has not started (it waits only for chunks a helper has already claimed).
// - Small problems stay on the calling thread (tuning::batch_parallel_min_work).
// - One op at a time uses the helpers; a second thread calling xgrad meanwhile runs serially.
//   Results do not depend on which: a sum over the batch adds fixed chunks in a fixed order
//   (Note [fixed reduction order]).
namespace {

// > 0 while the thread runs inside a batch region; always on the pool's helpers, which run
// region bodies only (Note [BLAS threads]).
thread_local int region_depth = 0;

class BatchPool {
public:
    using Body = std::function<void(std::size_t, std::size_t, std::size_t)>;

    ~BatchPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_)
            t.join();
    }

    // Runs body over [0, n) in chunks of `grain` on up to `workers` threads; false when the
    // pool is busy with another caller (the caller then runs serially).
    bool run(std::size_t n, std::size_t workers, std::size_t grain, const Body& body) {
        if (busy_.exchange(true)) return false;
        struct Release {
            std::atomic<bool>& flag;
            ~Release() { flag.store(false); }
        } release{busy_};
        while (threads_.size() + 1 < workers) {
            const std::size_t id = threads_.size() + 1;
            threads_.emplace_back([this, id] { helper(id); });
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            body_ = &body;
            n_ = n;
            grain_ = grain;
            next_.store(0);
            helpers_ = workers - 1;
            error_ = nullptr;
            open_ = true;
            ++generation_;
        }
        wake_.notify_all();
        std::exception_ptr mine;
        try {
            drain(0);
        } catch (...) {
            mine = std::current_exception();
            next_.store(n);  // stop handing out chunks
        }
        std::unique_lock<std::mutex> lock(mutex_);
        open_ = false;  // helpers that have not started yet will not start
        done_.wait(lock, [this] { return in_flight_ == 0; });
        body_ = nullptr;
        if (mine) std::rethrow_exception(mine);
        if (error_) std::rethrow_exception(error_);
        return true;
    }

private:
    void drain(std::size_t worker) {
        for (;;) {
            const std::size_t begin = next_.fetch_add(grain_);
            if (begin >= n_) return;
            (*body_)(worker, begin, std::min(begin + grain_, n_));
        }
    }

    void helper(std::size_t id) {
        region_depth = 1;  // runs region bodies only, inside the caller's region
        std::size_t seen = 0;
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock,
                       [&] { return stop_ || (open_ && generation_ != seen && id <= helpers_); });
            if (stop_) return;
            seen = generation_;
            ++in_flight_;
            lock.unlock();
            try {
                drain(id);
            } catch (...) {
                next_.store(n_);
                std::lock_guard<std::mutex> guard(mutex_);
                if (!error_) error_ = std::current_exception();
            }
            lock.lock();
            if (--in_flight_ == 0) done_.notify_all();
        }
    }

    std::atomic<bool> busy_{false};  // one caller at a time
    std::mutex mutex_;               // guards the job fields below
    std::condition_variable wake_, done_;
    std::vector<std::thread> threads_;
    const Body* body_ = nullptr;
    std::size_t n_ = 0, grain_ = 1, helpers_ = 0, in_flight_ = 0, generation_ = 0;
    std::atomic<std::size_t> next_{0};
    std::exception_ptr error_;
    bool open_ = false, stop_ = false;
};

BatchPool& batch_pool() {
    static BatchPool pool;
    return pool;
}

// Note [BLAS threads]: OpenBLAS's thread count is one setting for the whole process
// (openblas_set_num_threads), and a product's bits depend on it: on several threads OpenBLAS 0.3.21
// cuts the inner dimension into other blocks than on one, so with its AVX-512 kernels a product
// with k = 400 or 784 differs in the last bits between 1 and 2 threads, and with its AVX2 kernels
// nearly every product does (bench/blas_threads; docs/reliability.md, "Threads and
// reproducibility"). The batch workers want BLAS on one thread while they run, and every other
// product wants the program's count. Saving, lowering and restoring the count around each region,
// without a lock, went wrong twice over: two threads could interleave as A saves 2, sets 1; B saves
// 1; A restores 2; B restores 1, leaving BLAS on one thread for the rest of the process; and a
// product of another thread that ran meanwhile ran on one thread, so its bits depended on timing.
// Now every use of BLAS holds one of two modes, under one mutex:
// - `single`: a batch region (parallel_batch, on the calling thread and its helpers). The first
//   holder saves the count and sets 1, the last restores it.
// - `shared`: a product outside any region (detail::gemm), at the program's count.
// Holders of the same mode share it; a thread that wants the other mode waits until the current
// holders leave, and newcomers queue behind it. So a product runs at the program's count and a
// region's products on one thread, whatever other threads do. A program that calls
// openblas_set_num_threads itself should do so while no xgrad op runs.
class BlasThreads {
public:
    void enter(bool single) {
        std::unique_lock<std::mutex> lock(mutex_);
        ++waiting_[single];
        free_.wait(lock,
                   [&] { return holders_ == 0 || (single_ == single && waiting_[!single] == 0); });
        --waiting_[single];
        if (holders_++ == 0) {
            single_ = single;
            saved_ = openblas_get_num_threads();
            if (single) openblas_set_num_threads(1);
        }
    }
    void leave() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--holders_ > 0) return;
        if (single_) openblas_set_num_threads(saved_);
        free_.notify_all();
    }
    // The program's count, also while a region holds BLAS at one thread.
    int budget() {
        std::lock_guard<std::mutex> lock(mutex_);
        return holders_ > 0 && single_ ? saved_ : openblas_get_num_threads();
    }

private:
    std::mutex mutex_;
    std::condition_variable free_;
    int holders_ = 0, saved_ = 1;
    int waiting_[2] = {0, 0};  // threads waiting for shared, single
    bool single_ = false;
};

BlasThreads& blas_threads() {
    static BlasThreads threads;
    return threads;
}

// A batch region on the calling thread: BLAS on one thread for its duration (nested: nothing).
class BatchRegion {
public:
    BatchRegion() {
        if (region_depth++ == 0) blas_threads().enter(true);
    }
    ~BatchRegion() {
        if (--region_depth == 0) blas_threads().leave();
    }
    BatchRegion(const BatchRegion&) = delete;
    BatchRegion& operator=(const BatchRegion&) = delete;
};

}  // namespace

std::size_t blas_thread_budget() {
    return static_cast<std::size_t>(std::max(blas_threads().budget(), 1));
}

BlasProduct::BlasProduct() : entered_(region_depth == 0) {
    if (entered_) blas_threads().enter(false);
}

BlasProduct::~BlasProduct() {
    if (entered_) blas_threads().leave();
}

std::size_t batch_workers(std::size_t n, double work) {
    std::size_t budget = tuning::batch_threads();
    if (budget == 0) budget = blas_thread_budget();
    if (budget <= 1 || n < 2 || work < tuning::batch_parallel_min_work()) return 1;
    return std::min(budget, n);
}

void parallel_batch(std::size_t n, std::size_t workers, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t, std::size_t)>& body) {
    grain = std::max<std::size_t>(grain, 1);
    const BatchRegion region;  // BLAS on one thread, with any number of workers
    if (workers > 1 && n > grain && batch_pool().run(n, workers, grain, body)) return;
    for (std::size_t begin = 0; begin < n; begin += grain)
        body(0, begin, std::min(begin + grain, n));
}

// Note [fixed reduction order]: a sum over the batch (a convolution's weight gradient) used to
// keep one partial sum per worker. Which images a worker takes depends on timing, so the partial
// sums, and the last bits of their total, changed from run to run; the same seeded training
// then drifted apart with 2 threads. The batch is now cut into chunks that depend on n alone
// (and a memory cap that depends on the size alone), each chunk's images are summed in order
// into that chunk's own buffer by whichever worker takes it, and the chunk sums are added in
// chunk order. The result is the same whatever the number of workers, 1 included, and however
// the chunks were shared out. Eight chunks keep 2-8 cores busy; their sum costs 8 partial
// buffers of the weight's size, small next to the products (docs/reliability.md, "Threads and
// reproducibility").
std::size_t reduction_chunks(std::size_t n, std::size_t partial_size) {
    constexpr std::size_t kChunks = 8, kMaxElements = std::size_t(1) << 24;
    const std::size_t fit = kMaxElements / std::max<std::size_t>(partial_size, 1);
    return std::max<std::size_t>(std::min({n, kChunks, fit}), 1);
}

void parallel_chunks(
    std::size_t n, std::size_t chunks, std::size_t workers,
    const std::function<void(std::size_t, std::size_t, std::size_t, std::size_t)>& body) {
    chunks = std::max<std::size_t>(chunks, 1);
    parallel_batch(chunks, workers, 1, [&](std::size_t wk, std::size_t c0, std::size_t c1) {
        for (std::size_t c = c0; c < c1; ++c)
            body(wk, c, c * n / chunks, (c + 1) * n / chunks);
    });
}

}  // namespace xgrad::detail
