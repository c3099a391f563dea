// Gradient checkpointing on a deep MLP: the same training steps run plainly and with
// nn::checkpoint_sequential, each in a child process of its own so that each one's peak resident
// size (getrusage's ru_maxrss) is its own. Prints, per run, the peak resident size, the mean
// time per step and the losses; exits non-zero unless the two runs' losses agree.
//
//   ./checkpointing [--blocks B] [--width W] [--batch N] [--steps S] [--segments K]
//   (defaults: 24 blocks of Linear(W, W) + ReLU, W = 256, N = 8192, S = 3, K = 7 ≈ √48 layers)

#include <xgrad.hpp>

#include <fmt/format.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

struct Config {
    std::size_t blocks = 24, width = 256, batch = 8192, steps = 3, segments = 7;
};

struct Run {
    double peak_mib = 0;
    double ms_per_step = 0;
    std::vector<double> losses;
};

// The training steps of one run, in this process: SGD on the mean squared error to a fixed random
// target; segments 0 means no checkpointing. Returns the losses and the mean time per step.
Run train(const Config& c, std::size_t segments) {
    manual_seed(1);
    nn::Sequential<> model;
    for (std::size_t i = 0; i < c.blocks; ++i) {
        model.add(nn::Linear<>(c.width, c.width));
        model.add(nn::ReLU<>());
    }
    const Tensor<> x = randn<float>({c.batch, c.width});
    const Tensor<> target = randn<float>({c.batch, c.width}, 0.0f, 0.1f);
    optim::SGD<> sgd(model.parameters(), optim::SGDOptions(0.01));
    Run run;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t step = 0; step < c.steps; ++step) {
        sgd.zero_grad();
        const Tensor<> y = segments == 0 ? model(x) : nn::checkpoint_sequential(model, segments, x);
        Tensor<> loss = nn::mse_loss(y, target);
        loss.backward();
        sgd.step();
        run.losses.push_back(loss.item());
    }
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    run.ms_per_step = took.count() / static_cast<double>(c.steps);
    return run;
}

// Runs train() in a child process and reads back its results and its peak resident size.
Run in_child(const Config& c, std::size_t segments) {
    int fds[2];
    if (pipe(fds) != 0) {
        std::perror("pipe");
        std::exit(2);
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        const Run run = train(c, segments);
        std::vector<double> out = {run.ms_per_step};
        out.insert(out.end(), run.losses.begin(), run.losses.end());
        const auto bytes = static_cast<ssize_t>(out.size() * sizeof(double));
        _exit(write(fds[1], out.data(), static_cast<std::size_t>(bytes)) == bytes ? 0 : 1);
    }
    close(fds[1]);
    std::vector<double> in(1 + c.steps);
    const auto want = static_cast<ssize_t>(in.size() * sizeof(double));
    ssize_t got = 0;
    while (got < want) {
        const ssize_t r = read(fds[0], reinterpret_cast<char*>(in.data()) + got,
                               static_cast<std::size_t>(want - got));
        if (r <= 0) break;
        got += r;
    }
    close(fds[0]);
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    if (got != want || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fmt::print(stderr, "checkpointing: the child run (segments {}) failed\n", segments);
        std::exit(2);
    }
    Run run;
    run.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
    run.ms_per_step = in[0];
    run.losses.assign(in.begin() + 1, in.end());
    return run;
}

}  // namespace

int main(int argc, char** argv) {
    Config c;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        const std::size_t v = std::strtoul(argv[i + 1], nullptr, 10);
        if (arg == "--blocks") c.blocks = v;
        if (arg == "--width") c.width = v;
        if (arg == "--batch") c.batch = v;
        if (arg == "--steps") c.steps = v;
        if (arg == "--segments") c.segments = v;
    }
    fmt::print("MLP of {} blocks Linear({}, {}) + ReLU, batch {}, {} SGD steps\n", c.blocks,
               c.width, c.width, c.batch, c.steps);
    fmt::print("one activation [{}, {}] is {:.1f} MiB; the parameters take {:.1f} MiB\n", c.batch,
               c.width, static_cast<double>(c.batch * c.width * 4) / (1 << 20),
               static_cast<double>(c.blocks * (c.width * c.width + c.width) * 4) / (1 << 20));
    const Run plain = in_child(c, 0);
    const Run cp = in_child(c, c.segments);
    fmt::print("{:<28} {:>14} {:>12}  losses\n", "run", "peak RSS MiB", "ms / step");
    const auto row = [](const std::string& name, const Run& r) {
        fmt::print("{:<28} {:>14.1f} {:>12.1f} ", name, r.peak_mib, r.ms_per_step);
        for (double l : r.losses)
            fmt::print(" {:.6f}", l);
        fmt::print("\n");
    };
    row("plain", plain);
    row(fmt::format("checkpointed, {} segments", c.segments), cp);
    fmt::print("peak resident size: {:.2f}x of plain; time per step: {:.2f}x of plain\n",
               cp.peak_mib / plain.peak_mib, cp.ms_per_step / plain.ms_per_step);
    for (std::size_t i = 0; i < c.steps; ++i) {
        if (std::abs(plain.losses[i] - cp.losses[i]) > 1e-5 * std::abs(plain.losses[i])) {
            fmt::print("FAIL: step {} loss {} checkpointed, {} plain\n", i + 1, cp.losses[i],
                       plain.losses[i]);
            return 1;
        }
    }
    fmt::print("the losses agree\n");
    return 0;
}
