#!/usr/bin/env bash
# Runs the fast examples of two builds with the same arguments and compares the `key: value`
# lines they print (lines about time left out): what a restructuring must leave unchanged.
#
#   scripts/compare-examples.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [OUT_DIR]
#
# Each build dir is a CMake build with the examples (build/examples/<name>). Outputs and diffs go
# to OUT_DIR (default build-compare/). Exits 1 when a program's lines differ.
set -uo pipefail
[[ $# -ge 2 ]] || { echo "usage: scripts/compare-examples.sh BEFORE_BUILD AFTER_BUILD [OUT]" >&2; exit 2; }
before=$(realpath "$1") after=$(realpath "$2") out=$(realpath -m "${3:-build-compare}")
status=0
keys() { grep -E '^[A-Za-z_/ ]+: ' "$1" | grep -v -e seconds -e time; }
run() {  # run NAME ARGS...
    local name=$1 side dir
    shift
    for side in before after; do
        dir=$([[ $side == before ]] && echo "$before" || echo "$after")
        mkdir -p "$out/$side"
        (cd "$out/$side" && "$dir/examples/$name" "$@" >"$name.txt" 2>&1; echo "exit: $?" >>"$name.txt")
    done
    if diff <(keys "$out/before/$name.txt") <(keys "$out/after/$name.txt") >"$out/$name.diff"; then
        echo "$name: the same $(keys "$out/after/$name.txt" | wc -l) key lines"
    else
        echo "$name: DIFFERENT"
        cat "$out/$name.diff"
        status=1
    fi
}
run computational_graph
run xor
run digits_ex4 --iters 50 --out .
run fashion_mlp --epochs 1 --out .
run lenet --epochs 1 --out .
run mnist_mlp --epochs 1
exit $status
