#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>

// The progress a training loop prints on a terminal or into a log, as Keras does.
namespace xgrad::train {

/// How fit() reports on its output stream:
/// - bar: a progress bar with the running loss redrawn in place ('\r') during the epoch, one
///   finished line per epoch (Keras' verbose=1);
/// - lines: one line per epoch, nothing during it (Keras' verbose=2; right for logs and CI);
/// - none: silent;
/// - automatic (default): bar when the stream is std::cout/std::cerr on a terminal (and TERM is
///   not "dumb"), lines otherwise.
enum class Progress { automatic, bar, lines, none };

/// Draws the progress of a loop over `epochs` epochs of `steps` steps each on `out`, in the
/// given Progress mode (automatic is resolved at construction). The bar mode prints
///     Epoch 1/30
///      812/1719 [=============>................] - ETA: 1s - loss: 0.9467 - accuracy: 0.6863
/// redrawn in place and finished by epoch_end(); the lines mode prints only epoch_end()'s line
///     Epoch 1/30 - 1719 steps - 1.0s 0.55ms/step - loss: 0.7115 - accuracy: 0.7641
/// `metrics` arguments are metric_text() pieces put one after the other.
class Reporter {
public:
    Reporter(Progress mode, std::ostream& out, std::size_t epochs, std::size_t steps);

    /// Starts epoch `epoch` (1-based): its clock, and the "Epoch e/n" header in bar mode.
    void epoch_begin(std::size_t epoch);
    /// True when the bar should be redrawn after `done` steps: at most 10 times a second (a
    /// terminal is slow, an epoch has thousands of steps), never for the last step (epoch_end).
    bool due(std::size_t done);
    /// Draws the bar after `done` steps of the epoch, with the running means so far.
    void step(std::size_t done, const std::string& metrics);
    /// Finishes the epoch's line: `seconds` for the whole epoch (validation included),
    /// `train_seconds` for its steps alone (the per-step time).
    void epoch_end(double seconds, double train_seconds, const std::string& metrics);
    /// A line of its own (early stopping, restored weights); nothing in mode none.
    void message(const std::string& text);

private:
    using Clock = std::chrono::steady_clock;

    std::string bar(std::size_t done) const;
    void draw(const std::string& line, bool finish);

    Progress mode_;
    std::ostream& out_;
    std::size_t epochs_, steps_, width_;
    std::size_t epoch_ = 0;
    std::size_t drawn_ = 0;
    Clock::time_point start_, last_draw_;
};

/// One metric as the progress line shows it: " - name: 0.1234" (four decimals), " - name:
/// 6.4688e+36" from 1e6 up, " - name: nan".
std::string metric_text(const std::string& name, double value);

}  // namespace xgrad::train
