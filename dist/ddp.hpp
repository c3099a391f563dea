#pragma once

#include "autograd/tensor.hpp"
#include "nn/module.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace xgrad::dist {

/// Options of DistributedDataParallel: `DistributedDataParallelOptions().bucket_cap_bytes(1 <<
/// 20)`.
class DistributedDataParallelOptions {
public:
    /// A bucket is closed once its gradients hold at least this many bytes (PyTorch's
    /// bucket_cap_mb, default 25 MiB); > 0. A parameter larger than the cap is a bucket alone.
    DistributedDataParallelOptions& bucket_cap_bytes(std::size_t v) {
        bucket_cap_bytes_ = v;
        return *this;
    }
    std::size_t bucket_cap_bytes() const { return bucket_cap_bytes_; }
    /// The process whose initial parameters and buffers every process starts from.
    DistributedDataParallelOptions& root(int v) {
        root_ = v;
        return *this;
    }
    int root() const { return root_; }

private:
    std::size_t bucket_cap_bytes_ = std::size_t(25) << 20;
    int root_ = 0;
};

// Note [bucketed allreduce]
// DistributedDataParallel averages gradients over the processes while backward is still
// running (PyTorch's DDP, Horovod). The parameters that require grad are grouped, in reverse
// registration order (roughly the order backward produces their gradients), into buckets of
// about bucket_cap_bytes. Each parameter carries a gradient hook (Tensor::register_hook, Note
// [gradient hooks]) that only looks: it copies the gradient into its bucket's flat buffer; once
// every parameter of a bucket has reported, the bucket starts an MPI_Iallreduce (sum) on that
// buffer, and the rest of backward runs while it travels. Buckets start in bucket order on every
// process (a bucket that is ready early waits for those before it), since MPI needs the same
// order of collectives everywhere. synchronize() starts the buckets that are not complete (a
// parameter backward did not reach contributes the .grad it holds, or zeros, on that process; one
// with no gradient on any process keeps none), waits for all of them, and writes Σ / size() into
// every .grad.
//
// The hooks do not change the gradient: backward accumulates the local one into .grad as
// always, and synchronize() overwrites .grad with the average over the processes of what .grad
// holds on each after backward (the hook copies the incoming gradient plus the .grad it is about
// to be added to; synchronize() copies the .grad of a parameter whose hook did not run). So a
// step is zero_grad, forward, backward, synchronize, optimizer step. To accumulate gradients
// over several backward calls (micro-batches), run all but the last under no_sync(): the hooks
// then only let backward accumulate locally, and the last backward, outside it, reduces the
// sums (PyTorch's DDP.no_sync). Outside no_sync(), a second gradient for a parameter before
// synchronize() is an Error, and so is synchronize() inside no_sync().

/// What DistributedDataParallel::no_sync() returns: while it lives, backward accumulates
/// gradients locally only; its destructor restores what was in force before.
class [[nodiscard]] NoSyncGuard {
public:
    explicit NoSyncGuard(std::function<void()> restore) : restore_(std::move(restore)) {}
    NoSyncGuard(NoSyncGuard&& other) noexcept : restore_(std::move(other.restore_)) {
        other.restore_ = nullptr;
    }
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(NoSyncGuard&&) = delete;
    ~NoSyncGuard() {
        if (restore_) restore_();
    }

private:
    std::function<void()> restore_;
};

/// Data-parallel training of a module over the processes of MPI_COMM_WORLD (PyTorch's
/// DistributedDataParallel, Note [bucketed allreduce]). The wrapper is a Module whose only child,
/// "module", is the wrapped one: forward passes through, parameters() are the module's. On
/// construction it broadcasts root's parameters and buffers (broadcast_parameters). Each process
/// runs its own shard of the batch; after backward, synchronize() leaves in every parameter's
/// .grad the average of the processes' gradients, as if one process had run the whole batch
/// (for a loss that is a mean over equal shards).
///
///     dist::Session session(&argc, &argv);
///     auto model = std::make_shared<nn::Sequential<>>(...);
///     dist::DistributedDataParallel<> ddp(model);
///     optim::SGD<> opt(ddp.parameters(), optim::SGDOptions(0.1));
///     for (...) { opt.zero_grad(); loss(ddp(x), y).backward(); ddp.synchronize(); opt.step(); }
///
/// Gradient accumulation over micro-batches (k backward calls, one reduction):
///
///     opt.zero_grad();
///     {
///         auto guard = ddp.no_sync();
///         for (int m = 0; m + 1 < k; ++m) loss(ddp(x[m]), y[m]).backward();  // local only
///     }
///     loss(ddp(x[k - 1]), y[k - 1]).backward();  // reduces the accumulated sums
///     ddp.synchronize();
///     opt.step();
template <class T = float>
class DistributedDataParallel : public nn::Module<T> {
public:
    /// Collective: every process constructs it with a module of the same structure.
    explicit DistributedDataParallel(std::shared_ptr<nn::Module<T>> module,
                                     DistributedDataParallelOptions options = {});
    ~DistributedDataParallel() override;
    DistributedDataParallel(DistributedDataParallel&&) = default;
    // (No move assignment: the replaced wrapper's reductions may still be writing its buffers.)
    DistributedDataParallel& operator=(DistributedDataParallel&&) = delete;

    Tensor<T> forward(const Tensor<T>& x) override;
    std::vector<Tensor<T>> forward_list(const std::vector<Tensor<T>>& inputs) override;
    std::string type_name() const override { return "DistributedDataParallel"; }

    /// Completes the averaging started during backward and writes the averaged gradients into
    /// .grad. Collective: every process calls it once after each backward, before the optimizer
    /// step (Horovod's optimizer.synchronize()).
    void synchronize();

    /// While the returned guard lives, backward accumulates every gradient into the local .grad
    /// and communicates nothing (PyTorch's no_sync()); the first backward after it reduces the
    /// accumulated gradients (Note [bucketed allreduce]). Not collective: each process enters
    /// and leaves it on its own, but all must run the same backward calls under it.
    NoSyncGuard no_sync();
    /// True while a no_sync() guard lives.
    bool sync_paused() const;

    /// The wrapped module.
    nn::Module<T>& module() const { return *module_; }
    /// The buckets: indices into parameters() of the parameters each holds, in bucket order.
    std::vector<std::vector<std::size_t>> buckets() const;
    /// How many buckets have started their allreduce since the last synchronize().
    std::size_t started_buckets() const;

    struct State;

private:
    std::shared_ptr<nn::Module<T>> module_;
    std::shared_ptr<State> state_;
};

}  // namespace xgrad::dist
