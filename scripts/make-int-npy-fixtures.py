#!/usr/bin/python3
"""Writes the integer .npy/.npz fixtures of load_npy<int...>/load_npz<int...>: tests/data/int/.

Run once with NumPy and committed; the tests only read the files. Regenerate from the repository
root with

    /usr/bin/python3 scripts/make-int-npy-fixtures.py

(Debian's numpy: `apt-get install python3-numpy`). Made with numpy 1.24.2 on Debian 12.

Files (every array is written by np.save / np.savez exactly as a user would write it):

- labels_i8.npy    int64 [6]: 0 1 2 9 3 7 (class labels, np.array(..., dtype=np.int64))
- labels_u1.npy    uint8 [6]: the same labels as uint8 ('|u1')
- indices_i4_f.npy int32 [2, 3] in Fortran order: [[0, -1, 2], [30, 40, -50]]
- big_i8.npy       int64 [3]: 1 -2 3000000000 (the last does not fit in int32)
- negative_i2.npy  int16 [2]: 5 -1 (-1 does not fit in uint8)
- bools.npy        bool [4]: True False False True
- floats_f4.npy    float32 [3]: 1 2 3 (whole numbers, still refused by an integer reader)
- mixed.npz        labels: int64 [4] 3 1 4 1, weights: float32 [2] 0.5 -0.25, mask: uint8 [3] 1 0 1
"""

import os

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "int")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    out = lambda name: os.path.join(OUT_DIR, name)  # noqa: E731
    np.save(out("labels_i8.npy"), np.array([0, 1, 2, 9, 3, 7], dtype=np.int64))
    np.save(out("labels_u1.npy"), np.array([0, 1, 2, 9, 3, 7], dtype=np.uint8))
    np.save(out("indices_i4_f.npy"),
            np.asfortranarray(np.array([[0, -1, 2], [30, 40, -50]], dtype=np.int32)))
    np.save(out("big_i8.npy"), np.array([1, -2, 3000000000], dtype=np.int64))
    np.save(out("negative_i2.npy"), np.array([5, -1], dtype=np.int16))
    np.save(out("bools.npy"), np.array([True, False, False, True]))
    np.save(out("floats_f4.npy"), np.array([1, 2, 3], dtype=np.float32))
    np.savez(out("mixed.npz"), labels=np.array([3, 1, 4, 1], dtype=np.int64),
             weights=np.array([0.5, -0.25], dtype=np.float32),
             mask=np.array([1, 0, 1], dtype=np.uint8))
    # Checks: every file reads back as written, and the Fortran one is really Fortran order.
    assert np.load(out("indices_i4_f.npy")).flags.f_contiguous
    assert np.load(out("labels_i8.npy")).dtype == np.int64
    assert list(np.load(out("mixed.npz"))["labels"]) == [3, 1, 4, 1]
    print(f"wrote {len(os.listdir(OUT_DIR))} files to {os.path.normpath(OUT_DIR)}")


if __name__ == "__main__":
    main()
