#!/usr/bin/env bash
# Installs what xgrad needs to build and test, from Debian 12 packages only (run as root).
# Skips apt entirely when everything is already installed.
set -euo pipefail

packages=(cmake g++ make xtensor-dev libxsimd-dev libxtensor-blas-dev libopenblas-dev doctest-dev libfmt-dev
          zlib1g-dev clang-format git
          # scripts/fuzz.sh: clang with libFuzzer and the sanitizer runtimes; llvm-symbolizer
          # (package llvm) puts file:line into sanitizer stack traces (scripts/sanitize.sh too)
          clang libclang-rt-14-dev llvm
          # dist/ (data-parallel training, docs/distributed.md) and its tests under mpirun:
          # Debian's OpenMPI; without it CMake leaves dist/ out and the build still works
          libopenmpi-dev openmpi-bin
          # the save_html pages tested in a real browser (tests/html/check_pages.sh), headless
          chromium)
if [[ "${1:-}" == "--bench" ]]; then
    # The LibTorch peer and the OpenMP OpenBLAS it runs best with (docs/performance.md).
    packages+=(libtorch-dev libopenblas0-openmp)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
