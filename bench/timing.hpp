#pragma once

// Timing shared by xgrad_bench and torch_bench (no xgrad or LibTorch types here, so both
// executables measure and print in exactly the same way).
//
// Output contract, parsed by scripts/bench.sh:
//   lines starting with '#' are information ("# blas: ..."), then a header line, then one row per
//   workload: workload<TAB>median_us<TAB>p10_us<TAB>p90_us<TAB>samples<TAB>iters_per_sample

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench {

struct Stats {
    double median_us = 0;
    double p10_us = 0;
    double p90_us = 0;
    std::size_t samples = 0;
    std::size_t iters = 0;  // iterations per sample: tiny workloads are timed in batches
};

/// Seconds of measurement per workload: XGRAD_BENCH_SECONDS, default 1.
inline double budget_seconds() {
    const char* s = std::getenv("XGRAD_BENCH_SECONDS");
    double v = s ? std::atof(s) : 0.0;
    return v > 0 ? v : 1.0;
}

/// Thread count from `--threads N` (default: OMP_NUM_THREADS, else 2).
inline int thread_count(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == "--threads") return std::max(1, std::atoi(argv[i + 1]));
    }
    const char* s = std::getenv("OMP_NUM_THREADS");
    return s && std::atoi(s) > 0 ? std::atoi(s) : 2;
}

/// `--only NAME`: run only the workload groups whose name contains NAME (default: all). The
/// groups are "scalar", "chain", "matmul", "mlp", "fashion", "conv", "rnn_lstm", "rnn_gru" and
/// "gan".
inline bool selected(int argc, char** argv, const char* group) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == "--only")
            return std::string(group).find(argv[i + 1]) != std::string::npos;
    }
    return true;
}

inline double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

/// Warms `fn` up, then times batches of calls so one sample lasts ≥ ~100 µs (clock overhead is
/// negligible even for a 1 µs workload); returns per-call median, p10 and p90 over the samples.
template <class Fn>
Stats measure(Fn&& fn) {
    using clock = std::chrono::steady_clock;
    const double budget = budget_seconds();

    // Warm-up: at least 3 calls and ~10% of the budget (thread pools, allocator, caches).
    std::size_t warm = 0;
    const auto w0 = clock::now();
    double warm_s = 0;
    while (warm < 3 || warm_s < 0.1 * budget) {
        fn();
        ++warm;
        warm_s = std::chrono::duration<double>(clock::now() - w0).count();
    }
    const double per_call = warm_s / static_cast<double>(warm);

    Stats st;
    st.iters = std::max<std::size_t>(1, static_cast<std::size_t>(100e-6 / per_call));
    const double per_sample = per_call * static_cast<double>(st.iters);
    st.samples = std::clamp<std::size_t>(static_cast<std::size_t>(budget / per_sample), 15, 5000);

    std::vector<double> us;
    us.reserve(st.samples);
    for (std::size_t s = 0; s < st.samples; ++s) {
        const auto t0 = clock::now();
        for (std::size_t i = 0; i < st.iters; ++i)
            fn();
        const auto t1 = clock::now();
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() /
                     static_cast<double>(st.iters));
    }
    st.median_us = quantile(us, 0.5);
    st.p10_us = quantile(us, 0.1);
    st.p90_us = quantile(us, 0.9);
    return st;
}

/// For workloads of a second or more (a training epoch): `warmup` calls, then `samples` calls
/// timed one by one; per-call median, p10 and p90.
template <class Fn>
Stats measure_long(Fn&& fn, std::size_t warmup, std::size_t samples) {
    using clock = std::chrono::steady_clock;
    for (std::size_t i = 0; i < warmup; ++i)
        fn();
    std::vector<double> us;
    for (std::size_t s = 0; s < samples; ++s) {
        const auto t0 = clock::now();
        fn();
        us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
    }
    Stats st;
    st.samples = samples;
    st.iters = 1;
    st.median_us = quantile(us, 0.5);
    st.p10_us = quantile(us, 0.1);
    st.p90_us = quantile(us, 0.9);
    return st;
}

/// Fashion-MNIST directory for the epoch workload: XGRAD_FASHION_DIR, default Debian's.
inline std::string fashion_dir() {
    const char* s = std::getenv("XGRAD_FASHION_DIR");
    return s && *s ? s : "/usr/share/datasets/fashion-mnist";
}

inline void print_header() {
    std::printf("workload\tmedian_us\tp10_us\tp90_us\tsamples\titers\n");
}

inline void print_row(const char* workload, const Stats& st) {
    std::printf("%s\t%.3f\t%.3f\t%.3f\t%zu\t%zu\n", workload, st.median_us, st.p10_us, st.p90_us,
                st.samples, st.iters);
    std::fflush(stdout);
}

}  // namespace bench
