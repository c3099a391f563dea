#include "train/fit.hpp"

#include "autograd/errors.hpp"
#include "autograd/random.hpp"
#include "nn/metrics.hpp"
#include "nn/sampler.hpp"
#include "train/backup.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Restores a module's train/eval mode on scope exit.
template <class T>
class ModeGuard {
public:
    explicit ModeGuard(nn::Module<T>& m) : module_(m), was_training_(m.is_training()) {}
    ~ModeGuard() { module_.train(was_training_); }
    ModeGuard(const ModeGuard&) = delete;
    ModeGuard& operator=(const ModeGuard&) = delete;

private:
    nn::Module<T>& module_;
    bool was_training_;
};

// ---- metrics ----

// The metrics of a run: the accuracy when asked for, then the options' own; names checked and
// distinct, each with a function for T.
template <class T>
std::vector<Metric> metrics_of(const char* fn, bool with_accuracy, double threshold,
                               const std::vector<Metric>& extra) {
    std::vector<Metric> all;
    if (with_accuracy) all.push_back(Metric::accuracy(threshold));
    all.insert(all.end(), extra.begin(), extra.end());
    for (std::size_t i = 0; i < all.size(); ++i) {
        check_metric_name(fn, all[i].name());
        for (std::size_t j = 0; j < i; ++j) {
            if (all[j].name() == all[i].name()) {
                throw ValueError(fmt::format(
                    "{}: two metrics are named {}{}", fn, all[i].name(),
                    with_accuracy && j == 0 ? " (the accuracy option adds one; turn it off with "
                                              "FitOptions::accuracy(false))"
                                            : ""));
            }
        }
        if (!all[i].template fn<T>()) {
            throw ValueError(fmt::format("{}: metric {} has no function for {} outputs", fn,
                                         all[i].name(), sizeof(T) == 4 ? "float" : "double"));
        }
    }
    return all;
}

// Σ total and Σ count of each metric over the batches seen.
template <class T>
class MetricSums {
public:
    explicit MetricSums(const std::vector<Metric>& metrics)
        : metrics_(metrics), sums_(metrics.size()) {}
    void add(const Tensor<T>& y, const Tensor<T>& t) {
        for (std::size_t k = 0; k < metrics_.size(); ++k) {
            const MetricValue v = metrics_[k].template fn<T>()(y, t);
            sums_[k].total += v.total;
            sums_[k].count += v.count;
        }
    }
    // NaN before any count (a metric that counted nothing).
    double value(std::size_t k) const {
        return sums_[k].count == 0 ? std::numeric_limits<double>::quiet_NaN()
                                   : sums_[k].total / sums_[k].count;
    }
    std::size_t size() const { return metrics_.size(); }
    const std::string& name(std::size_t k) const { return metrics_[k].name(); }
    // Replaces a loss sum, its example count and every metric's total and count by their sums
    // over the processes of `group` (one collective).
    void sum_over(DataParallel& group, double& loss_sum, double& count) {
        std::vector<double> v{loss_sum, count};
        for (const MetricValue& m : sums_) {
            v.push_back(m.total);
            v.push_back(m.count);
        }
        group.sum(v);
        loss_sum = v[0];
        count = v[1];
        std::size_t at = 2;
        for (MetricValue& m : sums_) {
            m.total = v[at++];
            m.count = v[at++];
        }
    }

private:
    const std::vector<Metric>& metrics_;
    std::vector<MetricValue> sums_;
};

// ---- monitored values (early stopping, ReduceLROnPlateau) ----

// Checks that `monitor` names a value fit() records: loss, or a metric, with or without val_.
void check_monitor(const char* what, const std::string& m, bool have_validation,
                   const std::vector<Metric>& metrics) {
    const bool validation = m.rfind("val_", 0) == 0;
    const std::string base = validation ? m.substr(4) : m;
    bool known = base == "loss";
    for (const auto& metric : metrics)
        known = known || metric.name() == base;
    if (!known && base == "accuracy") {
        throw ValueError(
            fmt::format("fit: {} monitors {} but the accuracy metric is off; turn it on with "
                        "FitOptions::accuracy(true)",
                        what, m));
    }
    if (!known) {
        std::string names = "loss, val_loss";
        for (const auto& metric : metrics)
            names += fmt::format(", {0}, val_{0}", metric.name());
        throw ValueError(
            fmt::format("fit: {} monitor must be one of {}; got monitor={}", what, names, m));
    }
    if (validation && !have_validation) {
        throw ValueError(
            fmt::format("fit: {} monitors {} but no validation data was given; pass a validation "
                        "set or monitor loss",
                        what, m));
    }
}

void check_early_stopping(const EarlyStopping& es, bool have_validation,
                          const std::vector<Metric>& metrics) {
    check_monitor("early stopping", es.monitor(), have_validation, metrics);
    if (!(es.min_delta() >= 0) || !std::isfinite(es.min_delta())) {
        throw ValueError(fmt::format("fit: early stopping min_delta must be >= 0; got min_delta={}",
                                     es.min_delta()));
    }
}

// Whether early stopping maximizes its monitor: its mode, or in automatic mode the direction of
// the metric it names (the loss is minimized).
bool maximizes(const EarlyStopping& es, const std::vector<Metric>& metrics) {
    if (es.mode() != Mode::automatic) return es.mode() == Mode::max;
    const std::string& m = es.monitor();
    const std::string base = m.rfind("val_", 0) == 0 ? m.substr(4) : m;
    for (const auto& metric : metrics) {
        if (metric.name() == base) return metric.greater_is_better();
    }
    return false;
}

// The progress text of the epoch's values: loss, training metrics, then the validation ones.
std::string epoch_text(const History& h, const std::vector<Metric>& metrics, bool validation) {
    std::string text = metric_text("loss", h.loss.back());
    for (const auto& m : metrics)
        text += metric_text(m.name(), h.at(m.name()).back());
    if (validation) {
        text += metric_text("val_loss", h.val_loss.back());
        for (const auto& m : metrics) {
            const std::string key = "val_" + m.name();
            text += metric_text(key, h.at(key).back());
        }
    }
    return text;
}

// Ends the epoch cut short by a non-finite training loss: its line, NaN validation values (the
// series stay one value per epoch), the flag and the message saying what to try.
void stop_on_nan(History& h, Reporter& reporter, std::size_t epoch, std::size_t step,
                 std::size_t steps, double loss, double lr, bool validation,
                 const std::vector<Metric>& metrics, double seconds, double train_seconds) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (validation) {
        h.val_loss.push_back(nan);
        for (const auto& m : metrics)
            h.series("val_" + m.name()).push_back(nan);
    }
    h.seconds.push_back(seconds);
    std::string text = metric_text("loss", h.loss.back());
    for (const auto& m : metrics)
        text += metric_text(m.name(), h.at(m.name()).back());
    reporter.epoch_end(seconds, train_seconds, text);
    h.stopped_on_nan = true;
    h.stop_reason = fmt::format(
        "Epoch {}, batch {}/{}: the training loss is {}; training stopped there (before that "
        "batch's update, so the model keeps the weights that gave it). Try a lower learning "
        "rate (it is {:g}), gradient clipping (optim::clip_grad_norm), or anomaly mode "
        "(xgrad::AnomalyGuard) to find the op that first produced NaN/Inf; "
        "FitOptions::terminate_on_nan(false) trains on regardless",
        epoch, step, steps, loss, lr);
    reporter.message(h.stop_reason);
}

// Examples [begin, end), in order: one process's contiguous part of the validation data.
class RangeSampler final : public nn::Sampler {
public:
    RangeSampler(std::size_t begin, std::size_t end) : begin_(begin), end_(end) {}
    std::vector<std::size_t> indices(std::size_t /*n*/, std::mt19937_64& /*rng*/) const override {
        std::vector<std::size_t> out(end_ - begin_);
        std::iota(out.begin(), out.end(), begin_);
        return out;
    }
    std::size_t size(std::size_t /*n*/) const override { return end_ - begin_; }
    std::string name() const override { return "RangeSampler"; }

private:
    std::size_t begin_, end_;
};

// Loss and metrics over `data`; with a DataParallel group of several processes, each runs its
// contiguous part and the sums are added over the processes (Note [fit on several processes]).
template <class T>
Evaluation run_evaluate(nn::Module<T>& model, const LossFn<T>& loss_fn, const nn::Dataset<T>& data,
                        const std::vector<Metric>& metrics, std::size_t batch_size,
                        DataParallel* group = nullptr) {
    if (batch_size == 0) throw ValueError("evaluate: batch_size must be >= 1; got batch_size=0");
    if (data.size() == 0) throw ValueError("evaluate: the data set is empty");
    if (!loss_fn) throw ValueError("evaluate: the loss function is empty");
    nn::DataLoaderOptions loader_options(batch_size);
    std::size_t begin = 0, end = data.size();
    if (group && group->size() > 1) {
        begin = data.size() * group->rank() / group->size();
        end = data.size() * (group->rank() + 1) / group->size();
        loader_options.sampler(RangeSampler(begin, end));
    }
    ModeGuard<T> mode(model);
    model.eval();
    NoGradGuard no_grad;
    double loss_sum = 0;
    std::size_t seen = 0;
    MetricSums<T> sums(metrics);
    if (end > begin) {
        nn::DataLoader<T> loader(data, loader_options);
        for (const nn::Batch<T>& batch : loader) {
            const Tensor<T> y = model(batch.x);
            const Tensor<T> loss = loss_fn(y, batch.y);
            if (loss.size() != 1) {
                throw ValueError(fmt::format("evaluate: the loss must be one element; got loss={}",
                                             shape_str(loss.shape())));
            }
            const std::size_t b = batch.x.shape()[0];
            loss_sum += double(loss.item()) * double(b);
            seen += b;
            sums.add(y, batch.y);
        }
    }
    double total = double(seen);
    if (group && group->size() > 1) sums.sum_over(*group, loss_sum, total);
    Evaluation e;
    e.loss = loss_sum / total;
    e.accuracy = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k = 0; k < sums.size(); ++k) {
        e.metrics[sums.name(k)] = sums.value(k);
        if (sums.name(k) == "accuracy") e.accuracy = sums.value(k);
    }
    return e;
}

// ---- backup (FitOptions::backup, Note [fit backup] in train/backup.cpp) ----

template <class T>
std::map<std::string, xt::xarray<T>> without_prefix(std::map<std::string, xt::xarray<T>> state,
                                                    const std::string& prefix) {
    if (prefix.empty()) return state;
    std::map<std::string, xt::xarray<T>> out;
    for (auto& [name, value] : state)
        out[name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name] = std::move(value);
    return out;
}

template <class T>
std::map<std::string, xt::xarray<T>> with_prefix(const std::map<std::string, xt::xarray<T>>& state,
                                                 const std::string& prefix) {
    std::map<std::string, xt::xarray<T>> out;
    for (const auto& [name, value] : state)
        out[prefix + name] = value;
    return out;
}

// The backup at `path`, when there is one: process 0 says whether it exists, then every process
// reads it (so it must be where each can); one that cannot makes every process throw.
template <class T>
std::optional<detail::FitState<T>> read_backup(const std::string& path, DataParallel* group) {
    bool exists = std::ifstream(path).good();
    if (group) exists = group->broadcast(exists ? 1 : 0) != 0;
    if (!exists) return std::nullopt;
    std::optional<detail::FitState<T>> state;
    std::exception_ptr error;
    try {
        state = detail::load_backup<T>(path);
    } catch (const std::exception&) {
        error = std::current_exception();
    }
    if (group) {
        std::vector<double> failed{error ? 1.0 : 0.0};
        group->sum(failed);
        if (failed[0] > 0 && !error) {
            throw IoError(fmt::format(
                "fit: {} process(es) could not read the backup '{}'; every process reads it, so "
                "it must be where each of them can",
                failed[0], path));
        }
    }
    if (error) std::rethrow_exception(error);
    return state;
}

// Puts model, optimizer, schedules and generator where the backup's run left them. The history
// must hold the series this run records (the same metrics, with or without validation).
template <class T>
void restore(const detail::FitState<T>& state, nn::Module<T>& model, optim::Optimizer<T>& optimizer,
             const FitOptions& options, const std::vector<Metric>& metrics, bool validation,
             const std::string& prefix, const std::string& path) {
    const History& h = state.history;
    std::vector<std::string> expected{"loss"}, found{"loss"};
    for (const auto& m : metrics)
        expected.push_back(m.name());
    if (validation) {
        expected.emplace_back("val_loss");
        for (const auto& m : metrics)
            expected.push_back("val_" + m.name());
    }
    for (const char* k : {"accuracy", "val_loss", "val_accuracy"}) {
        if (h.has(k)) found.emplace_back(k);
    }
    for (const auto& [name, values] : h.metrics)
        found.push_back(name);
    std::sort(expected.begin(), expected.end());
    std::sort(found.begin(), found.end());
    if (state.epoch > 0 && expected != found) {
        throw ValueError(fmt::format(
            "fit: the backup '{}' records {}, this fit records {}; resume with the metrics and "
            "validation data of the run that wrote it, or remove the file",
            path, fmt::join(found, ", "), fmt::join(expected, ", ")));
    }
    try {
        model.load_state_dict(with_prefix(state.model, prefix));
    } catch (const ShapeError& e) {
        throw ShapeError(fmt::format("fit: backup '{}': {}", path, e.what()));
    } catch (const ValueError& e) {
        throw ValueError(fmt::format("fit: backup '{}': {}", path, e.what()));
    }
    // The schedules step as they did (per-batch steps, then per-epoch ones: their counters),
    // then the optimizer's state sets the lr they had reached.
    for (std::uint64_t i = 0; i < state.batch_steps; ++i) {
        for (const auto& s : options.schedules()) {
            if (s.when == Step::batch) s.step();
        }
    }
    for (std::size_t e = 0; e < state.epoch; ++e) {
        for (const auto& s : options.schedules()) {
            if (s.when == Step::epoch) s.step();
        }
        for (const auto& p : options.plateaus())
            p.step(h.at(p.monitor)[e]);
    }
    optimizer.load_state_dict(state.optimizer);
    std::istringstream g(state.generator);
    std::mt19937_64 saved;
    if (!(g >> saved)) {
        throw ValueError(fmt::format(
            "fit: backup '{}' is not a fit backup: fit.generator is not a generator state", path));
    }
    generator() = saved;
}

// Note [fit on several processes]
// With FitOptions::data_parallel, fit() is one of size() processes that train one model
// together, each holding a copy (docs/distributed.md). It needs only what train::DataParallel
// offers: rank and size, synchronize_gradients (after backward, before the step), an elementwise
// sum of doubles, and a broadcast of one integer. The processes stay in step because every
// decision is made on values that are equal everywhere:
//   - every epoch's order is nn::DistributedSampler's, seeded with process 0's seed: each
//     process gets as many batches, so the collectives of each step pair up;
//   - with terminate_on_nan, the batch's loss is summed before backward, so all stop together;
//   - the epoch's loss and metric sums, and the validation sums (contiguous parts of the
//     validation set), are summed, so the history, early stopping and the plateau schedule see
//     the same numbers on every process.
// Process 0 alone prints and writes the history files and the backup. A backup (Note [fit
// backup] in backup.cpp) also takes the sampler's order on one process, so a resumed run goes on
// with the order the interrupted one had, whatever the number of processes.

template <class T>
History run_fit(nn::Module<T>& model, optim::Optimizer<T>& optimizer, const LossFn<T>& loss_fn,
                const nn::Dataset<T>& train, const nn::Dataset<T>* validation,
                const FitOptions& options) {
    if (options.epochs() == 0 || options.batch_size() == 0) {
        throw ValueError(
            fmt::format("fit: epochs and batch_size must be >= 1; got epochs={}, "
                        "batch_size={}",
                        options.epochs(), options.batch_size()));
    }
    if (!loss_fn) throw ValueError("fit: the loss function is empty");
    if (train.size() == 0) throw ValueError("fit: the training set is empty");
    if (validation && validation->size() == 0) throw ValueError("fit: the validation set is empty");
    const std::vector<Metric> metrics =
        metrics_of<T>("fit", options.accuracy(), options.accuracy_threshold(), options.metrics());
    const auto& es = options.early_stopping();
    if (es) check_early_stopping(*es, validation != nullptr, metrics);
    for (const auto& s : options.schedules()) {
        if (s.optimizer != &optimizer) {
            throw ValueError(fmt::format(
                "fit: the schedule {} drives another optimizer than the one fit() steps; build "
                "it over that optimizer",
                s.name));
        }
    }
    for (const auto& p : options.plateaus()) {
        if (p.optimizer != &optimizer) {
            throw ValueError(
                "fit: the schedule reduce_lr_on_plateau drives another optimizer than the one "
                "fit() steps; build it over that optimizer");
        }
        check_monitor("reduce_lr_on_plateau", p.monitor, validation != nullptr, metrics);
    }

    DataParallel* const group = options.data_parallel().get();
    const std::size_t procs = group ? group->size() : 1;
    const std::size_t rank = group ? group->rank() : 0;
    if (procs == 0 || rank >= procs) {
        throw ValueError(fmt::format(
            "fit: data_parallel: expected 0 <= rank < size; got rank={}, size={}", rank, procs));
    }
    const bool main_process = rank == 0;
    const std::string& backup = options.backup();
    const std::string prefix = group ? group->state_prefix() : "";
    std::optional<detail::FitState<T>> resumed;
    if (!backup.empty()) resumed = read_backup<T>(backup, group);

    // The epochs' order: the loader's shuffle alone; nn::DistributedSampler's (seed + epoch, the
    // process's shard) on several processes or with a backup.
    nn::DataLoaderOptions loader_options(options.batch_size());
    std::shared_ptr<nn::DistributedSampler> sampler;
    std::uint64_t seed = 0;
    if (group || !backup.empty()) {
        seed = options.seed() ? *options.seed() : generator()();
        if (group) seed = group->broadcast(seed);
        if (resumed) seed = resumed->seed;
        sampler = std::make_shared<nn::DistributedSampler>(
            procs, rank, nn::DistributedSamplerOptions().shuffle(options.shuffle()).seed(seed));
        loader_options.sampler(std::shared_ptr<const nn::Sampler>(sampler));
    } else {
        loader_options.shuffle(options.shuffle());
        if (options.seed()) loader_options.seed(*options.seed());
    }
    if (options.transform_float()) loader_options.transform(options.transform_float());
    if (options.transform_double()) loader_options.transform(options.transform_double());
    nn::DataLoader<T> loader(train, loader_options);

    std::ostream& out = options.output() ? *options.output() : std::cout;
    Reporter reporter(main_process ? options.progress() : Progress::none, out, options.epochs(),
                      loader.num_batches());

    History h;
    const bool maximize = es && maximizes(*es, metrics);
    double best = maximize ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
    std::size_t wait = 0;
    std::map<std::string, xt::xarray<T>> best_state;
    std::uint64_t batch_steps = 0;
    std::size_t first_epoch = 1;
    if (resumed) {
        restore(*resumed, model, optimizer, options, metrics, validation != nullptr, prefix,
                backup);
        h = std::move(resumed->history);
        best = resumed->best;
        wait = resumed->wait;
        best_state = std::move(resumed->best_model);
        batch_steps = resumed->batch_steps;
        first_epoch = resumed->epoch + 1;
        reporter.message(fmt::format("Resuming from the backup '{}' after epoch {} of {}", backup,
                                     resumed->epoch, options.epochs()));
    }

    bool ended = false;  // early stopping or a NaN loss ended training
    for (std::size_t epoch = first_epoch; epoch <= options.epochs() && !ended; ++epoch) {
        const auto t0 = Clock::now();
        model.train();
        if (sampler) sampler->set_epoch(epoch - 1);
        reporter.epoch_begin(epoch);
        h.lr.push_back(optimizer.lr());
        double loss_sum = 0;
        std::size_t seen = 0, step = 0;
        MetricSums<T> sums(metrics);
        bool nonfinite = false;  // a NaN/Inf training loss ended the epoch (terminate_on_nan)
        double bad_loss = 0;
        for (const nn::Batch<T>& batch : loader) {
            optimizer.zero_grad();
            const Tensor<T> y = model(batch.x);
            const Tensor<T> loss = loss_fn(y, batch.y);
            if (loss.size() != 1) {
                throw ValueError(
                    fmt::format("fit: the loss must be one element (a mean over the "
                                "batch); got loss={}",
                                shape_str(loss.shape())));
            }
            const double value = double(loss.item());
            bool finite = std::isfinite(value);
            if (group && options.terminate_on_nan()) {
                // Every process must stop at the same batch: they decide on the sum.
                std::vector<double> any{value};
                group->sum(any);
                finite = std::isfinite(any[0]);
                if (!finite) bad_loss = std::isfinite(value) ? any[0] : value;
            } else if (!finite) {
                bad_loss = value;
            }
            // NOTE: a non-finite loss stops before its backward and step, so the model keeps the
            // weights that produced it (to rerun the batch under AnomalyGuard).
            if (finite || !options.terminate_on_nan()) {
                loss.backward();
                if (group) group->synchronize_gradients();
                optimizer.step();
                ++batch_steps;
                for (const auto& s : options.schedules()) {
                    if (s.when == Step::batch) s.step();
                }
            }
            const std::size_t b = batch.x.shape()[0];
            loss_sum += value * double(b);
            seen += b;
            sums.add(y, batch.y);
            ++step;
            if (!finite && options.terminate_on_nan()) {
                nonfinite = true;
                break;
            }
            if (reporter.due(step)) {
                std::string m = metric_text("loss", loss_sum / double(seen));
                for (std::size_t k = 0; k < sums.size(); ++k)
                    m += metric_text(sums.name(k), sums.value(k));
                reporter.step(step, m);
            }
        }
        double total = double(seen);
        if (group) sums.sum_over(*group, loss_sum, total);  // the epoch over every shard
        const double train_seconds = seconds_since(t0);
        h.loss.push_back(loss_sum / total);
        for (std::size_t k = 0; k < sums.size(); ++k)
            h.series(sums.name(k)).push_back(sums.value(k));
        if (nonfinite) {
            stop_on_nan(h, reporter, epoch, step, loader.num_batches(), bad_loss, optimizer.lr(),
                        validation != nullptr, metrics, seconds_since(t0), train_seconds);
            if (main_process && !options.history_csv().empty()) h.save_csv(options.history_csv());
            if (main_process && !options.plot_svg().empty()) h.save_svg(options.plot_svg());
            if (options.on_epoch_end()) options.on_epoch_end()(epoch, h);
            break;
        }
        if (validation) {
            const Evaluation e =
                run_evaluate(model, loss_fn, *validation, metrics, options.batch_size(), group);
            h.val_loss.push_back(e.loss);
            for (const auto& m : metrics)
                h.series("val_" + m.name()).push_back(e.metrics.at(m.name()));
        }
        h.seconds.push_back(seconds_since(t0));
        reporter.epoch_end(h.seconds.back(), train_seconds,
                           epoch_text(h, metrics, validation != nullptr));

        // The epoch's schedules: the next epoch's lr (h.lr records it when the epoch begins).
        for (const auto& s : options.schedules()) {
            if (s.when == Step::epoch) s.step();
        }
        for (const auto& p : options.plateaus())
            p.step(h.at(p.monitor).back());

        bool stop = false;
        if (es) {
            const double current = h.at(es->monitor()).back();
            const bool improved =
                maximize ? current > best + es->min_delta() : current < best - es->min_delta();
            if (improved) {
                best = current;
                wait = 0;
                h.best_epoch = epoch;
                if (es->restore_best_weights()) best_state = model.state_dict();
            } else if (++wait >= std::max<std::size_t>(es->patience(), 1)) {
                stop = epoch < options.epochs();
            }
        }
        if (main_process && !options.history_csv().empty()) h.save_csv(options.history_csv());
        if (main_process && !options.plot_svg().empty()) h.save_svg(options.plot_svg());
        if (main_process && !backup.empty()) {
            detail::FitState<T> state;
            state.epoch = epoch;
            state.seed = seed;
            state.batch_steps = batch_steps;
            state.history = h;
            state.best = best;
            state.wait = wait;
            state.model = without_prefix(model.state_dict(), prefix);
            state.best_model = without_prefix(best_state, prefix);
            state.optimizer = optimizer.state_dict();
            std::ostringstream g;
            g << generator();
            state.generator = g.str();
            detail::save_backup(backup, state);
        }
        if (options.on_epoch_end()) options.on_epoch_end()(epoch, h);
        if (stop) {
            h.stopped_early = true;
            h.stop_reason = fmt::format(
                "Epoch {}: early stopping ({} did not improve for {} "
                "epoch{}; best {:.4f} at epoch {})",
                epoch, es->monitor(), wait, wait == 1 ? "" : "s", best, h.best_epoch);
            reporter.message(h.stop_reason);
            ended = true;
        }
    }
    if (es && es->restore_best_weights() && h.best_epoch != 0) {
        if (h.best_epoch != h.epochs()) {
            model.load_state_dict(best_state);
            reporter.message(fmt::format("Restored the weights of epoch {} (best {} {:.4f})",
                                         h.best_epoch, es->monitor(), best));
        }
        h.restored_best = true;
    }
    // Training ended as planned: the backup has served (Keras removes it too).
    if (main_process && !backup.empty()) std::remove(backup.c_str());
    model.train();
    return h;
}

}  // namespace

// ---- fit, evaluate, predict ----

template <class T>
History fit(nn::Module<T>& model, optim::Optimizer<T>& optimizer, const LossFn<T>& loss,
            const nn::Dataset<T>& train, const FitOptions& options) {
    return run_fit<T>(model, optimizer, loss, train, nullptr, options);
}

template <class T>
History fit(nn::Module<T>& model, optim::Optimizer<T>& optimizer, const LossFn<T>& loss,
            const nn::Dataset<T>& train, const nn::Dataset<T>& validation,
            const FitOptions& options) {
    return run_fit(model, optimizer, loss, train, &validation, options);
}

template <class T>
Evaluation evaluate(nn::Module<T>& model, const LossFn<T>& loss_fn, const nn::Dataset<T>& data,
                    std::size_t batch_size, bool with_accuracy, double accuracy_threshold) {
    return run_evaluate(model, loss_fn, data,
                        metrics_of<T>("evaluate", with_accuracy, accuracy_threshold, {}),
                        batch_size);
}

template <class T>
Evaluation evaluate(nn::Module<T>& model, const LossFn<T>& loss_fn, const nn::Dataset<T>& data,
                    const std::vector<Metric>& metrics, std::size_t batch_size) {
    return run_evaluate(model, loss_fn, data, metrics_of<T>("evaluate", false, 0.5, metrics),
                        batch_size);
}

template <class T>
Tensor<T> predict(nn::Module<T>& model, const xt::xarray<T>& inputs, std::size_t batch_size) {
    if (batch_size == 0) throw ValueError("predict: batch_size must be >= 1; got batch_size=0");
    if (inputs.dimension() == 0 || inputs.shape()[0] == 0) {
        throw ValueError(fmt::format("predict: expected inputs [n, ...] with n >= 1; got inputs={}",
                                     shape_str(inputs.shape())));
    }
    const std::size_t n = inputs.shape()[0];
    const std::size_t row = inputs.size() / n;
    ModeGuard<T> mode(model);
    model.eval();
    NoGradGuard no_grad;
    xt::xarray<T> result;
    std::size_t out_row = 0;
    for (std::size_t start = 0; start < n; start += batch_size) {
        const std::size_t b = std::min(batch_size, n - start);
        Shape shape = inputs.shape();
        shape[0] = b;
        xt::xarray<T> x = xt::xarray<T>::from_shape(shape);  // [b, ...]: rows start..start+b
        std::copy_n(inputs.data() + start * row, b * row, x.data());
        const Tensor<T> y = model(Tensor<T>(std::move(x)));
        if (y.dim() == 0 || y.shape()[0] != b) {
            throw ShapeError(
                fmt::format("predict: the model returned {} for a batch of {} "
                            "examples; expected [{}, ...]",
                            shape_str(y.shape()), b, b));
        }
        if (start == 0) {
            Shape out_shape = y.shape();
            out_shape[0] = n;
            result = xt::xarray<T>::from_shape(out_shape);
            out_row = y.size() / b;
        } else if (y.size() / b != out_row) {
            throw ShapeError(
                fmt::format("predict: the model returned {} for a later batch, "
                            "after [{}, ...] rows of {} elements",
                            shape_str(y.shape()), b, out_row));
        }
        std::copy_n(y.value().data(), y.size(), result.data() + start * out_row);
    }
    return Tensor<T>(std::move(result));
}

#define XGRAD_INSTANTIATE(T)                                                               \
    template History fit(nn::Module<T>&, optim::Optimizer<T>&, const LossFn<T>&,           \
                         const nn::Dataset<T>&, const FitOptions&);                        \
    template History fit(nn::Module<T>&, optim::Optimizer<T>&, const LossFn<T>&,           \
                         const nn::Dataset<T>&, const nn::Dataset<T>&, const FitOptions&); \
    template Evaluation evaluate(nn::Module<T>&, const LossFn<T>&, const nn::Dataset<T>&,  \
                                 std::size_t, bool, double);                               \
    template Evaluation evaluate(nn::Module<T>&, const LossFn<T>&, const nn::Dataset<T>&,  \
                                 const std::vector<Metric>&, std::size_t);                 \
    template Tensor<T> predict(nn::Module<T>&, const xt::xarray<T>&, std::size_t);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::train
