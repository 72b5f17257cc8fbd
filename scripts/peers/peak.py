"""Not a peer: the CPU's peak float32 FMA rate, measured, for the "% peak" column.

A Numba kernel runs ``a_i ← a_i · x + y`` on 64, 128 or 192 float32 accumulators, which LLVM
vectorizes and keeps in registers (independent FMA chains, to cover the FMA latency on every
port), for a fixed count; each FMA is 2 flops. Measured on 1
thread and on ``threads`` threads at once (Numba releases the GIL; one thread per core), best of
``repeats``: the rate the benchmark's points are a fraction of.

    python -c "import sys; sys.path.insert(0, 'scripts'); from peers.peak import peak_gflops; print(peak_gflops(2))"

An epoch's flops (``epoch_flops``): per sample 2·n_{k-1}·n_k for each forward product, as much
for each ∂L/∂W^[k] and each φ^[k-1] = W^[k]ᵀ φ^[k] (k ≥ 2): 6·Σ n_{k-1}n_k − 2·n_0·n_1. The
elementwise passes (ψ, ψ', the loss, the optimizer) are not counted: the fraction is of the
products' arithmetic, which the peak bounds.
"""
from __future__ import annotations

import threading
import time

import numpy as np

# float32 accumulators per kernel: LLVM vectorizes them into CHAINS/8 ymm or CHAINS/16 zmm
# registers, independent FMA chains. The peak needs about (FMA ports × latency) chains, and
# more than 16 ymm spill: each width is measured and the best kept.
CHAINS = (64, 128, 192)
_KERNELS: dict = {}


def _kernel(chains: int):
    """a_i ← a_i · x + y on ``chains`` accumulators, for n rounds (LLVM keeps them in registers)."""
    if chains not in _KERNELS:
        from numba import njit

        @njit(nogil=True, fastmath=True)
        def fma_loop(n, x, y):
            acc = np.empty(chains, np.float32)
            for i in range(chains):
                acc[i] = np.float32(i) * np.float32(1e-3)
            for _ in range(n):
                for i in range(chains):
                    acc[i] = acc[i] * x + y
            return acc.sum()

        fma_loop(10, np.float32(0.999), np.float32(1e-4))
        _KERNELS[chains] = fma_loop
    return _KERNELS[chains]


def _rate(chains: int, threads: int, seconds: float, repeats: int) -> float:
    fma = _kernel(chains)
    x, y = np.float32(0.999), np.float32(1e-4)
    t0 = time.perf_counter()
    fma(100_000, x, y)
    n = max(1000, int(100_000 * seconds / max(time.perf_counter() - t0, 1e-6)))
    best = 0.0
    for _ in range(repeats):
        start = threading.Barrier(threads + 1)

        def run(start=start):
            start.wait()
            fma(n, x, y)

        pool = [threading.Thread(target=run) for _ in range(threads)]
        for t in pool:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in pool:
            t.join()
        best = max(best, 2.0 * chains * n * threads / (time.perf_counter() - t0) / 1e9)
        time.sleep(0.05)
    return best


def peak_gflops(threads: int = 1, seconds: float = 0.1, repeats: int = 3) -> float:
    """Measured float32 GFLOP/s of ``threads`` threads running FMA chains at once: the best
    over the accumulator counts of CHAINS, each the best of ``repeats`` runs of about
    ``seconds``."""
    return max(_rate(c, threads, seconds, repeats) for c in CHAINS)


def epoch_flops(sizes, n: int) -> float:
    """The products' flops of one epoch of n samples on a net of these sizes."""
    pairs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return float(n) * (6 * pairs - 2 * sizes[0] * sizes[1])
