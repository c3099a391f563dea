#!/usr/bin/env bash
# Installs the dependencies, builds xgrad and runs the main demo: the lecture's computational
# graph J = 3(a + b·c), its tape, its backward pass step by step, and graph.dot.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=ON
cmake --build build -j"$(nproc)" --target computational_graph
./build/examples/computational_graph --dot build/graph.dot
