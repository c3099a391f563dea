#!/usr/bin/env bash
# Installs the dependencies and the data sets, builds xgrad with its tests (warnings are errors
# when CI is set) and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/setup-data.sh  # MNIST and Fashion-MNIST: tests/nn/test_training.cpp trains on MNIST
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_TESTS=ON -DXGRAD_BUILD_EXAMPLES=ON
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
