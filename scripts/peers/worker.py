"""One message loop for every benchmark: each contender runs in its own spawned process, so
thread pools and allocators don't interfere.

A benchmark is a module of this package (``training``, ``inference``, ``short_calls``) with a
function ``make(name, threads)`` that imports the contender's library (ImportError: reported as
skipped) and returns an object with a ``version`` string, a ``setup(*args)`` method (build,
compile, warm up; not timed here) and the methods the parent asks for by name.

The parent talks to a worker with ("setup", *args), (method, *args) and ("quit",). At start the
worker answers ("ready", version), ("skip", why) or ("error", traceback); then every message is
answered with ("ok", payload) or ("error", traceback). The payload of "setup" is
{"setup_s": seconds it took, "value": what setup returned}; of a method, what it returned.
"""
from __future__ import annotations

import importlib
import sys
import time
import traceback

from .common import REPO

SETUP_TIMEOUT = 600.0  # seconds for one contender's build + compile + warm-up


def serve(conn, bench, name, threads):
    """Runs in a spawned process: contender ``name`` of module ``bench``, driven by messages."""
    if REPO not in sys.path:  # fastnn from this checkout, installed or not
        sys.path.insert(0, REPO)
    try:
        impl = importlib.import_module(f"{__package__}.{bench}").make(name, threads)
    except ImportError as e:
        conn.send(("skip", f"{type(e).__name__}: {e}"))
        return
    except Exception:
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ready", impl.version))
    while True:
        try:
            op, *args = conn.recv()
        except EOFError:
            return
        if op == "quit":
            conn.send(("ok", None))
            return
        try:
            if op == "setup":
                t = time.perf_counter()
                value = impl.setup(*args)
                conn.send(("ok", {"setup_s": time.perf_counter() - t, "value": value}))
            else:
                conn.send(("ok", getattr(impl, op)(*args)))
        except Exception:
            conn.send(("error", traceback.format_exc(limit=8)))


class Worker:
    """Contender ``name`` of benchmark module ``bench`` in a spawned process running ``serve``."""

    def __init__(self, ctx, bench, name, threads):
        self.ctx, self.bench, self.name, self.threads = ctx, bench, name, threads
        self.start()

    def start(self):
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=serve, daemon=True,
                                     args=(child, self.bench, self.name, self.threads))
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
