#!/usr/bin/python3
"""Writes the PyTorch weight-interop fixtures: tests/data/torch/{mlp,conv}{,_io}.npz.

Run once with PyTorch and committed; the tests only read the .npz files (no other framework runs
in CI). Regenerate from the repository root with

    /usr/bin/python3 scripts/make-torch-weights-fixture.py

(Debian's interpreter: `apt-get install python3-torch python3-numpy`, only to make fixtures; it
is not a dependency of xgrad.) Made with torch 1.13.1+dfsg-4 (torch.__version__ 1.13.0a0) and
numpy 1.24.2 on Debian 12, CPU, float32.

Two models, each with torch.manual_seed(0) before it is built, PyTorch's default initialisation:

- mlp:  Sequential(Linear(4, 8), ReLU(), Linear(8, 3)); state_dict keys 0.weight [8, 4],
        0.bias [8], 2.weight [3, 8], 2.bias [3]; input x [5, 4].
- conv: Sequential(Conv2d(1, 4, 3), ReLU(), MaxPool2d(2), Flatten(), Linear(36, 3)); keys
        0.weight [4, 1, 3, 3], 0.bias [4], 4.weight [3, 36], 4.bias [3]; input x [2, 1, 8, 8].

<name>.npz holds the state dict, saved exactly as a user would save it for another framework:

    np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})

<name>_io.npz holds the input `x` (N(0, 1), drawn after the model) and `y` = model(x) under
torch.no_grad(), both float32.
"""

import os

import numpy as np
import torch

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "torch")


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)), (5, 4)


def conv():
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(36, 3)), (2, 1, 8, 8)


def write(name, make):
    torch.manual_seed(0)
    model, input_shape = make()
    x = torch.randn(*input_shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT_DIR, name + ".npz")
    np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})
    np.savez(os.path.join(OUT_DIR, name + "_io.npz"), x=x.numpy(), y=y.numpy())
    # Check: the file holds the state dict as saved, float32, and reloading it reproduces y.
    state = np.load(path)
    assert sorted(state.files) == sorted(model.state_dict().keys())
    assert all(state[k].dtype == np.float32 for k in state.files)
    again, _ = make()
    again.load_state_dict({k: torch.from_numpy(state[k]) for k in state.files})
    with torch.no_grad():
        assert torch.equal(again(x), y)
    print(name, {k: tuple(v.shape) for k, v in model.state_dict().items()}, "y", tuple(y.shape))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    write("mlp", mlp)
    write("conv", conv)


if __name__ == "__main__":
    main()
