#!/usr/bin/env bash
# Builds the test suite and the examples ctest runs with AddressSanitizer (leak checking
# included) and UndefinedBehaviorSanitizer in build-sanitize/, and runs them with ctest. Any
# report fails the test that made it: ASan always stops at its first error, and UBSan is built
# not to recover (-fno-sanitize-recover=undefined) except for the one check scripts/ubsan.supp
# suppresses (a suppression only works on a recoverable check), with halt_on_error=1 so that an
# unsuppressed report of that check fails too. See docs/reliability.md, "Sanitizers".
#
#   bash scripts/sanitize.sh                  what CI runs: all of ctest but the tests below
#   bash scripts/sanitize.sh --all            also the slow examples
#   bash scripts/sanitize.sh -R load_npz      other arguments go to ctest
#
# Left out by default (docs/reliability.md, "Sanitizers", has the times):
# - consumer_project, always: it installs the library and builds a user's project against it
#   without the sanitizer flags, which cannot link the instrumented library; it tests packaging.
# - example_lenet, example_adding_problem, example_char_rnn, example_gan,
#   example_autoencoder_conv: minutes each here (lenet, adding_problem and char_rnn 6 to 14), against
#   well under a minute for the rest of the suite; their convolutions, transposed convolutions,
#   batch norm and recurrent layers run under the sanitizers in xgrad_tests (the op harness,
#   gradchecks, the training tests).
# - dist_np2, dist_np3, dist_dead_process, dist_hung_process, example_fashion_mlp_np2: processes
#   started by mpirun, where LeakSanitizer reports OpenMPI's own allocations at exit; the dist
#   code's unit tests (the sampler) and fit's backup tests run.
set -euo pipefail
cd "$(dirname "$0")/.."

exclude='^(consumer_project|example_lenet|example_adding_problem|example_char_rnn|example_gan|example_autoencoder_conv|dist_np2|dist_np3|dist_dead_process|dist_hung_process|example_fashion_mlp_np2)$'
if [[ "${1:-}" == "--all" ]]; then
    exclude='^(consumer_project|dist_np2|dist_np3|dist_dead_process|dist_hung_process|example_fashion_mlp_np2)$'
    shift
fi

build=${XGRAD_SANITIZE_BUILD:-build-sanitize}
jobs=${JOBS:-$(nproc)}
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
flags+=" -fsanitize-recover=pointer-overflow"

# -O1 -g without NDEBUG: the library's asserts stay on, stack traces keep their lines.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DXGRAD_BUILD_TESTS=ON -DXGRAD_BUILD_EXAMPLES=ON -DXGRAD_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"

export UBSAN_OPTIONS="suppressions=$PWD/scripts/ubsan.supp:print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:strict_init_order=1:check_initialization_order=1"
ctest --test-dir "$build" --output-on-failure -j"$jobs" -E "$exclude" "$@"
