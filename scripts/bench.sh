#!/usr/bin/env bash
# Builds the benchmarks in build-bench/ and prints xgrad and LibTorch side by side.
#
#   scripts/bench.sh [--threads N] [--seconds S] [--rounds R] [--only GROUP]
#
# --only GROUP runs the workloads of one group on both sides (the binaries' --only: e.g. rnn,
# lstm, conv, mlp, matmul); without matmul workloads the pthread OpenBLAS is used for xgrad.
# Both sides run with the same thread count (default 2): OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = N,
# and each binary also sets it itself (openblas_set_num_threads / torch::set_num_threads).
# LibTorch runs in its best configuration (docs/performance.md, "How LibTorch is run"): Debian's
# OpenMP OpenBLAS through LD_LIBRARY_PATH. The script installs both first (install-deps.sh --bench:
# libtorch-dev and libopenblas0-openmp, with the build's own dependencies). xgrad runs twice, with the default pthread OpenBLAS and with the OpenMP one;
# the table uses the faster of the two (geometric mean over the matmul workloads) and says which.
# Every binary runs R times (default 3, interleaved); each workload reports the round with the
# lowest median (this VM has slow spells, e.g. a 1024 sgemm at 10.5 ms in one process and 12-22 ms
# in the next, that no in-process repetition averages away). Raw outputs: build-bench/bench-results/.
set -euo pipefail
cd "$(dirname "$0")/.."

threads=2
seconds=1
rounds=3
only=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --only) only=(--only "$2"); shift 2 ;;
        *) echo "usage: scripts/bench.sh [--threads N] [--seconds S] [--rounds R] [--only GROUP]" >&2; exit 2 ;;
    esac
done

bash scripts/install-deps.sh --bench  # the LibTorch peer and the OpenMP OpenBLAS, if missing

openmp_blas=/usr/lib/x86_64-linux-gnu/openblas-openmp
build=build-bench
results="$build/bench-results"
mkdir -p "$results"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_BENCH=ON \
    -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF </dev/null >"$results/configure.log"
have_torch=0
grep -q "building torch_bench" "$results/configure.log" && have_torch=1
targets=(xgrad_bench conv_paths)  # conv_paths: docs/convolution.md, "Speed"
[[ $have_torch == 1 ]] && targets+=(torch_bench)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" </dev/null >"$results/build.log" 2>&1 || {
    tail -n 30 "$results/build.log" >&2
    echo "bench.sh: build failed (full log: $results/build.log)" >&2
    exit 1
}

export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" XGRAD_BENCH_SECONDS="$seconds"
unset LD_LIBRARY_PATH || true

# Other work on the machine ruins the numbers (a 2-thread gemm waits for a preempted thread):
# each run measures the CPU time the rest of the machine used meanwhile (all CPUs' busy time
# from /proc/stat minus the run's own user+sys time) and is repeated, up to 3 attempts, while
# that exceeds 10% of the machine. The report lists the foreign load of every kept run.
cpu_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
hz=$(getconf CLK_TCK)
ncpu=$(nproc)
load_notes=()
foreign_max=0
# run_bench LABEL OUTFILE [VAR=value...] COMMAND [ARGS...]: `env` runs it, stdout into OUTFILE.
run_bench() {
    local label="$1" out="$2"
    shift 2
    local attempt before after times foreign
    for attempt in 1 2 3; do
        echo "running $label (attempt $attempt) ..." >&2
        before=$(cpu_jiffies)
        if ! times=$( { TIMEFORMAT='%R %U %S'; time env "$@" </dev/null >"$out" 2>"$out.err"; } 2>&1 ); then
            cat "$out.err" >&2
            echo "bench.sh: $label failed (stderr above, output in $out)" >&2
            exit 1
        fi
        after=$(cpu_jiffies)
        # foreign % = (busy seconds of all CPUs - own user+sys) / (wall seconds * CPUs)
        foreign=$(awk -v b="$before" -v a="$after" -v hz="$hz" -v n="$ncpu" -v t="$times" 'BEGIN {
            split(t, x, " "); f = ((a - b) / hz - x[2] - x[3]) / (x[1] * n) * 100
            printf "%.0f", f < 0 ? 0 : f }')
        (( foreign <= 10 )) && break
        echo "  other work used ${foreign}% of the machine during $label: repeating" >&2
    done
    if (( attempt > 1 )); then
        load_notes+=("${foreign}% (attempt $attempt)")
    else
        load_notes+=("${foreign}%")
    fi
    (( foreign > foreign_max )) && foreign_max=$foreign
    return 0
}

have_openmp=0
[[ -e "$openmp_blas/libopenblas.so.0" ]] && have_openmp=1
# Rounds interleave the three runs, so a slow spell of the machine hits every side alike.
for ((r = 1; r <= rounds; r++)); do
    run_bench "round $r: xgrad_bench (pthread OpenBLAS)" "$results/xgrad-pthread.r$r.tsv" \
        "$build/bench/xgrad_bench" --threads "$threads" "${only[@]}"
    if [[ $have_openmp == 1 ]]; then
        run_bench "round $r: xgrad_bench (OpenMP OpenBLAS)" "$results/xgrad-openmp.r$r.tsv" \
            LD_LIBRARY_PATH="$openmp_blas" "$build/bench/xgrad_bench" --threads "$threads" "${only[@]}"
    fi
    if [[ $have_torch == 1 && $have_openmp == 1 ]]; then
        run_bench "round $r: torch_bench (OpenMP OpenBLAS)" "$results/torch.r$r.tsv" \
            LD_LIBRARY_PATH="$openmp_blas" "$build/bench/torch_bench" --threads "$threads" "${only[@]}"
    elif [[ $have_torch == 1 ]]; then
        run_bench "round $r: torch_bench (default OpenBLAS: openblas-openmp not installed)" \
            "$results/torch.r$r.tsv" "$build/bench/torch_bench" --threads "$threads" "${only[@]}"
    fi
done

# best_of SIDE: SIDE.tsv = round 1's '#' lines and header, then per workload the row of the round
# with the lowest median (its own p10/p90), in round 1's order.
best_of() {
    local side="$1" files=()
    for ((r = 1; r <= rounds; r++)); do files+=("$results/$side.r$r.tsv"); done
    {
        grep '^#' "${files[0]}"
        awk -F'\t' '$0 ~ /^#/ { next }
                    $1 == "workload" { if (!hdr++) print; next }
                    !($1 in best) { order[++n] = $1 }
                    !($1 in best) || $2 < med[$1] { best[$1] = $0; med[$1] = $2 }
                    END { for (i = 1; i <= n; i++) print best[order[i]] }' "${files[@]}"
    } >"$results/$side.tsv"
}
best_of xgrad-pthread
[[ $have_openmp == 1 ]] && best_of xgrad-openmp
[[ $have_torch == 1 ]] && best_of torch

# rows FILE: the workload rows (no '#' lines, no header)
rows() { grep -v '^#' "$1" | tail -n +2; }
info() { grep "^# $2:" "$1" | head -n 1 | sed "s/^# $2: //"; }

# Pick the xgrad configuration: geometric mean of openmp/pthread median ratios over the matmul
# workloads (the only ones that call BLAS; the tiny graphs would only add noise to the choice).
xgrad="$results/xgrad-pthread.tsv"
xgrad_cfg="pthread OpenBLAS (default)"
if [[ $have_openmp == 1 ]]; then
    geo=$(awk -F'\t' 'NR==FNR { p[$1] = $2; next } ($1 ~ /^matmul/) && ($1 in p) { s += log($2 / p[$1]); n++ }
                      END { printf "%.4f", n ? exp(s / n) : 1 }' \
        <(rows "$results/xgrad-pthread.tsv") <(rows "$results/xgrad-openmp.tsv"))
    if awk -v g="$geo" 'BEGIN { exit !(g < 1) }'; then
        xgrad="$results/xgrad-openmp.tsv"
        xgrad_cfg="OpenMP OpenBLAS (LD_LIBRARY_PATH=$openmp_blas)"
    fi
fi

avx512=no
grep -qw avx512f /proc/cpuinfo && avx512=yes
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), AVX-512: $avx512"
echo "load: other processes used at most ${foreign_max}% of the CPUs during a run (each run: ${load_notes[*]})"
if (( foreign_max > 10 )); then
    echo "WARNING: other work kept running on the machine during a run (up to ${foreign_max}% of the CPUs after 3 attempts): these numbers are unreliable"
fi
echo "threads: $threads (OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads), ${seconds}s per workload, best median of $rounds rounds"
echo "xgrad:    $xgrad_cfg"
echo "          blas: $(info "$xgrad" blas)"
if [[ $have_torch == 1 ]]; then
    echo "LibTorch: $(info "$results/torch.tsv" side), OpenMP OpenBLAS (LD_LIBRARY_PATH=$openmp_blas), torch::set_num_threads($threads)"
    echo "          blas: $(info "$results/torch.tsv" blas)"
else
    echo "LibTorch: not found (find_package(Torch) failed; install libtorch-dev) - xgrad column only"
fi
echo

# The side-by-side table: median µs [p10, p90]; ratio of medians xgrad/LibTorch (< 1: xgrad faster).
torch_rows=/dev/null
[[ $have_torch == 1 ]] && torch_rows="$results/torch.tsv"
awk -F'\t' -v have_torch="$have_torch" '
    function cell(m, lo, hi) { return sprintf("%.1f [%.1f, %.1f]", m, lo, hi) }
    FILENAME == ARGV[1] { if ($0 !~ /^#/ && $1 != "workload") { tm[$1] = $2; tl[$1] = $3; th[$1] = $4 } next }
    $0 ~ /^#/ || $1 == "workload" { next }
    $1 ~ /^sgemm/ { next }
    {
        order[++n] = $1; xm[$1] = $2; xl[$1] = $3; xh[$1] = $4
    }
    END {
        fmt = "| %-18s | %-30s | %-30s | %-22s |\n"
        printf fmt, "workload", "xgrad median µs [p10, p90]", "LibTorch median µs [p10, p90]", "ratio xgrad/LibTorch"
        printf "|%s|%s|%s|%s|\n", "--------------------", "--------------------------------", "--------------------------------", "------------------------"
        for (i = 1; i <= n; i++) {
            w = order[i]
            if (have_torch == 1 && (w in tm)) {
                printf fmt, w, cell(xm[w], xl[w], xh[w]), cell(tm[w], tl[w], th[w]), sprintf("%.3f", xm[w] / tm[w])
            } else {
                printf fmt, w, cell(xm[w], xl[w], xh[w]), "n/a", "n/a"
            }
        }
    }' "$torch_rows" "$xgrad"

# Forward matmul against raw cblas_sgemm on the same buffers, for each xgrad configuration
# (when the matmul workloads ran).
gemm_table() {
    echo
    echo "forward matmul vs raw OpenBLAS sgemm (same A, B buffers, same process), GFLOP/s = 2n³ / median:"
    fmt_gemm='| %-13s | %-8s | %-14s | %-14s | %-17s | %-17s |\n'
    printf "$fmt_gemm" "xgrad BLAS" "n" "xgrad matmul" "raw sgemm" "matmul / sgemm" "LibTorch matmul"
    echo "|---------------|----------|----------------|----------------|-------------------|-------------------|"
    for cfg in pthread openmp; do
        f="$results/xgrad-$cfg.tsv"
        [[ -e "$f" ]] || continue
        [[ $cfg == openmp && $have_openmp == 0 ]] && continue
        awk -F'\t' -v cfg="$cfg" -v fmt="$fmt_gemm" '
            FILENAME == ARGV[1] { if ($1 ~ /_fwd$/) t[$1] = $2; next }
            $1 ~ /^matmul[0-9]+_fwd$/ { n = $1; sub(/^matmul/, "", n); sub(/_fwd$/, "", n); fw[n] = $2 }
            $1 ~ /^sgemm[0-9]+_raw$/ { n = $1; sub(/^sgemm/, "", n); sub(/_raw$/, "", n); raw[n] = $2 }
            END {
                split("256 1024", sizes, " ")
                for (i = 1; i <= 2; i++) {
                    n = sizes[i]; fl = 2 * n * n * n / 1e3  # flops / µs = MFLOP/s; /1e3 → GFLOP/s
                    g = fl / fw[n]; r = fl / raw[n]
                    k = "matmul" n "_fwd"
                    tt = (k in t) ? sprintf("%.1f GFLOP/s", fl / t[k]) : "n/a"
                    printf fmt, cfg, n, sprintf("%.1f GFLOP/s", g), sprintf("%.1f GFLOP/s", r), sprintf("%.1f%%", 100 * g / r), tt
                }
            }' "$torch_rows" "$f"
    done
}
if grep -q "^matmul256_fwd" "$results/xgrad-pthread.tsv" &&
    grep -q "^matmul1024_fwd" "$results/xgrad-pthread.tsv"; then
    gemm_table
fi

if [[ $have_openmp == 1 ]]; then
    echo
    echo "xgrad pthread vs OpenMP OpenBLAS (median µs; matmul geometric mean openmp/pthread = $geo):"
    awk -F'\t' 'NR == FNR { if ($0 !~ /^#/ && $1 != "workload") o[$1] = $2; next }
                FNR == 1 { printf "| %-18s | %14s | %14s | %14s |\n", "workload", "pthread", "openmp", "openmp/pthread"
                           print "|--------------------|----------------|----------------|----------------|" }
                $0 ~ /^#/ || $1 == "workload" { next }
                { printf "| %-18s | %14.1f | %14.1f | %14.3f |\n", $1, $2, o[$1], o[$1] / $2 }' \
        "$results/xgrad-openmp.tsv" "$results/xgrad-pthread.tsv"
fi
echo
echo "median µs of each round (the tables above use the lowest):"
round_medians() {  # round_medians SIDE WORKLOAD: "m1 m2 ..." over the rounds
    local r m out=()
    for ((r = 1; r <= rounds; r++)); do
        m=$(awk -F'\t' -v w="$2" '$1 == w { printf "%.1f", $2 }' "$results/$1.r$r.tsv")
        [[ -n $m ]] && out+=("$m")
    done
    if [[ ${#out[@]} -gt 0 ]]; then echo "${out[*]}"; else echo "n/a"; fi
}
xgrad_side=$(basename "$xgrad" .tsv)
printf '| %-18s | %-34s | %-34s |\n' workload "xgrad ($xgrad_side)" LibTorch
echo "|--------------------|------------------------------------|------------------------------------|"
for w in $(rows "$xgrad" | cut -f1); do
    t="n/a"
    [[ $have_torch == 1 ]] && t=$(round_medians torch "$w")
    printf '| %-18s | %-34s | %-34s |\n' "$w" "$(round_medians "$xgrad_side" "$w")" "${t:-n/a}"
done
echo
echo "checks:"
grep -h '^# check' "$results"/xgrad-pthread.tsv | sed 's/^# check /  xgrad    /'
[[ $have_torch == 1 ]] && grep -h '^# check' "$results/torch.tsv" | sed 's/^# check /  LibTorch /'
echo "raw outputs: $results/"
