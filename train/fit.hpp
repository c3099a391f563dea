#pragma once

#include "autograd/tensor.hpp"
#include "nn/data.hpp"
#include "nn/module.hpp"
#include "optim/optimizer.hpp"
#include "optim/schedule.hpp"
#include "train/history.hpp"
#include "train/metric.hpp"
#include "train/progress.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// A Keras-style training loop, optional to use: the loop it runs is the one a user writes by hand
// (zero_grad, forward, loss, backward, step) plus the bookkeeping around it.
//
//     optim::SGD<> sgd(model.parameters(), optim::SGDOptions(0.01));
//     auto loss = [](const Tensor<>& y, const Tensor<>& t) {
//         return nn::sparse_categorical_cross_entropy(y, t);
//     };
//     train::History h = train::fit(model, sgd, loss, train, valid,
//                                   train::FitOptions(30).batch_size(32).history_csv("h.csv"));
//     train::Evaluation e = train::evaluate(model, loss, test);   // e.loss, e.accuracy
// The progress it prints is train/progress.hpp's, the history it returns train/history.hpp's.
namespace xgrad::train {

/// The loss a model is trained on: (output of the model for a batch, the batch's targets) → a
/// one-element tensor (a mean over the batch, as every nn loss gives by default).
template <class T = float>
using LossFn = std::function<Tensor<T>(const Tensor<T>& output, const Tensor<T>& target)>;

/// Which direction of the monitored value is better: min, max, or automatic (max for a name
/// containing "accuracy", min otherwise), as Keras' mode="auto".
enum class Mode { automatic, min, max };

/// Early stopping on a monitored value (Keras' EarlyStopping callback):
/// `EarlyStopping().monitor("val_accuracy").patience(3).restore_best_weights(true)`.
/// monitor: "loss", "val_loss" (default), or a metric's name with or without "val_" ("accuracy",
/// "val_top5_accuracy"); automatic mode maximizes a metric whose greater_is_better is set
/// (accuracy, top-k accuracy) and minimizes the loss (maximizes() below only reads the name:
/// "accuracy" in it). An epoch improves when its
/// value beats the best so far by more than min_delta (>= 0, default 0); training stops after
/// `patience` epochs in a row without improvement (default 0: at the first). With
/// restore_best_weights (default off) the model gets the parameters and buffers of the best epoch
/// back when training ends, whether it stopped early or ran every epoch.
class EarlyStopping {
public:
    EarlyStopping() = default;

    EarlyStopping& monitor(std::string v) {
        monitor_ = std::move(v);
        return *this;
    }
    const std::string& monitor() const { return monitor_; }
    EarlyStopping& patience(std::size_t v) {
        patience_ = v;
        return *this;
    }
    std::size_t patience() const { return patience_; }
    EarlyStopping& min_delta(double v) {
        min_delta_ = v;
        return *this;
    }
    double min_delta() const { return min_delta_; }
    EarlyStopping& mode(Mode v) {
        mode_ = v;
        return *this;
    }
    Mode mode() const { return mode_; }
    EarlyStopping& restore_best_weights(bool v) {
        restore_best_weights_ = v;
        return *this;
    }
    bool restore_best_weights() const { return restore_best_weights_; }

    /// True when larger monitored values are better (mode, or automatic from the name).
    bool maximizes() const {
        return mode_ == Mode::max ||
               (mode_ == Mode::automatic && monitor_.find("accuracy") != std::string::npos);
    }

private:
    std::string monitor_ = "val_loss";
    std::size_t patience_ = 0;
    double min_delta_ = 0;
    Mode mode_ = Mode::automatic;
    bool restore_best_weights_ = false;
};

/// When a schedule fit() is given steps: after every batch's optimizer step, or once per epoch
/// after validation.
enum class Step { epoch, batch };

// Note [schedules in fit]
// FitOptions is not a template (fit() deduces T from the model and the optimizer), but a
// schedule is (LRScheduler<T>, ReduceLROnPlateau<T>). The templated setters scheduler(...) see
// the schedule's type and keep what fit() needs without it: a std::function that steps it (by
// reference: the schedule must outlive fit(), as it outlives the optimizer's use in a loop of
// one's own), when to step it, and the address of the optimizer it drives, which fit() compares
// with its own (a schedule of another optimizer would change nothing fit() trains). Making
// FitOptions a template instead would change the type of every user's options for one option;
// a non-template base of the schedules would lose ReduceLROnPlateau, which shares none.
namespace detail {
struct ScheduleStep {
    std::function<void()> step;  // LRScheduler::step
    Step when = Step::epoch;
    const void* optimizer = nullptr;
    std::string name;
};
struct PlateauStep {
    std::function<void(double)> step;  // ReduceLROnPlateau::step(metric)
    std::string monitor;
    const void* optimizer = nullptr;
};
}  // namespace detail

/// How fit() trains as one of several processes that train one model together, each on its own
/// shard of the data (data parallelism; Note [fit on several processes] in train/fit.cpp).
/// dist/ implements it over MPI (`dist::data_parallel(ddp)`, docs/distributed.md); train/ itself
/// knows nothing of MPI. Every call but rank() and size() is collective: every process makes it,
/// in the same order.
class DataParallel {
public:
    virtual ~DataParallel() = default;
    /// This process, 0 <= rank() < size(). Process 0 prints the progress and writes the files.
    virtual std::size_t rank() const = 0;
    /// How many processes train together.
    virtual std::size_t size() const = 0;
    /// Called after each batch's backward, before the optimizer step: leaves in every
    /// parameter's .grad the average of the processes' gradients.
    virtual void synchronize_gradients() = 0;
    /// Replaces `values` by their element-wise sum over the processes (as many everywhere).
    virtual void sum(std::vector<double>& values) = 0;
    /// Process 0's `value`, returned on every process.
    virtual std::uint64_t broadcast(std::uint64_t value) = 0;
    /// What the model's state_dict() names carry before the names of the model trained (a
    /// wrapper's "module."); a backup leaves it out, so a run without the wrapper resumes it.
    virtual std::string state_prefix() const { return ""; }
};

/// Options of fit(): `FitOptions(30).batch_size(32).early_stopping(EarlyStopping().patience(2))`.
/// epochs >= 1 (default 1), batch_size >= 1 (default 32), shuffle every epoch (default on; from
/// xgrad::generator(), or from `seed` when given), transform (default none: augmentation of the
/// training examples), accuracy metric (default on; see
/// nn::accuracy()), accuracy_threshold for single-output binary models (default 0.5: probabilities;
/// 0 for logits), metrics (default none: more metrics, train/metric.hpp), scheduler (default
/// none: schedules stepped per epoch or per batch, ReduceLROnPlateau fed a monitored value;
/// Note [schedules in fit]), progress (default automatic) written to `output` (default
/// std::cout), history_csv and plot_svg (default none: paths rewritten after every epoch),
/// on_epoch_end (called after each epoch's bookkeeping, the schedules included),
/// terminate_on_nan (default on: stop at the first batch whose training loss is NaN or ±Inf, as
/// Keras' TerminateOnNaN), backup (default none: a file fit() resumes from after a crash, Keras'
/// BackupAndRestore), data_parallel (default none: one process trains alone).
class FitOptions {
public:
    explicit FitOptions(std::size_t epochs = 1) : epochs_(epochs) {}

    FitOptions& epochs(std::size_t v) {
        epochs_ = v;
        return *this;
    }
    std::size_t epochs() const { return epochs_; }
    FitOptions& batch_size(std::size_t v) {
        batch_size_ = v;
        return *this;
    }
    std::size_t batch_size() const { return batch_size_; }
    FitOptions& shuffle(bool v) {
        shuffle_ = v;
        return *this;
    }
    bool shuffle() const { return shuffle_; }
    /// Data augmentation: `f(example, rng)` changes each training example's inputs as its batch
    /// is built (DataLoaderOptions::transform, nn/transforms.hpp; never the validation data).
    /// Set for the model's element type: one set only for the other type is a ValueError.
    FitOptions& transform(nn::Transform<float> f) {
        transform_float_ = std::move(f);
        return *this;
    }
    FitOptions& transform(nn::Transform<double> f) {
        transform_double_ = std::move(f);
        return *this;
    }
    const nn::Transform<float>& transform_float() const { return transform_float_; }
    const nn::Transform<double>& transform_double() const { return transform_double_; }
    FitOptions& seed(std::uint64_t v) {
        seed_ = v;
        return *this;
    }
    const std::optional<std::uint64_t>& seed() const { return seed_; }
    FitOptions& accuracy(bool v) {
        accuracy_ = v;
        return *this;
    }
    bool accuracy() const { return accuracy_; }
    FitOptions& accuracy_threshold(double v) {
        accuracy_threshold_ = v;
        return *this;
    }
    double accuracy_threshold() const { return accuracy_threshold_; }
    /// More metrics, measured on the training batches and on the validation data, as the
    /// accuracy is (Keras' metrics=[...]): history "<name>" and "val_<name>", the progress
    /// line, the CSV and the SVG. Replaces the metrics given before.
    FitOptions& metrics(std::vector<Metric> v) {
        metrics_ = std::move(v);
        return *this;
    }
    const std::vector<Metric>& metrics() const { return metrics_; }
    /// Steps `schedule` after every batch's optimizer step (Step::batch: OneCycleLR, a warmup
    /// over iterations) or once per epoch, after validation (Step::epoch: StepLR,
    /// CosineAnnealingLR, ...). The schedule must drive the optimizer given to fit() and outlive
    /// the call (Note [schedules in fit]). Schedules given in turn are all stepped, in order.
    template <class T>
    FitOptions& scheduler(optim::LRScheduler<T>& schedule, Step when = Step::epoch) {
        schedules_.push_back(
            {[&schedule] { schedule.step(); }, when, &schedule.optimizer(), schedule.name()});
        return *this;
    }
    /// Steps `schedule` once per epoch, after validation, with the value of `monitor` for the
    /// epoch ("val_loss" by default; "loss" or a metric's name, with or without "val_", as
    /// EarlyStopping's monitor). Its options say whether that value is minimized (default) or
    /// maximized (PlateauMode::max for an accuracy).
    template <class T>
    FitOptions& scheduler(optim::ReduceLROnPlateau<T>& schedule, std::string monitor = "val_loss") {
        plateaus_.push_back({[&schedule](double v) { schedule.step(v); }, std::move(monitor),
                             &schedule.optimizer()});
        return *this;
    }
    const std::vector<detail::ScheduleStep>& schedules() const { return schedules_; }
    const std::vector<detail::PlateauStep>& plateaus() const { return plateaus_; }
    FitOptions& early_stopping(EarlyStopping v) {
        early_stopping_ = std::move(v);
        return *this;
    }
    const std::optional<EarlyStopping>& early_stopping() const { return early_stopping_; }
    FitOptions& progress(Progress v) {
        progress_ = v;
        return *this;
    }
    Progress progress() const { return progress_; }
    FitOptions& output(std::ostream& v) {
        output_ = &v;
        return *this;
    }
    std::ostream* output() const { return output_; }
    FitOptions& history_csv(std::string path) {
        history_csv_ = std::move(path);
        return *this;
    }
    const std::string& history_csv() const { return history_csv_; }
    FitOptions& plot_svg(std::string path) {
        plot_svg_ = std::move(path);
        return *this;
    }
    const std::string& plot_svg() const { return plot_svg_; }
    FitOptions& on_epoch_end(std::function<void(std::size_t epoch, const History&)> f) {
        on_epoch_end_ = std::move(f);
        return *this;
    }
    const std::function<void(std::size_t, const History&)>& on_epoch_end() const {
        return on_epoch_end_;
    }
    FitOptions& terminate_on_nan(bool v) {
        terminate_on_nan_ = v;
        return *this;
    }
    bool terminate_on_nan() const { return terminate_on_nan_; }
    /// Keras' BackupAndRestore: after every epoch, the training state (model, optimizer,
    /// history, early-stopping state, shuffle seed, epoch, generator) goes to `path` (.npz,
    /// written atomically by process 0: a crash leaves the previous epoch's file); when fit()
    /// starts and `path` exists, it resumes after the epoch recorded there; when fit() ends
    /// (all epochs run, early stopping, NaN), the file is removed. With a backup the epochs'
    /// order is drawn as with data_parallel (Note [fit on several processes]), so a resumed
    /// run continues the order the interrupted one would have taken, on any number of
    /// processes.
    FitOptions& backup(std::string path) {
        backup_ = std::move(path);
        return *this;
    }
    const std::string& backup() const { return backup_; }
    /// Trains as one of several processes (Note [fit on several processes]): each takes its
    /// shard of every epoch (batch_size is per process), gradients are averaged before each
    /// step, the epoch's values are reduced over the processes, and process 0 alone prints and
    /// writes the history files and the backup.
    FitOptions& data_parallel(std::shared_ptr<DataParallel> v) {
        data_parallel_ = std::move(v);
        return *this;
    }
    const std::shared_ptr<DataParallel>& data_parallel() const { return data_parallel_; }

private:
    std::size_t epochs_;
    std::size_t batch_size_ = 32;
    bool shuffle_ = true;
    nn::Transform<float> transform_float_;
    nn::Transform<double> transform_double_;
    std::optional<std::uint64_t> seed_;
    bool accuracy_ = true;
    double accuracy_threshold_ = 0.5;
    std::vector<Metric> metrics_;
    std::vector<detail::ScheduleStep> schedules_;
    std::vector<detail::PlateauStep> plateaus_;
    std::optional<EarlyStopping> early_stopping_;
    Progress progress_ = Progress::automatic;
    std::ostream* output_ = nullptr;  // null: std::cout
    std::string history_csv_;
    std::string plot_svg_;
    std::function<void(std::size_t, const History&)> on_epoch_end_;
    bool terminate_on_nan_ = true;
    std::string backup_;
    std::shared_ptr<DataParallel> data_parallel_;
};

/// Trains `model` on `train` for options.epochs() epochs (see the file comment): each batch is
/// zero_grad, forward in training mode, `loss(output, targets)`, backward, `optimizer.step()`.
/// After each batch: the schedules stepped per batch. After each epoch: validation loss and
/// metrics on `validation` (eval mode, no grad), the schedules stepped per epoch and
/// ReduceLROnPlateau, early stopping, the progress line, the CSV and SVG files, on_epoch_end.
/// Returns the history; the model is left in training mode.
/// A non-finite training loss (NaN or ±Inf: a learning rate far too high, exploding gradients)
/// stops training at that batch, before its backward and step, unless terminate_on_nan is off:
/// the epoch so far goes into the history (its loss the non-finite mean, validation values NaN),
/// the history files are written, history.stopped_on_nan is set and a message saying what to
/// try is printed and kept in history.stop_reason. Throws ValueError for epochs or batch_size 0, a
/// loss that is not one element, an early-stopping or plateau monitor that is unknown or needs
/// data not given, a metric with a bad or repeated name or without a function for T, a schedule
/// of another optimizer, and ShapeError from nn::accuracy() when the outputs do not look like
/// classification outputs (turn the metric off for regression).
template <class T>
History fit(nn::Module<T>& model, optim::Optimizer<T>& optimizer, const LossFn<T>& loss,
            const nn::Dataset<T>& train, const FitOptions& options);
/// The same with validation data (Keras' validation_data).
template <class T>
History fit(nn::Module<T>& model, optim::Optimizer<T>& optimizer, const LossFn<T>& loss,
            const nn::Dataset<T>& train, const nn::Dataset<T>& validation,
            const FitOptions& options);

/// Loss and metrics over a whole data set (accuracy NaN when not asked for).
struct Evaluation {
    double loss = 0;
    double accuracy = 0;
    /// Every metric by name, accuracy included when measured (Keras' evaluate(return_dict=True)
    /// without the loss).
    std::map<std::string, double> metrics;
};

/// Mean loss and accuracy of `model` over `data`, in batches of batch_size (>= 1), in eval mode
/// and without recording (the model's train/eval mode is restored afterwards). The loss is the
/// batch-size-weighted mean of the batch losses, i.e. the mean over the data set for a
/// mean-reduced loss. ValueError for batch_size 0 or an empty data set.
template <class T>
Evaluation evaluate(nn::Module<T>& model, const LossFn<T>& loss, const nn::Dataset<T>& data,
                    std::size_t batch_size = 32, bool with_accuracy = true,
                    double accuracy_threshold = 0.5);
/// The same with the metrics `metrics` (none implied: include Metric::accuracy() for the
/// accuracy), each accumulated over the batches (Σ total / Σ count); ValueError for a bad or
/// repeated name, or a metric without a function for T.
template <class T>
Evaluation evaluate(nn::Module<T>& model, const LossFn<T>& loss, const nn::Dataset<T>& data,
                    const std::vector<Metric>& metrics, std::size_t batch_size = 32);

/// The outputs of `model` for inputs [n, ...], run in batches (eval mode, no grad, mode
/// restored) and stacked: [n, output...], a leaf without grad. ValueError for batch_size 0 or
/// n = 0.
template <class T>
Tensor<T> predict(nn::Module<T>& model, const xt::xarray<T>& inputs, std::size_t batch_size = 32);

}  // namespace xgrad::train
