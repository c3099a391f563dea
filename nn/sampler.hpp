#pragma once

#include "nn/data.hpp"

#include <cstddef>
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

/// `num_samples` indices drawn with replacement, index i with probability weights[i] / Σ weights
/// (oversampling rare classes). weights: one per example (or fewer: the first weights.size()
/// examples), each finite and >= 0, sum > 0, else ValueError; more weights than examples is a
/// ValueError when the epoch is drawn.
class WeightedRandomSampler final : public Sampler {
public:
    WeightedRandomSampler(std::vector<double> weights, std::size_t num_samples);
    std::vector<std::size_t> indices(std::size_t n, std::mt19937_64& rng) const override;
    std::size_t size(std::size_t /*n*/) const override { return num_samples_; }
    std::string name() const override { return "WeightedRandomSampler"; }

private:
    std::vector<double> weights_;
    std::size_t num_samples_;
};

}  // namespace xgrad::nn
