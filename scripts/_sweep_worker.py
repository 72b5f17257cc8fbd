"""One run of the depth sweep: build a network, train it, measure it. Used by sweep_depth.py.

This module runs in local worker processes and on Dask workers. On Dask it is shipped by
value (cloudpickle), so the workers need fastnn and numpy but not this file; its module-level
imports are therefore standard library only (the Dask scheduler unpickles it too).

Everything a run computes except the timing columns is a deterministic function of its spec
and the data: the network is seeded with ``spec["seed"]`` and ``fit`` shuffles with the same
seed, so a run gives the same row in any process, locally or on a cluster.
"""
from __future__ import annotations

import math
import os
import socket
import time

# Environment variables that size the thread pools of Numba, OpenMP and the BLAS libraries.
THREAD_VARS = (
    "NUMBA_NUM_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

# Columns that measure speed; they differ between two runs of the same spec.
TIMING_COLUMNS = ("time_per_epoch_s", "samples_per_s", "train_time_s")

# The CSV's columns, in order. grad_norms_* hold ||dL/dW^[k]|| for k = 1..K, ';'-separated.
# A sweep with any of the newer settings (norm, residual, dropout, optimizer) uses
# EXTENDED_COLUMNS, which add them; without them the CSV keeps these columns.
COLUMNS = (
    "depth", "activation", "seed", "dataset", "width", "epochs", "batch_size", "lr",
    "n_layers", "n_params", "n_train", "n_val", "status", "epochs_done",
    "init_train_loss", "train_loss", "val_loss", "train_acc", "val_acc",
    "time_per_epoch_s", "samples_per_s", "train_time_s",
    "grad_norm_first_init", "grad_norm_last_init", "grad_ratio_init",
    "grad_norm_first_end", "grad_norm_last_end", "grad_ratio_end",
    "grad_norms_init", "grad_norms_end",
)

ARCH_COLUMNS = ("norm", "residual", "dropout")  # after "activation"
EXTENDED_COLUMNS = (COLUMNS[:2] + ARCH_COLUMNS + COLUMNS[2:COLUMNS.index("lr") + 1] + ("optimizer",)
                    + COLUMNS[COLUMNS.index("lr") + 1:])

_DATA = None  # the data set of this worker process (local pool), set by init_worker


def init_worker(data, threads):
    """Initializer of a local worker process: keep its data, ignore Ctrl-C (the parent handles
    it and ends the workers), and record the thread settings it was started with."""
    import signal

    global _DATA
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in THREAD_VARS:  # already in the environment the parent spawned us with
        os.environ.setdefault(var, str(threads))
    _DATA = data


def worker_info():
    """Versions and thread settings of the process that runs the sweep's runs."""
    import numba
    import numpy

    import fastnn

    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "fastnn": fastnn.__version__,
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "numba_threads": int(numba.config.NUMBA_NUM_THREADS),
        "env": {v: os.environ.get(v) for v in THREAD_VARS},
    }


def _norms(net, X, Y):
    """Frobenius norms ||dL/dW^[k]||, k = 1..K, of the mean loss on (X, Y), as fit's steps see
    it: a net with batch norm or dropout is evaluated in training mode (batch norm on the rows'
    own statistics, dropout's masks of the next epoch); for the others that is the same as
    ``gradients``' eval mode. A gradient that overflows float32 gives inf, one that
    underflows gives 0."""
    import numpy as np

    if "batch" in net.norm or any(p > 0 for p in net.dropout):
        _, g = net.loss_and_gradient(X, Y, training=True)
        dW, _ = net.unpack(g)
    else:
        dW, _ = net.gradients(X, Y)
    with np.errstate(over="ignore"):
        return [float(np.linalg.norm(np.asarray(w, dtype=np.float64))) for w in dW]


def _loss(net, X, Y):
    """``net.loss``, or inf where the loss overflows the dtype (deep residual nets without
    normalization can, at initialisation: their x̄^[k] grows with k)."""
    try:
        return net.loss(X, Y)
    except ValueError as e:
        if "not finite" not in str(e):
            raise
        return math.inf


def _accuracy(net, X, Y):
    import numpy as np

    return float(np.mean(np.argmax(net.predict(X), axis=1) == np.argmax(Y, axis=1)))


def _warm_up(sizes, activations, arch, batch_size, optimizer, X, Y):
    """Load (or compile) the kernels this architecture uses, in this process, before timing:
    fastnn may compile code for one exact architecture (tiny nets), and the first call of a
    kernel in a process loads it from Numba's cache. A throwaway net of the same shape trains
    one epoch on a few rows, so the timed epochs measure training only."""
    from fastnn import DivergedError, Network

    rows = min(len(X), 2 * batch_size)
    net = Network(sizes, activations, seed=0, **arch)
    try:  # a deep residual net without norm can overflow at initialisation, whatever the lr
        net.fit(X[:rows], Y[:rows], epochs=1, batch_size=batch_size, lr=1e-6, seed=0,
                optimizer=optimizer)
    except DivergedError:
        pass  # the kernels are loaded all the same; run_one records the divergence
    _norms(net, X[:rows], Y[:rows])
    _loss(net, X[:rows], Y[:rows])


def _fmt_list(values):
    return ";".join(repr(v) for v in values)


def run_one(spec, data=None):
    """Train one network and return its result: ``{"key", "row", "extra"}``.

    ``spec``: depth (hidden layers), activation (of the hidden layers), seed, width, epochs,
    batch_size, lr, grad_samples, key, and optionally norm ("none", "layer" or "batch"),
    residual (bool), dropout (rate) and optimizer (a name of fastnn.OPTIMIZERS; default
    "sgd"). A spec with any of those gives a row with EXTENDED_COLUMNS. ``data``: the dict
    made by sweep_depth.load_data (or None in a local worker, which holds it already).
    """
    import numpy as np

    from fastnn import DivergedError, Network

    data = _DATA if data is None else data
    Xtr, Ytr, Xva, Yva = data["X_train"], data["Y_train"], data["X_val"], data["Y_val"]
    depth, act, seed = int(spec["depth"]), str(spec["activation"]), int(spec["seed"])
    sizes = [Xtr.shape[1]] + [int(spec["width"])] * depth + [Ytr.shape[1]]
    activations = [act] * depth + ["identity"]
    extended = any(k in spec for k in ("norm", "residual", "dropout", "optimizer"))
    norm = str(spec.get("norm", "none"))
    residual, dropout = bool(spec.get("residual", False)), float(spec.get("dropout", 0.0))
    optimizer = spec.get("optimizer")  # None: fit's plain SGD, as before the option existed
    # residual=True: a skip on every hidden layer whose width equals its input's (Network's rule)
    arch = {"norm": None if norm == "none" else norm, "dropout": dropout, "residual": residual}
    _warm_up(sizes, activations, arch, int(spec["batch_size"]), optimizer, Xtr, Ytr)

    net = Network(sizes, activations, seed=seed, **arch)
    g = min(int(spec["grad_samples"]), len(Xtr))  # a fixed subset for the gradient norms
    Xg, Yg = Xtr[:g], Ytr[:g]
    norms_init = _norms(net, Xg, Yg)
    init_loss = _loss(net, Xtr, Ytr)

    epochs = int(spec["epochs"])
    status, epochs_done = "ok", epochs
    t0 = time.perf_counter()
    try:
        hist = net.fit(Xtr, Ytr, epochs=epochs, batch_size=int(spec["batch_size"]),
                       lr=float(spec["lr"]), shuffle=True, seed=seed, optimizer=optimizer)
        train_time = time.perf_counter() - t0
        epoch_times = hist["time"]
        history = hist["loss"]
    except DivergedError as e:  # weights are back at the end of the last finite epoch
        train_time = time.perf_counter() - t0
        bad = e.epoch
        status, epochs_done = f"diverged@{bad}", bad - 1
        epoch_times = [train_time / bad]
        history = []
    t_epoch = float(np.median(epoch_times))
    norms_end = _norms(net, Xg, Yg)

    classify = data["task"] == "classification"
    row = {
        "depth": depth,
        "activation": act,
        "seed": seed,
        "dataset": data["name"],
        "width": int(spec["width"]),
        "epochs": epochs,
        "batch_size": int(spec["batch_size"]),
        "lr": float(spec["lr"]),
        "n_layers": len(sizes) - 1,
        "n_params": int(net.n_params),
        "n_train": len(Xtr),
        "n_val": len(Xva),
        "status": status,
        "epochs_done": epochs_done,
        "init_train_loss": init_loss,
        "train_loss": _loss(net, Xtr, Ytr),
        "val_loss": _loss(net, Xva, Yva),
        "train_acc": _accuracy(net, Xtr, Ytr) if classify else "",
        "val_acc": _accuracy(net, Xva, Yva) if classify else "",
        "time_per_epoch_s": t_epoch,
        "samples_per_s": len(Xtr) / t_epoch if t_epoch > 0 else math.inf,
        "train_time_s": train_time,
        "grad_norm_first_init": norms_init[0],
        "grad_norm_last_init": norms_init[-1],
        "grad_ratio_init": _ratio(norms_init),
        "grad_norm_first_end": norms_end[0],
        "grad_norm_last_end": norms_end[-1],
        "grad_ratio_end": _ratio(norms_end),
        "grad_norms_init": _fmt_list(norms_init),
        "grad_norms_end": _fmt_list(norms_end),
    }
    extra = {
        "loss_history": history,
        "epoch_times": [float(t) for t in epoch_times],
        "sizes": sizes,
        "activations": activations,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "threads": {v: os.environ.get(v) for v in THREAD_VARS},
    }
    if extended:
        row.update(norm=norm, residual=residual, dropout=dropout, optimizer=optimizer or "sgd")
        row = {c: row[c] for c in EXTENDED_COLUMNS}
        extra["residual_layers"] = [k for k, r in enumerate(net.residual, start=1) if r]
    return {"key": spec["key"], "row": row, "extra": extra}


def _ratio(norms):
    """||dL/dW^[1]|| / ||dL/dW^[K]||: far below 1 when the gradient vanishes on its way down."""
    return norms[0] / norms[-1] if norms[-1] > 0 else math.nan
