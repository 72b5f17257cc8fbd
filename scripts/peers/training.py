"""The contenders of bench_peers.py's training epochs, one class each in this package's modules.

A contender class (``CONTENDERS``):

- ``__init__(threads)`` imports its library (ImportError: reported as skipped) and sets
  ``version``;
- ``setup(point, nc)`` builds data and model from the common init (``common.make_data``,
  ``common.make_init``), trains on the first nc samples (the warm-up: it compiles, and it is
  the correctness check) and returns the parameters after it ([(W, b), ...] as NumPy arrays,
  W of shape (n_k, n_{k-1})) or None;
- ``epoch(ns)`` trains one timed pass over the first ns samples (ns == N: the full epoch) and
  returns (seconds, samples trained).

It runs in a ``worker.Worker(ctx, "training", name, threads)``; the parent sends
("setup", point, nc) and ("epoch", ns).
"""
from __future__ import annotations

import importlib

from .common import torch_threads

# name -> (module in this package, class, keyword arguments); "torch-<n>t": torch, n threads
CONTENDERS = {
    "fastnn": ("fastnn_peer", "FastnnContender", {}),
    "fastnn-sgd": ("fastnn_peer", "FastnnContender", {"opt": "sgd"}),
    "fastnn-1t": ("fastnn_peer", "FastnnContender", {"fit_threads": 1}),
    "fastnn-plain": ("fastnn_peer", "FastnnContender", {"plain": True}),
    "fastnn-f32": ("fastnn_peer", "FastnnContender", {"precision": "float32"}),
    "torch": ("torch_peer", "TorchContender", {}),
    "jax-jit": ("jax_peer", "JaxJitContender", {}),
    "jax-scan": ("jax_peer", "JaxScanContender", {}),
    "numpy": ("numpy_peer", "NumpyContender", {}),
    "sklearn": ("sklearn_peer", "SklearnContender", {}),
    "gemm-floor": ("gemm_floor", "GemmFloor", {}),
    "stream": ("stream", "StreamPass", {}),
}


def make(name, threads):
    own = torch_threads(name)
    module, cls, kwargs = CONTENDERS["torch" if own else name]
    return getattr(importlib.import_module(f"{__package__}.{module}"), cls)(own or threads,
                                                                             **kwargs)
