#pragma once

// Internal to dist/*.cpp: the MPI helpers they share. Includes <mpi.h>; not for users.

#include "autograd/errors.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <climits>
#include <cstddef>
#include <string>

namespace xgrad::dist::detail {

/// Throws Error "<fn>: <call> failed: <MPI's message>" when an MPI call did not succeed (only
/// reached under MPI_ERRORS_RETURN; the default handler aborts the job first).
inline void check_mpi(int code, const char* fn, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    throw Error(fmt::format("{}: {} failed: {}", fn, call, std::string(text, std::size_t(len))));
}

/// Error "<fn>: MPI is not initialized; ..." unless MPI is running.
void require_initialized(const char* fn);

/// Completes `request` (see Note [bounded waits] in dist.cpp): MPI_Wait without a timeout;
/// under dist::set_timeout, MPI_Test in a loop, and TimeoutError "<fn>: timed out after ...
/// waiting for <what> ..." once the timeout has passed.
void wait(MPI_Request& request, const char* fn, const std::string& what);

/// MPI_Allreduce in place over MPI_COMM_WORLD, or under dist::set_timeout MPI_Iallreduce and
/// wait(): every blocking collective of dist/ goes through these two.
void allreduce(void* buf, int count, MPI_Datatype type, MPI_Op op, const char* fn);
/// MPI_Bcast from `root` over MPI_COMM_WORLD, bounded the same way.
void bcast(void* buf, int count, MPI_Datatype type, int root, const char* fn);

/// True once a wait has timed out in this process (the group is then unusable).
bool timed_out();

template <class T>
MPI_Datatype mpi_type();
template <>
inline MPI_Datatype mpi_type<float>() {
    return MPI_FLOAT;
}
template <>
inline MPI_Datatype mpi_type<double>() {
    return MPI_DOUBLE;
}

/// MPI counts are int: a buffer of more than INT_MAX elements goes in pieces of this many.
constexpr std::size_t max_chunk = std::size_t(1) << 30;

}  // namespace xgrad::dist::detail
