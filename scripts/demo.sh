#!/usr/bin/env bash
# Installs the dependencies (and Fashion-MNIST when it is missing), builds xgrad and runs the main
# demo: the Keras lecture's 784-300-100-10 MLP on Fashion-MNIST (examples/fashion_mlp.cpp), a short
# run of 2 epochs. Arguments go to the program: `bash scripts/demo.sh --epochs 30` is the lecture's
# full run. The model, history CSV and curves SVG land in build/fashion_mlp/.
# XGRAD_BUILD_DIR picks another build directory (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${XGRAD_BUILD_DIR:-build}"

bash scripts/install-deps.sh
fashion=/usr/share/datasets/fashion-mnist
if ! ls "$fashion"/train-images-idx3-ubyte* >/dev/null 2>&1; then
    bash scripts/setup-data.sh
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=ON
cmake --build "$build" -j"$(nproc)" --target fashion_mlp
"./$build/examples/fashion_mlp" --data "$fashion" --out "$build/fashion_mlp" "$@"
