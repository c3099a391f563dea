#!/usr/bin/env bash
# xgrad against itself: builds bench/xgrad_bench at two revisions and runs them interleaved
# (A B B A per round), so a slow spell of the machine hits both alike, then prints per workload
# the best and the median of each side's medians and the after/before ratios.
#
#   scripts/bench-ab.sh BEFORE [AFTER] [--rounds R] [--threads N] [--seconds S]
#
# BEFORE, AFTER: git revisions (AFTER defaults to HEAD). Defaults: 4 rounds, 2 threads, 1 s per
# workload. Uses the default (pthread) OpenBLAS; LibTorch is not needed. Worktrees and builds go
# to build-ab/, raw outputs to build-ab/results/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/bench-ab.sh BEFORE [AFTER] [--rounds R] [--threads N] [--seconds S]" >&2; exit 2; }
revs=()
rounds=4
threads=2
seconds=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        -*) usage ;;
        *) revs+=("$1"); shift ;;
    esac
done
((${#revs[@]} >= 1 && ${#revs[@]} <= 2)) || usage
before=$(git rev-parse --short "${revs[0]}")
after=$(git rev-parse --short "${revs[1]:-HEAD}")

root=build-ab
results="$root/results"
rm -rf "$results"
mkdir -p "$results"
binary() { echo "$root/$1/build/bench/xgrad_bench"; }
for rev in "$before" "$after"; do
    if [[ ! -d "$root/$rev" ]]; then
        git worktree add --detach "$root/$rev" "$rev" >/dev/null
    fi
    echo "building xgrad_bench at $rev ..." >&2
    cmake -S "$root/$rev" -B "$root/$rev/build" -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_BENCH=ON \
        -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF </dev/null >"$results/configure-$rev.log"
    cmake --build "$root/$rev/build" -j"$(nproc)" --target xgrad_bench </dev/null \
        >"$results/build-$rev.log" 2>&1 || { tail -n 30 "$results/build-$rev.log" >&2; exit 1; }
done

export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" XGRAD_BENCH_SECONDS="$seconds"
unset LD_LIBRARY_PATH || true
for ((r = 1; r <= rounds; r++)); do
    for run in "before a" "after a" "after b" "before b"; do
        set -- $run
        rev=$([[ $1 == before ]] && echo "$before" || echo "$after")
        echo "round $r: $1 ($rev) ..." >&2
        "$(binary "$rev")" --threads "$threads" </dev/null >"$results/$1.r$r.$2.tsv"
    done
done

echo "xgrad_bench, $before (before) against $after (after): $rounds rounds of A B B A, $threads threads,"
echo "${seconds}s per workload; each cell: best / median of the runs' medians (µs)"
echo
awk -F'\t' '
    FNR == 1 { side = FILENAME; sub(/.*\//, "", side); sub(/\..*/, "", side) }
    /^#/ || $1 == "workload" { next }
    !($1 in seen) { seen[$1] = 1; order[++n] = $1 }
    { k = $1 SUBSEP side; c = ++count[k]; v[k, c] = $2 }
    function sorted_median(k,    i, j, t, m, a) {
        m = count[k]
        for (i = 1; i <= m; i++) a[i] = v[k, i]
        for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        best = a[1]
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
        printf "| workload | before | after | after/before (best) | after/before (median) |\n"
        printf "|---|---|---|---|---|\n"
        for (i = 1; i <= n; i++) {
            w = order[i]
            mb = sorted_median(w SUBSEP "before"); bb = best
            ma = sorted_median(w SUBSEP "after"); ba = best
            printf "| %s | %.1f / %.1f | %.1f / %.1f | %.3f | %.3f |\n", w, bb, mb, ba, ma, ba / bb, ma / mb
        }
    }' "$results"/*.tsv
