#pragma once

#include "autograd/tensor.hpp"
#include "train/history.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

// The file behind FitOptions::backup (Keras' BackupAndRestore): what fit() needs to go on after
// the last epoch it finished. Internal to train/; fit.cpp fills and applies it.
namespace xgrad::train::detail {

template <class T>
struct FitState {
    std::size_t epoch = 0;          // epochs finished
    std::uint64_t seed = 0;         // the epochs' order (nn::DistributedSampler's seed)
    std::uint64_t batch_steps = 0;  // optimizer steps taken (per-batch schedules replay them)
    History history;
    double best = 0;  // early stopping: best monitored value, epochs without improvement
    std::size_t wait = 0;
    std::map<std::string, xt::xarray<T>> model;       // without the DataParallel state_prefix
    std::map<std::string, xt::xarray<T>> best_model;  // restore_best_weights; may be empty
    std::map<std::string, xt::xarray<double>> optimizer;
    std::string generator;  // xgrad::generator()'s state, as std::mt19937_64 writes it
};

/// Writes `state` to `path` (.npz of doubles, atomically).
template <class T>
void save_backup(const std::string& path, const FitState<T>& state);
/// Reads a file save_backup wrote; IoError naming the file for an unreadable or corrupt file,
/// ValueError for a .npz that is not a fit backup.
template <class T>
FitState<T> load_backup(const std::string& path);

}  // namespace xgrad::train::detail
