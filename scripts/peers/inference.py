"""The contenders of scripts/bench_inference.py: ways to run a trained MLP's forward pass.

Every contender builds the same float32 net (ReLU hidden layers, identity output, the weights of
``common.make_init``) and returns ``f(X) -> (N, n_K) NumPy array`` for a C-contiguous float32
X: NumPy in, NumPy out, which is what a caller of each library would write.

  fastnn            net.predict(X)  (validates every call: conversion, NaN/Inf, feature names)
  fastnn-predictor  f = net.predictor(); f(X)  (checks dtype, shape and contiguity only)
  fastnn[-predictor]-1t  the same with BLAS held to one thread (threadpoolctl.threadpool_limits)
  fastnn-team       f = net.predictor(threads=--threads): one-row calls shared with helper
                    threads that stay awake between calls (the others as fastnn-predictor)
  ort, ort-1t       ONNX Runtime on the file fastnn.export.to_onnx writes: default
                    SessionOptions, and intra_op_num_threads=1; sess.run(None, {name: X})[0]
  torch-1t, -Nt     the Sequential fastnn.export.to_torch(net) returns, 1 and --threads threads,
                    torch.inference_mode() entered once for the process;
                    model(torch.from_numpy(X)).numpy()
  jax-jit           jax.jit of the forward with the parameters as arguments; np.asarray(out)
  sklearn           MLPRegressor fitted on 4 rows, then coefs_/intercepts_ set to the weights;
                    .predict(X) (which ravels a single output)
  numpy             X @ W^T + b, np.maximum(·, 0, out=·) in place

A ``worker.Worker(ctx, "inference", name, threads)`` holds one contender (``make``: a
``Runner``); the parent sends ("setup", sizes, n, chunk), ("latency", calls) and
("throughput", n, chunk).
"""
from __future__ import annotations

import gc
import os
import tempfile
import time

import numpy as np

from .common import fastnn_net, make_init, torch_threads

CHECK_ROWS = 256  # the correctness check: f on these rows and on the first alone
LATENCY_ROWS = 1024  # one-row calls cycle through this many distinct rows


def inputs(n0, n, seed=0):
    """(n, n0) float32 standard-normal rows, the same in every process."""
    return np.random.default_rng(seed).standard_normal((n, n0), dtype=np.float32)


def reference(sizes, X):
    """The forward pass in float64 NumPy: the reference of every contender's check."""
    Ws, bs = make_init(sizes)
    x = X.astype(np.float64)
    for k, (W, b) in enumerate(zip(Ws, bs)):
        x = x @ W.T.astype(np.float64) + b
        if k < len(Ws) - 1:
            x = np.maximum(x, 0.0)
    return x


# ------------------------------------------------------------------------------ contenders
class Fastnn:
    def __init__(self, threads, predictor=False, one_thread=False, team=False):
        import fastnn

        self.predictor, self.one_thread, self.team = predictor, one_thread, team and threads > 1
        self.threads = threads
        self.version = getattr(fastnn, "__version__", "?") + (
            " (BLAS held to 1 thread)" if one_thread else f" ({threads} BLAS threads)")

    def build(self, sizes):
        net = fastnn_net(sizes)
        f = net.predictor(threads=self.threads if self.team else None) if self.predictor else net.predict
        if self.one_thread:  # after a call: SciPy's OpenBLAS, the one Numba calls, is loaded
            from threadpoolctl import threadpool_limits

            f(np.zeros((2, sizes[0]), np.float32))
            threadpool_limits(1)
        return f


class OnnxRuntime:
    def __init__(self, threads, one_thread=False):
        import onnxruntime

        from fastnn.export import to_onnx  # noqa: F401  (ImportError: reported as skipped)

        self.ort, self.one_thread = onnxruntime, one_thread
        self.version = f"onnxruntime {onnxruntime.__version__}" + (
            " (intra_op_num_threads=1)" if one_thread else " (default SessionOptions)")
        self.dir = tempfile.TemporaryDirectory(prefix="bench_inference_onnx_")  # removed at exit

    def build(self, sizes):
        from fastnn.export import to_onnx

        path = os.path.join(self.dir.name, "net.onnx")
        to_onnx(fastnn_net(sizes), path)
        so = self.ort.SessionOptions()
        if self.one_thread:
            so.intra_op_num_threads = 1
        sess = self.ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        name, run = sess.get_inputs()[0].name, sess.run
        return lambda X: run(None, {name: X})[0]


class Torch:
    def __init__(self, threads):
        import torch

        from fastnn.export import to_torch  # noqa: F401  (ImportError: reported as skipped)

        self.torch = torch
        torch.set_num_threads(threads)
        self.mode = torch.inference_mode()  # entered for the whole process (kept: the guard
        self.mode.__enter__()  # lives as long as this object)
        self.version = f"{torch.__version__} ({threads} thread{'s' if threads > 1 else ''})"

    def build(self, sizes):
        from fastnn.export import to_torch

        with self.torch.inference_mode(False):  # plain parameters, made outside inference mode
            model = to_torch(fastnn_net(sizes)).eval()
        from_numpy = self.torch.from_numpy
        return lambda X: model(from_numpy(X)).numpy()


class JaxJit:
    def __init__(self, threads):
        import jax

        self.jax = jax
        self.version = jax.__version__

    def build(self, sizes):
        jax, jnp = self.jax, self.jax.numpy

        @jax.jit
        def forward(params, x):
            for W, b in params[:-1]:
                x = jax.nn.relu(x @ W.T + b)
            W, b = params[-1]
            return x @ W.T + b

        params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in zip(*make_init(sizes))]
        return lambda X: np.asarray(forward(params, X))


class Sklearn:
    def __init__(self, threads):
        import warnings

        import sklearn
        from sklearn.neural_network import MLPRegressor

        warnings.filterwarnings("ignore")  # ConvergenceWarning of the 4-row set-up fit
        self.MLPRegressor, self.version = MLPRegressor, sklearn.__version__

    def build(self, sizes):
        m = self.MLPRegressor(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu",
                              max_iter=1, random_state=0)
        m.fit(inputs(sizes[0], 4), np.zeros((4, sizes[-1]), np.float32))  # float32 coefs_
        assert m.out_activation_ == "identity"
        for k, (W, b) in enumerate(zip(*make_init(sizes))):
            m.coefs_[k][...] = W.T  # scikit-learn stores W^T, (n_in, n_out)
            m.intercepts_[k][...] = b
        return m.predict


class Numpy:
    def __init__(self, threads):
        self.version = np.__version__

    def build(self, sizes):
        layers = [(np.ascontiguousarray(W.T), b) for W, b in zip(*make_init(sizes))]
        hidden, (WT, b_out) = layers[:-1], layers[-1]
        maximum = np.maximum

        def forward(X):
            for WT_k, b in hidden:
                X = X @ WT_k
                X += b
                maximum(X, 0, out=X)
            X = X @ WT
            X += b_out
            return X

        return forward


# name -> (class, keyword arguments); "torch-<n>t" is Torch with n threads
CONTENDERS = {
    "fastnn": (Fastnn, {}),
    "fastnn-predictor": (Fastnn, {"predictor": True}),
    "fastnn-1t": (Fastnn, {"one_thread": True}),
    "fastnn-predictor-1t": (Fastnn, {"predictor": True, "one_thread": True}),
    "fastnn-team": (Fastnn, {"predictor": True, "team": True}),
    "ort": (OnnxRuntime, {}),
    "ort-1t": (OnnxRuntime, {"one_thread": True}),
    "jax-jit": (JaxJit, {}),
    "sklearn": (Sklearn, {}),
    "numpy": (Numpy, {}),
}


# ------------------------------------------------------------------------------ the worker
class Runner:
    """One contender; ``setup`` puts a net in it: its check outputs, then a warm-up of every
    call shape that is timed (JAX compiles one per shape). Then the timed latency and
    throughput runs."""

    def __init__(self, impl):
        self.impl, self.version = impl, impl.version

    def setup(self, sizes, n, chunk):
        """The check outputs: f on CHECK_ROWS rows and on the first alone."""
        self.f = self.X = self.rows = None  # free the previous net's data first
        self.f = self.impl.build(sizes)
        Xc = inputs(sizes[0], CHECK_ROWS, seed=5)
        check = [np.asarray(self.f(Xc)).reshape(CHECK_ROWS, -1),
                 np.asarray(self.f(Xc[:1])).reshape(1, -1)]
        self.X = inputs(sizes[0], n)
        self.rows = [self.X[i:i + 1] for i in range(min(n, LATENCY_ROWS))]
        self.f(self.X)
        for m in (chunk, n % chunk):
            if m:
                self.f(self.X[:m])
        self.latency(200)
        return check

    def latency(self, calls):
        """Nanoseconds of each of `calls` one-row calls."""
        f, rows, clock = self.f, self.rows, time.perf_counter_ns
        m, ts = len(rows), np.empty(calls, np.int64)
        gc.collect()
        for i in range(calls):
            x = rows[i % m]
            t = clock()
            f(x)
            ts[i] = clock() - t
        return ts

    def throughput(self, n, chunk):
        """Seconds to predict the first n rows, in one call (chunk None) or calls of chunk rows."""
        f, X = self.f, self.X[:n]
        gc.collect()
        t = time.perf_counter()
        if chunk is None:
            f(X)
        else:
            for i in range(0, n, chunk):
                f(X[i:i + chunk])
        return time.perf_counter() - t


def make(name, threads):
    n = torch_threads(name)
    if n:
        return Runner(Torch(n))
    cls, kw = CONTENDERS[name]
    return Runner(cls(threads, **kw))
