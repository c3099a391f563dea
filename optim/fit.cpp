#include "optim/fit.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::optim {
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

// ---- progress on the terminal ----

std::string format_duration(double s) {
    if (s < 60) return fmt::format("{:.0f}s", s);
    const auto total = static_cast<long long>(s + 0.5);
    if (total < 3600) return fmt::format("{}:{:02}", total / 60, total % 60);
    return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
}

std::string format_per_step(double s) {
    return s >= 1 ? fmt::format("{:.2f}s/step", s) : fmt::format("{:.2f}ms/step", s * 1e3);
}

bool is_terminal(const std::ostream& out) {
    int fd = -1;
    if (&out == &std::cout) fd = STDOUT_FILENO;
    if (&out == &std::cerr || &out == &std::clog) fd = STDERR_FILENO;
    if (fd < 0 || !isatty(fd)) return false;
    const char* term = std::getenv("TERM");
    return !(term && std::strcmp(term, "dumb") == 0);
}

// Draws the progress of fit(): Keras' verbose=1 (bar) or verbose=2 (lines); see Progress.
class Reporter {
public:
    Reporter(Progress mode, std::ostream& out, std::size_t epochs, std::size_t steps)
        : mode_(mode == Progress::automatic ? (is_terminal(out) ? Progress::bar : Progress::lines)
                                            : mode),
          out_(out),
          epochs_(epochs),
          steps_(steps),
          width_(std::to_string(steps).size()) {}

    void epoch_begin(std::size_t epoch) {
        epoch_ = epoch;
        start_ = Clock::now();
        last_draw_ = start_;
        if (mode_ == Progress::bar)
            out_ << fmt::format("Epoch {}/{}\n", epoch, epochs_) << std::flush;
    }

    // True when the bar should be redrawn after `done` steps: at most 10 times a second (a
    // terminal is slow, an epoch has thousands of steps), never for the last step (epoch_end).
    bool due(std::size_t done) {
        if (mode_ != Progress::bar || done >= steps_) return false;
        const auto now = Clock::now();
        if (done > 1 && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return false;
        last_draw_ = now;
        return true;
    }

    // Draws the bar after `done` steps of the epoch, with the running means so far.
    void step(std::size_t done, const std::string& metrics) {
        const double elapsed = seconds_since(start_);
        const double eta = elapsed / double(done) * double(steps_ - done);
        draw(fmt::format("{:>{}}/{} [{}] - ETA: {}{}", done, width_, steps_, bar(done),
                         format_duration(eta), metrics),
             false);
    }

    // `seconds` for the whole epoch (validation included), `train_seconds` for its steps alone.
    void epoch_end(double seconds, double train_seconds, const std::string& metrics) {
        const std::string timing =
            fmt::format("{:.1f}s {}", seconds,
                        format_per_step(train_seconds / double(std::max<std::size_t>(steps_, 1))));
        if (mode_ == Progress::bar) {
            draw(fmt::format("{}/{} [{}] - {}{}", steps_, steps_, bar(steps_), timing, metrics),
                 true);
        } else if (mode_ == Progress::lines) {
            out_ << fmt::format("Epoch {}/{} - {} steps - {}{}\n", epoch_, epochs_, steps_, timing,
                                metrics)
                 << std::flush;
        }
    }

    void message(const std::string& text) {
        if (mode_ != Progress::none) out_ << text << '\n' << std::flush;
    }

private:
    std::string bar(std::size_t done) const {
        constexpr std::size_t width = 30;
        const std::size_t filled = steps_ == 0 ? width : done * width / steps_;
        std::string s(width, '.');
        for (std::size_t i = 0; i < filled; ++i)
            s[i] = '=';
        if (done < steps_ && filled > 0) s[filled - 1] = '>';
        return s;
    }

    // '\r' and the line, padded with spaces over what a longer previous line left behind.
    void draw(const std::string& line, bool finish) {
        std::string padded = line;
        if (padded.size() < drawn_) padded.append(drawn_ - padded.size(), ' ');
        out_ << '\r' << padded;
        if (finish) out_ << '\n';
        out_ << std::flush;
        drawn_ = finish ? 0 : line.size();
    }

    Progress mode_;
    std::ostream& out_;
    std::size_t epochs_, steps_, width_;
    std::size_t epoch_ = 0;
    std::size_t drawn_ = 0;
    Clock::time_point start_, last_draw_;
};

std::string metric_text(const char* name, double v) {
    return fmt::format(" - {}: {:.4f}", name, v);
}

// ---- the SVG plot ----

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over `range`.
double nice_step(double range, double count) {
    const double raw = range / count;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

struct Series {
    const char* label;
    const std::vector<double>* values;
    const char* color;
    bool dashed;
};

// One panel (title, axes, grid, ticks, legend, one polyline per series) at horizontal offset x0.
std::string svg_panel(double x0, const char* title, const std::vector<Series>& series,
                      std::size_t epochs) {
    const double left = x0 + 70, right = x0 + 430, top = 40, bottom = 300;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : series) {
        for (double v : *s.values) {
            if (std::isfinite(v)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
        }
    }
    if (!(lo <= hi)) lo = 0, hi = 1;  // nothing finite to draw
    if (hi - lo < 1e-12) {
        const double pad = std::max(std::abs(lo) * 0.05, 0.05);
        lo -= pad;
        hi += pad;
    }
    const double ystep = nice_step(hi - lo, 5);
    lo = std::floor(lo / ystep) * ystep;
    hi = std::ceil(hi / ystep) * ystep;
    const double xmax = double(std::max<std::size_t>(epochs, 2));
    auto px = [&](double epoch) { return left + (epoch - 1) / (xmax - 1) * (right - left); };
    auto py = [&](double v) { return bottom - (v - lo) / (hi - lo) * (bottom - top); };

    std::string s;
    s += fmt::format(
        "<g class=\"panel\">\n<text x=\"{:.1f}\" y=\"24\" text-anchor=\"middle\" "
        "font-size=\"15\">{}</text>\n",
        (left + right) / 2, title);
    // Horizontal grid lines with their values.
    for (double v = lo; v <= hi + ystep * 1e-6; v += ystep) {
        const double y = py(v);
        s += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"#e0e0e0\"/>\n<text x=\"{:.1f}\" y=\"{:.1f}\" "
            "text-anchor=\"end\" font-size=\"11\">{:.4g}</text>\n",
            left, y, right, y, left - 6, y + 4, std::abs(v) < ystep * 1e-6 ? 0.0 : v);
    }
    // Epoch ticks: whole epochs, at most ~10 labels.
    const double xstep = std::max(1.0, std::ceil(nice_step(xmax - 1, 8)));
    for (double e = 1; e <= xmax + 1e-9; e += xstep) {
        s += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
            "stroke=\"#000\"/>\n<text x=\"{0:.1f}\" y=\"{3:.1f}\" "
            "text-anchor=\"middle\" font-size=\"11\">{4:.0f}</text>\n",
            px(e), bottom, bottom + 5, bottom + 18, e);
    }
    s += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"none\" stroke=\"#000\"/>\n",
        left, top, right - left, bottom - top);
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" "
        "font-size=\"12\">epoch</text>\n",
        (left + right) / 2, bottom + 36);
    // The legend goes in the right-hand corner (top or bottom) that fewer points fall into.
    std::size_t top_right = 0, bottom_right = 0;
    for (const auto& ser : series) {
        for (std::size_t i = 0; i < ser.values->size(); ++i) {
            const double v = (*ser.values)[i];
            if (!std::isfinite(v) || px(double(i + 1)) < right - 130) continue;
            top_right += py(v) < top + 24 + 16 * double(series.size());
            bottom_right += py(v) > bottom - 24 - 16 * double(series.size());
        }
    }
    const double legend_top =
        top_right <= bottom_right ? top + 4 : bottom - 8 - 16 * double(series.size());
    std::string legend = fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"104\" height=\"{:.1f}\" fill=\"#fff\" "
        "fill-opacity=\"0.85\"/>\n",
        right - 114, legend_top, 16 * double(series.size()) + 4);
    for (std::size_t k = 0; k < series.size(); ++k) {
        const Series& ser = series[k];
        const char* dash = ser.dashed ? " stroke-dasharray=\"6 4\"" : "";
        std::string points;
        for (std::size_t i = 0; i < ser.values->size(); ++i) {
            const double v = (*ser.values)[i];
            if (!std::isfinite(v)) continue;
            if (!points.empty()) points += ' ';
            points += fmt::format("{:.1f},{:.1f}", px(double(i + 1)), py(v));
        }
        s += fmt::format(
            "<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} "
            "points=\"{}\"/>\n",
            ser.label, ser.color, dash, points);
        for (std::size_t i = 0; i < ser.values->size(); ++i) {
            const double v = (*ser.values)[i];
            if (!std::isfinite(v)) continue;
            s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n",
                             px(double(i + 1)), py(v), ser.color);
        }
        const double ly = legend_top + 10 + 16 * double(k);
        legend += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"{}\" stroke-width=\"2\"{}/>\n<text x=\"{:.1f}\" y=\"{:.1f}\" "
            "font-size=\"11\">{}</text>\n",
            right - 110, ly, right - 86, ly, ser.color, dash, right - 80, ly + 4, ser.label);
    }
    s += legend;
    s += "</g>\n";
    return s;
}

// ---- early stopping ----

void check_early_stopping(const EarlyStopping& es, bool have_validation, bool have_accuracy) {
    const std::string& m = es.monitor();
    if (m != "loss" && m != "accuracy" && m != "val_loss" && m != "val_accuracy") {
        throw ValueError(
            fmt::format("fit: early stopping monitor must be loss, accuracy, val_loss "
                        "or val_accuracy; got monitor={}",
                        m));
    }
    if (m.rfind("val_", 0) == 0 && !have_validation) {
        throw ValueError(fmt::format(
            "fit: early stopping monitors {} but no validation data was given; pass a validation "
            "set or monitor loss",
            m));
    }
    if (m.find("accuracy") != std::string::npos && !have_accuracy) {
        throw ValueError(fmt::format(
            "fit: early stopping monitors {} but the accuracy metric is off; turn it on with "
            "FitOptions::accuracy(true)",
            m));
    }
    if (!(es.min_delta() >= 0) || !std::isfinite(es.min_delta())) {
        throw ValueError(fmt::format("fit: early stopping min_delta must be >= 0; got min_delta={}",
                                     es.min_delta()));
    }
}

template <class T>
History run_fit(nn::Module<T>& model, Optimizer<T>& optimizer, const LossFn<T>& loss_fn,
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
    const auto& es = options.early_stopping();
    if (es) check_early_stopping(*es, validation != nullptr, options.accuracy());

    nn::DataLoaderOptions loader_options(options.batch_size());
    loader_options.shuffle(options.shuffle());
    if (options.seed()) loader_options.seed(*options.seed());
    nn::DataLoader<T> loader(train, loader_options);

    std::ostream& out = options.output() ? *options.output() : std::cout;
    Reporter reporter(options.progress(), out, options.epochs(), loader.num_batches());
    const bool with_accuracy = options.accuracy();
    const double threshold = options.accuracy_threshold();

    History h;
    const bool maximize = es && es->maximizes();
    double best = maximize ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
    std::size_t wait = 0;
    std::map<std::string, xt::xarray<T>> best_state;

    for (std::size_t epoch = 1; epoch <= options.epochs(); ++epoch) {
        const auto t0 = Clock::now();
        model.train();
        reporter.epoch_begin(epoch);
        h.lr.push_back(optimizer.lr());
        double loss_sum = 0;
        std::size_t seen = 0, correct = 0, step = 0;
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
            loss.backward();
            optimizer.step();
            const std::size_t b = batch.x.shape()[0];
            loss_sum += double(loss.item()) * double(b);
            seen += b;
            if (with_accuracy) correct += nn::count_correct(y, batch.y, threshold);
            ++step;
            if (reporter.due(step)) {
                std::string m = metric_text("loss", loss_sum / double(seen));
                if (with_accuracy) m += metric_text("accuracy", double(correct) / double(seen));
                reporter.step(step, m);
            }
        }
        const double train_seconds = seconds_since(t0);
        h.loss.push_back(loss_sum / double(seen));
        if (with_accuracy) h.accuracy.push_back(double(correct) / double(seen));
        if (validation) {
            const Evaluation e = evaluate(model, loss_fn, *validation, options.batch_size(),
                                          with_accuracy, threshold);
            h.val_loss.push_back(e.loss);
            if (with_accuracy) h.val_accuracy.push_back(e.accuracy);
        }
        h.seconds.push_back(seconds_since(t0));

        std::string metrics = metric_text("loss", h.loss.back());
        if (with_accuracy) metrics += metric_text("accuracy", h.accuracy.back());
        if (validation) metrics += metric_text("val_loss", h.val_loss.back());
        if (validation && with_accuracy)
            metrics += metric_text("val_accuracy", h.val_accuracy.back());
        reporter.epoch_end(h.seconds.back(), train_seconds, metrics);

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
        if (!options.history_csv().empty()) h.save_csv(options.history_csv());
        if (!options.plot_svg().empty()) h.save_svg(options.plot_svg());
        if (options.on_epoch_end()) options.on_epoch_end()(epoch, h);
        if (stop) {
            h.stopped_early = true;
            reporter.message(
                fmt::format("Epoch {}: early stopping ({} did not improve for {} "
                            "epoch{}; best {:.4f} at epoch {})",
                            epoch, es->monitor(), wait, wait == 1 ? "" : "s", best, h.best_epoch));
            break;
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
    model.train();
    return h;
}

}  // namespace

// ---- History ----

const std::vector<double>& History::at(const std::string& key) const {
    if (key == "loss") return loss;
    if (key == "accuracy") return accuracy;
    if (key == "val_loss") return val_loss;
    if (key == "val_accuracy") return val_accuracy;
    if (key == "seconds") return seconds;
    if (key == "lr") return lr;
    throw ValueError(
        fmt::format("History: no series named '{}' (loss, accuracy, val_loss, "
                    "val_accuracy, seconds, lr)",
                    key));
}

bool History::has(const std::string& key) const {
    return !at(key).empty();
}

std::string History::to_csv() const {
    std::vector<const char*> keys{"loss"};
    for (const char* k : {"accuracy", "val_loss", "val_accuracy"}) {
        if (has(k)) keys.push_back(k);
    }
    keys.push_back("lr");
    keys.push_back("seconds");
    std::string s = "epoch";
    for (const char* k : keys)
        s += fmt::format(",{}", k);
    s += '\n';
    for (std::size_t e = 0; e < epochs(); ++e) {
        s += std::to_string(e + 1);
        for (const char* k : keys) {
            const auto& v = at(k);
            s += e < v.size() ? fmt::format(",{}", v[e]) : std::string(",");
        }
        s += '\n';
    }
    return s;
}

std::string History::to_svg() const {
    const bool acc = has("accuracy") || has("val_accuracy");
    const int width = acc ? 900 : 450, height = 360;
    std::string s = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\">\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
        width, height);
    std::vector<Series> losses{{"training", &loss, "#1f77b4", false}};
    if (has("val_loss")) losses.push_back({"validation", &val_loss, "#ff7f0e", true});
    s += svg_panel(0, "loss", losses, epochs());
    if (acc) {
        std::vector<Series> accs;
        if (has("accuracy")) accs.push_back({"training", &accuracy, "#1f77b4", false});
        if (has("val_accuracy")) accs.push_back({"validation", &val_accuracy, "#ff7f0e", true});
        s += svg_panel(450, "accuracy", accs, epochs());
    }
    s += "</svg>\n";
    return s;
}

void History::save_csv(const std::string& path) const {
    save_text("History::save_csv", path, to_csv());
}

void History::save_svg(const std::string& path) const {
    save_text("History::save_svg", path, to_svg());
}

// ---- fit, evaluate, predict ----

template <class T>
History fit(nn::Module<T>& model, Optimizer<T>& optimizer, const LossFn<T>& loss,
            const nn::Dataset<T>& train, const FitOptions& options) {
    return run_fit<T>(model, optimizer, loss, train, nullptr, options);
}

template <class T>
History fit(nn::Module<T>& model, Optimizer<T>& optimizer, const LossFn<T>& loss,
            const nn::Dataset<T>& train, const nn::Dataset<T>& validation,
            const FitOptions& options) {
    return run_fit(model, optimizer, loss, train, &validation, options);
}

template <class T>
Evaluation evaluate(nn::Module<T>& model, const LossFn<T>& loss_fn, const nn::Dataset<T>& data,
                    std::size_t batch_size, bool with_accuracy, double accuracy_threshold) {
    if (batch_size == 0) throw ValueError("evaluate: batch_size must be >= 1; got batch_size=0");
    if (data.size() == 0) throw ValueError("evaluate: the data set is empty");
    if (!loss_fn) throw ValueError("evaluate: the loss function is empty");
    nn::DataLoader<T> loader(data, nn::DataLoaderOptions(batch_size));
    ModeGuard<T> mode(model);
    model.eval();
    NoGradGuard no_grad;
    double loss_sum = 0;
    std::size_t seen = 0, correct = 0;
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
        if (with_accuracy) correct += nn::count_correct(y, batch.y, accuracy_threshold);
    }
    Evaluation e;
    e.loss = loss_sum / double(seen);
    e.accuracy =
        with_accuracy ? double(correct) / double(seen) : std::numeric_limits<double>::quiet_NaN();
    return e;
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

#define XGRAD_INSTANTIATE(T)                                                                     \
    template History fit(nn::Module<T>&, Optimizer<T>&, const LossFn<T>&, const nn::Dataset<T>&, \
                         const FitOptions&);                                                     \
    template History fit(nn::Module<T>&, Optimizer<T>&, const LossFn<T>&, const nn::Dataset<T>&, \
                         const nn::Dataset<T>&, const FitOptions&);                              \
    template Evaluation evaluate(nn::Module<T>&, const LossFn<T>&, const nn::Dataset<T>&,        \
                                 std::size_t, bool, double);                                     \
    template Tensor<T> predict(nn::Module<T>&, const xt::xarray<T>&, std::size_t);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::optim
