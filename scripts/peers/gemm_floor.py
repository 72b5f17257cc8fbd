"""Not a peer: only the epoch's matrix products, through NumPy BLAS, into preallocated outputs
(per batch: X@W.T per layer, dW = phi.T @ x_prev per layer, dX = phi @ W for layers k >= 2).
"GEMM floor fraction" = floor time / fastnn time per sample (> 1: fastnn beats the sum of its
GEMMs done through NumPy, which happens for tiny nets where NumPy's per-call overhead
dominates)."""
import time

import numpy as np

from .common import make_data, make_init


class GemmFloor:
    def __init__(self, threads):
        self.version = np.__version__

    def setup(self, point, nc):
        sizes, B = point.sizes, point.batch
        self.X, _ = make_data(point)
        self.W, _ = make_init(sizes)
        rng = np.random.default_rng(2)
        K = self.K = len(sizes) - 1
        self.B, self.n = B, point.n

        def bufs(make):
            return [None] + [make((B, sizes[k])) for k in range(1, K + 1)]

        self.z, self.dX = bufs(lambda s: np.empty(s, np.float32)), bufs(lambda s: np.empty(s, np.float32))
        # x_prev for k >= 2 and phi: fixed finite values (content does not change GEMM speed)
        self.xp = bufs(lambda s: rng.standard_normal(s, dtype=np.float32))
        self.phi = bufs(lambda s: rng.standard_normal(s, dtype=np.float32))
        self.dW = [np.empty_like(W) for W in self.W]
        self.epoch(nc)
        return None

    def epoch(self, ns):
        matmul = np.matmul
        K, B, X, W, z, xp, phi, dW, dX = (self.K, self.B, self.X, self.W, self.z, self.xp,
                                          self.phi, self.dW, self.dX)
        ns = min(ns, self.n)
        t = time.perf_counter()
        for i in range(0, ns, B):
            x0 = X[i:i + B]
            matmul(x0, W[0].T, out=z[1])
            for k in range(2, K + 1):
                matmul(xp[k - 1], W[k - 1].T, out=z[k])
            for k in range(K, 0, -1):
                matmul(phi[k].T, x0 if k == 1 else xp[k - 1], out=dW[k - 1])
                if k >= 2:
                    matmul(phi[k], W[k - 1], out=dX[k - 1])
        return time.perf_counter() - t, ns
