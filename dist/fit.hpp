#pragma once

// train::fit on several processes (docs/distributed.md, "fit"): the train::DataParallel of a
// DistributedDataParallel model, over MPI.

#include "dist/ddp.hpp"
#include "train/fit.hpp"

#include <memory>

namespace xgrad::dist {

/// What train::fit needs to train `ddp` as one of the processes of MPI_COMM_WORLD:
/// synchronize_gradients is ddp.synchronize(), sums and broadcasts are MPI_Allreduce and
/// MPI_Bcast, the state prefix is "module." (a backup then resumes without the wrapper too).
/// `ddp` must outlive the fit() calls given it. Error before init().
///
///     dist::DistributedDataParallel<> ddp(model);
///     train::fit(ddp, opt, loss, train, test,
///                train::FitOptions(30).data_parallel(dist::data_parallel(ddp)));
template <class T>
std::shared_ptr<train::DataParallel> data_parallel(DistributedDataParallel<T>& ddp);

}  // namespace xgrad::dist
