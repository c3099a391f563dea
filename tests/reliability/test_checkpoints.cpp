// Checkpoints survive concurrent saves and a crash (docs/reliability.md, "Checkpoints survive a
// crash"): every save goes through one atomic writer (Note [atomic save] in
// autograd/atomic_file.cpp).

#include "autograd/atomic_file.hpp"
#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "autograd/random.hpp"
#include "nn/linear.hpp"
#include "testing.hpp"
#include "train/history.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace xgrad;
namespace fs = std::filesystem;
using namespace testing;  // TempDir, read_file, bit_equal

namespace {

using State = std::map<std::string, xt::xarray<float>>;

// The state of a Linear(in, out) initialised from `seed`: (in + 1)·out floats.
State model_state(std::size_t in, std::size_t out, std::uint64_t seed) {
    manual_seed(seed);
    return nn::Linear<float>(in, out).state_dict();
}

// Which of `candidates` the file at `path` holds bit for bit (-1: none, or it does not load).
int which_state(const std::string& path, const std::vector<State>& candidates) {
    State got;
    try {
        got = load_npz<float>(path);
    } catch (const IoError& e) {
        MESSAGE(std::string(e.what()));
        return -1;
    }
    for (std::size_t k = 0; k < candidates.size(); ++k) {
        if (bit_equal(got, candidates[k])) return static_cast<int>(k);
    }
    return -1;
}

// The names in `dir` other than `keep` (temporary files a save left behind).
std::vector<std::string> strays(const fs::path& dir, const std::vector<std::string>& keep) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (std::find(keep.begin(), keep.end(), name) == keep.end()) out.push_back(name);
    }
    return out;
}

// Chooses the kind of temporary file saves use while it lives (O_TMPFILE or a named one).
struct AnonymousTempFiles {
    explicit AnonymousTempFiles(bool on) { xgrad::detail::set_anonymous_temp_files(on); }
    ~AnonymousTempFiles() { xgrad::detail::set_anonymous_temp_files(true); }
};

// Forks a child that runs `save_forever` until it is killed, lets it run for a random time,
// kills it with SIGKILL and reaps it.
template <class F>
void kill_while_saving(F save_forever, std::mt19937& rng, int max_ms) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        try {
            save_forever();
        } catch (...) {
        }
        _exit(1);  // a save failed: the parent sees an exit, not a kill
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(1000, max_ms * 1000)(rng)));
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));  // killed mid-run, not exited on an error
}

}  // namespace

TEST_CASE("save_npz: threads saving to one path each write a whole file, the last rename wins") {
    TempDir dir;
    const std::string path = dir / "model.npz";
    std::vector<State> states;
    for (std::uint64_t k = 0; k < 4; ++k)
        states.push_back(model_state(256, 128, 10 + k));  // 129 KiB each
    for (const bool anonymous : {true, false}) {
        CAPTURE(anonymous);
        const AnonymousTempFiles mode(anonymous);
        save_npz(path, states[0]);
        std::atomic<int> failures{0}, writing{4};
        std::vector<std::thread> threads;
        for (std::size_t k = 0; k < states.size(); ++k) {
            threads.emplace_back([&, k] {
                for (int i = 0; i < 25; ++i) {
                    try {
                        save_npz(path, states[k]);
                    } catch (const IoError&) {
                        ++failures;
                    }
                }
                --writing;
            });
        }
        // Meanwhile a reader must always find one of the states whole.
        int reads = 0, bad_reads = 0;
        while (writing > 0) {
            ++reads;
            bad_reads += which_state(path, states) < 0;
        }
        for (auto& t : threads)
            t.join();
        MESSAGE("anonymous temporary files: ", anonymous, "; failed saves: ", failures.load(),
                ", bad reads: ", bad_reads, " of ", reads);
        CHECK(failures == 0);
        CHECK(bad_reads == 0);
        CHECK(which_state(path, states) >= 0);
        CHECK(strays(dir.path, {"model.npz"}).empty());
    }
}

TEST_CASE("save_npz: processes saving to one path each write a whole file, the last rename wins") {
    TempDir dir;
    const std::string path = dir / "model.npz";
    std::vector<State> states;
    for (std::uint64_t k = 0; k < 3; ++k)
        states.push_back(model_state(256, 128, 20 + k));
    for (const bool anonymous : {true, false}) {
        CAPTURE(anonymous);
        const AnonymousTempFiles mode(anonymous);
        std::vector<pid_t> children;
        for (std::size_t k = 0; k < states.size(); ++k) {
            const pid_t pid = fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                int failed = 0;
                for (int i = 0; i < 25; ++i) {
                    try {
                        save_npz(path, states[k]);
                    } catch (const IoError&) {
                        ++failed;
                    }
                }
                _exit(failed);  // the exit status counts the failed saves
            }
            children.push_back(pid);
        }
        for (const pid_t pid : children) {
            int status = 0;
            REQUIRE(waitpid(pid, &status, 0) == pid);
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
        }
        CHECK(which_state(path, states) >= 0);
        CHECK(strays(dir.path, {"model.npz"}).empty());
    }
}

namespace {

// A child saves two models of 3 MiB in turn to one path and is killed at a random moment, 30
// times: the file on disk is always one of the two, bit for bit. See docs/reliability.md.
void model_kill_trials(bool anonymous, std::uint32_t seed) {
    const AnonymousTempFiles mode(anonymous);
    TempDir dir;
    const std::string path = dir / "model.npz";
    manual_seed(1);
    nn::Linear<float> model_a(768, 1024);
    manual_seed(2);
    nn::Linear<float> model_b(768, 1024);
    const std::vector<State> states{model_a.state_dict(), model_b.state_dict()};
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i)
        model_a.save(path);
    const double ms_per_save =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        5;
    // Kills land anywhere in the first few saves, however slow the disk (each save is whole).
    const int max_ms = std::max(60, static_cast<int>(4 * ms_per_save));
    std::mt19937 rng(seed);
    int seen[2] = {0, 0}, strayed = 0;
    for (int trial = 0; trial < 30; ++trial) {
        CAPTURE(trial);
        kill_while_saving(
            [&] {
                for (std::size_t i = 0;; ++i)
                    (i % 2 == 0 ? model_b : model_a).save(path);
            },
            rng, max_ms);
        const int k = which_state(path, states);
        REQUIRE(k >= 0);
        ++seen[k];
        // A kill can leave a named temporary file behind (docs/reliability.md); it is never the
        // file itself, and it is removed here so each trial starts clean.
        for (const std::string& name : strays(dir.path, {"model.npz"})) {
            CHECK(name.rfind("model.npz.tmp.", 0) == 0);
            fs::remove(dir.path / name);
            ++strayed;
        }
    }
    MESSAGE("one save: ", ms_per_save, " ms; old/new model on disk after 30 kills: ", seen[0], "/",
            seen[1], "; stray temporary files: ", strayed);
    CHECK(seen[0] > 0);  // the child saved both models: the kills landed in different saves
    CHECK(seen[1] > 0);
}

// The same with a 4000-epoch history saved as CSV and SVG (CSV ~200 KB, SVG ~100 KB).
void history_kill_trials(bool anonymous, std::uint32_t seed) {
    const AnonymousTempFiles mode(anonymous);
    TempDir dir;
    const std::string csv = dir / "history.csv", svg = dir / "history.svg";
    std::vector<train::History> histories(2);
    for (std::size_t k = 0; k < 2; ++k) {
        for (std::size_t e = 0; e < 4000; ++e) {
            histories[k].loss.push_back(1.0 / double(e + 1 + k));
            histories[k].accuracy.push_back(1.0 - 0.5 / double(e + 1 + k));
            histories[k].lr.push_back(0.1);
            histories[k].seconds.push_back(0.001 * double(e % 7));
        }
    }
    const std::string texts[2][2] = {{histories[0].to_csv(), histories[0].to_svg()},
                                     {histories[1].to_csv(), histories[1].to_svg()}};
    const auto t0 = std::chrono::steady_clock::now();
    histories[0].save_csv(csv);
    histories[0].save_svg(svg);
    const double ms_per_save =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const int max_ms = std::max(30, static_cast<int>(4 * ms_per_save));
    std::mt19937 rng(seed);
    int strayed = 0;
    for (int trial = 0; trial < 30; ++trial) {
        CAPTURE(trial);
        kill_while_saving(
            [&] {
                for (std::size_t i = 0;; ++i) {
                    histories[i % 2].save_csv(csv);
                    histories[i % 2].save_svg(svg);
                }
            },
            rng, max_ms);
        const std::string got_csv = read_file(csv), got_svg = read_file(svg);
        CHECK((got_csv == texts[0][0] || got_csv == texts[1][0]));
        CHECK((got_svg == texts[0][1] || got_svg == texts[1][1]));
        for (const std::string& name : strays(dir.path, {"history.csv", "history.svg"})) {
            CHECK(name.find(".tmp.") != std::string::npos);
            fs::remove(dir.path / name);
            ++strayed;
        }
    }
    MESSAGE("stray temporary files after 30 kills: ", strayed);
}

}  // namespace

TEST_CASE("Module::save: a process killed while saving leaves the old or the new model") {
    model_kill_trials(true, 12345);  // an anonymous temporary file (O_TMPFILE)
}

TEST_CASE("Module::save: killed while saving through a named temporary file, the same holds") {
    model_kill_trials(false, 23456);
}

TEST_CASE("History::save_csv: a process killed while saving the history leaves a whole file") {
    history_kill_trials(true, 54321);
}

TEST_CASE("History::save_csv: killed while saving through a named temporary file, the same holds") {
    history_kill_trials(false, 65432);
}
