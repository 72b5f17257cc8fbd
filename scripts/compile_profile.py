"""Where a cold start's compile time goes: seconds per kernel, compiling its own body only.

    NUMBA_CACHE_DIR=$(mktemp -d) python scripts/compile_profile.py [--session] [--top 15] [--net "norm='layer'"]

Run it with an empty NUMBA_CACHE_DIR (else kernels load from the cache and nothing compiles).
It fits `small` [8,32,32,1] for one epoch (SGD, float32, batch 32, one thread); ``--session``
goes on with Adam, a two-thread fit of small (row split), a two-thread fit of [8,256,256,1]
(column split), predict and loss_and_gradient: every main entry point once. Prints the wall
time of each step and, from Numba's compile events, each kernel's exclusive compile seconds
(a kernel's time without the callees it compiled along the way), largest first.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the steps; returns each step's wall seconds."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--session", action="store_true", help="every main entry point, not only the first fit")
    ap.add_argument("--top", type=int, default=15, help="kernels to list")
    ap.add_argument("--net", default="", help="Network keywords of the first fit, e.g. \"norm='layer'\"")
    a = ap.parse_args(argv)
    if not os.environ.get("NUMBA_CACHE_DIR"):
        print("note: NUMBA_CACHE_DIR is not set; kernels already in the default cache load instead of compiling")
    from numba.core import event

    spent: dict[str, float] = collections.defaultdict(float)
    stack: list[tuple[str, float]] = []

    class Listener(event.Listener):  # type: ignore[misc]
        def on_start(self, ev: Any) -> None:
            stack.append((ev.data["dispatcher"].py_func.__qualname__, time.perf_counter()))

        def on_end(self, ev: Any) -> None:
            name, t = stack.pop()
            dt = time.perf_counter() - t
            spent[name] += dt
            if stack:  # exclusive: the caller's share is without this callee
                spent[stack[-1][0]] -= dt

    listener = Listener()
    event.register("numba:compile", listener)
    import numpy as np

    from fastnn import Network

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4096, 8)).astype(np.float32)
    Y = rng.standard_normal((4096, 1)).astype(np.float32)
    steps: list[tuple[str, float]] = []

    def step(name: str, fn: Any) -> None:
        t = time.perf_counter()
        fn()
        steps.append((name, time.perf_counter() - t))

    net = eval(f"Network([8, 32, 32, 1], seed=0, {a.net})", {"Network": Network})
    step("first fit", lambda: net.fit(X, Y, epochs=1, batch_size=32, threads=1))
    if a.session:
        step("adam", lambda: net.fit(X, Y, epochs=1, batch_size=32, optimizer="adam", threads=1))
        step("2 threads, rows", lambda: net.fit(X, Y, epochs=1, batch_size=256, threads=2))
        wide = Network([8, 256, 256, 1], seed=0)
        step("2 threads, columns", lambda: wide.fit(X, Y, epochs=1, batch_size=32, threads=2))
        step("predict", lambda: net.predict(X))
        step("loss_and_gradient", lambda: net.loss_and_gradient(X, Y))
    event.unregister("numba:compile", listener)
    print("  ".join(f"{name} {t:.1f} s" for name, t in steps))
    for name, t in sorted(spent.items(), key=lambda kv: -kv[1])[:a.top]:
        print(f"{t:8.2f} s  {name}")
    print(f"{sum(spent.values()):8.2f} s  compiling in all")
    return dict(steps)


if __name__ == "__main__":
    main()
