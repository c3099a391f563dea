#pragma once

// Data-parallel training on MPI (docs/distributed.md): the process group, the broadcast of the
// initial weights and the averaging of gradients. The only layer that knows of MPI; its headers
// do not include <mpi.h>, so a program that uses them needs no MPI include directory of its own.

#include "autograd/errors.hpp"
#include "autograd/tensor.hpp"
#include "nn/module.hpp"

#include <chrono>
#include <vector>

namespace xgrad::dist {

/// Starts MPI (MPI_Init_thread, MPI_THREAD_FUNNELED: only the thread that called init makes MPI
/// calls) for every process of MPI_COMM_WORLD. argc/argv may be null. Idempotent: a second call,
/// or a call after the program started MPI itself, does nothing. Error once MPI was finalized
/// (MPI cannot start twice in one process).
void init(int* argc = nullptr, char*** argv = nullptr);
/// Shuts MPI down if init() started it (a program that started MPI itself finalizes it itself);
/// every process must call it. Does nothing when MPI is not running. After a TimeoutError it
/// calls MPI_Abort instead (MPI_Finalize would wait for the process that hung), which ends every
/// process of the job with status 1.
void finalize();
/// True between init() (or the program's own MPI_Init) and finalize().
bool is_initialized();
/// True when a launcher started this process as one of a job (OpenMPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE; MPICH's and PMIx launchers PMI_SIZE or PMIX_RANK): what a program that
/// also runs alone checks before init(), to train data-parallel only under mpirun.
bool launched_by_mpirun();
/// This process's index in MPI_COMM_WORLD, 0 <= rank() < size(). Error before init().
int rank();
/// The number of processes (mpirun -np N). Error before init().
int size();
/// Waits until every process has called barrier(). Error before init().
void barrier();

/// A collective of dist/ waited longer than set_timeout() for the other processes: one of them
/// hung, or skipped a collective. The message names the operation and the time waited. The
/// process group cannot be used afterwards (a collective is still pending): end the program with
/// a non-zero status (mpirun then stops the others) or let finalize() abort the job.
class TimeoutError : public Error {
public:
    using Error::Error;
};

/// Bounds every wait of dist/ on the other processes (barrier, broadcast_parameters,
/// allreduce_gradients, DistributedDataParallel::synchronize): after `timeout` without the
/// collective completing, the call throws TimeoutError on the processes that wait. Zero (the
/// default) waits forever, as MPI does. With a timeout the waits poll MPI_Test instead of
/// blocking in MPI. Set the same value on every process; it must exceed the longest legitimate
/// wait (the slowest process's compute between two collectives). ValueError when negative.
void set_timeout(std::chrono::milliseconds timeout);
/// The bound set by set_timeout(); zero: none.
std::chrono::milliseconds timeout();

/// init() on construction, finalize() on destruction (when this session started MPI):
/// `int main(int argc, char** argv) { dist::Session session(&argc, &argv); ... }`.
class Session {
public:
    explicit Session(int* argc = nullptr, char*** argv = nullptr);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

private:
    bool owns_;
};

/// Copies every parameter and buffer value of `module` on rank `root` into the same module on
/// every other process (so that all start from root's initial weights), in place: tensors keep
/// their identity, optimizers stay attached. Collective: every process calls it with a module of
/// the same structure. First checks the structure: ValueError on every process when the names,
/// shapes or element type of some process differ from root's, naming that rank, the first
/// differing entry and both shapes. ValueError for a root outside [0, size()).
template <class T>
void broadcast_parameters(nn::Module<T>& module, int root = 0);

/// Replaces the gradient of every tensor of `params` by its average over the processes,
/// Σ_ranks grad / size(), with one MPI_Allreduce on one flat buffer. Collective: every process
/// passes the same list (same order and shapes; checked only by the element count). A tensor
/// without a gradient on some processes counts as zeros there; one without a gradient on every
/// process keeps none (a frozen or unused parameter stays untouched).
template <class T>
void allreduce_gradients(const std::vector<Tensor<T>>& params);

}  // namespace xgrad::dist
