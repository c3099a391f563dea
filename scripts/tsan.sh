#!/usr/bin/env bash
# ThreadSanitizer over the tests that use threads: the batch workers (parallel_batch, the
# convolutions and pooling on 1-3 workers), OpenBLAS's thread count under concurrent callers,
# the per-thread generators, and models trained in several threads at once
# (docs/reliability.md, "Threads and reproducibility").
#
#   scripts/tsan.sh [BUILD_DIR]        default build-tsan
#
# Builds xgrad_tests with -fsanitize=thread in its own build directory (RelWithDebInfo, so the
# reports name lines) and runs the thread tests; any report fails the run (halt_on_error).
# OpenBLAS is not instrumented: scripts/tsan.supp holds the suppressions for its internals, and
# only for them.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-tsan}"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXGRAD_BUILD_TESTS=ON \
    -DXGRAD_BUILD_EXAMPLES=OFF -DXGRAD_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$build" -j"$(nproc)" --target xgrad_tests

tests=(
    "parallel_batch:*"
    "batch_workers:*"
    "gemm: a product waits*"
    "manual_seed:*"
    "conv2d: batch chunks and worker threads*"
    "conv direct: float values and gradients agree*"
    "max_pool2d: float matches double*"
    "conv2d training:*"
    "training: two models in two threads*"
)
filter=$(IFS=,; echo "${tests[*]}")
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
start=$(date +%s)
"$build/tests/xgrad_tests" -tc="$filter"
echo "tsan: clean ($(($(date +%s) - start)) s for the tests)"
