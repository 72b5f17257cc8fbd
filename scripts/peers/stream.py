"""Not a peer: the optimizer's flat pass over the parameters, alone (the physical limit of what a
stateful optimizer adds per batch over plain SGD).

Adam reads 4 and writes 3 float32 arrays of length n_params (theta, g, m, v in; theta, m, v
out); momentum, with its velocity already accumulated by the gradient GEMMs, reads 2 and
writes 1 (theta -= lr*v), the flat pass DESIGN.md plans for momentum.  One @numba.njit loop,
one thread, over preallocated arrays, with fastnn's fast-math flags and error_model="numpy"
(Numba's default "python" model checks every float division for zero, which keeps LLVM from
vectorising the Adam loop: 2.7x slower on mnist-adam's 535818 parameters); the
time of one pass is the median over many calls (timed in groups of >= 50 us for small nets),
and the "epoch" reported is that times the number of batches, so that
(t_fastnn - t_fastnn-sgd) / t_stream = extra time per batch / one pass.
"""
import statistics
import time

import numpy as np

from .common import ADAM, LR, n_params

JIT = dict(fastmath={"nsz", "arcp", "contract", "afn", "reassoc"},  # fastnn's subset
           error_model="numpy")


class StreamPass:
    def __init__(self, threads):
        import numba

        self.version = f"numba {numba.__version__}"
        f32 = np.float32
        b1, b2, eps = f32(ADAM["b1"]), f32(ADAM["b2"]), f32(ADAM["eps"])
        c1, c2 = f32(1) - b1, f32(1) - b2

        @numba.njit(**JIT)
        def adam_pass(theta, g, m, v, step):
            for i in range(theta.size):
                gi = g[i]
                mi = b1 * m[i] + c1 * gi
                vi = b2 * v[i] + c2 * gi * gi
                m[i] = mi
                v[i] = vi
                theta[i] -= step * mi / (np.sqrt(vi) + eps)

        @numba.njit(**JIT)
        def momentum_pass(theta, g, m, v, step):
            for i in range(theta.size):
                theta[i] -= step * v[i]

        self.passes = {"adam": adam_pass, "momentum": momentum_pass}

    def setup(self, point, nc):
        P = n_params(point.sizes)
        rng = np.random.default_rng(4)
        self.arrays = [rng.standard_normal(P, dtype=np.float32) * np.float32(1e-3)
                       for _ in range(3)] + [np.full(P, 1e-6, np.float32)]  # theta, g, m, v
        self.run = self.passes[point.opt]  # bench_point runs no stream for plain SGD
        self.batch = point.batch
        self.run(*self.arrays, np.float32(LR))  # compile
        t, self.group = 0.0, 1
        while t < 50e-6 and self.group < 1 << 20:  # calls per timed group
            self.group *= 2
            t = self._group()
        return None

    def _group(self):
        run, a, step = self.run, self.arrays, np.float32(LR)
        t = time.perf_counter()
        for _ in range(self.group):
            run(*a, step)
        return time.perf_counter() - t

    def epoch(self, ns):
        one = statistics.median(self._group() for _ in range(31)) / self.group
        return one * (ns // self.batch), ns
