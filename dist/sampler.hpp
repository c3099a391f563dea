#pragma once

#include "nn/sampler.hpp"

namespace xgrad::dist {

/// DistributedSampler's options (nn/sampler.hpp).
using DistributedSamplerOptions = nn::DistributedSamplerOptions;

/// nn::DistributedSampler (Note [distributed sampler] in nn/sampler.hpp) for this process:
/// its rank among the processes of MPI_COMM_WORLD, or the rank and count given.
class DistributedSampler final : public nn::DistributedSampler {
public:
    /// The shard of process `rank` among `num_replicas` processes, given explicitly (no MPI
    /// call): ValueError unless 0 <= rank < num_replicas.
    using nn::DistributedSampler::DistributedSampler;
    /// This process's shard: dist::rank() among dist::size() (MPI must be initialized).
    explicit DistributedSampler(DistributedSamplerOptions options = {});
};

}  // namespace xgrad::dist
