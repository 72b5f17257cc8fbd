"""Cold start per option: a fresh process imports fastnn and runs one epoch of `small`
([8,32,32,1], batch 32, 4,096 rows) with Numba's cache empty, then again with it warm, for the
default net and for each loss, optimizer and layer option changed one at a time.

    python scripts/bench_coldstart.py [CHECKOUT ...] [--cases default,adam,norm=layer] [--rounds 1]

Several checkouts (folders holding a ``fastnn`` package; default: this one) run side by side,
interleaved case by case (A B, then B A), each with its own empty cache folder per run, so
their figures share the machine's state. Wall time includes the interpreter's start; bytecode
is warm for every run (one shared PYTHONPYCACHEPREFIX, filled first). Prints seconds per case
and checkout, cold and warm, and each checkout's ratio to the first.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# case -> (Network keywords, fit keywords, targets); targets: real, classes, binary, counts
CASES: dict[str, tuple[str, str, str]] = {
    "default": ("", "", "real"),
    "cross_entropy": ("loss='cross_entropy'", "", "classes"),
    "binary_cross_entropy": ("loss='binary_cross_entropy'", "", "binary"),
    "poisson": ("loss='poisson'", "", "counts"),
    "absolute_error": ("loss='absolute_error'", "", "real"),
    "huber": ("loss='huber'", "", "real"),
    "quantile": ("loss='quantile'", "", "real"),
    "momentum": ("", "optimizer=fastnn.SGD(lr=1e-3, momentum=0.9)", "real"),
    "adam": ("", "optimizer='adam'", "real"),
    "adamw": ("", "optimizer='adamw'", "real"),
    "rmsprop": ("", "optimizer='rmsprop'", "real"),
    "clip_norm": ("", "optimizer=fastnn.Adam(clip_norm=1.0)", "real"),
    "norm=layer": ("norm='layer'", "", "real"),
    "norm=batch": ("norm='batch'", "", "real"),
    "dropout": ("dropout=0.1", "", "real"),
    "residual": ("residual=True", "", "real"),
}

SNIPPET = """
import sys, time
sys.path.insert(0, {checkout!r})
t0 = time.perf_counter()
import fastnn, numpy as np
rng = np.random.default_rng(0)
X = rng.standard_normal((4096, 8), dtype=np.float32)
kind = {kind!r}
if kind == "classes":
    Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 4096)]
elif kind == "binary":
    Y = (X[:, :1] > 0).astype(np.float32)
elif kind == "counts":
    Y = rng.poisson(1.0, (4096, 1)).astype(np.float32)
else:
    Y = rng.standard_normal((4096, 1), dtype=np.float32)
net = fastnn.Network([8, 32, 32, Y.shape[1]], {net_kw})
net.fit(X, Y, epochs=1, batch_size=32, {fit_kw})
assert fastnn.__file__.startswith({checkout!r}), fastnn.__file__
print("@@", time.perf_counter() - t0)
"""


def run(checkout: str, case: str, cache: str, env: dict[str, str]) -> float:
    net_kw, fit_kw, kind = CASES[case]
    code = SNIPPET.format(checkout=checkout, kind=kind, net_kw=net_kw, fit_kw=fit_kw)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], env=dict(env, NUMBA_CACHE_DIR=cache),
                       capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t
    if p.returncode != 0 or "@@" not in p.stdout:
        raise SystemExit(f"{checkout} {case} failed:\n{p.stderr[-2000:]}")
    return wall


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkouts", nargs="*", default=[str(ROOT)])
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    ap.add_argument("--rounds", type=int, default=1, help="cold runs per case and checkout (median)")
    a = ap.parse_args(argv)
    cases = a.cases.split(",")
    for c in cases:
        if c not in CASES:
            ap.error(f"--cases: unknown case {c!r}; choose from {', '.join(CASES)}")
    checkouts = [str(Path(c).resolve()) for c in a.checkouts]
    scratch = tempfile.mkdtemp(prefix="bench_coldstart_")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pyc")
    try:
        for c in checkouts:  # bytecode for every module, so no run compiles Python
            run(c, "default", os.path.join(scratch, "bytecode"), env)
        print(f"cold start: import + one epoch of small [8,32,32,1], B = 32, N = 4096, float32; "
              f"{a.rounds} cold run(s) per cell (median), then 1 warm")
        names = [Path(c).name for c in checkouts]
        head = f"{'case':22s}" + "".join(f"{n + ' cold':>16s}{n + ' warm':>16s}" for n in names)
        if len(checkouts) > 1:
            head += "".join(f"{'cold ' + n + '/' + names[0]:>22s}" for n in names[1:])
        print(head)
        totals = [0.0] * len(checkouts)
        for i, case in enumerate(cases):
            order = list(range(len(checkouts)))
            if i % 2:
                order.reverse()
            cold: dict[int, list[float]] = {j: [] for j in order}
            warm: dict[int, float] = {}
            for r in range(a.rounds):
                for j in order:
                    cache = os.path.join(scratch, f"nc_{j}_{i}_{r}")
                    time.sleep(0.3)
                    cold[j].append(run(checkouts[j], case, cache, env))
                    if r == 0:
                        time.sleep(0.3)
                        warm[j] = run(checkouts[j], case, cache, env)
            med = {j: statistics.median(v) for j, v in cold.items()}
            line = f"{case:22s}" + "".join(f"{med[j]:16.2f}{warm[j]:16.2f}" for j in range(len(checkouts)))
            line += "".join(f"{med[j] / med[0]:22.2f}" for j in range(1, len(checkouts)))
            print(line, flush=True)
            for j in range(len(checkouts)):
                totals[j] += med[j]
        print(f"{'total cold':22s}" + "".join(f"{t:16.2f}{'':16s}" for t in totals))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
