#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/<seed>.

Run once and committed; scripts/fuzz.sh only reads them. Regenerate from the repository root with

    /usr/bin/python3 scripts/make-fuzz-corpus.py

(Debian's interpreter with `apt-get install python3-numpy`; made with numpy 1.24.2.) Every seed
is a small valid file as NumPy or the MNIST distribution writes it, so the fuzzer starts from
inputs that reach deep into each reader (dtypes, orders, header versions, zip layouts, gzip)
rather than from bytes the first check rejects.

- read_idx: IDX images and labels (type 0x08), plain and gzip-compressed, an empty one.
- load_npy: np.save of every dtype the reader takes, Fortran order, 0-d, empty, a 2.0 header.
- load_npz: np.savez (stored, zip64 local headers) and np.savez_compressed (deflated), one
  archive with an entry named "w" (the target also reads "w" by name), an empty archive.
- module_load: the fuzz model's state (0.weight [3, 4], 0.bias [3], 1.weight [2, 1, 3, 3],
  1.bias [2]) as np.savez and np.savez_compressed write it, and with an entry missing.
"""

import gzip
import io
import os
import shutil
import struct

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "corpus")


def idx(array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.tobytes()


def npy(array, version=None):
    f = io.BytesIO()
    if version is None:
        np.save(f, array)
    else:
        np.lib.format.write_array(f, array, version=version)
    return f.getvalue()


def npz(arrays, compressed=False):
    f = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(f, **arrays)
    return f.getvalue()


def gz(data):
    # mtime 0: the same bytes on every run
    return gzip.compress(data, mtime=0)


def write(target, name, data):
    path = os.path.join(ROOT, target, name)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def main():
    rng = np.random.default_rng(16)
    shutil.rmtree(ROOT, ignore_errors=True)
    for target in ("read_idx", "load_npy", "load_npz", "module_load"):
        os.makedirs(os.path.join(ROOT, target))

    images = rng.integers(0, 256, size=(3, 4, 4), dtype=np.uint8)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    seeds = {
        ("read_idx", "images"): idx(images),
        ("read_idx", "labels"): idx(labels),
        ("read_idx", "images.gz"): gz(idx(images)),
        ("read_idx", "labels.gz"): gz(idx(labels)),
        ("read_idx", "empty"): idx(np.zeros((0, 28, 28), dtype=np.uint8)),
        ("read_idx", "rank4"): idx(rng.integers(0, 256, size=(2, 1, 2, 3), dtype=np.uint8)),
    }
    x = rng.standard_normal((2, 3))
    for dtype in ("<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|b1"):
        seeds[("load_npy", dtype.strip("<|") + ".npy")] = npy((x * 10).astype(dtype))
    seeds[("load_npy", "fortran.npy")] = npy(np.asfortranarray(x))
    seeds[("load_npy", "scalar.npy")] = npy(np.array(2.5))
    seeds[("load_npy", "empty.npy")] = npy(np.zeros((0, 3), dtype="<f4"))
    seeds[("load_npy", "v2.npy")] = npy(x.astype("<f4"), version=(2, 0))
    seeds[("load_npy", "rank3.npy")] = npy(rng.standard_normal((2, 1, 2)).astype("<f4"))

    arrays = {"w": x.astype("<f4"), "b": np.arange(3, dtype="<i8")}
    seeds[("load_npz", "stored.npz")] = npz(arrays)
    seeds[("load_npz", "deflated.npz")] = npz(arrays, compressed=True)
    seeds[("load_npz", "one.npz")] = npz({"w": np.float64(1.5)})
    seeds[("load_npz", "none.npz")] = npz({})

    state = {
        "0.weight": rng.standard_normal((3, 4)).astype("<f4"),
        "0.bias": rng.standard_normal(3).astype("<f4"),
        "1.weight": rng.standard_normal((2, 1, 3, 3)).astype("<f4"),
        "1.bias": rng.standard_normal(2).astype("<f4"),
    }
    seeds[("module_load", "state.npz")] = npz(state)
    seeds[("module_load", "state_compressed.npz")] = npz(state, compressed=True)
    seeds[("module_load", "state_f8.npz")] = npz({k: v.astype("<f8") for k, v in state.items()})
    seeds[("module_load", "missing.npz")] = npz({k: v for k, v in state.items() if k != "1.bias"})

    for (target, name), data in sorted(seeds.items()):
        print(f"{target}/{name}: {write(target, name, data)} bytes")


if __name__ == "__main__":
    main()
