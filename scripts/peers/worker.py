"""Each contender runs in its own spawned process, so thread pools and allocators don't interfere.

A contender is a class in one of this package's modules (``CONTENDERS``):

- ``__init__(threads)`` imports its library (ImportError: reported as skipped) and sets
  ``version``;
- ``setup(point, nc)`` builds data and model from the common init (``common.make_data``,
  ``common.make_init``), trains on the first nc samples (the warm-up: it compiles, and it is
  the correctness check) and returns the parameters after it ([(W, b), ...] as NumPy arrays,
  W of shape (n_k, n_{k-1})) or None;
- ``epoch(ns)`` trains one timed pass over the first ns samples (ns == N: the full epoch) and
  returns (seconds, samples trained).

The parent talks to a worker with ("setup", point, nc), ("run", ns) and ("quit",); each answer
is ("ok", payload) or ("error", traceback).
"""
from __future__ import annotations

import importlib
import sys
import time
import traceback

from .common import REPO

SETUP_TIMEOUT = 600.0  # seconds for one contender's build + compile + warm-up epoch

# name -> (module in this package, class, keyword arguments)
CONTENDERS = {
    "fastnn": ("fastnn_peer", "FastnnContender", {}),
    "fastnn-sgd": ("fastnn_peer", "FastnnContender", {"opt": "sgd"}),
    "fastnn-1t": ("fastnn_peer", "FastnnContender", {"fit_threads": 1}),
    "torch": ("torch_peer", "TorchContender", {}),
    "jax-jit": ("jax_peer", "JaxJitContender", {}),
    "jax-scan": ("jax_peer", "JaxScanContender", {}),
    "numpy": ("numpy_peer", "NumpyContender", {}),
    "sklearn": ("sklearn_peer", "SklearnContender", {}),
    "gemm-floor": ("gemm_floor", "GemmFloor", {}),
    "stream": ("stream", "StreamPass", {}),
}


def torch_threads(name):
    """3 for "torch-3t", else None."""
    if name.startswith("torch-") and name.endswith("t") and name[6:-1].isdigit():
        return int(name[6:-1])
    return None


def worker_main(conn, name, threads):
    """Runs in a spawned process: one contender, driven by messages from the parent."""
    if REPO not in sys.path:  # fastnn from this checkout, installed or not
        sys.path.insert(0, REPO)
    own = torch_threads(name)
    module, cls, kwargs = CONTENDERS["torch" if own else name]
    try:
        impl = getattr(importlib.import_module(f"{__package__}.{module}"), cls)(own or threads,
                                                                                 **kwargs)
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
                t = time.perf_counter()
                params = impl.setup(*msg[1:])
                conn.send(("ok", {"setup_s": time.perf_counter() - t, "params": params}))
            elif msg[0] == "run":
                conn.send(("ok", impl.epoch(msg[1])))
            elif msg[0] == "quit":
                conn.send(("ok", None))
                return
        except Exception:
            conn.send(("error", traceback.format_exc(limit=8)))


class Worker:
    """One contender in a spawned process running ``main(conn, name, threads)``; subclasses for
    other benchmarks set ``main`` to their own message loop."""

    main = staticmethod(worker_main)

    def __init__(self, ctx, name, threads):
        self.ctx, self.name, self.threads = ctx, name, threads
        self.start()

    def start(self):
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=self.main, args=(child, self.name, self.threads),
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
