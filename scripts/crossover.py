"""Measure where fastnn's kernel paths cross over, to set the AUTO thresholds.

1. Loops vs BLAS, per layer: a net [n, n, n] trained one epoch with each path forced, over
   widths n and batch sizes B. The ratio is reported against the work B·n·n that
   ``_kernels.BLAS_MIN_WORK`` thresholds on.
2. Unrolled vs generic, per net: tiny nets trained with the generated straight-line epoch and
   with the generic kernels, against their parameter count (``_unrolled.MAX_PARAMS``), with
   the one-off compile time of the unrolled kernel.
3. Threads: the serial kernel (BLAS's own threading) vs the batch split over one thread per
   core (``_parallel``), for [n]*5 nets over n and B; each side in its own process.

Timings are side by side, best of --rounds interleaved rounds.

    python scripts/crossover.py [--rounds 5] [--part loops|unrolled|threads|all]
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


def serial_vs_threaded(rounds):
    """One epoch of [n]*5 at batch B: the serial kernel (BLAS threading itself) vs one thread
    per core (``_parallel.THREADED_MIN_WORK`` and ``THREADED_MAX_LAYER_WORK``).

    Each side runs in its own process, alternating: BLAS's idle workers keep spinning for a
    while after a call and would slow whatever runs next in the same process.
    """
    import subprocess
    import sys

    from fastnn import _parallel

    cores = _parallel.usable_cores()
    print(f"| n | B | B*n*n | serial samples/s | {cores} threads samples/s | threaded/serial |")
    print("|---|---|---|---|---|---|")
    for n in (16, 32, 64, 128, 256, 512):
        for B in (8, 32, 128):
            sizes = [n] * 5
            N = max(4 * B, min(65536, int(3e9 / (12 * n * n * 2))) // B * B)
            best = {1: 0.0, cores: 0.0}
            for _ in range(2):
                for t in best:
                    arg = repr((sizes, B, N, t, rounds))
                    out = subprocess.run([sys.executable, "-c", _THREADS_CHILD, arg], check=True,
                                         capture_output=True, text=True).stdout
                    best[t] = max(best[t], float(out))
            print(f"| {n} | {B} | {B * n * n} | {best[1]:,.0f} | {best[cores]:,.0f} | "
                  f"{best[cores] / best[1]:.2f} |", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--part", choices=["loops", "unrolled", "threads", "all"], default="all")
    a = ap.parse_args()
    if a.part in ("loops", "all"):
        loops_vs_blas(a.rounds)
    if a.part in ("unrolled", "all"):
        unrolled_vs_generic(a.rounds)
    if a.part in ("threads", "all"):
        serial_vs_threaded(a.rounds)
