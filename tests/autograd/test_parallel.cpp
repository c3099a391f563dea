#include "autograd/parallel.hpp"

#include "autograd/ops/blas.hpp"
#include "autograd/tuning.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <thread>
#include <vector>

// OpenBLAS's thread count, which parallel_batch lowers to 1 while its workers run.
extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);
}

using namespace xgrad;

TEST_CASE("parallel_batch: every index below n is visited exactly once") {
    for (std::size_t n : {0, 1, 5, 64, 1000}) {
        for (std::size_t workers : {1, 2, 3, 4}) {
            for (std::size_t grain : {0, 1, 3, 16}) {  // grain 0 counts as 1
                INFO("n ", n, ", workers ", workers, ", grain ", grain);
                std::vector<std::atomic<int>> visits(n);
                std::atomic<bool> chunks_ok{true};
                auto body = [&](std::size_t wk, std::size_t b0, std::size_t b1) {
                    const std::size_t most = std::max<std::size_t>(grain, 1);
                    if (wk >= workers || b0 >= b1 || b1 - b0 > most) chunks_ok = false;
                    for (std::size_t i = b0; i < b1; ++i)
                        ++visits[i];
                };
                detail::parallel_batch(n, workers, grain, body);
                CHECK(chunks_ok.load());
                CHECK(std::all_of(visits.begin(), visits.end(), [](auto& v) { return v == 1; }));
            }
        }
    }
}

TEST_CASE("parallel_batch: one worker, or one chunk, runs inline in order on the caller") {
    struct Case {
        std::size_t workers, grain;
        std::vector<std::size_t> begins;  // of the chunks, in the order they run
    };
    const std::vector<Case> cases = {
        {1, 2, {0, 2, 4, 6, 8}}, {0, 2, {0, 2, 4, 6, 8}}, {4, 16, {0}}};
    const auto caller = std::this_thread::get_id();
    for (const auto& c : cases) {
        INFO("workers ", c.workers, ", grain ", c.grain);
        std::vector<std::size_t> begins;
        bool on_caller = true;
        auto body = [&](std::size_t wk, std::size_t b0, std::size_t) {
            on_caller = on_caller && wk == 0 && std::this_thread::get_id() == caller;
            begins.push_back(b0);
        };
        detail::parallel_batch(10, c.workers, c.grain, body);
        CHECK(on_caller);
        CHECK(begins == c.begins);
    }
}

namespace {

// Runs 8 chunks on 2 workers; worker `thrower` (0: the caller, 1: the helper) throws, and the
// other waits in its chunk until it has (at most 10 s), so the error surely comes from that one.
void fail_on(std::size_t thrower) {
    std::atomic<bool> thrown{false};
    detail::parallel_batch(8, 2, 1, [&](std::size_t wk, std::size_t, std::size_t) {
        if (wk == thrower) {
            thrown = true;
            throw std::runtime_error(wk == 0 ? "caller failed" : "helper failed");
        }
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!thrown && std::chrono::steady_clock::now() < give_up)
            std::this_thread::yield();
    });
}

}  // namespace

TEST_CASE("parallel_batch: an exception from a helper or the caller reaches the caller") {
    const int blas_threads = openblas_get_num_threads();
    CHECK_THROWS_WITH_AS(fail_on(1), "helper failed", std::runtime_error);
    CHECK_THROWS_WITH_AS(fail_on(0), "caller failed", std::runtime_error);
    CHECK(openblas_get_num_threads() == blas_threads);  // restored
    std::vector<std::atomic<int>> visits(100);          // and the pool serves the next batch
    detail::parallel_batch(100, 2, 1, [&](std::size_t, std::size_t b0, std::size_t b1) {
        for (std::size_t i = b0; i < b1; ++i)
            ++visits[i];
    });
    CHECK(std::all_of(visits.begin(), visits.end(), [](auto& v) { return v == 1; }));
}

TEST_CASE("parallel_batch: threads running it at once leave OpenBLAS's thread count as it was") {
    // Four threads open parallel regions that overlap, 200 each (Note [BLAS threads]): the old
    // save-lower-restore without a lock ended this at 1 within a few rounds.
    const int saved = openblas_get_num_threads();
    openblas_set_num_threads(3);
    std::atomic<bool> single{true}, budget{true};
    auto body = [&](std::size_t, std::size_t, std::size_t) {
        single = single && openblas_get_num_threads() == 1;    // BLAS on one thread inside
        budget = budget && detail::blas_thread_budget() == 3;  // and the budget is the set one
        volatile double s = 0;
        for (int i = 0; i < 2000; ++i)
            s = s + i;
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int round = 0; round < 200; ++round)
                detail::parallel_batch(16, 2, 1, body);
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(single.load());
    CHECK(budget.load());
    CHECK(openblas_get_num_threads() == 3);
    CHECK(detail::blas_thread_budget() == 3);
    openblas_set_num_threads(saved);
}

TEST_CASE("gemm: a product waits while another thread's batch region holds BLAS at one thread") {
    // Thread A opens a region and stays in it until B's product is done or 300 ms have passed;
    // B's product must run after the region, at the program's thread count.
    const int saved = openblas_get_num_threads();
    openblas_set_num_threads(2);
    std::atomic<bool> b_started{false}, b_done{false}, done_in_region{false};
    std::thread a([&] {
        detail::parallel_batch(2, 2, 1, [&](std::size_t, std::size_t, std::size_t) {
            while (!b_started)
                std::this_thread::yield();
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
            while (!b_done && std::chrono::steady_clock::now() < give_up)
                std::this_thread::yield();
            done_in_region = b_done.load();
        });
    });
    std::vector<float> x(4, 1.0f), y(4, 0.0f);
    std::thread b([&] {
        while (openblas_get_num_threads() != 1)
            std::this_thread::yield();  // until A's region is open
        b_started = true;
        detail::gemm<float>(false, false, 2, 2, 2, 1.0f, x.data(), 2, x.data(), 2, 0.0f, y.data(),
                            2);
        b_done = true;
    });
    a.join();
    b.join();
    CHECK(!done_in_region.load());
    CHECK(y[0] == 2.0f);  // 1·1 + 1·1
    CHECK(openblas_get_num_threads() == 2);
    openblas_set_num_threads(saved);
}

TEST_CASE("batch_workers: the budget, capped by the batch, once the work is large enough") {
    const tuning::Override budget(tuning::batch_threads(), 3);
    const tuning::Override min_work(tuning::batch_parallel_min_work(), 100);
    CHECK(detail::batch_workers(10, 1e3) == 3);
    CHECK(detail::batch_workers(2, 1e3) == 2);  // no more workers than items
    CHECK(detail::batch_workers(1, 1e9) == 1);  // one item
    CHECK(detail::batch_workers(10, 99) == 1);  // too little work
    tuning::batch_threads() = 1;
    CHECK(detail::batch_workers(10, 1e3) == 1);
    tuning::batch_threads() = 0;  // follow OpenBLAS
    const auto blas = static_cast<std::size_t>(std::max(openblas_get_num_threads(), 1));
    CHECK(detail::blas_thread_budget() == blas);
    CHECK(detail::batch_workers(64, 1e9) == std::min<std::size_t>(blas, 64));
}
