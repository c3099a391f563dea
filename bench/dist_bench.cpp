// Data-parallel training step on MPI (docs/distributed.md, "What it costs"): per process and per
// step, the time of forward + backward, of the gradient averaging (dist::allreduce_gradients after
// backward, or DistributedDataParallel's synchronize() wait after a bucketed backward) and of the
// whole step, for the MLP 784-300-100-10 and the 2-conv net of xgrad_bench, batch 64 a process;
// then the cost of MPI_Allreduce by message size, as t = a + b·bytes, and from all of it
// the ring-allreduce model of the step time at N processes (printed, not typed by hand).
//
//   mpirun -np 2 ./dist_bench [--steps-mlp 200] [--steps-cnn 30] [--rounds 5]
//                             [--only mlp|cnn|allreduce]
//
// scripts/bench-dist.sh builds it and runs it at 1 and 2 processes. The modes (no communication,
// plain allreduce, bucketed at three bucket sizes) run in interleaved rounds; each reports its
// round with the lowest median step. Every time is the median over steps of the mean over
// processes (so the parts nearly add up); a barrier (not timed) lines the
// processes up before each step, so a step's allreduce time is communication plus that step's
// imbalance, not the drift of earlier steps.

#include "timing.hpp"

#include <xgrad.hpp>

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

int arg_int(int argc, char** argv, const char* name, int fallback) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == name) return std::max(1, std::atoi(argv[i + 1]));
    }
    return fallback;
}

bool selected(int argc, char** argv, const char* group) {
    return bench::selected(argc, argv, group);
}

// The per-step samples of every process, averaged over processes step by step; median over steps.
double median_of_means(std::vector<double> v) {
    MPI_Allreduce(MPI_IN_PLACE, v.data(), int(v.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    for (auto& x : v)
        x /= double(dist::size());
    return bench::quantile(v, 0.5);
}

// The MLP of xgrad_bench (make_mlp): 784-300-100-10, ReLU.
std::shared_ptr<nn::Sequential<>> make_mlp() {
    auto model = std::make_shared<nn::Sequential<>>();
    const std::size_t sizes[][2] = {{784, 300}, {300, 100}, {100, 10}};
    for (const auto& s : sizes) {
        model->add(nn::Linear<>(s[0], s[1]));
        if (s[1] != 10) model->add(nn::ReLU<>());
    }
    return model;
}

// The 2-conv net of xgrad_bench (make_cnn2, the TensorFlow tutorial's MNIST net).
std::shared_ptr<nn::Sequential<>> make_cnn2() {
    auto model = std::make_shared<nn::Sequential<>>();
    model->add(nn::Conv2d<>(nn::Conv2dOptions(1, 32, 5).padding(Padding::same)));
    model->add(nn::ReLU<>());
    model->add(nn::MaxPool2d<>(2));
    model->add(nn::Conv2d<>(nn::Conv2dOptions(32, 64, 5).padding(Padding::same)));
    model->add(nn::ReLU<>());
    model->add(nn::MaxPool2d<>(2));
    model->add(nn::Flatten<>());
    model->add(nn::Linear<>(7 * 7 * 64, 1024));
    model->add(nn::ReLU<>());
    model->add(nn::Dropout<>(0.4f));
    model->add(nn::Linear<>(1024, 10));
    return model;
}

// How gradients are averaged in a step.
struct Mode {
    std::string name;
    enum Kind { local, allreduce, ddp } kind;
    std::size_t bucket_cap = 0;  // ddp only
};

struct StepTimes {
    double compute = 0;  // zero_grad + forward + loss + backward (ddp: with its hooks)
    double comm = 0;     // allreduce_gradients, or synchronize()
    double update = 0;   // SGD step
    double total = 0;
    std::size_t buckets = 0;
};

// One mode's model, optimizer and (ddp) wrapper, kept across rounds.
struct Runner {
    Mode mode;
    std::shared_ptr<nn::Sequential<>> model;
    std::unique_ptr<dist::DistributedDataParallel<>> ddp;
    std::unique_ptr<optim::SGD<>> sgd;
    std::vector<Tensor<float>> params;
    StepTimes best;  // the round with the lowest median step time
    bool measured = false;

    template <class Make>
    Runner(const Make& make, Mode m) : mode(std::move(m)) {
        manual_seed(0);  // the same initial weights everywhere (ddp broadcasts rank 0's anyway)
        model = make();
        if (mode.kind == Mode::ddp) {
            ddp = std::make_unique<dist::DistributedDataParallel<>>(
                model, dist::DistributedDataParallelOptions().bucket_cap_bytes(mode.bucket_cap));
        }
        params = model->parameters();
        sgd = std::make_unique<optim::SGD<>>(params, optim::SGDOptions(0.01));
        best.buckets = ddp ? ddp->buckets().size() : (mode.kind == Mode::allreduce ? 1 : 0);
    }

    // `steps` timed training steps after `warmup` untimed ones; x, y this process's shard.
    void round(const Tensor<float>& x, const Tensor<float>& y, int warmup, int steps) {
        nn::Module<float>& net = ddp ? static_cast<nn::Module<float>&>(*ddp) : *model;
        std::vector<double> compute, comm, update, total;
        for (int s = 0; s < warmup + steps; ++s) {
            MPI_Barrier(MPI_COMM_WORLD);
            const auto t0 = Clock::now();
            sgd->zero_grad();
            nn::sparse_categorical_cross_entropy(net(x), y).backward();
            const auto t1 = Clock::now();
            if (mode.kind == Mode::allreduce) dist::allreduce_gradients(params);
            if (ddp) ddp->synchronize();
            const auto t2 = Clock::now();
            sgd->step();
            const auto t3 = Clock::now();
            if (s < warmup) continue;
            compute.push_back(seconds_between(t0, t1));
            comm.push_back(seconds_between(t1, t2));
            update.push_back(seconds_between(t2, t3));
            total.push_back(seconds_between(t0, t3));
        }
        StepTimes t;
        t.compute = median_of_means(compute);
        t.comm = median_of_means(comm);
        t.update = median_of_means(update);
        t.total = median_of_means(total);
        t.buckets = best.buckets;
        if (!measured || t.total < best.total) best = t;
        measured = true;
    }
};

// MPI_Allreduce (sum, in place, float) of `bytes`, or MPI_Iallreduce + MPI_Wait (the calls
// DistributedDataParallel makes): median over repetitions of the mean over processes, each
// repetition after a barrier, after 5 untimed ones.
double time_allreduce(std::size_t bytes, int reps, bool nonblocking = false) {
    std::vector<float> buf(bytes / sizeof(float), 1.0f);
    std::vector<double> t;
    for (int r = 0; r < reps + 5; ++r) {
        MPI_Barrier(MPI_COMM_WORLD);
        const auto t0 = Clock::now();
        if (nonblocking) {
            MPI_Request request = MPI_REQUEST_NULL;
            MPI_Iallreduce(MPI_IN_PLACE, buf.data(), int(buf.size()), MPI_FLOAT, MPI_SUM,
                           MPI_COMM_WORLD, &request);
            MPI_Wait(&request, MPI_STATUS_IGNORE);
        } else {
            MPI_Allreduce(MPI_IN_PLACE, buf.data(), int(buf.size()), MPI_FLOAT, MPI_SUM,
                          MPI_COMM_WORLD);
        }
        const auto t1 = Clock::now();
        if (r >= 5) t.push_back(seconds_between(t0, t1));
    }
    return median_of_means(t);
}

// What allreduce_gradients does around its MPI_Allreduce, alone (no MPI): pack every gradient
// and a flag per tensor into one flat buffer, then write buffer / size into a new gradient of
// each tensor. Median over `reps` calls after 3 untimed ones, mean over processes.
double time_pack(const std::vector<Tensor<float>>& params, int reps) {
    std::vector<double> t;
    for (int r = 0; r < reps + 3; ++r) {
        const auto t0 = Clock::now();
        std::size_t total = 0;
        for (const auto& p : params)
            total += p.size();
        std::vector<float> buf(total + params.size(), 0.0f);
        std::size_t at = 0;
        for (std::size_t i = 0; i < params.size(); ++i) {
            const Tensor<float> g = params[i].grad();
            std::copy(g.value().begin(), g.value().end(), buf.begin() + std::ptrdiff_t(at));
            buf[total + i] = 1.0f;
            at += params[i].size();
        }
        const float n = float(dist::size());
        at = 0;
        for (const auto& p : params) {
            xt::xarray<float> g = xt::xarray<float>::from_shape(p.shape());
            std::transform(buf.begin() + std::ptrdiff_t(at),
                           buf.begin() + std::ptrdiff_t(at + p.size()), g.begin(),
                           [n](float v) { return v / n; });
            p.set_grad(Tensor<float>(std::move(g)));
            at += p.size();
        }
        if (r >= 3) t.push_back(seconds_between(t0, Clock::now()));
    }
    return median_of_means(t);
}

// t = a + b·bytes through the smallest and the largest size: a is the latency of a small
// message, b the cost per byte of a large one (the sizes between do not lie on one line here:
// caches and OpenMPI's choice of algorithm change with the size).
struct Fit {
    double a = 0, b = 0;
};

Fit fit_ends(const std::vector<double>& x, const std::vector<double>& y) {
    Fit f;
    f.b = (y.back() - y.front()) / (x.back() - x.front());
    f.a = std::max(0.0, y.front() - f.b * x.front());
    return f;
}

// One network of the model table: latency α (s) and time per byte β (s/B) of one ring step.
struct Network {
    std::string name;
    double alpha, beta;
};

// What the model needs of one workload, as measured in this run.
struct Measured {
    std::string name;
    double bytes = 0;    // gradient bytes one allreduce carries
    double local = 0;    // step time without communication (T(1))
    double pack = 0;     // allreduce_gradients' copies around MPI_Allreduce, timed alone
    double raw = 0;      // MPI_Allreduce alone on `bytes`
    double exposed = 1;  // fraction of the allreduce the best bucketed path leaves exposed
};

// Ring allreduce of `bytes` over n processes, per process: 2(n−1) steps of bytes/n each.
double ring_seconds(const Network& net, int n, double bytes) {
    if (n == 1) return 0;
    return 2.0 * (n - 1) * net.alpha + 2.0 * (n - 1) / n * bytes * net.beta;
}

void print_model(const std::vector<Measured>& workloads, const std::vector<Network>& nets) {
    const int ns[] = {2, 4, 8, 16, 32, 64};
    std::printf(
        "\n# model: T(N) = T(1) + pack + e * ring(N), ring(N) = 2(N-1)*alpha + "
        "2(N-1)/N * bytes * beta;\n# efficiency T(1)/T(N) (weak scaling, batch 64 a "
        "process); e = 1: no overlap; e measured: the bucketed path's exposed share\n");
    std::printf("model\tnetwork\talpha_us\tbeta_ns_per_B\te");
    for (int n : ns)
        std::printf("\tN=%d", n);
    std::printf("\n");
    for (const auto& w : workloads) {
        for (const auto& net : nets) {
            for (double e : {1.0, w.exposed}) {
                std::printf("%s\t%s\t%.1f\t%.4f\t%.2f", w.name.c_str(), net.name.c_str(),
                            net.alpha * 1e6, net.beta * 1e9, e);
                for (int n : ns) {
                    const double t = w.local + w.pack + e * ring_seconds(net, n, w.bytes);
                    std::printf("\t%.0f%%", 100.0 * w.local / t);
                }
                std::printf("\n");
                if (w.exposed >= 1.0) break;  // nothing measured: one row
            }
        }
    }
}

template <class Make>
Measured bench_model(const char* name, const Make& make, const Tensor<float>& x,
                     const Tensor<float>& y, int steps, int rounds) {
    const int warmup = std::max(3, steps / 10);
    std::size_t elems = 0, tensors = 0;
    for (const auto& p : make()->parameters()) {
        elems += p.size();
        ++tensors;
    }
    const double bytes = double((elems + tensors) * sizeof(float));  // + one flag per tensor
    if (dist::rank() == 0) {
        std::printf(
            "\n# %s: %zu parameters in %zu tensors, %.0f gradient bytes (%.2f MiB) per "
            "allreduce; %d steps a mode in %d rounds, after %d warm-up, batch %zu a process\n",
            name, elems, tensors, bytes, bytes / 1048576.0, steps, rounds, warmup,
            std::size_t(x.shape()[0]));
        std::printf(
            "model\tmode\tbuckets\tstep_ms\tcompute_ms\tcomm_ms\tupdate_ms\t"
            "comm_share\tstep_vs_local\n");
    }
    const std::vector<Mode> modes = {{"local", Mode::local, 0},
                                     {"allreduce", Mode::allreduce, 0},
                                     {"ddp_25MiB", Mode::ddp, std::size_t(25) << 20},
                                     {"ddp_1MiB", Mode::ddp, std::size_t(1) << 20},
                                     {"ddp_64KiB", Mode::ddp, std::size_t(64) << 10}};
    // A model with gradients, for time_pack.
    manual_seed(0);
    const auto pack_model = make();
    nn::sparse_categorical_cross_entropy((*pack_model)(x), y).backward();
    const auto pack_params = pack_model->parameters();
    Measured m;
    m.name = name;
    m.bytes = bytes;
    // Rounds interleave the modes, so a slow spell of the machine hits each alike; each mode
    // reports its round with the lowest median step (as scripts/bench.sh does).
    std::vector<Runner> runners;
    runners.reserve(modes.size());
    for (const auto& mode : modes)
        runners.emplace_back(make, mode);
    for (int r = 0; r < rounds; ++r) {
        for (auto& runner : runners)
            runner.round(x, y, r == 0 ? warmup : 2, std::max(1, steps / rounds));
    }
    double plain = 0, best_ddp = 1e30;
    for (const auto& runner : runners) {
        const Mode& mode = runner.mode;
        const StepTimes& t = runner.best;
        if (mode.kind == Mode::local) m.local = t.total;
        if (mode.kind == Mode::allreduce) {
            plain = t.total;
            m.raw = time_allreduce(std::size_t(bytes), std::max(10, steps / 2));
            m.pack = time_pack(pack_params, std::max(10, steps / 2));
        }
        if (mode.kind == Mode::ddp) best_ddp = std::min(best_ddp, t.total);
    }
    for (const auto& runner : runners) {
        const StepTimes& t = runner.best;
        if (dist::rank() == 0) {
            std::printf("%s\t%s\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\t%.1f%%\t%.3f\n", name,
                        runner.mode.name.c_str(), t.buckets, t.total * 1e3, t.compute * 1e3,
                        t.comm * 1e3, t.update * 1e3, 100.0 * t.comm / t.total, t.total / m.local);
            std::fflush(stdout);
        }
    }
    // The bucketed path's cost over local, as a share of the plain path's (1: nothing hidden).
    if (dist::size() > 1 && plain > m.local) {
        m.exposed =
            std::clamp((best_ddp - m.local - m.pack) / (plain - m.local - m.pack), 0.0, 1.0);
    }
    if (dist::rank() == 0) {
        std::printf(
            "# %s: MPI_Allreduce alone on these bytes %.3f ms; allreduce_gradients' "
            "copies alone (pack) %.3f ms; the best bucketed step exposes %.2f of the "
            "plain path's communication\n",
            name, m.raw * 1e3, m.pack * 1e3, m.exposed);
    }
    return m;
}

Tensor<float> labels(std::size_t batch) {
    xt::xarray<float> l = xt::xarray<float>::from_shape({batch});
    for (std::size_t i = 0; i < batch; ++i)
        l(i) = float(generator()() % 10);
    return Tensor<float>(l);
}

}  // namespace

int main(int argc, char** argv) {
    dist::Session session(&argc, &argv);
    const int me = dist::rank(), n = dist::size();
    const std::size_t batch = 64;
    if (me == 0) {
        const char* blas = std::getenv("OPENBLAS_NUM_THREADS");
        std::printf("# dist_bench: %d process(es), batch %zu a process, OPENBLAS_NUM_THREADS=%s\n",
                    n, batch, blas ? blas : "(unset)");
    }

    // MPI_Allreduce by size, 4 KiB ... 16 MiB, t = a + b·bytes through the two ends. For a ring at
    // N processes t = 2(N−1)α + 2(N−1)/N·bytes·β, so α = a / (2(N−1)), β = b·N / (2(N−1)).
    Fit fit;
    Network loopback{"loopback", 0, 0};
    if (selected(argc, argv, "allreduce")) {
        if (me == 0) std::printf("\nbytes\tallreduce_us\tGB_per_s\tiallreduce_wait_us\n");
        std::vector<double> xs, ys;
        for (std::size_t bytes = 4096; bytes <= (std::size_t(16) << 20); bytes *= 4) {
            const int reps =
                int(std::clamp<std::size_t>((std::size_t(256) << 20) / bytes, 30, 400));
            const double t = time_allreduce(bytes, reps);
            const double tn = time_allreduce(bytes, reps, true);
            xs.push_back(double(bytes));
            ys.push_back(t);
            if (me == 0) {
                std::printf("%zu\t%.2f\t%.2f\t%.2f\n", bytes, t * 1e6, double(bytes) / t / 1e9,
                            tn * 1e6);
            }
        }
        fit = fit_ends(xs, ys);
        if (n > 1) {
            loopback.alpha = fit.a / (2.0 * (n - 1));
            loopback.beta = fit.b * n / (2.0 * (n - 1));
        }
        if (me == 0) {
            std::printf(
                "# t = a + b*bytes through 4 KiB and 16 MiB: a = %.2f us, b = %.4f ns/B (%.2f "
                "GB/s); ring at "
                "N=%d: alpha = %.2f us, beta = %.4f ns/B\n",
                fit.a * 1e6, fit.b * 1e9, 1.0 / fit.b / 1e9, n, loopback.alpha * 1e6,
                loopback.beta * 1e9);
        }
    }

    const int rounds = arg_int(argc, argv, "--rounds", 5);
    std::vector<Measured> measured;
    manual_seed(100 + std::uint64_t(me));  // each process its own shard of data
    if (selected(argc, argv, "mlp")) {
        const auto x = rand<float>({batch, 784});
        const auto y = labels(batch);
        measured.push_back(
            bench_model("mlp", make_mlp, x, y, arg_int(argc, argv, "--steps-mlp", 200), rounds));
    }
    if (selected(argc, argv, "cnn")) {
        const auto x = rand<float>({batch, 1, 28, 28});
        const auto y = labels(batch);
        measured.push_back(
            bench_model("cnn2", make_cnn2, x, y, arg_int(argc, argv, "--steps-cnn", 30), rounds));
    }

    // Line rates (an upper bound on bandwidth) and typical small-message latencies; assumed, not
    // measured here.
    std::vector<Network> nets;
    if (n > 1 && fit.b > 0) nets.push_back(loopback);
    nets.push_back({"10GbE", 50e-6, 8.0 / 10e9});
    nets.push_back({"25GbE", 25e-6, 8.0 / 25e9});
    nets.push_back({"IB_100G", 2e-6, 8.0 / 100e9});
    if (me == 0 && !measured.empty()) print_model(measured, nets);
    return 0;
}
