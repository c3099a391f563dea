#include "dist/sampler.hpp"

#include "dist/dist.hpp"

namespace xgrad::dist {

DistributedSampler::DistributedSampler(DistributedSamplerOptions options)
    : nn::DistributedSampler(std::size_t(dist::size()), std::size_t(dist::rank()), options) {}

}  // namespace xgrad::dist
