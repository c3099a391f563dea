#!/usr/bin/env bash
# Builds bench/dist_bench and runs it under mpirun at 1 and 2 processes (docs/distributed.md,
# "What it costs"): per training step of the MLP and the 2-conv net, the time of forward +
# backward, of the gradient allreduce (plain and bucketed) and of the step; MPI_Allreduce's cost
# by size; and the ring-allreduce model of the step time at N processes.
#
#   scripts/bench-dist.sh [--build DIR] [--np "1 2"] [dist_bench arguments...]
#
# Every process runs BLAS on one thread (OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1), at 1
# process too, so that one process is one core and the 2-process run compares like with like on
# this 2-core machine. Processes are not bound to cores (--bind-to none; other work on the machine
# then disturbs the numbers less than a process stuck behind it on its core). OpenMPI refuses to
# start as root unless OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) are set: they are, here. Raw outputs:
# DIR/bench-results/dist-np<N>.txt (DIR default build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-bench
nps="1 2"
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        --np) nps="$2"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
results="$build/bench-results"
mkdir -p "$results"

# A new build directory is configured as bench.sh does (tests and examples off); an existing one
# (--build build) keeps its options and only gets the benchmarks turned on.
if [[ -f "$build/CMakeCache.txt" ]]; then
    cmake -S . -B "$build" -DXGRAD_BUILD_BENCH=ON </dev/null >"$results/configure-dist.log"
else
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_BENCH=ON \
        -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF </dev/null >"$results/configure-dist.log"
fi
cmake --build "$build" -j"$(nproc)" --target dist_bench </dev/null >"$results/build-dist.log" 2>&1 || {
    tail -n 30 "$results/build-dist.log" >&2
    echo "bench-dist.sh: build failed (full log: $results/build-dist.log)" >&2
    exit 1
}
[[ -x "$build/bench/dist_bench" ]] || {
    echo "bench-dist.sh: no dist_bench in $build/bench (is MPI installed? libopenmpi-dev openmpi-bin)" >&2
    exit 1
}

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# Other work on the machine (as in bench.sh): all CPUs' busy time from /proc/stat during the run
# minus the run's own user+sys time, as a share of the machine; printed after each run.
cpu_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
hz=$(getconf CLK_TCK)
ncpu=$(getconf _NPROCESSORS_ONLN)  # (nproc obeys OMP_NUM_THREADS)
for np in $nps; do
    out="$results/dist-np$np.txt"
    echo "== mpirun -np $np --bind-to none --oversubscribe $build/bench/dist_bench ${args[*]:-}"
    before=$(cpu_jiffies)
    times=$( { TIMEFORMAT='%R %U %S'; time mpirun --oversubscribe --bind-to none -np "$np" \
        -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS "$build/bench/dist_bench" "${args[@]}" \
        </dev/null >"$out"; } 2>&1 )
    after=$(cpu_jiffies)
    awk -v b="$before" -v a="$after" -v hz="$hz" -v n="$ncpu" -v t="$times" 'BEGIN {
        split(t, x, " "); f = ((a - b) / hz - x[2] - x[3]) / (x[1] * n) * 100
        printf "# other work used %.0f%% of the machine (%d CPUs) during this run (%.0f s)\n",
            f < 0 ? 0 : f, n, x[1] }' >>"$out"
    cat "$out"
done
