#!/usr/bin/env bash
# Installs the dependencies and the data sets, builds xgrad with its tests (warnings are errors
# when CI is set) and runs every test with ctest.
#
#   bash scripts/test.sh                 the build and ctest (Release)
#   bash scripts/test.sh --sanitizers    then the same tests under AddressSanitizer +
#                                        UndefinedBehaviorSanitizer (scripts/sanitize.sh), the
#                                        thread tests under ThreadSanitizer (scripts/tsan.sh) and
#                                        30 s of each fuzz target (scripts/fuzz.sh): what CI runs
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizers=0
case "${1:-}" in
    "") ;;
    --sanitizers) sanitizers=1 ;;
    *) echo "usage: bash scripts/test.sh [--sanitizers]" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh
bash scripts/setup-data.sh  # MNIST and Fashion-MNIST: tests/nn/test_training.cpp trains on MNIST
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_TESTS=ON -DXGRAD_BUILD_EXAMPLES=ON
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"

if ((sanitizers)); then
    stage() {  # stage NAME COMMAND...: runs it and says how long it took
        local start=$SECONDS
        echo "test.sh: $1"
        "${@:2}"
        echo "test.sh: $1 passed in $((SECONDS - start)) s"
    }
    stage "ASan + UBSan" bash scripts/sanitize.sh
    stage "TSan" bash scripts/tsan.sh
    stage "fuzz, 30 s per target" bash scripts/fuzz.sh 30
fi
