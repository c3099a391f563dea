#include "train/progress.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace xgrad::train {
namespace {

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

}  // namespace

Reporter::Reporter(Progress mode, std::ostream& out, std::size_t epochs, std::size_t steps)
    : mode_(mode == Progress::automatic ? (is_terminal(out) ? Progress::bar : Progress::lines)
                                        : mode),
      out_(out),
      epochs_(epochs),
      steps_(steps),
      width_(std::to_string(steps).size()) {}

void Reporter::epoch_begin(std::size_t epoch) {
    epoch_ = epoch;
    start_ = Clock::now();
    last_draw_ = start_;
    if (mode_ == Progress::bar) out_ << fmt::format("Epoch {}/{}\n", epoch, epochs_) << std::flush;
}

bool Reporter::due(std::size_t done) {
    if (mode_ != Progress::bar || done >= steps_) return false;
    const auto now = Clock::now();
    if (done > 1 && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return false;
    last_draw_ = now;
    return true;
}

void Reporter::step(std::size_t done, const std::string& metrics) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double eta = elapsed / double(done) * double(steps_ - done);
    draw(fmt::format("{:>{}}/{} [{}] - ETA: {}{}", done, width_, steps_, bar(done),
                     format_duration(eta), metrics),
         false);
}

void Reporter::epoch_end(double seconds, double train_seconds, const std::string& metrics) {
    const std::string timing =
        fmt::format("{:.1f}s {}", seconds,
                    format_per_step(train_seconds / double(std::max<std::size_t>(steps_, 1))));
    if (mode_ == Progress::bar) {
        draw(fmt::format("{}/{} [{}] - {}{}", steps_, steps_, bar(steps_), timing, metrics), true);
    } else if (mode_ == Progress::lines) {
        out_ << fmt::format("Epoch {}/{} - {} steps - {}{}\n", epoch_, epochs_, steps_, timing,
                            metrics)
             << std::flush;
    }
}

void Reporter::message(const std::string& text) {
    if (mode_ != Progress::none) out_ << text << '\n' << std::flush;
}

std::string Reporter::bar(std::size_t done) const {
    constexpr std::size_t width = 30;
    const std::size_t filled = steps_ == 0 ? width : done * width / steps_;
    std::string s(width, '.');
    for (std::size_t i = 0; i < filled; ++i)
        s[i] = '=';
    if (done < steps_ && filled > 0) s[filled - 1] = '>';
    return s;
}

// '\r' and the line, padded with spaces over what a longer previous line left behind.
void Reporter::draw(const std::string& line, bool finish) {
    std::string padded = line;
    if (padded.size() < drawn_) padded.append(drawn_ - padded.size(), ' ');
    out_ << '\r' << padded;
    if (finish) out_ << '\n';
    out_ << std::flush;
    drawn_ = finish ? 0 : line.size();
}

std::string metric_text(const std::string& name, double value) {
    // A diverging loss (1e37) would print 38 digits in fixed notation.
    if (std::isfinite(value) && std::abs(value) >= 1e6) {
        return fmt::format(" - {}: {:.4e}", name, value);
    }
    return fmt::format(" - {}: {:.4f}", name, value);
}

}  // namespace xgrad::train
