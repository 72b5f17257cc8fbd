"""What precision="bf16"'s casts cost (issue 23): the float32 → bf16 casts of one epoch, timed
apart, against the bf16 epoch itself, on bench_peers' bf16 points.

    python scripts/bf16_casts.py [--only mnist-bf16,large-bf16] [--threads 1] [--rounds 5]

Per step of a batch of B rows, fit casts (``fastnn._blas``, "bf16"): every W^[k] once, after
its update (Σ n_k n_{k-1} values); x̄^[k-1] for the forward product and again for the gradient's
(2 B Σ n_{k-1}); φ^[k] for the gradient's product and, for k ≥ 2, for φ^[k-1]'s (B Σ n_k + B
Σ_{k≥2} n_k). This script times ``to_bf16`` on buffers of those sizes (each cast as fit makes
it: one contiguous block per product), so the cast time is measured, not modelled, and reports
it beside a bf16 epoch of the same point timed in the same run (interleaved, a pause before
each), one thread: the casts' share of the epoch.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def cast_sizes(sizes: list[int], batch: int) -> list[int]:
    """The blocks one step casts, in values: each W^[k], then per layer x̄^[k-1] twice, φ^[k]
    once, and φ^[k] once more for k ≥ 2."""
    K = len(sizes) - 1
    W = [sizes[k] * sizes[k + 1] for k in range(K)]
    x = [batch * sizes[k] for k in range(K)] * 2
    phi = [batch * sizes[k + 1] for k in range(K)] + [batch * sizes[k + 1] for k in range(1, K)]
    return W + x + phi


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated bf16 points (default: all of peers.common.BF16)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy as np

    import fastnn
    from fastnn import _blas
    from peers.common import BF16, fastnn_net, make_data

    missing = fastnn.bf16_missing()
    if missing:
        print(f"bf16 cannot run here: {missing}")
        return 1
    points = [p for p in BF16 if not args.only or p.name in args.only.split(",")]
    print("| point | sizes | batch | values cast per step | casts per epoch (ms) | bf16 epoch (ms) "
          "| casts' share |")
    print("|---|---|---|---|---|---|---|")
    for point in points:
        X, Y = make_data(point)
        if point.classify:
            Y = np.eye(point.sizes[-1], dtype=np.float32)[Y]
        net = fastnn_net(point.sizes, precision="bf16",
                         **({"loss": "cross_entropy"} if point.classify else {}))
        kw = {"optimizer": fastnn.Adam(lr=1e-3)} if point.opt == "adam" else {"lr": 1e-3}
        blocks = cast_sizes(point.sizes, point.batch)
        src = [np.random.default_rng(0).standard_normal(n, dtype=np.float32) for n in blocks]
        dst = [np.empty(n, np.uint16) for n in blocks]
        steps = point.n // point.batch

        def casts(src: list, dst: list, steps: int) -> float:
            t = time.perf_counter()
            for _ in range(steps):
                for a, b in zip(src, dst):
                    _blas.to_bf16(a, 0, a.size, a.size, 1, b, 0)
            return time.perf_counter() - t

        def epoch(net: fastnn.Network, X: np.ndarray, Y: np.ndarray, batch: int, kw: dict) -> float:
            t = time.perf_counter()
            net.fit(X, Y, epochs=1, batch_size=batch, shuffle=False, threads=1, **kw)
            return time.perf_counter() - t

        casts(src, dst, steps), epoch(net, X, Y, point.batch, kw)  # compile, warm up
        tc, te = [], []
        for _ in range(args.rounds):
            time.sleep(0.25)
            tc.append(casts(src, dst, steps))
            time.sleep(0.25)
            te.append(epoch(net, X, Y, point.batch, kw))
        c, e = statistics.median(tc), statistics.median(te)
        print(f"| {point.name} | {point.sizes} | {point.batch} | {sum(blocks):,} | {c * 1e3:.1f} | "
              f"{e * 1e3:.1f} | {c / e:.0%} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
