#pragma once

// Batch normalisation over the batches of every process (PyTorch's SyncBatchNorm), from one
// differentiable collective, all_sum (docs/distributed.md, "Batch normalization").

#include "autograd/tensor.hpp"
#include "nn/module.hpp"

#include <cstddef>

namespace xgrad::dist {

/// y = Σ_p x_p: the element-wise sum of `x` over the processes of MPI_COMM_WORLD, on every
/// process (MPI_Allreduce), recorded as the op all_sum. Its gradient is again all_sum of the
/// incoming gradients (each y_q depends on every x_p), so it differentiates to any order.
/// Collective: every process calls it with the same shape, in the same order, in forward and
/// (when recorded) in backward. Error before init(); ShapeError on every process when their
/// sizes differ (the message gives the range and this process's shape).
template <class T>
Tensor<T> all_sum(const Tensor<T>& x);

/// Makes every nn::BatchNorm (1d, 2d) in `module`'s tree normalise with the statistics of every
/// process's batch in training (BatchNorm::set_process_sum(all_sum); PyTorch's
/// SyncBatchNorm.convert_sync_batchnorm). Returns how many layers it changed. Call it on every
/// process, before training; evaluation stays per process.
template <class T>
std::size_t convert_sync_batch_norm(nn::Module<T>& module);

}  // namespace xgrad::dist
