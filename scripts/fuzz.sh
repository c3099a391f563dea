#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan, the library included) in
# build-fuzz/ and runs each for a bounded time, starting from its seed corpus in
# tests/fuzz/corpus/<target>/, with the dictionary tests/fuzz/formats.dict. Fails when a target
# finds anything: a crash, a sanitizer report, an exception that is not an xgrad::Error, a hang
# (-timeout) or an allocation past the memory limit. The input that did it is left in
# build-fuzz/fuzz/<target>/ (crash-*, timeout-*, oom-*, leak-*).
#
#   bash scripts/fuzz.sh [seconds-per-target] [target...]      defaults: 60 s, all four targets
#   bash scripts/fuzz.sh 30                                      the CI burst
#   bash scripts/fuzz.sh 600 load_npz                            a longer run of one target
#
# Targets: read_idx, load_npy, load_npz, module_load. Each run prints libFuzzer's final stats;
# the summary line gives stat::number_of_executed_units. Inputs the fuzzer found interesting
# accumulate in build-fuzz/fuzz/<target>/corpus (not checked in). See docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(read_idx load_npy load_npz module_load)
build=${XGRAD_FUZZ_BUILD:-build-fuzz}

if ! command -v clang++ >/dev/null; then
    echo "fuzz.sh: clang++ is not installed (bash scripts/install-deps.sh installs clang)" >&2
    exit 1
fi
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DXGRAD_BUILD_FUZZERS=ON -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

# halt_on_error: a UBSan report that the suppression file does not cover stops the run.
export UBSAN_OPTIONS="suppressions=$PWD/scripts/ubsan.supp:print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0"

failed=()
for t in "${targets[@]}"; do
    work="$build/fuzz/$t"
    mkdir -p "$work/corpus"
    log="$work/last-run.log"
    echo "fuzz.sh: $t for ${seconds}s (log: $log)"
    status=0
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=1024 -dict=tests/fuzz/formats.dict -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if ((status != 0)); then
        failed+=("$t")
        tail -n 60 "$log"
        echo "fuzz.sh: $t FAILED (exit $status) after ${runs:-?} executions;" \
             "input: $(ls -t "$work"/crash-* "$work"/timeout-* "$work"/oom-* "$work"/leak-* \
                       2>/dev/null | head -n 1)"
    else
        echo "fuzz.sh: $t ok: ${runs:-?} executions in ${seconds}s," \
             "$(find "$work/corpus" -type f | wc -l) inputs in its corpus"
    fi
done
if ((${#failed[@]})); then
    echo "fuzz.sh: failed: ${failed[*]}" >&2
    exit 1
fi
