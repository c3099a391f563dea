#pragma once

#include "nn/data.hpp"

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace xgrad::nn {

// The samplers of torch.utils.data, for DataLoaderOptions::sampler. Each draws from the `rng` the
// loader hands it (its own generator when DataLoaderOptions::seed is set, else
// xgrad::generator()), so a seeded loader gives the same indices every run.

/// 0, 1, ..., n - 1 every epoch (what a loader without shuffle does).
class SequentialSampler final : public Sampler {
public:
    std::vector<std::size_t> indices(std::size_t n, std::mt19937_64& rng) const override;
    std::size_t size(std::size_t n) const override { return n; }
    std::string name() const override { return "SequentialSampler"; }
};

/// A fresh permutation of 0..n-1 every epoch: exactly the order `shuffle(true)` draws (the same
/// std::shuffle on the same generator), so the two give bit-identical epochs.
class RandomSampler final : public Sampler {
public:
    std::vector<std::size_t> indices(std::size_t n, std::mt19937_64& rng) const override;
    std::size_t size(std::size_t n) const override { return n; }
    std::string name() const override { return "RandomSampler"; }
};

/// A fresh permutation of the given indices every epoch (a train or validation part of one
/// dataset without copying it). Indices may repeat; each must be < n, checked by the loader.
class SubsetRandomSampler final : public Sampler {
public:
    explicit SubsetRandomSampler(std::vector<std::size_t> indices);
    std::vector<std::size_t> indices(std::size_t n, std::mt19937_64& rng) const override;
    std::size_t size(std::size_t /*n*/) const override { return indices_.size(); }
    std::string name() const override { return "SubsetRandomSampler"; }

private:
    std::vector<std::size_t> indices_;
};

/// `num_samples` indices drawn in proportion to the weights, index i with probability
/// weights[i] / Σ weights (oversampling rare classes): with replacement (the default), or without
/// (replacement = false: distinct indices, each draw among those not drawn yet, as
/// torch.multinomial without replacement). weights: one per example (or fewer: the first
/// weights.size() examples), each finite and >= 0, sum > 0, and without replacement at least
/// num_samples of them positive, else ValueError; more weights than examples is a ValueError
/// when the epoch is drawn.
class WeightedRandomSampler final : public Sampler {
public:
    WeightedRandomSampler(std::vector<double> weights, std::size_t num_samples,
                          bool replacement = true);
    std::vector<std::size_t> indices(std::size_t n, std::mt19937_64& rng) const override;
    std::size_t size(std::size_t /*n*/) const override { return num_samples_; }
    std::string name() const override { return "WeightedRandomSampler"; }

private:
    std::vector<double> weights_;
    std::size_t num_samples_;
    bool replacement_;
};

/// Options of DistributedSampler (PyTorch's defaults): shuffle on, seed 0, drop_last off.
class DistributedSamplerOptions {
public:
    /// A fresh permutation every epoch (else 0, 1, ..., n - 1).
    DistributedSamplerOptions& shuffle(bool v) {
        shuffle_ = v;
        return *this;
    }
    bool shuffle() const { return shuffle_; }
    /// The permutation of epoch e is drawn from a generator seeded with seed + e; every process
    /// must use the same seed.
    DistributedSamplerOptions& seed(std::uint64_t v) {
        seed_ = v;
        return *this;
    }
    std::uint64_t seed() const { return seed_; }
    /// Drop the tail of the epoch so that it divides evenly (else pad it by repeating its start).
    DistributedSamplerOptions& drop_last(bool v) {
        drop_last_ = v;
        return *this;
    }
    bool drop_last() const { return drop_last_; }

private:
    bool shuffle_ = true;
    std::uint64_t seed_ = 0;
    bool drop_last_ = false;
};

// Note [distributed sampler]
// PyTorch's DistributedSampler, for DataLoaderOptions::sampler. It needs no MPI: the rank and
// the number of processes are given (dist::DistributedSampler, in dist/sampler.hpp, takes them
// from MPI; train::fit shards its data with it on several processes). Every process computes the
// same epoch order from the sampler's own seed and epoch (set_epoch), not from the loader's
// generator (which the sampler ignores): nothing has to be communicated, and the loaders need not
// be seeded alike. The order of n examples is made to divide evenly by the number of processes, p:
// without drop_last it is padded to ceil(n / p)·p by repeating its first indices (a few examples
// are seen twice per epoch), with drop_last its last n mod p indices are dropped. Process r takes
// positions r, r + p, r + 2p, ... of that order. So every process gets the same number of
// batches (a collective per step needs that) and, when p divides n, the shards are disjoint and
// their union is the epoch. Call set_epoch(e) at the start of every epoch (as in PyTorch): without
// it every epoch repeats the same order.

/// The shard of each epoch's permutation that belongs to one process (Note [distributed
/// sampler]).
class DistributedSampler : public Sampler {
public:
    /// The shard of process `rank` among `num_replicas` processes: ValueError unless
    /// 0 <= rank < num_replicas.
    DistributedSampler(std::size_t num_replicas, std::size_t rank,
                       DistributedSamplerOptions options = {});

    /// Selects the permutation of epoch `epoch` (seed + epoch); call it before every epoch.
    void set_epoch(std::uint64_t epoch) { epoch_ = epoch; }
    std::uint64_t epoch() const { return epoch_; }
    std::size_t num_replicas() const { return num_replicas_; }
    std::size_t rank() const { return rank_; }

    /// This process's indices of the current epoch, each < n; `rng` is not used.
    std::vector<std::size_t> indices(std::size_t n, std::mt19937_64& rng) const override;
    /// ceil(n / num_replicas), or floor with drop_last.
    std::size_t size(std::size_t n) const override;
    std::string name() const override { return "DistributedSampler"; }

private:
    std::size_t num_replicas_;
    std::size_t rank_;
    DistributedSamplerOptions options_;
    std::uint64_t epoch_ = 0;
};

}  // namespace xgrad::nn
