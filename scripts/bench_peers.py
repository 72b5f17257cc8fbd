#!/usr/bin/env python
"""Benchmark one epoch of minibatch SGD: fastnn versus PyTorch, JAX, NumPy and scikit-learn.

Every contender trains the same MLP (ReLU hidden layers, identity output, float32) on the same
deterministic data (``np.random.default_rng(0)``) for ONE epoch of plain SGD, batches taken in
order (no shuffling), lr = 1e-3, loss 1/2 ||y - yhat||^2 averaged over the batch -- so every
update is ``W <- W - lr * mean-over-batch gradient``.  All contenders start each grid point from
the same initial parameters; the warm-up trains on the first --check-batches batches, and the
parameters after it are compared with the explicit NumPy implementation's ("diff vs numpy":
relative difference of the parameter updates) as a check that the math really is identical.
Float32 rounding gives ~1e-7..1e-5; a ReLU unit whose pre-activation sits within rounding of 0
can flip and give ~1e-3 (seen for torch on `large`); >= 1e-2 is flagged as a MISMATCH.

Contenders (each runs in its own worker process, so thread pools and allocators don't interfere):

  fastnn     Network(sizes, dtype="float32", seed=0).fit(X, Y, epochs=1, batch_size=B,
             lr=lr, shuffle=False)  (the call, including its input validation, is timed)
  torch-1t   nn.Sequential + torch.optim.SGD, loss 0.5*((y-yhat)**2).sum(1).mean(),
  torch-Nt   torch.set_num_threads(1) and (N = --threads)
  jax-jit    jax.jit'ed train step (params donated) called in a Python loop over batches
  jax-scan   the whole epoch under one jax.jit, lax.scan over the batches
  numpy      hand-written forward/backward with preallocated buffers (X @ W.T, out=...)
  sklearn    MLPRegressor(solver="sgd", momentum=0, alpha=0, shuffle=False, ...).partial_fit
             (one call = one epoch).  sklearn's reported loss is 0.5*mean over samples AND
             outputs, i.e. ours divided by n_outputs, but its gradient (deltas = yhat - y,
             summed over the batch, divided by the batch size) is exactly ours.  It also adds
             alpha*W and computes sum(W**2) for the L2 term every batch even with alpha=0.
  gemm-floor not a peer: only the epoch's matrix products through NumPy BLAS into preallocated
             out= arrays (per batch: X@W.T per layer, dW = phi.T @ x_prev per layer,
             dX = phi @ W for layers k >= 2).  "floor fraction" = floor time / fastnn time
             per sample (> 1: fastnn beats the sum of its GEMMs done through NumPy, which
             happens for tiny nets where NumPy's per-call overhead dominates).

Timing: compile and warm-up are excluded; contenders run in interleaved rounds (each round runs
every contender once, in a rotated order, with a pause (--gap, 0.25 s) between runs so spinning
BLAS/OpenMP threads of the previous contender go idle: OpenBLAS's workers keep a core busy for
~0.1 s after each call, which slowed whichever contender ran next by up to 20%); the median
epoch time over the rounds is reported
(best is printed too).  Time caps keep slow peers from dominating the run: a short untimed probe
predicts each peer's epoch; one that would take over --budget/2 seconds is timed on a prefix of
the epoch (flagged with a dagger; samples/s = samples trained / time), and a contender stops
after R rounds or once its timed epochs add up to --budget seconds (at least 1 round).  fastnn
and jax-scan always train the full epoch.  Peers do not accumulate an epoch loss; fastnn
does (its history); that costs fastnn a little.

Also measured (unless --no-startup / --no-memory): start-up wall time of a fresh process that
imports the library and trains one epoch of the `small` net (warm and empty Numba cache), and the
peak memory of fastnn's fit on `large` in a fresh process versus a budget.

    python scripts/bench_peers.py                     # full default run (~6-7 min, 2 busy cores)
    python scripts/bench_peers.py --only small,medium --rounds 3 --no-startup --no-memory
    python scripts/bench_peers.py --peers torch,jax-scan --json /tmp/bench.json

Peers are optional (``pip install -e ".[peers]"``); a peer whose import fails is reported as
"skipped (not installed)".
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LR = 1e-3

# (name, sizes, batch, N). N is a multiple of the batch, so there is no partial last batch.
GRID = [
    ("seed-b1", [2, 2, 1], 1, 262144),
    ("seed-b32", [2, 2, 1], 32, 1048576),
    ("small", [8, 32, 32, 1], 32, 65536),
    ("medium", [64, 256, 256, 10], 64, 16384),
    ("mnist", [784, 512, 256, 10], 128, 8192),
    ("deep", [16] + [64] * 8 + [1], 32, 32768),
    ("large", [784, 2048, 2048, 10], 256, 2048),
]
# N aims at fastnn epochs of ~10-500 ms on 2 cores.  Peers that would need far longer (PyTorch
# at batch 1 manages ~1e3-1e4 samples/s) are timed on a prefix of the epoch (see bench_point);
# `large` uses 2048 rather than 8192 samples to keep the default run near 10 minutes.
# --scale multiplies every N.
PEER_GROUPS = {"torch": ["torch-1t", "torch-Nt"], "jax": ["jax-jit", "jax-scan"]}
ALL_PEERS = ["torch-1t", "torch-Nt", "jax-jit", "jax-scan", "numpy", "sklearn"]
FLOOR = "gemm-floor"
SETUP_TIMEOUT = 600.0  # seconds for one contender's build + compile + warm-up epoch


# ---------------------------------------------------------------------------- shared helpers
def make_data(sizes, n):
    """Deterministic float32 inputs and targets (the same in every process)."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    Y = rng.standard_normal((n, sizes[-1]), dtype=np.float32)
    return X, Y


def make_init(sizes):
    """Common initial parameters: He-normal for ReLU layers, Glorot-normal for the output."""
    import numpy as np

    rng = np.random.default_rng(1)
    Ws, bs = [], []
    K = len(sizes) - 1
    for k in range(1, K + 1):
        fan_in, fan_out = sizes[k - 1], sizes[k]
        std = np.sqrt(2.0 / fan_in) if k < K else np.sqrt(2.0 / (fan_in + fan_out))
        Ws.append((rng.standard_normal((fan_out, fan_in)) * std).astype(np.float32))
        bs.append(np.zeros(fan_out, np.float32))
    return Ws, bs


def n_params(sizes):
    return sum(sizes[k] * sizes[k - 1] + sizes[k] for k in range(1, len(sizes)))


def thread_env(threads):
    """Environment that caps every thread pool at `threads` (set BEFORE numpy/torch/jax load)."""
    env = {}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
                "FASTNN_NUM_THREADS"):
        env[var] = str(threads)
    env["JAX_PLATFORMS"] = "cpu"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if threads < (os.cpu_count() or 1):
        flags = os.environ.get("XLA_FLAGS", "")
        extra = f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}"
        env["XLA_FLAGS"] = (flags + " " + extra).strip()
    return env


def fmt_rate(x):
    if x is None:
        return "n/a"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


def fmt_bytes(b):
    if b is None:
        return "n/a"
    sign = "-" if b < 0 else ""
    b = abs(b)
    for unit, div in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= div:
            return f"{sign}{b / div:.2f} {unit}"
    return f"{sign}{b:.0f} B"


# ---------------------------------------------------------------------------- contenders
# Each contender class: __init__(threads) imports its library (ImportError -> skipped);
# setup(sizes, batch, n, nc) builds data/model from the common init, trains on the first nc
# samples (this is the warm-up: it compiles, and it is the correctness check) and returns the
# parameters after it (list of (W, b) numpy arrays) or None; epoch(ns) trains one timed pass over
# the first ns samples (ns == n: the full epoch) and returns (seconds, samples trained).
class FastnnContender:
    def __init__(self, threads):
        import fastnn  # noqa: F401

        self.fastnn = fastnn
        self.version = getattr(fastnn, "__version__", "?")

    def setup(self, sizes, batch, n, nc):
        import numpy as np

        self.X, self.Y = make_data(sizes, n)
        self.batch = batch
        self.net = self.fastnn.Network(sizes, dtype="float32", seed=0)
        Ws, bs = make_init(sizes)
        for k in range(len(Ws)):
            self.net.weights[k][...] = Ws[k]
            self.net.biases[k][...] = bs[k]
        self.net.fit(self.X[:nc], self.Y[:nc], epochs=1, batch_size=batch, lr=LR, shuffle=False)
        return [(np.array(W), np.array(b)) for W, b in zip(self.net.weights, self.net.biases)]

    def epoch(self, ns):
        X, Y = (self.X, self.Y) if ns >= len(self.X) else (self.X[:ns], self.Y[:ns])
        t = time.perf_counter()
        self.net.fit(X, Y, epochs=1, batch_size=self.batch, lr=LR, shuffle=False)
        return time.perf_counter() - t, len(X)


class TorchContender:
    def __init__(self, threads):
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        self.version = f"{torch.__version__} ({threads} thread{'s' if threads > 1 else ''})"

    def setup(self, sizes, batch, n, nc):
        torch = self.torch
        nn = torch.nn
        X, Y = make_data(sizes, n)
        Ws, bs = make_init(sizes)
        layers = []
        K = len(sizes) - 1
        for k in range(1, K + 1):
            lin = nn.Linear(sizes[k - 1], sizes[k])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(Ws[k - 1]))
                lin.bias.copy_(torch.from_numpy(bs[k - 1]))
            layers.append(lin)
            if k < K:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.X, self.Y = torch.from_numpy(X), torch.from_numpy(Y)
        self.n, self.batch = n, batch
        self.epoch(nc)
        return [(lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy())
                for lin in layers if isinstance(lin, nn.Linear)]

    def epoch(self, ns):
        model, opt, X, Y, B = self.model, self.opt, self.X, self.Y, self.batch
        ns = min(ns, self.n)
        t = time.perf_counter()
        for i in range(0, ns, B):
            xb, yb = X[i:i + B], Y[i:i + B]
            out = model(xb)
            loss = 0.5 * ((yb - out) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return time.perf_counter() - t, ns


class _JaxBase:
    def __init__(self, threads):
        import warnings

        warnings.filterwarnings("ignore", message=".*donat.*")
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.version = jax.__version__

        def loss_fn(params, x, y):
            for W, b in params[:-1]:
                x = jax.nn.relu(x @ W.T + b)
            W, b = params[-1]
            yhat = x @ W.T + b
            return 0.5 * jnp.mean(jnp.sum((y - yhat) ** 2, axis=1))

        def sgd_step(params, x, y):
            loss, g = jax.value_and_grad(loss_fn)(params, x, y)
            params = jax.tree_util.tree_map(lambda p, gp: p - LR * gp, params, g)
            return params, loss

        self.sgd_step = sgd_step

    def _params(self, sizes):
        Ws, bs = make_init(sizes)
        return [(self.jnp.asarray(W), self.jnp.asarray(b)) for W, b in zip(Ws, bs)]

    def _export(self):
        import numpy as np

        self.jax.block_until_ready(self.params)
        return [(np.array(W), np.array(b)) for W, b in self.params]


class JaxJitContender(_JaxBase):
    def setup(self, sizes, batch, n, nc):
        jax = self.jax
        self.X, self.Y = make_data(sizes, n)
        self.batches = []  # device arrays, one pair per batch, made on demand (not timed)
        self.step = jax.jit(self.sgd_step, donate_argnums=0)
        self.params = self._params(sizes)
        self.batch = batch
        self.epoch(nc)
        return self._export()

    def epoch(self, ns):
        step, params, B = self.step, self.params, self.batch
        nb = min(ns, len(self.X)) // B
        while len(self.batches) < nb:
            i = len(self.batches) * B
            self.batches.append((self.jax.device_put(self.X[i:i + B]),
                                 self.jax.device_put(self.Y[i:i + B])))
        batches = self.batches[:nb]
        t = time.perf_counter()
        for xb, yb in batches:
            params, _ = step(params, xb, yb)
        self.jax.block_until_ready(params)
        dt = time.perf_counter() - t
        self.params = params
        return dt, len(batches) * self.batch


class JaxScanContender(_JaxBase):
    def setup(self, sizes, batch, n, nc):
        jax = self.jax
        X, Y = make_data(sizes, n)
        nb = n // batch
        self.n = n
        self.Xb = jax.device_put(X.reshape(nb, batch, sizes[0]))
        self.Yb = jax.device_put(Y.reshape(nb, batch, sizes[-1]))
        sgd_step = self.sgd_step

        def run_epoch(params, Xb, Yb):
            return jax.lax.scan(lambda p, xy: sgd_step(p, xy[0], xy[1]), params, (Xb, Yb))

        self.run_epoch = jax.jit(run_epoch, donate_argnums=0)
        self.params = self._params(sizes)
        # check run on the first nc samples (its own compile for that shape) ...
        self.params, _ = self.run_epoch(self.params, self.Xb[:nc // batch], self.Yb[:nc // batch])
        out = self._export()
        self.epoch(n)  # ... and the warm-up that compiles the full-epoch shape
        return out

    def epoch(self, ns):  # always the full epoch: a shorter one would need another compile
        t = time.perf_counter()
        params, losses = self.run_epoch(self.params, self.Xb, self.Yb)
        self.jax.block_until_ready((params, losses))
        dt = time.perf_counter() - t
        self.params = params
        return dt, self.n


class NumpyContender:
    """Hand-written backprop, every buffer preallocated; the per-batch work allocates nothing."""

    def __init__(self, threads):
        import numpy as np

        self.np = np
        self.version = np.__version__

    def setup(self, sizes, batch, n, nc):
        np = self.np
        self.X, self.Y = make_data(sizes, n)
        Ws, bs = make_init(sizes)
        self.W, self.b = Ws, bs
        K = len(sizes) - 1
        B = batch
        self.K, self.B, self.n = K, B, n
        self.z = [None] + [np.empty((B, sizes[k]), np.float32) for k in range(1, K + 1)]
        self.mask = [None] + [np.empty((B, sizes[k]), np.float32) for k in range(1, K)]
        self.g = [None] + [np.empty((B, sizes[k]), np.float32) for k in range(1, K)]
        self.dW = [np.empty_like(W) for W in Ws]
        self.db = [np.empty_like(b) for b in bs]
        self.epoch(nc)
        return [(W.copy(), b.copy()) for W, b in zip(self.W, self.b)]

    def epoch(self, ns):
        np = self.np
        K, B, W, b, z, mask, g, dW, db = (self.K, self.B, self.W, self.b, self.z, self.mask,
                                          self.g, self.dW, self.db)
        X, Y = self.X, self.Y
        scale = np.float32(LR / B)
        matmul, maximum, greater, multiply, subtract = (np.matmul, np.maximum, np.greater,
                                                        np.multiply, np.subtract)
        ns = min(ns, self.n)
        t = time.perf_counter()
        for i in range(0, ns, B):
            xs = [X[i:i + B]]
            for k in range(1, K + 1):  # forward: z = x W^T + b; x = relu(z) (in place)
                matmul(xs[k - 1], W[k - 1].T, out=z[k])
                z[k] += b[k - 1]
                if k < K:
                    maximum(z[k], 0.0, out=z[k])
                xs.append(z[k])
            phi = subtract(z[K], Y[i:i + B], out=z[K])  # dL/dz^[K] per sample = yhat - y
            for k in range(K, 0, -1):
                matmul(phi.T, xs[k - 1], out=dW[k - 1])
                phi.sum(axis=0, out=db[k - 1])
                if k > 1:  # dX = phi W (before W is updated), then * relu'(z)
                    matmul(phi, W[k - 1], out=g[k - 1])
                    greater(xs[k - 1], 0.0, out=mask[k - 1])
                    multiply(g[k - 1], mask[k - 1], out=g[k - 1])
                multiply(dW[k - 1], scale, out=dW[k - 1])  # W -= lr/B * sum-over-batch grad
                subtract(W[k - 1], dW[k - 1], out=W[k - 1])
                multiply(db[k - 1], scale, out=db[k - 1])
                subtract(b[k - 1], db[k - 1], out=b[k - 1])
                if k > 1:
                    phi = g[k - 1]
        return time.perf_counter() - t, ns


class SklearnContender:
    def __init__(self, threads):
        import warnings

        import sklearn
        from sklearn.neural_network import MLPRegressor

        warnings.filterwarnings("ignore")
        self.MLPRegressor = MLPRegressor
        self.version = sklearn.__version__

    def setup(self, sizes, batch, n, nc):
        X, Y = make_data(sizes, n)
        self.X = X
        self.y = Y[:, 0] if sizes[-1] == 1 else Y  # a 1-column y would be raveled (with a warning)
        m = self.MLPRegressor(
            hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="sgd", alpha=0.0,
            batch_size=batch, learning_rate="constant", learning_rate_init=LR, momentum=0.0,
            nesterovs_momentum=False, shuffle=False, early_stopping=False, random_state=0)
        m.partial_fit(X[:batch], self.y[:batch])  # creates coefs_; then overwrite in place
        Ws, bs = make_init(sizes)
        for k in range(len(Ws)):
            m.coefs_[k][...] = Ws[k].T  # sklearn stores W^T, shape (n_in, n_out)
            m.intercepts_[k][...] = bs[k]
        self.m = m
        self.epoch(nc)
        return [(c.T.copy(), i.copy()) for c, i in zip(m.coefs_, m.intercepts_)]

    def epoch(self, ns):
        X, y = (self.X, self.y) if ns >= len(self.X) else (self.X[:ns], self.y[:ns])
        t = time.perf_counter()
        self.m.partial_fit(X, y)
        return time.perf_counter() - t, len(X)


class GemmFloor:
    """Only the epoch's matrix products, through NumPy BLAS, into preallocated outputs."""

    def __init__(self, threads):
        import numpy as np

        self.np = np
        self.version = np.__version__

    def setup(self, sizes, batch, n, nc):
        np = self.np
        self.X, _ = make_data(sizes, n)
        self.W, _ = make_init(sizes)
        rng = np.random.default_rng(2)
        K, B = len(sizes) - 1, batch
        self.K, self.B, self.n = K, B, n
        self.z = [None] + [np.empty((B, sizes[k]), np.float32) for k in range(1, K + 1)]
        # x_prev for k >= 2 and phi: fixed finite values (content does not change GEMM speed)
        self.xp = [None] + [rng.standard_normal((B, sizes[k]), dtype=np.float32)
                            for k in range(1, K + 1)]
        self.phi = [None] + [rng.standard_normal((B, sizes[k]), dtype=np.float32)
                             for k in range(1, K + 1)]
        self.dW = [np.empty_like(W) for W in self.W]
        self.dX = [None] + [np.empty((B, sizes[k]), np.float32) for k in range(1, K + 1)]
        self.epoch(nc)
        return None

    def epoch(self, ns):
        matmul = self.np.matmul
        K, B, X, W, z, xp, phi, dW, dX = (self.K, self.B, self.X, self.W, self.z, self.xp,
                                          self.phi, self.dW, self.dX)
        ns = min(ns, self.n)
        t = time.perf_counter()
        for i in range(0, ns, B):
            x0 = X[i:i + B]
            matmul(x0, W[0].T, out=z[1])
            for k in range(2, K + 1):
                matmul(xp[k - 1], W[k - 1].T, out=z[k])
            for k in range(K, 0, -1):
                matmul(phi[k].T, x0 if k == 1 else xp[k - 1], out=dW[k - 1])
                if k >= 2:
                    matmul(phi[k], W[k - 1], out=dX[k - 1])
        return time.perf_counter() - t, ns


CONTENDERS = {
    "fastnn": FastnnContender,
    "torch": TorchContender,
    "jax-jit": JaxJitContender,
    "jax-scan": JaxScanContender,
    "numpy": NumpyContender,
    "sklearn": SklearnContender,
    FLOOR: GemmFloor,
}


def _contender_class(name):
    if name.startswith("torch-") and name.endswith("t"):
        return CONTENDERS["torch"], int(name[len("torch-"):-1])
    return CONTENDERS[name], None


def worker_main(conn, name, threads):
    """Runs in a spawned process: one contender, driven by messages from the parent."""
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    cls, own_threads = _contender_class(name)
    try:
        impl = cls(own_threads or threads)
    except ImportError as e:
        conn.send(("skip", f"{type(e).__name__}: {e}"))
        return
    except Exception:
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ready", impl.version))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        try:
            if msg[0] == "setup":
                _, sizes, batch, n, nc = msg
                t = time.perf_counter()
                params = impl.setup(sizes, batch, n, nc)
                conn.send(("ok", {"setup_s": time.perf_counter() - t, "params": params}))
            elif msg[0] == "run":
                conn.send(("ok", impl.epoch(msg[1])))
            elif msg[0] == "quit":
                conn.send(("ok", None))
                return
        except Exception:
            conn.send(("error", traceback.format_exc(limit=8)))


class Worker:
    def __init__(self, ctx, name, threads):
        self.ctx, self.name, self.threads = ctx, name, threads
        self.start()

    def start(self):
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=worker_main, args=(child, self.name, self.threads),
                                     daemon=True)
        self.proc.start()
        child.close()
        self.status = None  # "ready" | "skip" | "error" | "dead"

    def restart(self):
        """After a time-out: a fresh process, so later grid points still get this contender."""
        self.kill()
        self.start()
        status, _ = self.recv(600)
        self.status = "ready" if status == "ready" else "dead"

    def send(self, *msg):
        self.conn.send(msg)

    def recv(self, timeout=SETUP_TIMEOUT):
        if not self.conn.poll(timeout):
            self.kill()
            return ("timeout", f"no answer within {timeout:.0f} s; worker stopped")
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.status = "dead"
            return ("error", f"worker exited (code {self.proc.exitcode})")

    def kill(self):
        self.status = "dead"
        if self.proc.is_alive():
            self.proc.kill()  # this process was started by us; stop it by its own handle
            self.proc.join(5)

    def close(self):
        if self.status == "ready" and self.proc.is_alive():
            try:
                self.send("quit")
                self.recv(10)
            except Exception:
                pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.kill()


# ---------------------------------------------------------------------------- benchmark
def rel_diff(params, ref, init):
    """||delta - delta_ref|| / ||delta_ref||, delta = params after warm-up epoch - init."""
    import numpy as np

    num = den = 0.0
    for (W, b), (Wr, br), W0, b0 in zip(params, ref, init[0], init[1]):
        for a, r, a0 in ((W, Wr, W0), (b, br, b0)):
            d, dr = a.astype(np.float64) - a0, r.astype(np.float64) - a0
            num += float(np.sum((d - dr) ** 2))
            den += float(np.sum(dr ** 2))
    return (num ** 0.5) / (den ** 0.5) if den > 0 else float("nan")


def bench_point(point, workers, names, args, log):
    name, sizes, batch, n = point
    nb = n // batch
    nc = min(nb, args.check_batches) * batch  # warm-up / check: the first nc samples
    active = [w for w in workers if w.status == "ready" and w.name in names]
    load0 = os.getloadavg()[0]
    log(f"\n## {name}: sizes={sizes} batch={batch} N={n} "
        f"({nb} batches, {n_params(sizes)} params)")
    res = {"name": name, "sizes": sizes, "batch": batch, "n": n, "check_samples": nc,
           "contenders": {}}
    params = {}
    for w in active:  # build, compile, warm-up/check on nc samples: one at a time, not timed
        w.send("setup", sizes, batch, n, nc)
        status, payload = w.recv()
        if status == "timeout":
            w.restart()
        if status == "ok":
            params[w.name] = payload["params"]
            res["contenders"][w.name] = {"setup_s": payload["setup_s"], "times": [],
                                         "samples": n}
        else:
            res["contenders"][w.name] = {"error": payload}
            log(f"  {w.name}: FAILED in setup/warm-up:\n" + _indent(payload))
    # check: every contender's parameter update on the first nc samples vs the NumPy one's
    ref_name = "numpy" if "numpy" in params else ("fastnn" if "fastnn" in params else None)
    if ref_name and params[ref_name] is not None:
        init = make_init(sizes)
        for cname, p in params.items():
            if p is not None and cname != ref_name:
                res["contenders"][cname]["check_vs"] = ref_name
                res["contenders"][cname]["check"] = rel_diff(p, params[ref_name], init)
    params.clear()

    timed = [w for w in active if "times" in res["contenders"][w.name]]

    def run(w, ns, timeout):
        entry = res["contenders"][w.name]
        time.sleep(args.gap)
        w.send("run", ns)
        status, payload = w.recv(timeout)
        if status == "timeout":
            w.restart()
        if status != "ok":
            entry["error"] = payload
            log(f"  {w.name}: FAILED in a timed run:\n" + _indent(payload))
            return None
        return payload

    # probe: a short untimed pass (nc samples, compiled already) predicts each contender's
    # epoch time; one whose full epoch would exceed budget/2 is timed on the first ns < N
    # samples instead (flagged), so that slow peers cannot blow up the run time.  fastnn and
    # jax-scan (fixed shape) always run the full epoch.
    for w in timed:
        if w.name in ("fastnn", "jax-scan") or nc >= n:
            continue
        out = run(w, nc, args.run_timeout)
        if out is None:
            continue
        per_batch = out[0] / max(out[1] // batch, 1)
        if per_batch * nb > args.budget / 2:
            ns = max(nc, int(args.budget / 2 / per_batch) * batch)
            if ns < n:
                res["contenders"][w.name]["samples"] = ns

    rounds = {w.name: args.rounds for w in timed}
    for r in range(args.rounds):
        k = r % max(len(timed), 1)
        for w in timed[k:] + timed[:k]:
            entry = res["contenders"][w.name]
            if len(entry["times"]) >= rounds[w.name] or "error" in entry:
                continue
            if entry["times"] and sum(entry["times"]) >= args.budget:
                continue  # budget spent (epochs got slower than round 1 predicted)
            out = run(w, entry["samples"], args.run_timeout)
            if out is None:
                continue
            dt, done = out
            entry["samples"] = done
            entry["times"].append(dt)
            if r == 0:  # cap slow contenders by the time budget (at least 1 round)
                rounds[w.name] = max(1, min(args.rounds, int(args.budget // max(dt, 1e-9))))
    for cname, entry in res["contenders"].items():
        ts = entry.get("times")
        if ts:
            entry["median_s"] = statistics.median(ts)
            entry["best_s"] = min(ts)
            entry["partial"] = entry["samples"] < n
            t = entry["best_s"] if args.stat == "best" else entry["median_s"]
            entry["samples_per_s"] = entry["samples"] / t
    _summarize(res, names)
    res["loadavg"] = [load0, os.getloadavg()[0]]
    for cname in names:
        entry = res["contenders"].get(cname)
        if entry is None:
            continue
        if "samples_per_s" in entry:
            chk = entry.get("check")
            chk_s = "" if chk is None else f"  diff vs {entry['check_vs']}: {chk:.1e}"
            if chk is not None and not chk < 1e-2:
                chk_s += "  <-- MISMATCH"
            part = f" on first {entry['samples']} samples" if entry["partial"] else ""
            log(f"  {cname:10s} median {entry['median_s'] * 1e3:9.2f} ms  best "
                f"{entry['best_s'] * 1e3:9.2f} ms  {fmt_rate(entry['samples_per_s']):>7s} samples/s"
                f"  ({len(entry['times'])} rounds{part}; setup {entry['setup_s']:.2f} s){chk_s}")
    log(f"  -> best peer: {res.get('best_peer') or 'n/a'}; fastnn/best = "
        f"{_fmt_ratio(res.get('ratio'))}; GEMM floor fraction = {_fmt_frac(res.get('floor_fraction'))}"
        f"   [1-min load average {res['loadavg'][0]:.1f} -> {res['loadavg'][1]:.1f} "
        f"on {os.cpu_count()} cores]")
    return res


def _summarize(res, names):
    c = res["contenders"]
    sps = {k: v["samples_per_s"] for k, v in c.items() if "samples_per_s" in v}
    peers = {k: v for k, v in sps.items() if k not in ("fastnn", FLOOR)}
    best = max(peers, key=peers.get) if peers else None
    res["best_peer"] = best
    res["ratio"] = sps["fastnn"] / peers[best] if best and "fastnn" in sps else None
    if "fastnn" in sps and FLOOR in sps:  # floor time / fastnn time, per sample
        res["floor_fraction"] = sps["fastnn"] / sps[FLOOR]
    else:
        res["floor_fraction"] = None


def _fmt_ratio(r):
    return "n/a" if r is None else f"{r:.2f}x"


def _fmt_frac(f):
    return "n/a" if f is None else f"{f:.2f}"


def _indent(s, pre="    "):
    return "\n".join(pre + line for line in str(s).rstrip().splitlines())


# ---------------------------------------------------------------------------- start-up
STARTUP_DATA = """
rng = np.random.default_rng(0)
X = rng.standard_normal((4096, 8), dtype=np.float32); Y = rng.standard_normal((4096, 1), dtype=np.float32)
"""
STARTUP_SNIPPETS = {
    "python+numpy": "import time; t0=time.perf_counter(); import numpy as np; t1=time.perf_counter()"
                    + STARTUP_DATA + "t2=time.perf_counter()",
    "fastnn": "import time; t0=time.perf_counter(); import fastnn, numpy as np; t1=time.perf_counter()"
              + STARTUP_DATA
              + "fastnn.Network([8,32,32,1]).fit(X, Y, epochs=1, batch_size=32, lr=1e-3, shuffle=False)\n"
              + "t2=time.perf_counter()",
    "torch": "import time; t0=time.perf_counter(); import torch, numpy as np; t1=time.perf_counter()\n"
             "torch.set_num_threads({threads})" + STARTUP_DATA + """
X, Y = torch.from_numpy(X), torch.from_numpy(Y)
m = torch.nn.Sequential(torch.nn.Linear(8,32), torch.nn.ReLU(), torch.nn.Linear(32,32), torch.nn.ReLU(),
                        torch.nn.Linear(32,1))
opt = torch.optim.SGD(m.parameters(), lr=1e-3)
for i in range(0, 4096, 32):
    loss = 0.5 * ((Y[i:i+32] - m(X[i:i+32])) ** 2).sum(1).mean()
    opt.zero_grad(); loss.backward(); opt.step()
t2=time.perf_counter()""",
    "jax-jit": "import time; t0=time.perf_counter(); import jax, jax.numpy as jnp, numpy as np\n"
               "t1=time.perf_counter()" + STARTUP_DATA + """
def loss_fn(p, x, y):
    for W, b in p[:-1]: x = jax.nn.relu(x @ W.T + b)
    W, b = p[-1]; return 0.5 * jnp.mean(jnp.sum((y - (x @ W.T + b)) ** 2, axis=1))
@jax.jit
def step(p, x, y):
    g = jax.grad(loss_fn)(p, x, y)
    return jax.tree_util.tree_map(lambda a, b: a - 1e-3 * b, p, g)
r = np.random.default_rng(1)
p = [(jnp.asarray(r.standard_normal((o, i), dtype=np.float32) * (2 / i) ** .5), jnp.zeros(o))
     for i, o in ((8, 32), (32, 32), (32, 1))]
for i in range(0, 4096, 32): p = step(p, X[i:i+32], Y[i:i+32])
jax.block_until_ready(p)
t2=time.perf_counter()""",
}


def run_startup(args, log):
    log("\n## start-up: fresh `python -c` process: import + one epoch of `small` "
        "([8,32,32,1], batch 32, N=4096); wall time incl. interpreter start")
    out = {}
    env_base = dict(os.environ)
    env_base.update(thread_env(args.threads))
    snippets = {"python+numpy": STARTUP_SNIPPETS["python+numpy"]}
    if "fastnn" in args.available:
        snippets["fastnn"] = STARTUP_SNIPPETS["fastnn"]
    else:
        log("  fastnn: skipped (not importable)")
    if any(p.startswith("torch") for p in args.peer_list):
        # 1 thread: torch's faster setting for a net this small (2 threads only adds OpenMP
        # wake-ups, which are very slow on a loaded 2-core machine)
        snippets["torch (1 thread)"] = STARTUP_SNIPPETS["torch"].format(threads=1)
    if any(p.startswith("jax") for p in args.peer_list):
        snippets["jax-jit"] = STARTUP_SNIPPETS["jax-jit"]
    report = "\nimport json; print('@@' + json.dumps({'import': t1 - t0, 'work': t2 - t1}))"

    def once(code, env):
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", code + report], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            tail = (p.stderr.strip().splitlines() or ["?"])[-1]
            if "ModuleNotFoundError" in p.stderr or "ImportError" in p.stderr:
                return {"skipped": tail}
            return {"error": tail}
        inner = next(json.loads(line[2:]) for line in p.stdout.splitlines() if line.startswith("@@"))
        return {"wall": wall, **inner}

    def agg(runs):
        ok = [r for r in runs if "wall" in r]
        if not ok:
            return runs[0]
        med = statistics.median(r["wall"] for r in ok)
        best = min(ok, key=lambda r: abs(r["wall"] - med))
        return {"wall": med, "import": best["import"], "work": best["work"],
                "runs": [round(r["wall"], 3) for r in ok]}

    warm_dir = tempfile.mkdtemp(prefix="bench_numba_warm_")
    made = [warm_dir]
    for lib, code in snippets.items():
        cases = [("warm", warm_dir)] + ([("cold", None)] if lib == "fastnn" else [])
        for case, cache_dir in cases:
            runs = []
            if case == "warm":
                env = dict(env_base, NUMBA_CACHE_DIR=warm_dir)
                first = once(code, env)  # fills the Numba cache (and the OS file cache)
                if "wall" not in first:
                    runs = [first]
                else:
                    runs = [once(code, env) for _ in range(2)]
            else:
                made.append(tempfile.mkdtemp(prefix="bench_numba_cold_"))
                env = dict(env_base, NUMBA_CACHE_DIR=made[-1])
                runs.append(once(code, env))  # one run: a cold compile takes tens of seconds
            r = agg(runs)
            key = lib if lib != "fastnn" else f"fastnn ({case} Numba cache)"
            out[key] = r
            if "wall" in r:
                log(f"  {key:28s} wall {r['wall']:6.2f} s  (import {r['import']:.2f} s, "
                    f"data+epoch {r['work']:.2f} s; runs {r['runs']})")
            elif "skipped" in r:
                log(f"  {key:28s} skipped (not installed): {r['skipped']}")
            else:
                log(f"  {key:28s} FAILED: {r['error']}")
    for d in made:
        shutil.rmtree(d, ignore_errors=True)
    return out


# ---------------------------------------------------------------------------- memory
MEMORY_CHILD = r"""
import json, resource, sys, time, tracemalloc
import numpy as np
import fastnn

def status():
    d = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                d[k] = int(v.split()[0]) * 1024
    return d

def reset_hwm():  # Linux: writing 5 to clear_refs resets the peak-RSS (VmHWM) mark
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

def maxrss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

SIZES, B, N, LR = %(sizes)r, %(batch)d, %(n)d, %(lr)r
# compile first on a tiny net of the same depth, activations and dtype: Numba specializes on
# types, not widths, so the measured fit runs compiled code without adding the large buffers.
tiny = [3] + [4] * (len(SIZES) - 2) + [2]
r0 = np.random.default_rng(5)
fastnn.Network(tiny, dtype="float32", seed=0).fit(
    r0.standard_normal((8, 3), dtype=np.float32), r0.standard_normal((8, 2), dtype=np.float32),
    epochs=1, batch_size=4, lr=LR, shuffle=False)

tracemalloc.start()
rss_base = status()["VmRSS"]
rng = np.random.default_rng(0)
X = rng.standard_normal((N, SIZES[0]), dtype=np.float32)
Y = rng.standard_normal((N, SIZES[-1]), dtype=np.float32)
net = fastnn.Network(SIZES, dtype="float32", seed=0)
traced_before = tracemalloc.get_traced_memory()[0]
tracemalloc.reset_peak()
ru0 = maxrss()
hwm_ok = reset_hwm()
rss_before = status()["VmRSS"]
net.fit(X, Y, epochs=1, batch_size=B, lr=LR, shuffle=False)
st = status()
traced_after, traced_peak = tracemalloc.get_traced_memory()
ru1 = maxrss()

def again():
    # raw snapshots, filtered only afterwards: the filtering's own allocations (fnmatch's regex
    # cache), the first snapshot's objects (allocated in tracemalloc.py) and this measuring
    # code's own objects (<string>) are not counted
    snap1 = tracemalloc.take_snapshot()
    cur1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    net.fit(X, Y, epochs=1, batch_size=B, lr=LR, shuffle=False)
    cur2, peak2 = tracemalloc.get_traced_memory()
    snap2 = tracemalloc.take_snapshot()
    flt = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<string>")]
    diff = snap2.filter_traces(flt).compare_to(snap1.filter_traces(flt), "lineno")
    grown = sum(d.size_diff for d in diff)
    top = [str(d) for d in sorted(diff, key=lambda d: -abs(d.size_diff))[:3] if d.size_diff]
    return grown, max(peak2 - cur1, 0), top

grown, transient, top = again()   # second fit call
grown3, transient3, top3 = again()  # third fit call
print("@@" + json.dumps(dict(
    rss_base=rss_base, rss_before=rss_before, hwm_after=st["VmHWM"] if hwm_ok else None,
    rss_after=st["VmRSS"], ru_maxrss_before=ru0, ru_maxrss_after=ru1,
    traced_before=traced_before, traced_peak=traced_peak, traced_after=traced_after,
    second_fit_retained=grown, second_fit_transient=transient, second_fit_top=top,
    third_fit_retained=grown3, third_fit_transient=transient3, third_fit_top=top3,
    x_bytes=X.nbytes + Y.nbytes, n_params=net.n_params)))
"""


def run_memory(args, log, point):
    name, sizes, batch, n = point
    log(f"\n## memory: fastnn fit on `{name}` (sizes={sizes}, batch={batch}, N={n}) "
        "in a fresh process")
    if "fastnn" not in args.available:
        log("  skipped (fastnn not importable)")
        return {"skipped": "fastnn not importable"}
    env = dict(os.environ)
    env.update(thread_env(args.threads))
    code = MEMORY_CHILD % {"sizes": sizes, "batch": batch, "n": n, "lr": LR}
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=900)
    if p.returncode != 0:
        log("  FAILED:\n" + _indent(p.stderr.strip().splitlines()[-5:] and
                                    "\n".join(p.stderr.strip().splitlines()[-5:])))
        return {"error": p.stderr[-2000:]}
    m = next(json.loads(line[2:]) for line in p.stdout.splitlines() if line.startswith("@@"))
    P = n_params(sizes)
    w = P * 4
    buffers = 3 * batch * sum(sizes[1:]) * 4
    data = m["x_bytes"]
    budget_raw = w + w + buffers + data
    budget = 1.1 * budget_raw
    m.update(weights_bytes=w, grad_bytes=w, buffer_bytes=buffers, data_bytes=data,
             budget_bytes=budget)
    log(f"  budget = 1.1 * (weights {fmt_bytes(w)} [n_params*4 = {P}*4] + gradients {fmt_bytes(w)}"
        f" + batch buffers {fmt_bytes(buffers)} [3*batch*sum(sizes[1:])*4 = 3*{batch}*"
        f"{sum(sizes[1:])}*4] + data {fmt_bytes(data)} [X.nbytes+Y.nbytes]) = {fmt_bytes(budget)}")
    traced_total = m["traced_peak"]
    fit_extra = m["traced_peak"] - m["traced_before"]
    log(f"  tracemalloc peak during fit (data + net + fit temporaries): {fmt_bytes(traced_total)}"
        f"  = {traced_total / budget:.2f} of budget"
        f"   [fit added {fmt_bytes(fit_extra)} on top of data+net {fmt_bytes(m['traced_before'])}]")
    if m["hwm_after"] is not None:
        rss_peak = m["hwm_after"] - m["rss_base"]
        m["rss_peak_over_base"] = rss_peak
        log(f"  peak RSS during fit minus RSS before data/net were made: {fmt_bytes(rss_peak)}"
            f"  = {rss_peak / budget:.2f} of budget   (fit itself: +"
            f"{fmt_bytes(m['hwm_after'] - m['rss_before'])} over RSS at fit start; also counts "
            "Numba-runtime/C allocations that tracemalloc does not see)")
    log(f"  ru_maxrss delta across fit: {fmt_bytes(m['ru_maxrss_after'] - m['ru_maxrss_before'])}"
        f"  (high-water mark: only growth past the process's earlier peak shows)")
    for which in ("second", "third"):
        grown = m[f"{which}_fit_retained"]
        verdict = ("target 0 met" if grown == 0 else "~0: a few small Python objects, no arrays"
                   if abs(grown) < 1024 else "target 0 met: less retained than before (objects "
                   "of the previous call freed)" if grown < 0 else "target 0 NOT met")
        tr = m[f"{which}_fit_transient"]
        log(f"  {which} fit(epochs=1) call: retained growth (tracemalloc snapshot diff) "
            f"{fmt_bytes(grown)} ({verdict}); transient traced peak above its start "
            f"{fmt_bytes(tr)} (= {tr / w:.2f} x the weights' bytes)")
        for line in m[f"{which}_fit_top"]:
            log(f"      {line}")
    log("  (the transient peak is what each fit call allocates and frees again, e.g. per-call "
        "buffers; tracemalloc sees NumPy/Python allocations, not Numba-runtime ones)")
    return m


# ---------------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated grid points (" +
                    ",".join(g[0] for g in GRID) + ")")
    ap.add_argument("--point", action="append", default=[], metavar="NAME:SIZES:BATCH[:N]",
                    help="an architecture off the grid, e.g. odd:100,300,300,7:50 (repeatable; "
                    "without --only, only these points run). N defaults to ~3e8 multiply-adds "
                    "of forward pass per epoch")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--peers", default="all",
                    help="comma list of peers: torch (=torch-1t,torch-Nt), torch-1t, torch-Nt, "
                         "jax (=jax-jit,jax-scan), jax-jit, jax-scan, numpy, sklearn; 'all' "
                         "(default) or 'none'")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up measurement")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="BLAS/OpenMP/Numba/XLA threads (default: all cores = %(default)s)")
    ap.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    ap.add_argument("--stat", choices=("median", "best"), default="median",
                    help="which epoch time gives samples/s in the tables (default median)")
    ap.add_argument("--budget", type=float, default=3.0,
                    help="seconds of timed epochs per contender per grid point: no more rounds "
                         "once they add up to this (at least 1 round), and peers whose full "
                         "epoch would take over budget/2 are timed on a prefix (default "
                         "%(default)s)")
    ap.add_argument("--check-batches", type=int, default=32,
                    help="warm-up and correctness check train on the first this many batches")
    ap.add_argument("--run-timeout", type=float, default=90.0,
                    help="seconds before one timed epoch is abandoned (worker restarted)")
    ap.add_argument("--gap", type=float, default=0.25,
                    help="pause in seconds before each timed run (lets other pools go idle: "
                    "OpenBLAS's workers spin for ~0.1 s after a call, measured; default 0.25)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every grid point's N (rounded to whole batches)")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        ap.error("--rounds and --threads must be >= 1")
    torch_n = f"torch-{args.threads}t"
    peers = []
    for p in [s.strip() for s in args.peers.split(",") if s.strip()]:
        if p == "all":
            peers += ALL_PEERS
        elif p == "none":
            continue
        elif p in PEER_GROUPS:
            peers += PEER_GROUPS[p]
        elif p in ALL_PEERS or p == torch_n or (p.startswith("torch-") and p.endswith("t")
                                                 and p[6:-1].isdigit()):
            peers.append(p)
        else:
            ap.error(f"unknown peer {p!r}")
    peers = [torch_n if p == "torch-Nt" else p for p in peers]
    args.peer_list = list(dict.fromkeys(peers))
    grid = GRID if not args.point or args.only else []
    if args.only:
        want = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [w for w in want if w not in {g[0] for g in GRID}]
        if unknown:
            ap.error(f"unknown grid point(s) {unknown}; choose from {[g[0] for g in GRID]}")
        grid = [g for g in GRID if g[0] in want]
    for spec in args.point:
        try:
            name, sizes, batch, *n = spec.split(":")
            sizes = [int(v) for v in sizes.split(",")]
            batch = int(batch)
            if len(sizes) < 2 or min(sizes) < 1 or batch < 1 or len(n) > 1:
                raise ValueError
            macs = sum(a * b for a, b in zip(sizes, sizes[1:]))
            n = int(n[0]) if n else max(16 * batch, min(1 << 20, int(3e8 / macs)) // batch * batch)
            if n < batch:
                raise ValueError
        except ValueError:
            ap.error(f"--point {spec!r}: expected NAME:SIZES:BATCH[:N], e.g. odd:100,300,300,7:50")
        grid = grid + [(name, sizes, batch, n)]
    args.grid = [(nm, sz, b, max(b, int(round(n * args.scale / b)) * b)) for nm, sz, b, n in grid]
    return args


def main(argv=None):
    args = parse_args(argv)
    # Thread caps must be in the environment before numpy / torch / jax are imported (here and
    # in every worker process, which inherits it).
    os.environ.update(thread_env(args.threads))
    import multiprocessing as mp

    import numpy as np  # noqa: F401  (after the environment is set)

    t_start = time.perf_counter()
    lines = []

    def log(s=""):
        print(s, flush=True)
        lines.append(s)

    log(f"# fastnn vs peers: one epoch of minibatch SGD (lr={LR}, float32, MSE 1/2||y-yhat||^2 "
        f"mean over batch, ReLU hidden, identity out, no shuffle)")
    log(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"threads={args.threads}; rounds={args.rounds} (stat: {args.stat}); "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '<unset>')}")
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            log(f"numpy BLAS: {info.get('internal_api')} {info.get('version')} "
                f"({info.get('architecture')}, {info.get('num_threads')} threads)")
            break
    except Exception:
        pass

    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        log(f"NOTE: the machine is busy (1-min load average {load:.1f} on {os.cpu_count()} "
            "cores). Multi-threaded BLAS/OpenMP runs (numpy, sklearn, GEMM floor, torch-Nt, "
            "fastnn with threads > 1) can then be many times slower than on an idle machine, "
            "and vary a lot between rounds; compare with --threads 1.")
    ctx = mp.get_context("spawn")
    names = ["fastnn"] + args.peer_list + [FLOOR]
    workers = [Worker(ctx, nm, args.threads) for nm in names]
    versions = {}
    for w in workers:
        status, payload = w.recv(600)
        w.status = "ready" if status == "ready" else status
        if status == "ready":
            versions[w.name] = payload
            log(f"  {w.name:10s} {payload}")
        elif status == "skip":
            versions[w.name] = None
            log(f"  {w.name:10s} skipped (not installed): {payload}")
        else:
            versions[w.name] = None
            log(f"  {w.name:10s} FAILED to start:\n" + _indent(payload))
    args.available = {w.name for w in workers if w.status == "ready"}

    results = []
    try:
        for point in args.grid:
            t0 = time.perf_counter()
            results.append(bench_point(point, workers, names, args, log))
            results[-1]["wall_s"] = time.perf_counter() - t0
            log(f"  ({results[-1]['wall_s']:.0f} s for this grid point)")
    finally:
        for w in workers:
            w.close()

    startup = memory = None
    if not args.no_startup:
        t0 = time.perf_counter()
        startup = run_startup(args, log)
        log(f"  ({time.perf_counter() - t0:.0f} s for the start-up measurements)")
    if not args.no_memory:
        t0 = time.perf_counter()
        large = next(g for g in GRID if g[0] == "large")
        memory = run_memory(args, log, large)
        log(f"  ({time.perf_counter() - t0:.0f} s for the memory measurement)")

    # final Markdown table
    peer_cols = args.peer_list
    log("\n## results (samples/s = samples trained / " + args.stat + " epoch time; ratio = "
        "fastnn / best peer samples/s; GEMM floor fraction = floor time / fastnn time)\n")
    head = ["name", "sizes", "batch", "fastnn samples/s", "best peer (samples/s)", "ratio",
            "GEMM floor fraction"] + peer_cols + ["N"]
    log("| " + " | ".join(head) + " |")
    log("|" + "|".join("---" for _ in head) + "|")
    for res in results:
        c = res["contenders"]

        def cell(nm):
            if nm not in c:
                return "skipped" if versions.get(nm) is None else "n/a"
            if "samples_per_s" not in c[nm]:
                return "failed"
            return fmt_rate(c[nm]["samples_per_s"]) + ("†" if c[nm]["partial"] else "")

        best = res["best_peer"]
        row = [res["name"], str(res["sizes"]).replace(" ", ""), str(res["batch"]), cell("fastnn"),
               f"{best} ({cell(best)})" if best else "n/a",
               _fmt_ratio(res["ratio"]), _fmt_frac(res["floor_fraction"])]
        row += [cell(p) for p in peer_cols] + [str(res["n"])]
        log("| " + " | ".join(row) + " |")
    if any(e.get("partial") for res in results for e in res["contenders"].values()):
        log("\n† timed on the first samples of the epoch only (a full epoch would exceed "
            "--budget/2 seconds); samples/s is still samples trained / time")
    log(f"\ntotal wall time {time.perf_counter() - t_start:.0f} s")

    if args.json:
        doc = {"lr": LR, "threads": args.threads, "rounds": args.rounds, "stat": args.stat,
               "python": platform.python_version(), "versions": versions,
               "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
               "grid": results, "startup": startup, "memory": memory}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1, default=float)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
