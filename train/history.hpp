#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::train {

/// What fit() measured, one entry per epoch run (Keras' history.history). Training loss and
/// accuracy are the means over the epoch's batches, weighted by batch size, of the values seen
/// while training (the model changes during the epoch); validation values are measured after the
/// epoch in eval mode. accuracy is empty when the metric is off, val_* without validation data.
class History {
public:
    std::vector<double> loss, accuracy, val_loss, val_accuracy;
    std::vector<double> seconds;  ///< wall time of each epoch (training + validation)
    /// The optimizer's (first group's) learning rate at the start of each epoch, before any
    /// step of the epoch: what a per-epoch schedule set for it (Keras logs "lr" so).
    std::vector<double> lr;
    /// The other metrics (FitOptions::metrics), by name in the order recorded: each training
    /// metric ("top5_accuracy"), then each validation one ("val_top5_accuracy").
    std::vector<std::pair<std::string, std::vector<double>>> metrics;

    bool stopped_early = false;   ///< early stopping ended training before the last epoch
    bool stopped_on_nan = false;  ///< a NaN/Inf training loss ended it (terminate_on_nan)
    std::string stop_reason;      ///< why training ended early, as printed; empty otherwise
    std::size_t best_epoch = 0;   ///< 1-based epoch of the best monitored value (0: none)
    bool restored_best = false;   ///< the model holds the weights of best_epoch

    /// Number of epochs run.
    std::size_t epochs() const { return loss.size(); }
    /// The series named "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "lr" or the
    /// name of one of `metrics`; ValueError for another name.
    const std::vector<double>& at(const std::string& key) const;
    /// The series `key` to append to: one of the named members, or the entry of `metrics` with
    /// that name, made (empty, at the end) when there is none.
    std::vector<double>& series(const std::string& key);
    /// True when the series `key` was recorded (non-empty).
    bool has(const std::string& key) const;

    /// CSV text: a header "epoch,loss[,accuracy][,metrics...][,val_loss][,val_accuracy]
    /// [,val_ metrics...],lr,seconds", then one row per epoch (epochs numbered from 1); values in
    /// the shortest form that reads back exactly.
    std::string to_csv() const;
    /// An SVG image (standalone, 450×360 a panel): a loss panel, an accuracy panel when
    /// recorded, and one panel per other metric, epochs on the x axis, one <polyline> per
    /// series (training solid, validation dashed).
    std::string to_svg() const;
    /// Writes to_csv() / to_svg() to `path` atomically (a temporary file, synced and renamed:
    /// Note [tensor files] in autograd/io.hpp); IoError naming the file when it cannot be written.
    void save_csv(const std::string& path) const;
    void save_svg(const std::string& path) const;
};

}  // namespace xgrad::train
