#include "dist/dist.hpp"

#include "autograd/errors.hpp"
#include "autograd/shape.hpp"
#include "dist/mpi_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <typeinfo>

namespace xgrad::dist {

namespace {
bool started_here = false;                // init() called MPI_Init_thread (so finalize() finalizes)
std::chrono::milliseconds wait_bound{0};  // set_timeout(); 0: wait forever
bool expired = false;                     // a wait timed out: the group is unusable

// Note [bounded waits]
// MPI waits forever for a process that never joins a collective (it hung, or its program took
// another path and skipped the call); mpirun notices only processes that exit. Under
// set_timeout(t) every collective of dist/ runs in its nonblocking form (MPI_Iallreduce,
// MPI_Ibcast, MPI_Ibarrier; DistributedDataParallel's buckets always do) and detail::wait polls
// it with MPI_Test, yielding the core between polls, until it completes or t has passed; then
// it throws TimeoutError naming the operation and the time waited. The request stays pending
// (MPI cannot cancel a collective), so the group is unusable: finalize() aborts the job rather
// than wait in MPI_Finalize, and DistributedDataParallel's destructor keeps its buffers alive
// (those of broadcast_parameters and allreduce_gradients are their own locals: should the late
// process still join, MPI would write into freed memory, so the program must end).
// Without a timeout the blocking calls are used, as before: nothing changes for that path.

bool finalized() {
    int done = 0;
    MPI_Finalized(&done);
    return done != 0;
}

// FNV-1a: the same on every process (std::hash need not be).
std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

// Sends root's string to every process.
std::string broadcast_string(std::string s, int root, const char* fn) {
    unsigned long long n = s.size();
    detail::bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, fn);
    s.resize(std::size_t(n));
    for (std::size_t at = 0; at < s.size(); at += detail::max_chunk) {
        const int count = int(std::min(detail::max_chunk, s.size() - at));
        detail::bcast(s.data() + at, count, MPI_CHAR, root, fn);
    }
    return s;
}

template <class T>
void bcast_flat(std::vector<T>& buf, int root, const char* fn) {
    for (std::size_t at = 0; at < buf.size(); at += detail::max_chunk) {
        const int count = int(std::min(detail::max_chunk, buf.size() - at));
        detail::bcast(buf.data() + at, count, detail::mpi_type<T>(), root, fn);
    }
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < s.size()) {
        const std::size_t end = s.find('\n', start);
        out.push_back(s.substr(start, end - start));
        start = end == std::string::npos ? s.size() : end + 1;
    }
    return out;
}
}  // namespace

void detail::require_initialized(const char* fn) {
    if (!is_initialized()) {
        throw Error(
            fmt::format("{}: MPI is not initialized; call dist::init(&argc, &argv) (or "
                        "make a dist::Session) first",
                        fn));
    }
}

void detail::wait(MPI_Request& request, const char* fn, const std::string& what) {
    if (wait_bound.count() == 0) {
        check_mpi(MPI_Wait(&request, MPI_STATUS_IGNORE), fn, "MPI_Wait");
        return;
    }
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        int done = 0;
        check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), fn, "MPI_Test");
        if (done) return;
        const auto waited = std::chrono::steady_clock::now() - start;
        if (waited >= wait_bound) {
            expired = true;
            throw TimeoutError(fmt::format(
                "{}: timed out after {:.1f} s waiting for {}: some process did not take part "
                "(it hung, or skipped this collective); dist::set_timeout is {} ms; the process "
                "group cannot be used any more",
                fn, std::chrono::duration<double>(waited).count(), what, wait_bound.count()));
        }
        std::this_thread::yield();  // leave the core to a process that still computes
    }
}

void detail::allreduce(void* buf, int count, MPI_Datatype type, MPI_Op op, const char* fn) {
    if (wait_bound.count() == 0) {
        detail::check_mpi(MPI_Allreduce(MPI_IN_PLACE, buf, count, type, op, MPI_COMM_WORLD), fn,
                          "MPI_Allreduce");
        return;
    }
    MPI_Request request = MPI_REQUEST_NULL;
    detail::check_mpi(MPI_Iallreduce(MPI_IN_PLACE, buf, count, type, op, MPI_COMM_WORLD, &request),
                      fn, "MPI_Iallreduce");
    detail::wait(request, fn, "the allreduce (MPI_Iallreduce)");
}

void detail::bcast(void* buf, int count, MPI_Datatype type, int root, const char* fn) {
    if (wait_bound.count() == 0) {
        detail::check_mpi(MPI_Bcast(buf, count, type, root, MPI_COMM_WORLD), fn, "MPI_Bcast");
        return;
    }
    MPI_Request request = MPI_REQUEST_NULL;
    detail::check_mpi(MPI_Ibcast(buf, count, type, root, MPI_COMM_WORLD, &request), fn,
                      "MPI_Ibcast");
    detail::wait(request, fn, fmt::format("the broadcast from rank {} (MPI_Ibcast)", root));
}

bool detail::timed_out() {
    return expired;
}

void set_timeout(std::chrono::milliseconds bound) {
    if (bound.count() < 0) {
        throw ValueError(fmt::format(
            "dist::set_timeout: expected a timeout >= 0 (0: none); got {} ms", bound.count()));
    }
    wait_bound = bound;
}

std::chrono::milliseconds timeout() {
    return wait_bound;
}

void init(int* argc, char*** argv) {
    int running = 0;
    MPI_Initialized(&running);
    if (finalized()) {
        throw Error("dist::init: MPI was already finalized in this process and cannot start again");
    }
    if (running) return;
    int provided = 0;
    detail::check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "dist::init",
                      "MPI_Init_thread");
    started_here = true;
}

void finalize() {
    if (!started_here || finalized()) return;
    started_here = false;
    // A collective is still pending (Note [bounded waits]): MPI_Finalize would wait for the
    // process that hung.
    if (expired) MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
}

bool is_initialized() {
    int running = 0;
    MPI_Initialized(&running);
    return running && !finalized();
}

bool launched_by_mpirun() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
        if (std::getenv(v) != nullptr) return true;
    }
    return false;
}

int rank() {
    detail::require_initialized("dist::rank");
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int size() {
    detail::require_initialized("dist::size");
    int n = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

void barrier() {
    detail::require_initialized("dist::barrier");
    if (wait_bound.count() == 0) {
        detail::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "dist::barrier", "MPI_Barrier");
        return;
    }
    MPI_Request request = MPI_REQUEST_NULL;
    detail::check_mpi(MPI_Ibarrier(MPI_COMM_WORLD, &request), "dist::barrier", "MPI_Ibarrier");
    detail::wait(request, "dist::barrier", "the other processes (MPI_Ibarrier)");
}

Session::Session(int* argc, char*** argv) : owns_(!is_initialized()) {
    init(argc, argv);
}

Session::~Session() {
    if (owns_) finalize();
}

template <class T>
void broadcast_parameters(nn::Module<T>& module, int root) {
    const char* fn = "broadcast_parameters";
    detail::require_initialized(fn);
    const int me = rank(), n = size();
    if (root < 0 || root >= n) {
        throw ValueError(
            fmt::format("{}: expected 0 <= root < size(); got root={}, size()={}", fn, root, n));
    }
    std::vector<Tensor<T>> tensors;
    std::string desc;
    const char* type = sizeof(T) == sizeof(float) ? "float" : "double";
    for (const auto& [name, t] : module.named_parameters()) {
        desc += fmt::format("parameter '{}' {} {}\n", name, type, shape_str(t.shape()));
        tensors.push_back(t);
    }
    for (const auto& [name, t] : module.named_buffers()) {
        desc += fmt::format("buffer '{}' {} {}\n", name, type, shape_str(t.shape()));
        tensors.push_back(t);
    }

    // Note [structure check]
    // Every process hashes its list of names, types and shapes; the minimum and maximum of the
    // hashes agree when all lists do (one small allreduce in the usual case). Otherwise root
    // sends its list, each process compares, and the first differing rank sends its own, so
    // that every process throws the same message.
    std::uint64_t h[2] = {fnv1a(desc), ~fnv1a(desc)};  // max of h and max of ~h (= ~min of h)
    detail::allreduce(h, 2, MPI_UINT64_T, MPI_MAX, fn);
    if (h[0] != ~h[1]) {
        const std::string theirs = broadcast_string(me == root ? desc : std::string(), root, fn);
        int differs = desc != theirs ? me : n;  // the first differing rank: min over processes
        detail::allreduce(&differs, 1, MPI_INT, MPI_MIN, fn);
        if (differs == n) differs = root;  // (unreachable: equal lists hash equally)
        const std::string other =
            broadcast_string(me == differs ? desc : std::string(), differs, fn);
        const auto a = lines(theirs), b = lines(other);
        std::size_t i = 0;
        while (i < a.size() && i < b.size() && a[i] == b[i])
            ++i;
        const std::string on_root = i < a.size() ? a[i] : "nothing (fewer entries)";
        const std::string on_other = i < b.size() ? b[i] : "nothing (fewer entries)";
        throw ValueError(fmt::format(
            "{}: the model on rank {} differs from the one on rank {} (root) at entry {}: "
            "rank {} has {}, rank {} has {}; every process must build the same model",
            fn, differs, root, i, differs, on_other, root, on_root));
    }

    std::size_t total = 0;
    for (const auto& t : tensors)
        total += t.size();
    std::vector<T> buf(total);
    if (me == root) {
        std::size_t at = 0;
        for (const auto& t : tensors) {
            std::copy(t.value().begin(), t.value().end(), buf.begin() + std::ptrdiff_t(at));
            at += t.size();
        }
    }
    bcast_flat(buf, root, fn);
    if (me != root) {
        std::size_t at = 0;
        for (const auto& t : tensors) {
            auto& v = t.mutable_value();
            std::copy(buf.begin() + std::ptrdiff_t(at), buf.begin() + std::ptrdiff_t(at + t.size()),
                      v.begin());
            at += t.size();
        }
    }
}

template <class T>
void allreduce_gradients(const std::vector<Tensor<T>>& params) {
    const char* fn = "allreduce_gradients";
    detail::require_initialized(fn);
    // [every gradient, flattened | one 1/0 per tensor: has a gradient here]
    std::size_t total = 0;
    for (const auto& p : params) {
        if (!p.defined()) {
            throw ValueError(fmt::format("{}: params[{}] is an undefined tensor", fn,
                                         std::size_t(&p - params.data())));
        }
        total += p.size();
    }
    std::vector<T> buf(total + params.size(), T(0));
    std::size_t at = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor<T> g = params[i].grad();
        if (g.defined()) {
            std::copy(g.value().begin(), g.value().end(), buf.begin() + std::ptrdiff_t(at));
            buf[total + i] = T(1);
        }
        at += params[i].size();
    }
    for (std::size_t off = 0; off < buf.size(); off += detail::max_chunk) {
        const int count = int(std::min(detail::max_chunk, buf.size() - off));
        detail::allreduce(buf.data() + off, count, detail::mpi_type<T>(), MPI_SUM, fn);
    }
    const T n = T(size());
    at = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor<T>& p = params[i];
        if (buf[total + i] > T(0)) {
            xt::xarray<T> g = xt::xarray<T>::from_shape(p.shape());
            std::transform(buf.begin() + std::ptrdiff_t(at),
                           buf.begin() + std::ptrdiff_t(at + p.size()), g.begin(),
                           [n](T v) { return v / n; });
            p.set_grad(Tensor<T>(std::move(g)));
        }
        at += p.size();
    }
}

template void broadcast_parameters<float>(nn::Module<float>&, int);
template void broadcast_parameters<double>(nn::Module<double>&, int);
template void allreduce_gradients<float>(const std::vector<Tensor<float>>&);
template void allreduce_gradients<double>(const std::vector<Tensor<double>>&);

}  // namespace xgrad::dist
