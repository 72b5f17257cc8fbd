#!/usr/bin/env python
"""Benchmark one training epoch: fastnn versus PyTorch, JAX, NumPy and scikit-learn.

Three workloads, each a table (``--workload``; default: all three):

  regress   MSE 1/2||y - yhat||^2, identity output, plain SGD (W <- W - lr * mean-over-batch
            gradient), on the REGRESS grid of peers/common.py;
  classify  softmax cross-entropy, -sum y log softmax(z), on int labels (argmax of a fixed
            random linear map of X), with Adam (0.9, 0.999, 1e-8) or SGD with momentum 0.9
            (dampening 0, not Nesterov), on the CLASSIFY grid;
  layers    issue 19's deep-net options, the LAYERS grid: `dropout` ([784,512,512,512,10],
            dropout 0.1, mnist-adam's data, CE + Adam), `resnet-ln` and `resnet-bn` ([64] +
            [256]*8 + [10]: layer or batch norm, dropout 0.1, skips on layers 2-8, CE + Adam)
            and `deep-res-ln` ([16] + [64]*32 + [1]: layer norm, skips on layers 2-32, MSE +
            Adam: plain SGD diverges on it in every library).  Every hidden layer is Linear ->
            norm -> ReLU -> dropout -> skip (fastnn's post-norm order): fastnn's Network(...,
            norm=, dropout=, residual=True), PyTorch's modules (a small residual block module;
            model.train()), JAX written functionally (batch norm's running statistics updated
            as PyTorch's, dropout masks from jax.random).  Contenders: fastnn, PyTorch and JAX
            (NumPy and scikit-learn have no such layers); not a peer: fastnn-plain, the same
            sizes, loss and optimizer without the options ("opts/plain" = fastnn's epoch time
            over fastnn-plain's).  Dropout masks differ between libraries, so on a point with
            dropout the check below runs on twins without dropout; the timed nets have it.

Every contender trains the same MLP (ReLU hidden layers, float32) on the same deterministic data
for ONE epoch, batches in order (no shuffling), lr = 1e-3, loss averaged over the batch, from
the same initial parameters.  The warm-up trains on the first --check-batches batches (Adam: 4), and the
parameters after it are compared with the explicit NumPy implementation's ("diff vs numpy":
relative difference of the parameter updates; on layer points, where NumPy does not run, with
fastnn's, γ, β and batch norm's running statistics included) as a check that the math really is
identical.
Float32 rounding gives ~1e-7..1e-5; a ReLU unit whose pre-activation sits within rounding of 0
can flip and give ~1e-3 (seen for torch on `large`); >= 1e-2 is flagged as a MISMATCH.

Contenders, one module each in scripts/peers/ (their docstrings say exactly what is timed), each
in its own worker process so that thread pools and allocators don't interfere: fastnn,
torch-1t and torch-Nt (1 and --threads threads), jax-jit (a jitted step per batch), jax-scan
(the whole epoch under one jax.jit + lax.scan), numpy (hand-written, preallocated), sklearn
(MLPRegressor / MLPClassifier.partial_fit).  Not peers: gemm-floor (regress: the epoch's
matrix products alone through NumPy; "floor fraction" = floor time / fastnn time), and for
classify fastnn-sgd (the same net with plain SGD: "opt/SGD" = fastnn's epoch time over it) and
stream (one flat Adam or momentum pass over n_params float32 values: "extra/pass" = (t_fastnn
- t_fastnn-sgd) per batch / one pass, target <= 1.5).

Timing: compile and warm-up are excluded; contenders run in interleaved rounds (each round runs
every contender once, in a rotated order, with a pause (--gap, 0.25 s) between runs so spinning
BLAS/OpenMP threads of the previous contender go idle: OpenBLAS's workers keep a core busy for
~0.1 s after each call, which slowed whichever contender ran next by up to 20%); the median
epoch time over the rounds is reported (best is printed too).  Time caps keep slow peers from
dominating the run: a short untimed probe predicts each peer's epoch; one that would take over
--budget/2 seconds is timed on a prefix of the epoch (flagged with a dagger; samples/s =
samples trained / time), and a contender stops after R rounds or once its timed epochs add up
to --budget seconds (at least 1 round).  fastnn, fastnn-sgd and jax-scan always train the full
epoch.  Optimizers keep their state from round to round, in every contender.

A busy machine (issue 13): --busy keeps one core busy during every timed run (a separate
process spinning ``while True: pass``, peers/busy.py; started before the first timed run, killed
on any exit, and it dies with this script); --busy-compare times every contender both quiet
and busy in one run, the two conditions interleaved (each round runs every contender under
each condition, the conditions' order alternating by round, the same --gap before every run):
a quiet and a busy table.  Both add fastnn-1t (fit(threads=1), BLAS held to one thread too):
"fastnn/1t" = fastnn's samples/s over it (target on a busy machine: >= 1).  --short-calls
instead times one call on one row (N = 1) of fit and predict beside PyTorch and JAX
(peers/short_calls.py), under the same conditions.

Also measured (unless --no-startup / --no-memory): start-up wall time of a fresh process that
imports the library and trains one epoch of the `small` net (warm and empty Numba cache), the
peak memory of fastnn's fit on `large` in a fresh process versus a budget, and (classify) the
memory fit with Adam adds over fit with plain SGD on `mnist-adam`, and (layers) for each layer
point the memory its options add over the same net without them (peers/memory.py).

    python scripts/bench_peers.py                     # full default run (~10 min, 2 busy cores)
    python scripts/bench_peers.py --only small,medium --rounds 3 --no-startup --no-memory
    python scripts/bench_peers.py --workload classify --peers torch,jax-scan --json /tmp/b.json
    python scripts/bench_peers.py --point odd:100,300,300,7:50 --point c:20,64,5:16::momentum
    python scripts/bench_peers.py --estimators       # the scikit-learn estimators' table
    python scripts/bench_peers.py --only small,deep,mnist --busy-compare --no-startup --no-memory
    python scripts/bench_peers.py --workload layers --busy-compare --no-startup
    python scripts/bench_peers.py --short-calls [--busy-compare]   # one-row fit and predict

Peers are optional (``pip install -e ".[peers]"``, plus optax for classify); a peer whose import
fails is reported as "skipped (not installed)".
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

from peers.busy import LABEL as BUSY_LABEL
from peers.busy import Spinner, conditions, interleaved
from peers.common import (
    ALL_WORKLOADS,
    BF16,
    CLASSIFY,
    LR,
    REGRESS,
    Point,
    fmt_num,
    fmt_rate,
    indent,
    init_pairs,
    machine_line,
    n_params,
    thread_env,
)

PEER_GROUPS = {"torch": ["torch-1t", "torch-Nt"], "jax": ["jax-jit", "jax-scan"]}
ALL_PEERS = ["torch-1t", "torch-Nt", "jax-jit", "jax-scan", "numpy", "sklearn"]
EXTRAS = {"regress": (["fastnn"], ["gemm-floor"]),  # contenders before and after the peers
          "classify": (["fastnn", "fastnn-sgd"], ["stream"]),
          "layers": (["fastnn", "fastnn-plain"], []),
          "bf16": (["fastnn", "fastnn-f32"], [])}
# bf16 peers: PyTorch's autocast (torch-1t and torch-<n>t); JAX's bf16 parameters are not its best here
BF16_PEERS = ("torch-",)
NO_LAYERS = {"numpy", "sklearn"}  # peers that cannot build the layer points' nets
NOT_PEERS = {nm for before, after in EXTRAS.values() for nm in before + after} | {"fastnn-1t"}
FULL_EPOCH = {"fastnn", "fastnn-sgd", "fastnn-plain", "fastnn-f32", "jax-scan", "stream"}  # never timed on a prefix
OPTS = ("sgd", "momentum", "adam")
PEAK: dict = {}  # threads -> measured float32 GFLOP/s (peers/peak.py); "threads": the run's
# Adam amplifies per-step rounding differences: after 32 batches of mnist-adam optax differs
# from NumPy and torch by 2.4e-2 (a hand-written Adam in the same jitted JAX step: 3e-6; torch
# float32 from torch float64: 7e-4), after 4 batches by 1.2e-3.  Adam points check after 4.
ADAM_CHECK_BATCHES = 4
# bf16 points are checked against fastnn's bf16 fit: PyTorch's autocast also rounds each
# Linear's output (z̄^[k]) and its gradients to bf16, where fastnn keeps them float32; both
# differ from the float32 fit by a few 1e-2 after the check's batches (fastnn-f32's check line
# shows by how much), a wrong net by O(1).
BF16_MISMATCH = 1e-1


# ---------------------------------------------------------------------------- benchmark
def rel_diff(params, ref, init):
    """||delta - delta_ref|| / ||delta_ref||, delta = params after warm-up epoch - init; each
    of params, ref and init a list of pairs of arrays (common.init_pairs; where init has None,
    that array is left out)."""
    import numpy as np

    if not len(params) == len(ref) == len(init):
        raise ValueError(f"the check got {len(params)} and {len(ref)} pairs of arrays for "
                         f"{len(init)} initial ones")
    num = den = 0.0
    for (W, b), (Wr, br), (W0, b0) in zip(params, ref, init):
        for a, r, a0 in ((W, Wr, W0), (b, br, b0)):
            if a0 is None:
                continue
            d, dr = a.astype(np.float64) - a0, r.astype(np.float64) - a0
            num += float(np.sum((d - dr) ** 2))
            den += float(np.sum(dr ** 2))
    return (num ** 0.5) / (den ** 0.5) if den > 0 else float("nan")


def bench_point(point, workers, names, args, log):
    name, sizes, batch, n = point[:4]
    nb = n // batch
    check = min(args.check_batches, ADAM_CHECK_BATCHES) if point.opt == "adam" else args.check_batches
    nc = min(nb, check) * batch  # warm-up / check: the first nc samples
    skip = {"fastnn-sgd", "stream"} if point.opt == "sgd" else set()  # nothing to compare
    active = [w for w in workers if w.status == "ready" and w.name in names and w.name not in skip]
    load0 = os.getloadavg()[0]
    log(f"\n## {name}: sizes={sizes} batch={batch} N={n} "
        f"({nb} batches, {n_params(sizes)} params)"
        + (f", {point.label}" if point.classify or point.layers else "")
        + (", check without dropout" if point.dropout else ""))
    res = {"name": name, "sizes": sizes, "batch": batch, "n": n, "loss": point.loss,
           "opt": point.opt, "options": point.options, "norm": point.norm,
           "dropout": point.dropout, "residual": point.residual, "check_samples": nc,
           "precision": point.precision,
           "contenders": {}}
    params = {}
    for w in active:  # build, compile, warm-up/check on nc samples: one at a time, not timed
        w.send("setup", point, nc)
        status, payload = w.recv()
        if status == "timeout":
            w.restart()
        if status == "ok":
            params[w.name] = payload["value"]
            res["contenders"][w.name] = {"setup_s": payload["setup_s"], "times": [],
                                         "samples": n}
        else:
            res["contenders"][w.name] = {"error": payload}
            log(f"  {w.name}: FAILED in setup/warm-up:\n" + indent(payload))
    # check: every contender's parameter update on the first nc samples vs the NumPy one's
    ref_name = "numpy" if "numpy" in params else ("fastnn" if "fastnn" in params else None)
    if ref_name and params[ref_name] is not None:
        init = init_pairs(point)
        refs = params[ref_name] if isinstance(params[ref_name], dict) else {"*": params[ref_name]}
        for cname, p in params.items():
            if p is not None and cname != ref_name:
                res["contenders"][cname]["check_vs"] = ref_name
                res["contenders"][cname]["check"] = rel_diff(p, refs.get(cname, refs["*"]), init)
    params.clear()

    timed = [w for w in active if "times" in res["contenders"][w.name]]
    conds = args.conditions
    spinner = args.spinner

    def run(w, ns, timeout, entry):
        time.sleep(args.gap)
        w.send("epoch", ns)
        status, payload = w.recv(timeout)
        if status == "timeout":
            w.restart()
        if status != "ok":
            entry["error"] = payload
            log(f"  {w.name}: FAILED in a timed run:\n" + indent(payload))
            return None
        return payload

    # probe: a short untimed pass (nc samples, compiled already; busy if any condition is)
    # predicts each contender's epoch time; one whose full epoch would exceed budget/2 is timed
    # on the first ns < N samples instead (flagged), so that slow peers cannot blow up the run.
    spinner.set("busy" in conds)
    for w in timed:
        if w.name in FULL_EPOCH or nc >= n:
            continue
        out = run(w, nc, args.run_timeout, res["contenders"][w.name])
        if out is None:
            continue
        per_batch = out[0] / max(out[1] // batch, 1)
        if per_batch * nb > args.budget / 2:
            ns = max(nc, int(args.budget / 2 / per_batch) * batch)
            if ns < n:
                res["contenders"][w.name]["samples"] = ns

    # one result per condition, each contender's entry copied from the set-up's
    out = {c: {**res, "condition": c,
               "contenders": {k: {**e, "times": []} if "times" in e else dict(e)
                              for k, e in res["contenders"].items()}} for c in conds}
    rounds = {(c, w.name): args.rounds for c in conds for w in timed}
    for r, cond, w in interleaved(args.rounds, conds, timed, spinner):
        entry = out[cond]["contenders"][w.name]
        if len(entry["times"]) >= rounds[cond, w.name] or "error" in entry:
            continue
        if entry["times"] and sum(entry["times"]) >= args.budget:
            continue  # budget spent (epochs got slower than round 1 predicted)
        ran = run(w, entry["samples"], args.run_timeout, entry)
        if ran is None:
            continue
        dt, done = ran
        entry["samples"] = done
        entry["times"].append(dt)
        if r == 0:  # cap slow contenders by the time budget (at least 1 round)
            rounds[cond, w.name] = max(1, min(args.rounds, int(args.budget // max(dt, 1e-9))))
    load1 = os.getloadavg()[0]
    for one in out.values():
        finish(one, names, args, log, [load0, load1], point, len(conds) > 1)
    return list(out.values())


def finish(res, names, args, log, loadavg, point, label):
    """Medians, ratios and the log lines of one grid point under one condition."""
    n = res["n"]
    for entry in res["contenders"].values():
        ts = entry.get("times")
        if ts:
            entry["median_s"] = statistics.median(ts)
            entry["best_s"] = min(ts)
            entry["partial"] = entry["samples"] < n
            entry["t"] = entry["best_s"] if args.stat == "best" else entry["median_s"]
            entry["samples_per_s"] = entry["samples"] / entry["t"]
    summarize(res)
    res["loadavg"] = loadavg
    if label:
        log(f"  [{res['condition']}]")
    for cname in names:
        entry = res["contenders"].get(cname)
        if entry is None or "samples_per_s" not in entry:
            continue
        chk = entry.get("check")
        chk_s = "" if chk is None else f"  diff vs {entry['check_vs']}: {chk:.1e}"
        if cname == "fastnn-f32":  # (not the point's precision: how far bf16 is from float32)
            chk_s += " (bf16 from float32)"
        elif chk is not None and not chk < (BF16_MISMATCH if point.precision == "bf16" else 1e-2):
            chk_s += "  <-- MISMATCH"
        part = f" on first {entry['samples']} samples" if entry["partial"] else ""
        log(f"  {cname:10s} median {entry['median_s'] * 1e3:9.2f} ms  best "
            f"{entry['best_s'] * 1e3:9.2f} ms  {fmt_rate(entry['samples_per_s']):>7s} samples/s"
            f"  ({len(entry['times'])} rounds{part}; setup {entry['setup_s']:.2f} s){chk_s}")
    extra = (f"; fastnn bf16/float32 samples/s = {fmt_num(res['bf16_speedup'], suffix='x')}"
             if point.precision == "bf16" else
             f"; fastnn options/plain time = {fmt_num(res['plain_ratio'])}" if point.layers else
             f"; GEMM floor fraction = {fmt_num(res['floor_fraction'])}" if not point.classify else
             f"; fastnn {point.opt}/SGD time = {fmt_num(res['opt_ratio'])}; extra per batch "
             f"{fmt_num(res['extra_us'], '.1f', ' us')} / one {point.opt} pass "
             f"{fmt_num(res['pass_us'], '.1f', ' us')} = {fmt_num(res['extra_per_pass'])} "
             "(target <= 1.5)")
    one = (f"; fastnn/fastnn-1t = {fmt_num(res['ratio_1t'], suffix='x')}"
           if "fastnn-1t" in names else "")
    pk = res["peak_fraction"]
    peak_s = (f"; % of peak: fastnn {pk['fastnn']:.0%}" if "fastnn" in pk else "") + (
        f", {res['best_peer']} {pk[res['best_peer']]:.0%}" if res["best_peer"] in pk else "")
    log(f"  -> best peer: {res['best_peer'] or 'n/a'}; fastnn/best = {fmt_num(res['ratio'], suffix='x')}"
        f"{one}{extra}{peak_s}   [1-min load average {loadavg[0]:.1f} -> {loadavg[1]:.1f} "
        f"on {os.cpu_count()} cores]")


def summarize(res):
    """Ratios from each contender's time "t" (the --stat one) of one grid point, into res."""
    from peers.peak import epoch_flops

    c = res["contenders"]
    t = {k: v["t"] for k, v in c.items() if "t" in v}
    sps = {k: v["samples_per_s"] for k, v in c.items() if "samples_per_s" in v}
    peers = {k: v for k, v in sps.items() if k not in NOT_PEERS}
    best = max(peers, key=peers.get) if peers else None
    res["best_peer"] = best
    res["ratio"] = sps["fastnn"] / peers[best] if best and "fastnn" in sps else None
    res["ratio_1t"] = sps["fastnn"] / sps["fastnn-1t"] if {"fastnn", "fastnn-1t"} <= sps.keys() else None
    # the products' GFLOP/s over the measured peak of the threads the contenders run on
    per_sample = epoch_flops(res["sizes"], 1)
    peak = PEAK.get(PEAK.get("threads")) if res.get("precision", "float32") == "float32" else None  # (a float32 peak)
    res["bf16_speedup"] = sps["fastnn"] / sps["fastnn-f32"] if {"fastnn", "fastnn-f32"} <= sps.keys() else None
    res["peak_fraction"] = {k: v * per_sample / 1e9 / peak for k, v in sps.items()} if peak else {}
    # floor time / fastnn time, per sample
    res["floor_fraction"] = sps["fastnn"] / sps["gemm-floor"] if {"fastnn", "gemm-floor"} <= sps.keys() else None
    res["opt_ratio"] = res["extra_us"] = res["pass_us"] = res["extra_per_pass"] = None
    res["plain_ratio"] = t["fastnn"] / t["fastnn-plain"] if {"fastnn", "fastnn-plain"} <= t.keys() else None
    if {"fastnn", "fastnn-sgd"} <= t.keys():
        res["opt_ratio"] = t["fastnn"] / t["fastnn-sgd"]
        nb = res["n"] // res["batch"]
        res["extra_us"] = (t["fastnn"] - t["fastnn-sgd"]) / nb * 1e6
        if "stream" in t:
            res["pass_us"] = t["stream"] / nb * 1e6
            res["extra_per_pass"] = res["extra_us"] / res["pass_us"]


# ---------------------------------------------------------------------------- main
def parse_args(argv=None):
    grid_points = [p for ps in ALL_WORKLOADS.values() for p in ps]
    points = {p.name: p for p in grid_points}
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--estimators", action="store_true",
                    help="instead: fastnn.MLPClassifier/MLPRegressor vs scikit-learn's on four "
                         "datasets (peers/estimators.py): scores and fit/epoch time ratios")
    ap.add_argument("--seeds", type=int, default=3, help="--estimators: seeds per dataset")
    ap.add_argument("--short-calls", action="store_true",
                    help="instead: the time of one call on one row (N = 1) of fit(epochs=1, "
                         "batch_size=1) and predict on [2,2,1] and [8,32,32,1], beside a "
                         "PyTorch step and a JAX jit step (peers/short_calls.py)")
    ap.add_argument("--calls", type=int, default=2000,
                    help="--short-calls: timed calls per net, call and round (default 2000)")
    ap.add_argument("--busy", action="store_true",
                    help="keep one core busy (another process: while True: pass) during every "
                         "timed run; adds fastnn-1t (fit threads=1) to the contenders")
    ap.add_argument("--busy-compare", action="store_true",
                    help="time every contender both quiet and with one core busy, interleaved "
                         "in one run (conditions alternate by round): two tables")
    ap.add_argument("--workload", choices=("all", *ALL_WORKLOADS), default="all",
                    help="regress (MSE + SGD), classify (cross-entropy + Adam / momentum), "
                    "layers (norm, dropout, residual: issue 19's deep nets) or all (default: "
                    "the three tables)")
    ap.add_argument("--only", help="comma-separated grid points (" + ",".join(points) + ")")
    ap.add_argument("--point", action="append", default=[], metavar="NAME:SIZES:BATCH[:N[:OPT]]",
                    help="an architecture off the grid, e.g. odd:100,300,300,7:50 (repeatable; "
                    "without --only, only these points run). N defaults to ~3e8 multiply-adds "
                    "of forward pass per epoch. With OPT (sgd, momentum, adam), or under "
                    "--workload classify (OPT adam), a classification point")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--peers", default="all",
                    help="comma list of peers: torch (=torch-1t,torch-Nt), torch-1t, torch-Nt, "
                         "jax (=jax-jit,jax-scan), jax-jit, jax-scan, numpy, sklearn; 'all' "
                         "(default) or 'none'")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up measurement")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="BLAS/OpenMP/Numba/XLA threads (default: all cores = %(default)s)")
    ap.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    ap.add_argument("--stat", choices=("median", "best"), default="median",
                    help="which epoch time gives samples/s in the tables (default median)")
    ap.add_argument("--budget", type=float, default=3.0,
                    help="seconds of timed epochs per contender per grid point: no more rounds "
                         "once they add up to this (at least 1 round), and peers whose full "
                         "epoch would take over budget/2 are timed on a prefix (default "
                         "%(default)s)")
    ap.add_argument("--check-batches", type=int, default=32,
                    help="warm-up and correctness check train on the first this many batches")
    ap.add_argument("--run-timeout", type=float, default=90.0,
                    help="seconds before one timed epoch is abandoned (worker restarted)")
    ap.add_argument("--gap", type=float, default=0.25,
                    help="pause in seconds before each timed run (lets other pools go idle: "
                    "OpenBLAS's workers spin for ~0.1 s after a call, measured; default 0.25)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every grid point's N (rounded to whole batches)")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.threads < 1 or args.calls < 1:
        ap.error("--rounds, --threads and --calls must be >= 1")
    args.conditions = conditions(args.busy, args.busy_compare)
    torch_n = f"torch-{args.threads}t"
    peers = []
    for p in [s.strip() for s in args.peers.split(",") if s.strip()]:
        if p == "all":
            peers += ALL_PEERS
        elif p == "none":
            continue
        elif p in PEER_GROUPS:
            peers += PEER_GROUPS[p]
        elif p in ALL_PEERS or p == torch_n or (p.startswith("torch-") and p.endswith("t")
                                                 and p[6:-1].isdigit()):
            peers.append(p)
        else:
            ap.error(f"unknown peer {p!r}")
    peers = [torch_n if p == "torch-Nt" else p for p in peers]
    args.peer_list = list(dict.fromkeys(peers))
    # ("all": the float32 tables; bf16 needs a CPU with bf16 and MKL: --workload bf16)
    workloads = [w for w in ALL_WORKLOADS if w != "bf16"] if args.workload == "all" else [args.workload]
    grid = [p for w in workloads for p in ALL_WORKLOADS[w]] if not args.point or args.only else []
    if args.only:
        want = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [w for w in want if w not in points]
        if unknown:
            ap.error(f"unknown grid point(s) {unknown}; choose from {list(points)}")
        grid = [p for p in grid_points if p.name in want]
    for spec in args.point:
        try:
            name, sizes, batch, *rest = spec.split(":")
            n, opt = [*rest, "", ""][:2]
            sizes = [int(v) for v in sizes.split(",")]
            batch = int(batch)
            if len(sizes) < 2 or min(sizes) < 1 or batch < 1 or len(rest) > 2:
                raise ValueError
            macs = sum(a * b for a, b in zip(sizes, sizes[1:]))
            n = int(n) if n else max(16 * batch, min(1 << 20, int(3e8 / macs)) // batch * batch)
            if n < batch or opt not in ("", *OPTS):
                raise ValueError
        except ValueError:
            ap.error(f"--point {spec!r}: expected NAME:SIZES:BATCH[:N[:OPT]], e.g. "
                     "odd:100,300,300,7:50 or c:20,64,5:16::momentum")
        classify = bool(opt) or args.workload == "classify"
        grid.append(Point(name, sizes, batch, n, *(("ce", opt or "adam") if classify else ())))
    grid = [p._replace(n=max(p.batch, round(p.n * args.scale / p.batch) * p.batch))
            for p in grid]
    args.grids = {w: [p for p in grid if p.workload == w] for w in ALL_WORKLOADS}
    return args


def contender_names(workload, args):
    """fastnn (+ fastnn-sgd), [fastnn-1t on a busy machine], the peers, then the non-peers."""
    before, after = EXTRAS[workload]
    one = ["fastnn-1t"] if "busy" in args.conditions and args.threads > 1 else []
    peers = [p for p in args.peer_list if (workload != "layers" or p not in NO_LAYERS)
             and (workload != "bf16" or p.startswith(BF16_PEERS))]
    return before + one + peers + after


def main(argv=None):
    args = parse_args(argv)
    if args.estimators:
        from peers.estimators import run

        run(print, seeds=args.seeds, gap=args.gap)
        return 0
    busy = {"quiet": "", "busy": f"; {BUSY_LABEL} during every timed run",
            "quiet,busy": f"; every contender timed quiet and with {BUSY_LABEL}, the two "
                          "conditions interleaved (alternating by round)"}[",".join(args.conditions)]
    if args.short_calls:
        os.environ.update(thread_env(args.threads))
        from peers.short_calls import run_short_calls

        print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} "
              f"cores; threads={args.threads}{busy}", flush=True)
        res = run_short_calls(args, print)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1, default=float)
            print(f"wrote {args.json}")
        return 0
    # Thread caps must be in the environment before numpy / torch / jax are imported (here and
    # in every worker process, which inherits it).
    os.environ.update(thread_env(args.threads))
    import multiprocessing as mp

    import numpy as np  # noqa: F401  (after the environment is set)

    from peers.memory import run_bf16_memory, run_layers_memory, run_memory, run_optimizer_memory
    from peers.startup import run_startup
    from peers.worker import Worker

    t_start = time.perf_counter()
    lines = []

    def log(s=""):
        print(s, flush=True)
        lines.append(s)

    log(f"# fastnn vs peers: one training epoch (lr={LR}, float32, loss mean over batch, ReLU "
        "hidden, no shuffle); regress: MSE 1/2||y-yhat||^2, identity out, SGD; classify: "
        "softmax cross-entropy, Adam (0.9, 0.999, 1e-8) or SGD momentum 0.9; layers: "
        "Linear -> norm -> ReLU -> dropout -> skip per hidden layer")
    log(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"threads={args.threads}; rounds={args.rounds} (stat: {args.stat}); "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '<unset>')}{busy}")
    log(machine_line())
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            log(f"numpy BLAS: {info.get('internal_api')} {info.get('version')} "
                f"({info.get('architecture')}, {info.get('num_threads')} threads)")
            break
    except Exception:
        pass

    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        log(f"NOTE: the machine is busy (1-min load average {load:.1f} on {os.cpu_count()} "
            "cores). Multi-threaded BLAS/OpenMP runs (numpy, sklearn, GEMM floor, torch-Nt, "
            "fastnn with threads > 1) can then be many times slower than on an idle machine, "
            "and vary a lot between rounds; compare with --threads 1.")
    # the CPU's measured float32 FMA peak, before any worker starts: the "% peak" column
    from peers.peak import peak_gflops

    PEAK.update({1: peak_gflops(1), args.threads: peak_gflops(args.threads)})
    PEAK["threads"] = args.threads
    log(f"peak float32 FMA rate (peers/peak.py): {PEAK[1]:.1f} GFLOP/s on 1 thread, "
        f"{PEAK[args.threads]:.1f} GFLOP/s on {args.threads}")
    ctx = mp.get_context("spawn")
    names = {w: contender_names(w, args) for w, grid in args.grids.items() if grid}
    workers = [Worker(ctx, "training", nm, args.threads)
               for nm in dict.fromkeys(nm for ns in names.values() for nm in ns)]
    versions = {}
    for w in workers:
        status, payload = w.recv(600)
        w.status = "ready" if status == "ready" else status
        versions[w.name] = payload if status == "ready" else None
        if status == "ready":
            log(f"  {w.name:10s} {payload}")
        elif status == "skip":
            log(f"  {w.name:10s} skipped (not installed): {payload}")
        else:
            log(f"  {w.name:10s} FAILED to start:\n" + indent(payload))
    args.available = {w.name for w in workers if w.status == "ready"}

    results = {(w, c): [] for w in names for c in args.conditions}
    args.spinner = Spinner()
    try:
        with args.spinner:  # started under the first "busy" run, killed on any way out
            for workload, grid in args.grids.items():
                for point in grid:
                    t0 = time.perf_counter()
                    for res in bench_point(point, workers, names[workload], args, log):
                        res["wall_s"] = time.perf_counter() - t0
                        results[workload, res["condition"]].append(res)
                    log(f"  ({time.perf_counter() - t0:.0f} s for this grid point)")
    finally:
        for w in workers:
            w.close()

    startup = memory = opt_memory = layers_memory = bf16_memory = None
    if not args.no_startup:
        t0 = time.perf_counter()
        startup = run_startup(args, log)
        log(f"  ({time.perf_counter() - t0:.0f} s for the start-up measurements)")
    if not args.no_memory:
        t0 = time.perf_counter()
        if "regress" in names:
            memory = run_memory(args, log, next(p for p in REGRESS if p.name == "large"))
        if "classify" in names:
            opt_memory = run_optimizer_memory(args, log, next(p for p in CLASSIFY
                                                              if p.name == "mnist-adam"))
        if "layers" in names:
            layers_memory = run_layers_memory(args, log, args.grids["layers"])
        if "bf16" in names:
            bf16_memory = run_bf16_memory(args, log, next(p for p in BF16 if p.name == "large-bf16"))
        log(f"  ({time.perf_counter() - t0:.0f} s for the memory measurements)")

    for (workload, cond), res in results.items():
        log_table(log, workload, res, names[workload], versions, args, cond)
    log(f"\ntotal wall time {time.perf_counter() - t_start:.0f} s")

    if args.json:
        doc = {"lr": LR, "threads": args.threads, "rounds": args.rounds, "stat": args.stat,
               "python": platform.python_version(), "versions": versions,
               "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
               "conditions": args.conditions,
               # grid, classify: the first condition's; grid_busy, classify_busy: the other's
               **{("grid" if w == "regress" else w) + ("_" + c if c != args.conditions[0] else ""):
                  res for (w, c), res in results.items()},
               "startup": startup, "memory": memory, "optimizer_memory": opt_memory,
               "layers_memory": layers_memory, "bf16_memory": bf16_memory}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1, default=float)
        print(f"wrote {args.json}")
    return 0


def short_sizes(sizes):
    """[16,64,64,64,1] as "[16]+[64]*3+[1]" when a width repeats more than twice."""
    parts, i = [], 0
    while i < len(sizes):
        j = i
        while j < len(sizes) and sizes[j] == sizes[i]:
            j += 1
        parts.append(f"[{sizes[i]}]*{j - i}" if j - i > 2 else str(sizes[i:j]).replace(" ", ""))
        i = j
    return "+".join(parts) if len(parts) > 1 and any("*" in p for p in parts) else str(
        list(sizes)).replace(" ", "")


def peak_cell(res):
    """fastnn's and the best peer's share of the measured float32 FMA peak, "31% / 28%"."""
    pk = res.get("peak_fraction") or {}
    return " / ".join(f"{pk[k]:.0%}" if k in pk else "n/a" for k in ("fastnn", res["best_peer"]))


def log_table(log, workload, results, names, versions, args, cond):
    """The final Markdown table of one workload under one condition."""
    classify, layers, bf16 = workload == "classify", workload == "layers", workload == "bf16"
    one = "fastnn-1t" in names
    cols = [nm for nm in names if nm not in ("fastnn", "gemm-floor", "stream")]
    where = {"quiet": "quiet machine" if len(args.conditions) > 1 else "",
             "busy": BUSY_LABEL}[cond]
    log(f"\n## {workload} results{', ' + where if where else ''} (samples/s = samples "
        f"trained / {args.stat} epoch time; ratio = fastnn / best peer samples/s; "
        + ("fastnn/1t = fastnn / fastnn-1t (fit threads=1) samples/s; " if one else "") + (
            "opt/SGD = fastnn's epoch time over fastnn-sgd's; extra/pass = (t_fastnn - "
            "t_fastnn-sgd) per batch / one flat optimizer pass (target <= 1.5))\n" if classify
            else "options: LN/BN = layer/batch norm, dropN = dropout rate N, res = skips; "
            "opts/plain = fastnn's epoch time over fastnn-plain's, the same net without the "
            "options)\n"
            if layers else "fastnn precision='bf16' against PyTorch's bf16 autocast; bf16/f32 = "
            "fastnn bf16 over fastnn-f32 (the same fit in float32) samples/s)\n" if bf16
            else "GEMM floor fraction = floor time / fastnn time)\n")
        + ("" if bf16 else f"% peak: the products' GFLOP/s (6·Σ n_(k-1)·n_k − 2·n_0·n_1 flops per sample) over the "
           f"float32 FMA peak measured at the start on {PEAK.get('threads')} threads, "
           f"{PEAK.get(PEAK.get('threads'), float('nan')):.0f} GFLOP/s (peers/peak.py)\n"))
    head = (["name", "sizes", "batch"] + (["options"] if layers else [])
            + (["loss+opt"] if classify or layers or bf16 else [])
            + ["fastnn samples/s", "best peer (samples/s)", "ratio"]
            + ([] if bf16 else ["% peak (fastnn / best peer)"])
            + (["fastnn/1t"] if one else [])
            + (["opt/SGD", "extra/pass"] if classify else ["opts/plain"] if layers
               else ["bf16/f32"] if bf16 else ["GEMM floor fraction"])
            + cols + ["N"])
    log("| " + " | ".join(head) + " |")
    log("|" + "|".join("---" for _ in head) + "|")
    for res in results:
        c = res["contenders"]

        def cell(nm, c=c):
            if nm not in c:
                return "skipped" if versions.get(nm) is None else "n/a"
            if "samples_per_s" not in c[nm]:
                return "failed"
            return fmt_rate(c[nm]["samples_per_s"]) + ("†" if c[nm]["partial"] else "")

        best = res["best_peer"]
        row = ([res["name"], short_sizes(res["sizes"]), str(res["batch"])]
               + ([res["options"]] if layers else [])
               + ([f"{'CE' if res['loss'] == 'ce' else 'MSE'}+{res['opt']}"] if classify or layers or bf16
                  else [])
               + [cell("fastnn"), f"{best} ({cell(best)})" if best else "n/a",
                  fmt_num(res["ratio"], suffix="x")] + ([] if bf16 else [peak_cell(res)])
               + ([fmt_num(res["ratio_1t"], suffix="x")] if one else [])
               + ([fmt_num(res["opt_ratio"]), fmt_num(res["extra_per_pass"])] if classify
                  else [fmt_num(res["plain_ratio"])] if layers
                  else [fmt_num(res["bf16_speedup"], suffix="x")] if bf16 else [fmt_num(res["floor_fraction"])])
               + [cell(p) for p in cols] + [str(res["n"])])
        log("| " + " | ".join(row) + " |")
    if any(e.get("partial") for res in results for e in res["contenders"].values()):
        log("\n† timed on the first samples of the epoch only (a full epoch would exceed "
            "--budget/2 seconds); samples/s is still samples trained / time")


if __name__ == "__main__":
    sys.exit(main())
