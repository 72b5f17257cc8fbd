"""Measure where fastnn's kernel paths cross over, to set the AUTO thresholds.

1. Loops vs BLAS, per layer: a net [n, n, n] trained one epoch with each path forced, over
   widths n and batch sizes B. The ratio is reported against the work B·n·n that
   ``_kernels.BLAS_MIN_WORK`` thresholds on.
2. Unrolled vs generic, per net: tiny nets trained with the generated straight-line epoch and
   with the generic kernels, against their parameter count (``_unrolled.MAX_PARAMS``), with
   the one-off compile time of the unrolled kernel.
3. BLAS threads: one thread vs all cores for the BLAS kernels, against the largest GEMM's
   work (``network.BLAS_THREADS_MIN_WORK``).

Timings are side by side in one process, best of --rounds interleaved rounds.

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


def blas_threads(rounds):
    """One epoch of [n, n, n] at batch B with the BLAS kernels, SciPy's BLAS on 1 thread vs all
    cores; ``network.BLAS_THREADS_MIN_WORK`` thresholds on the largest B·n·n."""
    import scipy.linalg.cython_blas  # noqa: F401  (the BLAS the kernels call, for threadpoolctl)
    from threadpoolctl import threadpool_limits

    print("| n | B | B*n*n | 1 thread samples/s | all cores samples/s | all/1 |")
    print("|---|---|---|---|---|---|")
    for n, B in ((64, 64), (128, 64), (256, 64), (256, 128), (512, 128), (1024, 128), (1024, 256)):
        N = max(1024, min(32768, int(4e9 / (6 * n * n * 2))) // B * B)
        rng = np.random.default_rng(0)
        X = rng.standard_normal((N, n)).astype(np.float32)
        Y = rng.standard_normal((N, n)).astype(np.float32)
        net = fastnn.Network([n, n, n], seed=0)
        net._path = K.BLAS
        _time_fit(net, X[: 2 * B], Y[: 2 * B], B)
        best = {1: np.inf, 0: np.inf}
        for _ in range(rounds):
            for t in best:
                with threadpool_limits(limits=t or None, user_api="blas"):
                    best[t] = min(best[t], _time_fit(net, X, Y, B))
        print(f"| {n} | {B} | {B * n * n} | {N / best[1]:,.0f} | {N / best[0]:,.0f} | "
              f"{best[1] / best[0]:.2f} |")


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
        blas_threads(a.rounds)
