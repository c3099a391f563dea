#include "nn/sampler.hpp"

#include "autograd/errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace xgrad::nn {

std::vector<std::size_t> SequentialSampler::indices(std::size_t n, std::mt19937_64& /*rng*/) const {
    std::vector<std::size_t> out(n);
    std::iota(out.begin(), out.end(), std::size_t(0));
    return out;
}

std::vector<std::size_t> RandomSampler::indices(std::size_t n, std::mt19937_64& rng) const {
    std::vector<std::size_t> out(n);
    std::iota(out.begin(), out.end(), std::size_t(0));
    std::shuffle(out.begin(), out.end(), rng);  // as DataLoader::begin() shuffles
    return out;
}

SubsetRandomSampler::SubsetRandomSampler(std::vector<std::size_t> indices)
    : indices_(std::move(indices)) {}

std::vector<std::size_t> SubsetRandomSampler::indices(std::size_t /*n*/,
                                                      std::mt19937_64& rng) const {
    std::vector<std::size_t> out = indices_;
    std::shuffle(out.begin(), out.end(), rng);
    return out;
}

WeightedRandomSampler::WeightedRandomSampler(std::vector<double> weights, std::size_t num_samples,
                                             bool replacement)
    : weights_(std::move(weights)), num_samples_(num_samples), replacement_(replacement) {
    double sum = 0;
    std::size_t positive = 0;
    for (std::size_t i = 0; i < weights_.size(); ++i) {
        if (!std::isfinite(weights_[i]) || weights_[i] < 0) {
            throw ValueError(
                fmt::format("weighted_random_sampler: expected finite weights >= 0; got "
                            "weights[{}]={}",
                            i, weights_[i]));
        }
        sum += weights_[i];
        positive += weights_[i] > 0;
    }
    if (!(sum > 0)) {
        throw ValueError(
            fmt::format("weighted_random_sampler: expected weights with a positive sum; got {} "
                        "weights summing to {}",
                        weights_.size(), sum));
    }
    if (!replacement_ && num_samples_ > positive) {
        throw ValueError(
            fmt::format("weighted_random_sampler: without replacement, expected num_samples <= "
                        "the number of positive weights; got num_samples={}, {} positive weights",
                        num_samples_, positive));
    }
}

std::vector<std::size_t> WeightedRandomSampler::indices(std::size_t n, std::mt19937_64& rng) const {
    if (weights_.size() > n) {
        throw ValueError(
            fmt::format("weighted_random_sampler: expected at most one weight per example ({} "
                        "examples); got {} weights",
                        n, weights_.size()));
    }
    if (!replacement_) {
        // Efraimidis and Spirakis (2006): the num_samples largest keys log(u_i) / w_i, u_i
        // uniform in (0, 1), are distributed as num_samples successive draws, each in
        // proportion to the weights of the indices not drawn yet. Zero weights never win.
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        std::vector<std::pair<double, std::size_t>> keys;
        keys.reserve(weights_.size());
        for (std::size_t i = 0; i < weights_.size(); ++i) {
            double u = uniform(rng);
            while (u == 0.0)
                u = uniform(rng);
            if (weights_[i] > 0) keys.emplace_back(std::log(u) / weights_[i], i);
        }
        std::partial_sort(keys.begin(), keys.begin() + std::ptrdiff_t(num_samples_), keys.end(),
                          [](const auto& a, const auto& b) { return a.first > b.first; });
        std::vector<std::size_t> out(num_samples_);
        for (std::size_t k = 0; k < num_samples_; ++k)
            out[k] = keys[k].second;
        return out;
    }
    std::discrete_distribution<std::size_t> draw(weights_.begin(), weights_.end());
    std::vector<std::size_t> out(num_samples_);
    for (std::size_t& i : out)
        i = draw(rng);
    return out;
}

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

}  // namespace xgrad::nn
