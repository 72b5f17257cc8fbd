"""Per-batch training time of several fastnn checkouts, interleaved: for effects of a few percent.

    python scripts/bench_batch.py A B [C ...] [--sizes 8,32,32,1] [--batch 32] [--optimizer sgd]
        [--threads 1] [--rounds 25]

Each checkout trains in a worker process of its own (its ``fastnn`` first on sys.path): one
float32 net on the same 32,000 standard-normal rows, warmed up by one whole epoch (compile
excluded), then one epoch per round, the checkouts in alternating order (A B C, C B A, ...)
with a 0.1 s pause before each. Prints each checkout's minimum and median µs per batch.
``bench_ab`` covers the grid; this one holds a single point for many rounds, where the noise
of a shared machine (±10% between runs of ``bench_ab``) would hide a 5% change.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

_WORKER = r"""
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
from fastnn import Network
sizes, B, opt = [int(s) for s in sys.argv[2].split(",")], int(sys.argv[3]), sys.argv[4]
threads = None if sys.argv[5] == "auto" else int(sys.argv[5])
rng = np.random.default_rng(0)
N = 32_000
X = rng.standard_normal((N, sizes[0])).astype("f4")
Y = rng.standard_normal((N, sizes[-1])).astype("f4")
net = Network(sizes, seed=0, dtype="float32")
net.fit(X, Y, epochs=1, batch_size=B, optimizer=opt, threads=threads)
print("ready", flush=True)
for _ in sys.stdin:
    t = time.perf_counter()
    net.fit(X, Y, epochs=1, batch_size=B, optimizer=opt, threads=threads)
    print((time.perf_counter() - t) / -(-N // B) * 1e6, flush=True)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkouts", nargs="+")
    ap.add_argument("--sizes", default="8,32,32,1")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--optimizer", default="sgd")
    ap.add_argument("--threads", default="1", help="an integer, or auto (fit's own choice)")
    ap.add_argument("--rounds", type=int, default=25)
    a = ap.parse_args()
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, c, a.sizes, str(a.batch), a.optimizer, a.threads],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for c in a.checkouts]
    try:
        for w in workers:
            assert w.stdout is not None and w.stdout.readline().strip() == "ready", "a worker failed to start"
        times: list[list[float]] = [[] for _ in workers]
        for r in range(a.rounds):
            order = list(range(len(workers)))
            for i in order if r % 2 == 0 else order[::-1]:
                w = workers[i]
                assert w.stdin is not None and w.stdout is not None
                time.sleep(0.1)  # BLAS workers spin for a while after a call
                w.stdin.write("go\n")
                w.stdin.flush()
                times[i].append(float(w.stdout.readline()))
        print(f"sizes {a.sizes}, batch {a.batch}, {a.optimizer}, threads {a.threads}, {a.rounds} rounds")
        for c, t in zip(a.checkouts, times):
            print(f"{c}: min {min(t):.3f} median {statistics.median(t):.3f} us/batch")
    finally:
        for w in workers:
            w.kill()


if __name__ == "__main__":
    main()
