#!/usr/bin/python3
"""Writes the PyTorch reference fixtures of the recurrent layers: tests/data/rnn/<name>.npz.

Run once with PyTorch and committed; CI only reads the .npz files (no other framework runs
there). Regenerate from the repository root with

    /usr/bin/python3 scripts/make-rnn-fixtures.py

(Debian's interpreter: `apt-get install python3-torch python3-numpy`; a pyenv `python3` on PATH
has no torch.) Made with torch 1.13.1+dfsg-4 (torch.__version__ 1.13.0a0) and numpy 1.24.2 on
Debian 12, CPU, float64.

Each file holds one configuration (named in the file name, listed in tests/data/rnn/README.md,
which also states the key contract, gate orders, formulas and initialisation):

- sequence layers (nn.RNN, nn.LSTM, nn.GRU): the module's state_dict() under PyTorch's names
  (weight_ih_l0, ..., bias_hh_l1_reverse), x, h0 (c0), output, h_n (c_n), the upstream gradients
  g_output, g_h_n (g_c_n) drawn from N(0, 1), and grad_x, grad_h0 (grad_c0), grad_<parameter>:
  the gradients of L = sum(output*g_output) + sum(h_n*g_h_n) (+ sum(c_n*g_c_n)). Variable-length
  cases add `lengths` (int64 [B]) and run the module on pack_padded_sequence(x, lengths,
  enforce_sorted=False), unpacked with pad_packed_sequence(..., total_length=T).
- cells (nn.RNNCell, nn.LSTMCell, nn.GRUCell): weight_ih, weight_hh, bias_ih, bias_hh, x, h0
  (c0), h1 (c1), g_h1 (g_c1), grad_x, grad_h0 (grad_c0), grad_<parameter>.

Every array is float64, C order, except `lengths` (int64). Parameters keep PyTorch's default
initialisation U(-1/sqrt(H), 1/sqrt(H)); inputs, states and upstream gradients are N(0, 1). Each
configuration seeds torch with crc32 of its name, so adding or removing one changes no other.

Checks: every file is reloaded and every key must be there, with the right shape, finite;
the padded steps of x get zero gradient; a module called without h0/c0 equals one called with
zeros; and a plain NumPy loop over the formulas of the README recomputes every output, h_n and
c_n, so the README's gate orders, layouts and length semantics are the ones the data follows.
A file whose arrays are already bit-identical to the new ones is not rewritten (np.savez stamps
the zip entries with the time), so a rerun that reproduces the data leaves git clean.
"""

import os
import sys
import zlib

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "rnn")
I, H, T, B = 3, 4, 5, 2  # input_size, hidden_size, seq_len, batch

MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
CELLS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}

# name, mode, keyword arguments of the module, and what differs from the defaults:
# lengths (variable-length batch), batch, initial_state (False: h0/c0 not passed).
LAYERS = [
    ("rnn_tanh", "rnn", dict(nonlinearity="tanh"), {}),
    ("rnn_relu", "rnn", dict(nonlinearity="relu"), {}),
    ("rnn_tanh_2layer_bidirectional", "rnn", dict(num_layers=2, bidirectional=True), {}),
    ("lstm", "lstm", {}, {}),
    ("lstm_2layer", "lstm", dict(num_layers=2), {}),
    ("lstm_bidirectional", "lstm", dict(bidirectional=True), {}),
    ("lstm_2layer_bidirectional_batch_first", "lstm",
     dict(num_layers=2, bidirectional=True, batch_first=True), {}),
    ("lstm_no_bias", "lstm", dict(bias=False), {}),
    ("lstm_no_initial_state", "lstm", {}, dict(initial_state=False)),
    ("gru", "gru", {}, {}),
    ("gru_2layer_bidirectional", "gru", dict(num_layers=2, bidirectional=True), {}),
    ("rnn_tanh_lengths", "rnn", {}, dict(batch=3, lengths=[4, 1, 5])),
    ("lstm_lengths", "lstm", {}, dict(batch=3, lengths=[5, 2, 4])),
    ("gru_bidirectional_lengths", "gru", dict(bidirectional=True),
     dict(batch=3, lengths=[2, 5, 3])),
    ("lstm_2layer_bidirectional_batch_first_lengths", "lstm",
     dict(num_layers=2, bidirectional=True, batch_first=True), dict(batch=3, lengths=[3, 5, 1])),
]

CELL_CASES = [
    ("rnn_cell_tanh", "rnn", dict(nonlinearity="tanh")),
    ("rnn_cell_relu", "rnn", dict(nonlinearity="relu")),
    ("lstm_cell", "lstm", {}),
    ("gru_cell", "gru", {}),
]


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))


def arr(t):
    return np.ascontiguousarray(t.detach().numpy(), dtype=np.float64)


def loss_and_grads(outs, leaves):
    """L = sum over (out, g) of sum(out * g) with g ~ N(0, 1); returns the g and dL/dleaves."""
    gs = [torch.randn_like(o) for o in outs]
    loss = sum((o * g).sum() for o, g in zip(outs, gs))
    return gs, torch.autograd.grad(loss, leaves)


def make_layer(name, mode, kwargs, extra):
    seed(name)
    module = MODULES[mode](I, H, **kwargs)
    layers = module.num_layers
    dirs = 2 if module.bidirectional else 1
    batch_first = module.batch_first
    batch = extra.get("batch", B)
    lengths = extra.get("lengths")
    passed = extra.get("initial_state", True)

    x = torch.randn((batch, T, I) if batch_first else (T, batch, I), requires_grad=True)
    state_shape = (layers * dirs, batch, H)  # also with batch_first
    states = ["h0", "c0"] if mode == "lstm" else ["h0"]
    s0 = {k: torch.randn(state_shape) if passed else torch.zeros(state_shape) for k in states}
    for t in s0.values():
        t.requires_grad_(passed)

    inp = x
    if lengths is not None:
        inp = pack_padded_sequence(x, torch.tensor(lengths, dtype=torch.int64),
                                   batch_first=batch_first, enforce_sorted=False)
    hx = (s0["h0"], s0["c0"]) if mode == "lstm" else s0["h0"]
    out, hn = module(inp, hx) if passed else module(inp)
    if not passed:  # PyTorch's default initial state is zeros
        out_zero, hn_zero = module(inp, hx)
        assert torch.equal(out, out_zero) and all(
            torch.equal(a, b) for a, b in zip(hn if mode == "lstm" else [hn],
                                              hn_zero if mode == "lstm" else [hn_zero])), name
    if lengths is not None:
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    finals = {"h_n": hn[0], "c_n": hn[1]} if mode == "lstm" else {"h_n": hn}

    params = dict(module.named_parameters())
    leaves = [x] + ([s0[k] for k in states] if passed else []) + list(params.values())
    leaf_names = ["x"] + (states if passed else []) + list(params)
    gs, grads = loss_and_grads([out] + list(finals.values()), leaves)

    data = {k: arr(v) for k, v in module.state_dict().items()}
    data["x"] = arr(x)
    data.update({k: arr(v) for k, v in s0.items()})
    if lengths is not None:
        data["lengths"] = np.array(lengths, dtype=np.int64)
    data["output"] = arr(out)
    data.update({k: arr(v) for k, v in finals.items()})
    data.update({"g_" + k: arr(g) for k, g in zip(["output"] + list(finals), gs)})
    data.update({"grad_" + k: arr(g) for k, g in zip(leaf_names, grads)})

    x_shape = (batch, T, I) if batch_first else (T, batch, I)
    out_shape = (batch, T, dirs * H) if batch_first else (T, batch, dirs * H)
    shapes = {"x": x_shape, "grad_x": x_shape, "output": out_shape, "g_output": out_shape}
    for k in states:
        shapes[k] = state_shape
        if passed:
            shapes["grad_" + k] = state_shape
    for k in finals:
        shapes[k] = shapes["g_" + k] = state_shape
    for k, p in params.items():
        shapes[k] = shapes["grad_" + k] = tuple(p.shape)
    if lengths is not None:
        shapes["lengths"] = (batch,)
    return data, shapes


def make_cell(name, mode, kwargs):
    seed(name)
    cell = CELLS[mode](I, H, **kwargs)
    x = torch.randn(B, I, requires_grad=True)
    states = ["h0", "c0"] if mode == "lstm" else ["h0"]
    s0 = {k: torch.randn(B, H, requires_grad=True) for k in states}
    out = cell(x, (s0["h0"], s0["c0"])) if mode == "lstm" else cell(x, s0["h0"])
    outs = {"h1": out[0], "c1": out[1]} if mode == "lstm" else {"h1": out}
    params = dict(cell.named_parameters())
    gs, grads = loss_and_grads(list(outs.values()),
                               [x] + [s0[k] for k in states] + list(params.values()))

    data = {k: arr(v) for k, v in cell.state_dict().items()}
    data["x"] = arr(x)
    data.update({k: arr(v) for k, v in s0.items()})
    data.update({k: arr(v) for k, v in outs.items()})
    data.update({"g_" + k: arr(g) for k, g in zip(outs, gs)})
    data.update({"grad_" + k: arr(g) for k, g in zip(["x"] + states + list(params), grads)})

    shapes = {"x": (B, I), "grad_x": (B, I)}
    for k in states + list(outs):
        shapes[k] = (B, H)
    for k in states:
        shapes["grad_" + k] = (B, H)
    for k in outs:
        shapes["g_" + k] = (B, H)
    for k, p in params.items():
        shapes[k] = shapes["grad_" + k] = tuple(p.shape)
    return data, shapes


# --- an independent NumPy reading of the README's formulas -------------------------------------

def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def cell_step(mode, nonlinearity, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step of the README's cell formulas; x [B, in], h and c [B, H]; returns (h', c')."""
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    if mode == "rnn":
        v = gi + gh
        return (np.tanh(v) if nonlinearity == "tanh" else np.maximum(v, 0.0)), None
    if mode == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c1 = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c1), c1
    r_i, z_i, n_i = np.split(gi, 3, axis=1)
    r_h, z_h, n_h = np.split(gh, 3, axis=1)
    r, z = sigmoid(r_i + r_h), sigmoid(z_i + z_h)
    n = np.tanh(n_i + r * n_h)
    return (1.0 - z) * n + z * h, None


def params_of(d, suffix, rows):
    bias = [d["bias_ih" + suffix], d["bias_hh" + suffix]] if "bias_ih" + suffix in d \
        else [np.zeros(rows), np.zeros(rows)]
    return [d["weight_ih" + suffix], d["weight_hh" + suffix]] + bias


def reference_layer(d, mode, nonlinearity, layers, dirs, batch_first):
    """Output, h_n, c_n of a sequence layer by plain loops, honouring `lengths` if present."""
    x = d["x"].transpose(1, 0, 2) if batch_first else d["x"]  # [T, B, I]
    steps, batch = x.shape[:2]
    lengths = d.get("lengths", np.full(batch, steps))
    h_n, c_n = np.zeros_like(d["h0"]), np.zeros_like(d["h0"])
    inp = x
    for layer in range(layers):
        outs = []
        for direction in range(dirs):
            k = layer * dirs + direction
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            w = params_of(d, suffix, d["weight_hh" + suffix].shape[0])
            out = np.zeros((steps, batch, H))
            for b in range(batch):
                h = d["h0"][k, b:b + 1]
                c = d["c0"][k, b:b + 1] if mode == "lstm" else None
                order = range(lengths[b])
                for t in (reversed(order) if direction else order):
                    h, c = cell_step(mode, nonlinearity, inp[t, b:b + 1], h, c, *w)
                    out[t, b] = h[0]
                h_n[k, b] = h[0]
                if mode == "lstm":
                    c_n[k, b] = c[0]
            outs.append(out)
        inp = np.concatenate(outs, axis=2)
    output = inp.transpose(1, 0, 2) if batch_first else inp
    return output, h_n, c_n


def reference_cell(d, mode, nonlinearity):
    w = [d["weight_ih"], d["weight_hh"], d["bias_ih"], d["bias_hh"]]
    return cell_step(mode, nonlinearity, d["x"], d["h0"], d.get("c0"), *w)


def close(a, b):
    return np.allclose(a, b, rtol=1e-12, atol=1e-12)


# --- writing and checking -----------------------------------------------------------------------

def same_arrays(path, data):
    if not os.path.exists(path):
        return False
    with np.load(path) as old:
        return set(old.files) == set(data) and all(
            old[k].dtype == v.dtype and old[k].shape == v.shape and old[k].tobytes() == v.tobytes()
            for k, v in data.items())


def write(name, data, shapes):
    assert set(data) == set(shapes), (name, set(data) ^ set(shapes))
    path = os.path.join(OUT_DIR, name + ".npz")
    status = "unchanged"
    if not same_arrays(path, data):
        np.savez(path, **data)
        status = "written"
    with np.load(path) as back:
        assert set(back.files) == set(shapes), (name, set(back.files) ^ set(shapes))
        for k, shape in shapes.items():
            a = back[k]
            assert a.shape == shape, (name, k, a.shape, shape)
            assert a.dtype == (np.int64 if k == "lengths" else np.float64), (name, k, a.dtype)
            assert a.flags.c_contiguous and np.isfinite(a).all(), (name, k)
        loaded = {k: back[k] for k in back.files}
    print(f"{status:9} {os.path.relpath(path)}  {os.path.getsize(path):6} bytes, "
          f"{len(loaded)} arrays")
    return loaded


def check_padding(name, d, batch_first):
    """Padded steps: output is 0 and x gets no gradient."""
    for b, n in enumerate(d["lengths"]):
        steps, row = slice(n, None), slice(b, b + 1)
        pad = (row, steps) if batch_first else (steps, row)
        assert not d["output"][pad].any() and not d["grad_x"][pad].any(), name


def main():
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, mode, kwargs, extra in LAYERS:
        d = write(name, *make_layer(name, mode, kwargs, extra))
        batch_first = kwargs.get("batch_first", False)
        dirs = 2 if kwargs.get("bidirectional", False) else 1
        output, h_n, c_n = reference_layer(d, mode, kwargs.get("nonlinearity", "tanh"),
                                           kwargs.get("num_layers", 1), dirs, batch_first)
        assert close(output, d["output"]) and close(h_n, d["h_n"]), name
        assert mode != "lstm" or close(c_n, d["c_n"]), name
        if "lengths" in d:
            check_padding(name, d, batch_first)
    for name, mode, kwargs in CELL_CASES:
        d = write(name, *make_cell(name, mode, kwargs))
        h1, c1 = reference_cell(d, mode, kwargs.get("nonlinearity", "tanh"))
        assert close(h1, d["h1"]) and (mode != "lstm" or close(c1, d["c1"])), name
    print(f"torch {torch.__version__}, numpy {np.__version__}: "
          f"{len(LAYERS) + len(CELL_CASES)} files checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
