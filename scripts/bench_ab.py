"""A/B: one training epoch of two fastnn checkouts, side by side on the benchmark grid.

    python scripts/bench_ab.py /path/to/checkout-A /path/to/checkout-B [--rounds 7] [--only small,deep]

Each checkout runs in a worker process of its own (its ``fastnn`` first on sys.path), with the
same contender as ``bench_peers`` (``peers/fastnn_peer.py``: the same data, initial weights,
loss and optimizer). Per grid point both are set up and warmed up (compile and first epoch
excluded), then timed in alternating order round by round (A B, B A, ...), with a pause before
each timed epoch (BLAS workers spin after a call). Prints each side's median and best epoch
and the ratio B/A of the medians: above 1, B is slower. Quote ratios, never one side's time.

``--gemm A_LIB,B_LIB`` sets each side's FASTNN_GEMM (the GEMM library, ``fastnn._blas``): one
checkout twice, on OpenBLAS and on MKL, is issue 22's per-CPU check of the library table:

    python scripts/bench_ab.py . . --gemm openblas,mkl --only small,mnist,large
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from peers.common import WORKLOADS  # noqa: E402

_WORKER = r"""
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from peers.common import WORKLOADS
from peers.fastnn_peer import FastnnContender
points = {p.name: p for ps in WORKLOADS.values() for p in ps}
c = FastnnContender(threads=None)
for line in sys.stdin:
    cmd, arg = line.split()
    if cmd == "setup":
        p = points[arg]
        c.setup(p, p.n)  # builds the net and runs one whole (untimed) epoch
        print(json.dumps({"ok": c.fastnn.__file__}), flush=True)
    else:
        seconds, rows = c.epoch(int(arg))
        print(json.dumps({"seconds": seconds, "rows": rows}), flush=True)
"""


class Worker:
    def __init__(self, checkout: str, gemm: str = "") -> None:
        env = {**os.environ, "FASTNN_GEMM": gemm} if gemm else None
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER, os.path.abspath(checkout), HERE],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, line: str) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise SystemExit(f"worker for {line!r} died")
        return json.loads(reply)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="checkout A (the baseline)")
    ap.add_argument("b", help="checkout B")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated grid points (default: all)")
    ap.add_argument("--pause", type=float, default=0.3, help="seconds before each timed epoch")
    ap.add_argument("--gemm", default="", help="FASTNN_GEMM of A and B, e.g. openblas,mkl (default: each CPU's)")
    args = ap.parse_args()
    gemm = args.gemm.split(",") if args.gemm else ["", ""]
    if len(gemm) != 2:
        raise SystemExit("--gemm takes two libraries, A's and B's: e.g. --gemm openblas,mkl")
    points = [p for ps in WORKLOADS.values() for p in ps]
    if args.only:
        want = args.only.split(",")
        points = [p for p in points if p.name in want]
    print("| point | A median ms | B median ms | A best | B best | B/A (median) |")
    print("|---|---|---|---|---|---|")
    for p in points:
        workers = [Worker(args.a, gemm[0]), Worker(args.b, gemm[1])]
        try:
            for w in workers:
                w.ask(f"setup {p.name}")
            times: list[list[float]] = [[], []]
            for r in range(args.rounds):
                for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                    time.sleep(args.pause)
                    times[i].append(workers[i].ask(f"epoch {p.n}")["seconds"])
        finally:
            for w in workers:
                w.close()
        med = [statistics.median(t) for t in times]
        print(f"| {p.name} | {med[0] * 1e3:.1f} | {med[1] * 1e3:.1f} | {min(times[0]) * 1e3:.1f} | "
              f"{min(times[1]) * 1e3:.1f} | {med[1] / med[0]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
