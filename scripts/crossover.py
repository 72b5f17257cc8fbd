"""Measure where fastnn's kernel paths and thread splits cross over, to set the AUTO thresholds.

Only the public API: ``Network(..., kernel_path=...)`` forces a kernel path, ``fit(threads=...)``
the number of parts each batch is split into.

1. Loops vs BLAS, per layer: a net [n, n, n] trained one epoch with kernel_path "loops" and
   "blas", over widths n and batch sizes B. The ratio is reported against the work B·n·n that
   the "auto" path's BLAS_MIN_WORK threshold (fastnn/_kernels.py) is set on.
2. Unrolled vs generic, per net: tiny nets trained with kernel_path "unrolled" (the generated
   straight-line epoch) and "generic", against their parameter count (the unrolled epoch's
   MAX_PARAMS, fastnn/_unrolled.py), with the one-off compile time of the unrolled epoch.
3. Threads: one part (``threads=1``) vs one part per core (``threads=cores``: split by rows, or
   by columns of every product when a layer is wide, as fit picks for the shape) vs
   ``threads=None`` (fit's own choice: THREADED_MIN_WORK, COLUMNS_MIN_LAYER_WORK and
   THREADED_MIN_ROWS in fastnn/_engine.py), for [n]*5 nets.
4. Splits: the same three on bench_peers.py's wider grid points, optionally (--busy) with
   another process keeping one core busy.

Timings are side by side, best (parts 1-3) or median ratio (part 4) of --rounds interleaved
rounds.

    python scripts/crossover.py [--rounds 5] [--part loops|unrolled|threads|splits|all] [--busy]
"""
import argparse
import os
import time

import numpy as np

import fastnn

CHOICES = {"one part": 1, "every core": None, "auto": None}  # threads= for fit; filled in main


def _cores():
    """The cores this process may use (its affinity mask), as fit's threads=None counts them."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _data(sizes, N):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((N, sizes[0])).astype(np.float32),
            rng.standard_normal((N, sizes[-1])).astype(np.float32))


def _time_fit(net, X, Y, B, threads=None):
    t = time.perf_counter()
    net.fit(X, Y, epochs=1, batch_size=B, lr=1e-4, shuffle=False, threads=threads)
    return time.perf_counter() - t


def _race(sizes, B, N, paths, rounds):
    """Samples/s of one epoch with each kernel path forced, best of ``rounds``."""
    X, Y = _data(sizes, N)
    nets = {p: fastnn.Network(sizes, seed=0, kernel_path=p) for p in paths}
    for net in nets.values():
        _time_fit(net, X[: 2 * B], Y[: 2 * B], B)  # compile / warm up
    best = dict.fromkeys(paths, np.inf)
    for _ in range(rounds):
        for p in paths:
            best[p] = min(best[p], _time_fit(nets[p], X, Y, B))
    return {p: N / best[p] for p in paths}


def loops_vs_blas(rounds):
    print("| n | B | B*n*n | loops samples/s | BLAS samples/s | loops/BLAS |")
    print("|---|---|---|---|---|---|")
    for n in (8, 16, 32, 64, 128):
        for B in (1, 8, 32, 128):
            N = max(2048, min(65536, int(2e8 / (6 * n * n * 2))))
            r = _race([n, n, n], B, N, ("loops", "blas"), rounds)
            print(f"| {n} | {B} | {B * n * n} | {r['loops']:,.0f} | {r['blas']:,.0f} | "
                  f"{r['loops'] / r['blas']:.2f} |")


def unrolled_vs_generic(rounds):
    print("| sizes | params | B | unrolled samples/s | generic samples/s | ratio | compile s |")
    print("|---|---|---|---|---|---|---|")
    for sizes in ([2, 2, 1], [4, 8, 1], [2, 8, 8, 1], [4, 16, 1], [8, 8, 8, 1], [8, 16, 8, 1],
                  [16, 16, 1], [8, 16, 16, 1]):
        net = fastnn.Network(sizes, kernel_path="unrolled")
        t = time.perf_counter()
        net.fit(np.zeros((1, sizes[0])), np.zeros((1, sizes[-1])), epochs=1, lr=1e-9)
        compile_s = time.perf_counter() - t
        for B in (1, 32):
            r = _race(sizes, B, 65536, ("unrolled", "generic"), rounds)
            print(f"| {sizes} | {net.n_params} | {B} | {r['unrolled']:,.0f} | {r['generic']:,.0f} | "
                  f"{r['unrolled'] / r['generic']:.2f} | {compile_s:.1f} |")


_THREADS_CHILD = """
import sys, time, numpy as np, fastnn
sizes, B, N, threads, rounds = eval(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.standard_normal((N, sizes[0])).astype(np.float32)
Y = rng.standard_normal((N, sizes[-1])).astype(np.float32)
net = fastnn.Network(sizes, seed=0)
net.fit(X[: 2 * B], Y[: 2 * B], epochs=1, batch_size=B, lr=1e-4, shuffle=False, threads=threads)
best = np.inf
for _ in range(rounds):
    t = time.perf_counter()
    net.fit(X, Y, epochs=1, batch_size=B, lr=1e-4, shuffle=False, threads=threads)
    best = min(best, time.perf_counter() - t)
print(N / best)
"""


def threads(rounds, choices):
    """One epoch of [n]*5 at batch B with each of ``choices`` (name -> fit's threads=).

    Each runs in its own process, the choices alternating, so that no run inherits another's
    thread pool or warm caches.
    """
    import subprocess
    import sys

    print("| n | B | B*n*n | one part samples/s | every core/one part | auto/one part |")
    print("|---|---|---|---|---|---|")
    for n in (16, 32, 64, 128, 256, 512, 1024):
        for B in (8, 32, 128):
            sizes = [n] * 5
            N = max(4 * B, min(65536, int(3e9 / (12 * n * n * 2))) // B * B)
            best = dict.fromkeys(choices, 0.0)
            for _ in range(2):
                for name, t in choices.items():
                    arg = repr((sizes, B, N, t, rounds))
                    out = subprocess.run([sys.executable, "-c", _THREADS_CHILD, arg], check=True,
                                         capture_output=True, text=True).stdout
                    best[name] = max(best[name], float(out))
            s = best["one part"]
            print(f"| {n} | {B} | {B * n * n} | {s:,.0f} | {best['every core'] / s:.2f} | "
                  f"{best['auto'] / s:.2f} |", flush=True)


def splits(rounds, busy, choices):
    """The grid points of bench_peers.py that fit splits over threads, with each of
    ``choices``, in one process, in rotating order with a pause between runs (for BLAS's and
    fastnn's idle threads to settle), every run from the same θ. ``busy``: meanwhile a second
    process spins on one core, as on a shared machine. Reports median speed ratios."""
    from peers.busy import Spinner

    grid = {"medium": ([64, 256, 256, 10], 64, 16384), "mnist": ([784, 512, 256, 10], 128, 8192),
            "deep": ([16] + [64] * 8 + [1], 32, 32768), "large": ([784, 2048, 2048, 10], 256, 2048)}
    with Spinner() as spinner:  # killed on any way out, and dies with this process
        spinner.set(busy)
        print(f"| name | one part samples/s | every core/one part | auto/one part |"
              f"{' (one core kept busy)' if busy else ''}")
        print("|---|---|---|---|")
        for name, (sizes, B, N) in grid.items():
            X, Y = _data(sizes, N)
            net = fastnn.Network(sizes, seed=0)
            theta0 = net.parameters
            times = {c: [] for c in choices}
            for t in choices.values():  # compile and warm up
                _time_fit(net, X[: 4 * B], Y[: 4 * B], B, t)
            for r in range(rounds):
                order = list(choices)[r % 3:] + list(choices)[: r % 3]
                for c in order:
                    net.set_parameters(theta0)
                    time.sleep(0.25)
                    times[c].append(_time_fit(net, X, Y, B, choices[c]))
            one = np.array(times["one part"])
            print(f"| {name} | {N / np.median(one):,.0f} | "
                  f"{np.median(one / np.array(times['every core'])):.2f} | "
                  f"{np.median(one / np.array(times['auto'])):.2f} |", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--part", choices=["loops", "unrolled", "threads", "splits", "all"], default="all")
    ap.add_argument("--busy", action="store_true", help="splits: keep one core busy meanwhile")
    a = ap.parse_args()
    CHOICES["every core"] = _cores()
    if a.part in ("loops", "all"):
        loops_vs_blas(a.rounds)
    if a.part in ("unrolled", "all"):
        unrolled_vs_generic(a.rounds)
    if a.part in ("threads", "all"):
        threads(a.rounds, CHOICES)
    if a.part in ("splits", "all"):
        splits(a.rounds, a.busy, CHOICES)
