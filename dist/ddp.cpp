#include "dist/ddp.hpp"

#include "autograd/errors.hpp"
#include "dist/dist.hpp"
#include "dist/mpi_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <utility>

namespace xgrad::dist {

// See Note [bucketed allreduce] in ddp.hpp.
template <class T>
struct DistributedDataParallel<T>::State {
    struct Bucket {
        std::vector<std::size_t> params;   // indices into State::params
        std::vector<std::size_t> offsets;  // where each one's gradient starts in buf
        std::size_t elems = 0;             // gradient elements; buf holds one flag per param after
        std::vector<T> buf;                // [gradients... | 1 where a gradient arrived, else 0]
        std::size_t arrived = 0;
        bool ready = false;    // every gradient arrived, or synchronize() asked
        bool started = false;  // the MPI_Iallreduce is under way (or done)
        MPI_Request request = MPI_REQUEST_NULL;
    };

    std::vector<Tensor<T>> params;
    std::vector<std::string> names;
    std::vector<std::size_t> bucket_of, slot_of;  // per parameter (npos: not trained)
    std::vector<Bucket> buckets;
    std::size_t next_start = 0;  // buckets start in order (the same on every process)
    std::vector<HookHandle> hooks;
    bool no_sync = false;  // a NoSyncGuard lives: backward accumulates locally only

    // The hook of parameter i: copies its gradient into the bucket; starts what is ready.
    void on_grad(std::size_t i, const Tensor<T>& g) {
        if (no_sync) return;
        Bucket& b = buckets[bucket_of[i]];
        const std::size_t slot = slot_of[i];
        if (b.started || b.buf[b.elems + slot] != T(0)) {
            throw Error(fmt::format(
                "distributed_data_parallel: a second gradient of parameter '{}' arrived before "
                "synchronize(); call synchronize() after every backward, or run the backward "
                "calls that accumulate gradients under no_sync()",
                names[i]));
        }
        // What .grad will hold once backward adds g: the gradients accumulated before (under
        // no_sync(), or without zero_grad) are reduced too.
        const auto to = b.buf.begin() + std::ptrdiff_t(b.offsets[slot]);
        std::copy(g.value().begin(), g.value().end(), to);
        if (const Tensor<T> old = params[i].grad(); old.defined()) {
            std::transform(old.value().begin(), old.value().end(), to, to, std::plus<T>());
        }
        b.buf[b.elems + slot] = T(1);
        if (++b.arrived == b.params.size()) b.ready = true;
        start_ready();
        progress();
    }

    void start_ready() {
        while (next_start < buckets.size() && buckets[next_start].ready) {
            Bucket& b = buckets[next_start++];
            detail::check_mpi(
                MPI_Iallreduce(MPI_IN_PLACE, b.buf.data(), int(b.buf.size()), detail::mpi_type<T>(),
                               MPI_SUM, MPI_COMM_WORLD, &b.request),
                "distributed_data_parallel", "MPI_Iallreduce");
            b.started = true;
        }
    }

    // Lets MPI move the started reductions along (most MPI libraries progress only inside
    // MPI calls).
    void progress() {
        for (std::size_t k = 0; k < next_start; ++k) {
            int done = 0;
            detail::check_mpi(MPI_Test(&buckets[k].request, &done, MPI_STATUS_IGNORE),
                              "distributed_data_parallel", "MPI_Test");
        }
    }

    // Bounded by dist::set_timeout (Note [bounded waits] in dist.cpp).
    void wait_all() {
        for (std::size_t k = 0; k < next_start; ++k) {
            detail::wait(buckets[k].request, "distributed_data_parallel::synchronize",
                         fmt::format("the allreduce of bucket {} of {} (MPI_Iallreduce)", k,
                                     buckets.size()));
        }
    }

    void reset() {
        for (auto& b : buckets) {
            std::fill(b.buf.begin(), b.buf.end(), T(0));
            b.arrived = 0;
            b.ready = b.started = false;
            b.request = MPI_REQUEST_NULL;
        }
        next_start = 0;
    }
};

template <class T>
DistributedDataParallel<T>::DistributedDataParallel(std::shared_ptr<nn::Module<T>> module,
                                                    DistributedDataParallelOptions options)
    : module_(std::move(module)), state_(std::make_shared<State>()) {
    const char* fn = "distributed_data_parallel";
    if (!module_) throw ValueError(fmt::format("{}: the module pointer is null", fn));
    if (options.bucket_cap_bytes() == 0) {
        throw ValueError(fmt::format("{}: expected bucket_cap_bytes > 0; got 0", fn));
    }
    detail::require_initialized(fn);
    this->register_module("module", module_);
    broadcast_parameters(*module_, options.root());

    State& s = *state_;
    for (auto& [name, p] : module_->named_parameters()) {
        s.names.push_back(name);
        s.params.push_back(p);
    }
    const std::size_t npos = std::size_t(-1);
    s.bucket_of.assign(s.params.size(), npos);
    s.slot_of.assign(s.params.size(), npos);
    // Reverse registration order: the last layer's gradients come first in backward.
    std::size_t bytes = 0;
    for (std::size_t i = s.params.size(); i-- > 0;) {
        if (!s.params[i].requires_grad()) continue;
        if (s.buckets.empty() || bytes >= options.bucket_cap_bytes()) {
            s.buckets.emplace_back();
            bytes = 0;
        }
        auto& b = s.buckets.back();
        s.bucket_of[i] = s.buckets.size() - 1;
        s.slot_of[i] = b.params.size();
        b.params.push_back(i);
        b.offsets.push_back(b.elems);
        b.elems += s.params[i].size();
        bytes += s.params[i].size() * sizeof(T);
    }
    for (auto& b : s.buckets) {
        if (b.elems + b.params.size() > std::size_t(INT_MAX)) {
            throw ValueError(
                fmt::format("{}: a bucket of {} elements is more than one MPI call "
                            "takes ({}); lower bucket_cap_bytes",
                            fn, b.elems, INT_MAX));
        }
        b.buf.assign(b.elems + b.params.size(), T(0));
    }
    std::weak_ptr<State> weak = state_;
    for (std::size_t i = 0; i < s.params.size(); ++i) {
        if (s.bucket_of[i] == npos) continue;
        s.hooks.push_back(s.params[i].register_hook([weak, i](const Tensor<T>& g) {
            if (auto st = weak.lock()) st->on_grad(i, g);
        }));
    }
}

template <class T>
DistributedDataParallel<T>::~DistributedDataParallel() {
    if (!state_) return;  // moved from
    for (auto& h : state_->hooks)
        h.remove();
    // A reduction still under way writes into the buffers: let it finish first. After a
    // timeout it may never finish: the buffers then stay allocated until the process ends.
    if (is_initialized()) {
        bool finished = !detail::timed_out();
        try {
            for (std::size_t k = 0; finished && k < state_->next_start; ++k) {
                detail::wait(state_->buckets[k].request, "~distributed_data_parallel",
                             "a bucket's allreduce");
            }
        } catch (const Error&) {
            finished = false;
        }
        if (!finished) {
            static std::vector<std::shared_ptr<State>> abandoned;
            abandoned.push_back(state_);
        }
    }
}

template <class T>
Tensor<T> DistributedDataParallel<T>::forward(const Tensor<T>& x) {
    return (*module_)(x);
}

template <class T>
std::vector<Tensor<T>> DistributedDataParallel<T>::forward_list(
    const std::vector<Tensor<T>>& inputs) {
    return (*module_)(inputs);
}

template <class T>
void DistributedDataParallel<T>::synchronize() {
    State& s = *state_;
    const char* fn = "distributed_data_parallel::synchronize";
    if (s.no_sync) {
        throw Error(fmt::format(
            "{}: called inside no_sync(); end the no_sync() guard's scope and run the last "
            "backward outside it first",
            fn));
    }
    detail::require_initialized(fn);
    for (std::size_t next = s.next_start; next < s.buckets.size(); ++next) {
        // The buckets not started go now. A parameter whose hook did not run in this backward
        // contributes the .grad it holds (accumulated under no_sync()), or zeros.
        auto& b = s.buckets[next];
        for (std::size_t slot = 0; slot < b.params.size(); ++slot) {
            const Tensor<T> g = s.params[b.params[slot]].grad();
            if (b.buf[b.elems + slot] != T(0) || !g.defined()) continue;
            std::copy(g.value().begin(), g.value().end(),
                      b.buf.begin() + std::ptrdiff_t(b.offsets[slot]));
            b.buf[b.elems + slot] = T(1);
        }
        b.ready = true;
    }
    s.start_ready();
    s.wait_all();
    const T n = T(size());
    for (auto& b : s.buckets) {
        for (std::size_t k = 0; k < b.params.size(); ++k) {
            if (b.buf[b.elems + k] == T(0)) continue;  // no process had a gradient for it
            const Tensor<T>& p = s.params[b.params[k]];
            xt::xarray<T> g = xt::xarray<T>::from_shape(p.shape());
            const auto from = b.buf.begin() + std::ptrdiff_t(b.offsets[k]);
            std::transform(from, from + std::ptrdiff_t(p.size()), g.begin(),
                           [n](T v) { return v / n; });
            p.set_grad(Tensor<T>(std::move(g)));
        }
    }
    s.reset();
}

template <class T>
NoSyncGuard DistributedDataParallel<T>::no_sync() {
    State& s = *state_;
    const bool reported = std::any_of(s.buckets.begin(), s.buckets.end(),
                                      [](const auto& b) { return b.arrived > 0; });
    if (!s.no_sync && reported) {
        throw Error(
            "distributed_data_parallel::no_sync: gradients of this step are already being "
            "reduced; call synchronize() first");
    }
    const bool before = std::exchange(s.no_sync, true);
    std::weak_ptr<State> weak = state_;
    return NoSyncGuard([weak, before] {
        if (auto st = weak.lock()) st->no_sync = before;
    });
}

template <class T>
bool DistributedDataParallel<T>::sync_paused() const {
    return state_->no_sync;
}

template <class T>
std::vector<std::vector<std::size_t>> DistributedDataParallel<T>::buckets() const {
    std::vector<std::vector<std::size_t>> out;
    for (const auto& b : state_->buckets)
        out.push_back(b.params);
    return out;
}

template <class T>
std::size_t DistributedDataParallel<T>::started_buckets() const {
    return state_->next_start;
}

template class DistributedDataParallel<float>;
template class DistributedDataParallel<double>;

}  // namespace xgrad::dist
