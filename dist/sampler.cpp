#include "dist/sampler.hpp"

#include "autograd/errors.hpp"
#include "dist/dist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace xgrad::dist {

DistributedSampler::DistributedSampler(std::size_t num_replicas, std::size_t rank,
                                       DistributedSamplerOptions options)
    : num_replicas_(num_replicas), rank_(rank), options_(options) {
    if (num_replicas_ == 0 || rank_ >= num_replicas_) {
        throw ValueError(
            fmt::format("distributed_sampler: expected 0 <= rank < num_replicas; got rank={}, "
                        "num_replicas={}",
                        rank_, num_replicas_));
    }
}

DistributedSampler::DistributedSampler(DistributedSamplerOptions options)
    : DistributedSampler(std::size_t(dist::size()), std::size_t(dist::rank()), options) {}

std::size_t DistributedSampler::size(std::size_t n) const {
    return options_.drop_last() ? n / num_replicas_ : (n + num_replicas_ - 1) / num_replicas_;
}

std::vector<std::size_t> DistributedSampler::indices(std::size_t n,
                                                     std::mt19937_64& /*rng*/) const {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    if (options_.shuffle()) {
        std::mt19937_64 g(options_.seed() + epoch_);
        std::shuffle(order.begin(), order.end(), g);
    }
    const std::size_t total = size(n) * num_replicas_;
    if (total < n) {
        order.resize(total);  // drop_last
    } else {
        for (std::size_t i = n; i < total; ++i)
            order.push_back(order[i - n]);  // pad from start
    }
    std::vector<std::size_t> out;
    out.reserve(size(n));
    for (std::size_t i = rank_; i < total; i += num_replicas_)
        out.push_back(order[i]);
    return out;
}

}  // namespace xgrad::dist
