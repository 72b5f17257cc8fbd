"""Measure where fastnn's kernel paths cross over, to set the AUTO thresholds.

1. Loops vs BLAS, per layer: a net [n, n, n] trained one epoch with each path forced, over
   widths n and batch sizes B. The ratio is reported against the work B·n·n that
   ``_kernels.BLAS_MIN_WORK`` thresholds on.
2. Unrolled vs generic, per net: tiny nets trained with the generated straight-line epoch and
   with the generic kernels, against their parameter count (``_unrolled.MAX_PARAMS``), with
   the one-off compile time of the unrolled kernel.
3. Threads: the serial kernel (BLAS's own threading) vs the batch split by rows and every
   product split by columns over one thread per core (``_parallel``), for [n]*5 nets.
4. Splits: the same three on bench_peers.py's wider grid points, optionally (--busy) with
   another process keeping one core busy.

Timings are side by side, best of --rounds interleaved rounds.

    python scripts/crossover.py [--rounds 5] [--part loops|unrolled|threads|splits|all] [--busy]
"""
import argparse
import time

import numpy as np

import fastnn
from fastnn import _kernels as K


def _time_fit(net, X, Y, B):
    t = time.perf_counter()
    net.fit(X, Y, epochs=1, batch_size=B, lr=1e-4, shuffle=False)
    return time.perf_counter() - t


def _race(sizes, B, N, paths, rounds):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, sizes[0])).astype(np.float32)
    Y = rng.standard_normal((N, sizes[-1])).astype(np.float32)
    nets = {}
    for p in paths:
        nets[p] = fastnn.Network(sizes, seed=0)
        nets[p]._path = p
        _time_fit(nets[p], X[: 2 * B], Y[: 2 * B], B)  # compile / warm up
    best = {p: np.inf for p in paths}
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
            r = _race([n, n, n], B, N, (K.LOOPS, K.BLAS), rounds)
            print(f"| {n} | {B} | {B * n * n} | {r[K.LOOPS]:,.0f} | {r[K.BLAS]:,.0f} | "
                  f"{r[K.LOOPS] / r[K.BLAS]:.2f} |")


def unrolled_vs_generic(rounds):
    print("| sizes | params | B | unrolled samples/s | generic samples/s | ratio | compile s |")
    print("|---|---|---|---|---|---|---|")
    for sizes in ([2, 2, 1], [4, 8, 1], [2, 8, 8, 1], [4, 16, 1], [8, 8, 8, 1], [8, 16, 8, 1],
                  [16, 16, 1], [8, 16, 16, 1]):
        net = fastnn.Network(sizes)
        t = time.perf_counter()
        net._path = K.UNROLLED
        net.fit(np.zeros((1, sizes[0])), np.zeros((1, sizes[-1])), epochs=1, lr=1e-9)
        compile_s = time.perf_counter() - t
        for B in (1, 32):
            r = _race(sizes, B, 65536, (K.UNROLLED, K.GENERIC), rounds)
            print(f"| {sizes} | {net.n_params} | {B} | {r[K.UNROLLED]:,.0f} | {r[K.GENERIC]:,.0f} | "
                  f"{r[K.UNROLLED] / r[K.GENERIC]:.2f} | {compile_s:.1f} |")


_THREADS_CHILD = """
import sys, time, numpy as np, fastnn
from fastnn import _parallel
sizes, B, N, split, rounds = eval(sys.argv[1])
cores = _parallel.usable_cores()
_parallel.plan = lambda *a: {"serial": (1, False), "rows": (cores, False), "columns": (cores, True)}[split]
rng = np.random.default_rng(0)
X = rng.standard_normal((N, sizes[0])).astype(np.float32)
Y = rng.standard_normal((N, sizes[-1])).astype(np.float32)
net = fastnn.Network(sizes, seed=0)
net.fit(X[: 2 * B], Y[: 2 * B], epochs=1, batch_size=B, lr=1e-4, shuffle=False)
best = np.inf
for _ in range(rounds):
    t = time.perf_counter()
    net.fit(X, Y, epochs=1, batch_size=B, lr=1e-4, shuffle=False)
    best = min(best, time.perf_counter() - t)
print(N / best)
"""
SPLITS = ("serial", "rows", "columns")


def threads(rounds):
    """One epoch of [n]*5 at batch B three ways: the serial kernel (BLAS threading as it likes),
    the batch split by rows over one thread per core, and every product split by columns
    (``_parallel.THREADED_MIN_WORK``, ``COLUMNS_MIN_LAYER_WORK``, ``THREADED_MIN_ROWS``).

    Each runs in its own process, the three alternating: BLAS's idle workers keep spinning for
    a while after a call and would slow whatever runs next in the same process.
    """
    import subprocess
    import sys

    print("| n | B | B*n*n | serial samples/s | rows/serial | columns/serial |")
    print("|---|---|---|---|---|---|")
    for n in (16, 32, 64, 128, 256, 512, 1024):
        for B in (8, 32, 128):
            sizes = [n] * 5
            N = max(4 * B, min(65536, int(3e9 / (12 * n * n * 2))) // B * B)
            best = dict.fromkeys(SPLITS, 0.0)
            for _ in range(2):
                for split in SPLITS:
                    arg = repr((sizes, B, N, split, rounds))
                    out = subprocess.run([sys.executable, "-c", _THREADS_CHILD, arg], check=True,
                                         capture_output=True, text=True).stdout
                    best[split] = max(best[split], float(out))
            s = best["serial"]
            print(f"| {n} | {B} | {B * n * n} | {s:,.0f} | {best['rows'] / s:.2f} | "
                  f"{best['columns'] / s:.2f} |", flush=True)


def splits(rounds, busy):
    """The grid points of bench_peers.py that fit splits over threads: the serial kernel with
    BLAS's own threading vs the row and the column split, in one process, in rotating order
    with a pause between runs (for BLAS's spinning workers to go idle). ``busy``: meanwhile a
    second process spins on one core, as on a shared machine. Reports median speed ratios."""
    from fastnn import _parallel
    from peers.busy import Spinner

    cores = _parallel.usable_cores()
    modes = {"serial": (1, False), "rows": (cores, False), "columns": (cores, True)}
    current = ["serial"]
    _parallel.plan = lambda *a: modes[current[0]]
    grid = {"medium": ([64, 256, 256, 10], 64, 16384), "mnist": ([784, 512, 256, 10], 128, 8192),
            "deep": ([16] + [64] * 8 + [1], 32, 32768), "large": ([784, 2048, 2048, 10], 256, 2048)}
    with Spinner() as spinner:  # killed on any way out, and dies with this process
        spinner.set(busy)
        print(f"| name | serial samples/s | rows/serial | columns/serial |{' (one core kept busy)' if busy else ''}")
        print("|---|---|---|---|")
        for name, (sizes, B, N) in grid.items():
            rng = np.random.default_rng(0)
            X = rng.standard_normal((N, sizes[0])).astype(np.float32)
            Y = rng.standard_normal((N, sizes[-1])).astype(np.float32)
            net = fastnn.Network(sizes, seed=0)
            theta0 = net._theta.copy()
            times = {m: [] for m in modes}
            for m in modes:  # compile and warm up
                current[0] = m
                net.fit(X[: 4 * B], Y[: 4 * B], epochs=1, batch_size=B, lr=1e-4, shuffle=False)
            for r in range(rounds):
                order = list(modes)[r % 3:] + list(modes)[: r % 3]
                for m in order:
                    current[0] = m
                    net._theta[:] = theta0
                    time.sleep(0.25)
                    times[m].append(_time_fit(net, X, Y, B))
            serial = np.array(times["serial"])
            print(f"| {name} | {N / np.median(serial):,.0f} | "
                  f"{np.median(serial / np.array(times['rows'])):.2f} | "
                  f"{np.median(serial / np.array(times['columns'])):.2f} |", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--part", choices=["loops", "unrolled", "threads", "splits", "all"], default="all")
    ap.add_argument("--busy", action="store_true", help="splits: keep one core busy meanwhile")
    a = ap.parse_args()
    if a.part in ("loops", "all"):
        loops_vs_blas(a.rounds)
    if a.part in ("unrolled", "all"):
        unrolled_vs_generic(a.rounds)
    if a.part in ("threads", "all"):
        threads(a.rounds)
    if a.part in ("splits", "all"):
        splits(a.rounds, a.busy)
