#!/usr/bin/env python
"""Benchmark prediction: fastnn's predict and predictor() versus ONNX Runtime, PyTorch, JAX,
scikit-learn and NumPy on the training grid's nets.

Every contender runs the same float32 MLP (ReLU hidden layers, identity output, the weights of
peers/common.make_init) on the same standard-normal float32 C-contiguous rows and returns a
NumPy array (peers/inference.py says exactly what each one calls). Two settings:

  latency     one row per call: median and p99 of --calls (10,000) calls, each timed alone
              with perf_counter_ns; a contender stops early (noted) once its calls add up to
              --budget seconds;
  throughput  --rows (100,000; `large`: 10,000) rows in one call, and in calls of --chunk (256)
              rows: samples/s = rows / median time over the rounds.

Each contender lives in its own worker process (thread pools don't interfere) with every pool
capped at --threads (default: all cores); fastnn also runs with BLAS held to one thread (-1t),
torch with 1 and with --threads threads, ONNX Runtime with default SessionOptions (which pick
their own thread count) and with intra_op_num_threads=1. Set-up (build, compile,
the check, and one untimed call of every shape that is timed) is excluded. Contenders run in
interleaved rounds (each round runs every contender once, rotated, each run after a --gap
pause so another library's spinning threads go idle); a round makes 1/--rounds of the latency
calls and one run of each throughput setting; each setting stops once its timed runs add up
to --budget seconds (at least one round).

A busy machine (issue 13): --busy keeps one core busy during every timed run (a separate
process spinning ``while True: pass``, peers/busy.py; killed on any exit, and it dies with this
script); --busy-compare times every contender both quiet and busy in one run, the conditions
interleaved (each round runs every contender under each condition, their order alternating by
round): a quiet and a busy set of tables. The "X/-1t" columns compare fastnn's calls with the
same calls with BLAS held to one thread (target on a busy machine: never slower).

Check: each contender's outputs on 256 rows and on one row against a float64 NumPy forward
pass: relative difference ||y - y_ref|| / ||y_ref||, the larger of the two; > 1e-4 is flagged
MISMATCH (float32 rounding gives ~1e-7).

Memory (unless --no-memory): peak RSS growth of one predict and one predictor() call on
--memory-rows (10^6) rows of `mnist` in a fresh process, against output + buffer block.

    python scripts/bench_inference.py                 # full run (~9 min on 2 busy cores)
    python scripts/bench_inference.py --quick --only small,mnist --peers ort,torch
    python scripts/bench_inference.py --json /tmp/inference.json
    python scripts/bench_inference.py --quick --only small,mnist --busy-compare --no-memory

Peers are optional; one whose import fails is reported as "skipped (not installed)". The ONNX
Runtime contenders need fastnn.export.to_onnx and the onnx package.
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
from peers.common import fmt_bytes, fmt_num, fmt_rate, indent, machine_line, n_params, thread_env, torch_threads

SHAPES = {  # name -> (sizes, rows of the throughput setting)
    "seed": ([2, 2, 1], 100_000),
    "small": ([8, 32, 32, 1], 100_000),
    "medium": ([64, 256, 256, 10], 100_000),
    "mnist": ([784, 512, 256, 10], 100_000),
    "deep": ([16] + [64] * 8 + [1], 100_000),
    "large": ([784, 2048, 2048, 10], 10_000),  # 5.8M multiply-adds a row: ~0.5-2 s a call
}
# -1t: BLAS held to one thread (dropped under --threads 1)
FASTNN = ["fastnn", "fastnn-predictor", "fastnn-1t", "fastnn-predictor-1t", "fastnn-team"]
FASTNN_BLAS = FASTNN[:2]  # the calls with BLAS's own threads, compared with their -1t twins
PEER_GROUPS = {"torch": ["torch-1t", "torch-Nt"], "ort": ["ort", "ort-1t"]}
ALL_PEERS = ["ort", "ort-1t", "torch-1t", "torch-Nt", "jax-jit", "sklearn", "numpy"]
MISMATCH = 1e-4
QUICK = {"rounds": 2, "calls": 1_000, "rows": 10_000, "memory_rows": 100_000}
SETTINGS = ("one", "chunked")  # throughput: all rows in one call, in calls of --chunk rows


# ---------------------------------------------------------------------------- benchmark
def bench_shape(name, workers, args, log):
    import numpy as np

    from peers.inference import CHECK_ROWS, inputs, reference

    sizes, rows = SHAPES[name]
    rows = min(rows, args.rows)
    log(f"\n## {name}: sizes={sizes} ({n_params(sizes)} params); latency: 1 row/call; "
        f"throughput: {rows} rows, in 1 call and in calls of {args.chunk}")
    res = {"name": name, "sizes": sizes, "n_params": n_params(sizes), "rows": rows,
           "chunk": args.chunk, "contenders": {}, "loadavg": [os.getloadavg()[0]]}
    Xc = inputs(sizes[0], CHECK_ROWS, seed=5)
    refs = [reference(sizes, Xc), reference(sizes, Xc[:1])]
    ready = [w for w in workers if w.status == "ready"]
    for w in ready:  # build, compile, check, warm up: all workers at once, not timed
        w.send("setup", sizes, rows, args.chunk)
    active = []
    for w in ready:
        status, payload = w.recv()
        if status == "timeout":
            w.restart()
        if status != "ok":
            res["contenders"][w.name] = {"error": payload}
            log(f"  {w.name}: FAILED in setup:\n" + indent(payload))
            continue
        check = max(float(np.linalg.norm(y - r) / np.linalg.norm(r))
                    for y, r in zip(payload["value"], refs))
        res["contenders"][w.name] = {"setup_s": payload["setup_s"], "check": check}
        active.append(w)

    def run(w, e, *msg):
        w.send(*msg)
        status, payload = w.recv(args.run_timeout)
        if status == "timeout":
            w.restart()
        if status != "ok":
            e["error"] = payload
            log(f"  {w.name}: FAILED in a timed run:\n" + indent(payload))
            return None
        return payload

    # Each round: every condition (quiet, busy: one core kept busy), and under each every
    # contender once, in a rotated order, after a pause (another library's spinning threads go
    # idle); it makes its share of the latency calls, then one run of each throughput setting.
    # A setting whose timed runs add up to --budget seconds stops there.
    out = {c: {**res, "condition": c, "contenders": {
        k: {**e, "latency_ns": [], **{s: [] for s in SETTINGS}} if "check" in e else dict(e)
        for k, e in res["contenders"].items()}} for c in args.conditions}
    share = -(-args.calls // args.rounds)
    for _, cond, w in interleaved(args.rounds, args.conditions, active, args.spinner):
        e = out[cond]["contenders"][w.name]
        time.sleep(args.gap)
        spent = {"latency_ns": sum(e["latency_ns"]) / 1e9, "one": sum(e["one"]),
                 "chunked": sum(e["chunked"])}
        left = args.calls - len(e["latency_ns"])  # latency calls still to make
        jobs = [("latency_ns", ("latency", min(share, left)))] if left else []
        jobs += [("one", ("throughput", rows, None)),
                 ("chunked", ("throughput", rows, args.chunk))]
        for what, msg in jobs:
            if "error" in e or spent[what] >= args.budget:
                continue
            ran = run(w, e, *msg)
            if ran is not None:
                e[what] += list(ran) if what == "latency_ns" else [ran]
    load1 = os.getloadavg()[0]
    for one in out.values():
        one["loadavg"] = [res["loadavg"][0], load1]
        finish(one, rows, args, log, len(out) > 1)
    return list(out.values())


def finish(res, rows, args, log, label):
    """Medians, ratios and the log lines of one net under one condition."""
    import numpy as np

    for e in res["contenders"].values():
        if e.get("latency_ns"):
            ns = np.array(e.pop("latency_ns"))
            e["latency_calls"] = len(ns)
            e["latency_median_us"] = float(np.median(ns)) / 1e3
            e["latency_p99_us"] = float(np.percentile(ns, 99)) / 1e3
        for s in SETTINGS:
            if e.get(s):
                e[s + "_samples_per_s"] = rows / statistics.median(e[s])
    summarize(res)
    if label:
        log(f"  [{res['condition']}]")
    for cname, e in res["contenders"].items():
        if "check" not in e:
            continue
        flag = "  <-- MISMATCH" if not e["check"] <= MISMATCH else ""
        n_calls = e.get("latency_calls", args.calls)
        few = f" ({n_calls} calls)" if n_calls < args.calls else ""
        log(f"  {cname:19s} latency median {fmt_num(e.get('latency_median_us'), '8.2f')} us  "
            f"p99 {fmt_num(e.get('latency_p99_us'), '8.1f')} us{few}   throughput "
            f"{fmt_rate(e.get('one_samples_per_s')):>6s}/s (1 call), "
            f"{fmt_rate(e.get('chunked_samples_per_s')):>6s}/s (calls of {args.chunk})   "
            f"[rounds {len(e['one'])}/{len(e['chunked'])}; setup {e['setup_s']:.1f} s]"
            f"  diff {e['check']:.1e}{flag}")
    log(f"  -> latency: best peer {res['latency_best'] or 'n/a'}; fastnn/best: "
        + ", ".join(f"{f} {fmt_num(x, suffix='x')}" for f, x in res["latency_ratio"].items())
        + f"   [1-min load {res['loadavg'][0]:.1f} -> {res['loadavg'][1]:.1f} on "
        f"{os.cpu_count()} cores]")


def summarize(res):
    """Best peer and fastnn/best ratios (latency: time ratio, lower is better; throughput:
    samples/s ratio, higher is better) into res."""
    c = res["contenders"]
    peers = {k: v for k, v in c.items() if not k.startswith("fastnn")}

    def best(key, pick):
        have = {k: v[key] for k, v in peers.items() if key in v}
        return pick(have, key=have.get) if have else None

    def ratios(key, b):
        return {f: c[f][key] / c[b][key] if b and key in c.get(f, {}) else None
                for f in c if f.startswith("fastnn")}

    def vs_1t(key):  # fastnn[-predictor] over the same call with BLAS held to one thread
        return {f: c[f][key] / c[f + "-1t"][key] if key in c.get(f, {}) and key in c.get(
            f + "-1t", {}) else None for f in FASTNN_BLAS}

    res["latency_best"] = best("latency_median_us", min)
    res["latency_ratio"] = ratios("latency_median_us", res["latency_best"])
    res["latency_vs_1t"] = vs_1t("latency_median_us")
    for s in SETTINGS:
        key = s + "_samples_per_s"
        res[s + "_best"] = best(key, max)
        res[s + "_ratio"] = ratios(key, res[s + "_best"])
        res[s + "_vs_1t"] = vs_1t(key)


# ---------------------------------------------------------------------------- tables
def log_tables(log, results, names, versions, args, cond):
    fastnn = [n for n in names if n.startswith("fastnn")]
    peers = [n for n in names if n not in fastnn]
    one = [f for f in FASTNN_BLAS if f + "-1t" in names]  # the "vs -1t" columns
    where = {"quiet": "quiet machine; " if len(args.conditions) > 1 else "",
             "busy": BUSY_LABEL + "; "}[cond]

    def missing(nm, e):
        return ("skipped" if versions.get(nm) is None else
                "failed" if e is None or "error" in e else "n/a")

    def table(head, rows):
        log("| " + " | ".join(head) + " |")
        log("|" + "|".join("---" for _ in head) + "|")
        for row in rows:
            log("| " + " | ".join(row) + " |")

    def lat(e):
        return f"{e['latency_median_us']:.2f} ({e['latency_p99_us']:.1f})" + (
            "*" if e["latency_calls"] < args.calls else "")

    log(f"\n## latency, {where}one row per call, median µs (p99 µs) of {args.calls} calls (* "
        f"fewer: capped at --budget {args.budget:g} s of calls); fastnn cells: [fastnn median / "
        "best peer's median] (target <= 1, and <= 5 µs under 10k parameters)"
        + ("; X/-1t: X's median / X-1t's (BLAS held to one thread; target <= 1)" if one else "")
        + "\n")
    rows = []
    for res in results:
        c = res["contenders"]

        def cell(nm, c=c):
            e = c.get(nm)
            return lat(e) if e and "latency_median_us" in e else missing(nm, e)

        b = res["latency_best"]
        rows.append([res["name"], str(res["n_params"])]
                    + [f"{cell(f)} [{fmt_num(res['latency_ratio'].get(f), suffix='x')}]"
                       for f in fastnn]
                    + [fmt_num(res["latency_vs_1t"][f], suffix="x") for f in one]
                    + [f"{b} {cell(b)}" if b else "n/a"] + [cell(p) for p in peers])
    table(["net", "params"] + fastnn + [f"{f}/-1t" for f in one] + ["best peer"] + peers, rows)

    log(f"\n## throughput, {where}samples/s (rows / median time of the rounds), all rows in "
        f"one call and in calls of {args.chunk} rows; fastnn cells: [fastnn / best peer] "
        "(target >= 1)" + ("; X/-1t: X's samples/s / X-1t's (BLAS held to one thread; target "
                           ">= 1)" if one else "") + "\n")
    rows = []
    for res in results:
        c = res["contenders"]
        for s in SETTINGS:
            key = s + "_samples_per_s"

            def cell(nm, c=c, key=key):
                e = c.get(nm)
                return fmt_rate(e[key]) if e and key in e else missing(nm, e)

            b = res[s + "_best"]
            rows.append([res["name"], str(res["rows"] if s == "one" else res["chunk"])]
                        + [f"{cell(f)} [{fmt_num(res[s + '_ratio'].get(f), suffix='x')}]"
                           for f in fastnn]
                        + [fmt_num(res[s + "_vs_1t"][f], suffix="x") for f in one]
                        + [f"{b} {cell(b)}" if b else "n/a"] + [cell(p) for p in peers])
    table(["net", "rows per call"] + fastnn + [f"{f}/-1t" for f in one] + ["best peer"] + peers,
          rows)

    if cond != args.conditions[-1]:
        return  # the check does not depend on the condition: once
    log(f"\n## agreement: ||y - y_ref|| / ||y_ref|| against a float64 NumPy forward pass, on "
        f"256 rows and on one row (the larger); > {MISMATCH:g} is a MISMATCH\n")
    rows = []
    for res in results:
        c = res["contenders"]
        rows.append([res["name"]] + [
            missing(nm, c.get(nm)) if "check" not in c.get(nm, {}) else
            f"{c[nm]['check']:.1e}" + (" MISMATCH" if not c[nm]["check"] <= MISMATCH else "")
            for nm in names])
    table(["net", *names], rows)


# ---------------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated nets (" + ",".join(SHAPES) + ")")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--peers", default="all",
                    help="comma list: ort (=ort,ort-1t), ort-1t, torch (=torch-1t,torch-Nt), "
                         "torch-1t, torch-Nt, jax-jit, sklearn, numpy; 'all' (default) or 'none'")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="thread cap of every pool (default: all cores = %(default)s)")
    ap.add_argument("--calls", type=int, default=10_000, help="latency calls (default 10,000)")
    ap.add_argument("--rows", type=int, default=100_000,
                    help="throughput rows (default 100,000; large is capped at 10,000)")
    ap.add_argument("--chunk", type=int, default=256, help="rows per call of the chunked "
                    "throughput setting (default 256)")
    ap.add_argument("--budget", type=float, default=2.0,
                    help="seconds per contender, net and setting: caps latency calls and "
                         "throughput rounds (default %(default)s)")
    ap.add_argument("--gap", type=float, default=0.25,
                    help="pause in seconds before each timed run (default 0.25, as bench_peers)")
    ap.add_argument("--run-timeout", type=float, default=120.0,
                    help="seconds before one timed run is abandoned (worker restarted)")
    ap.add_argument("--quick", action="store_true",
                    help="2 rounds, 1,000 calls, 10,000 rows, memory on 10^5 rows (unless given)")
    ap.add_argument("--memory-rows", type=int, default=1_000_000,
                    help="rows of the memory measurement on mnist (default 10^6)")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    ap.add_argument("--busy", action="store_true",
                    help="keep one core busy (another process: while True: pass) during every "
                         "timed run")
    ap.add_argument("--busy-compare", action="store_true",
                    help="time every contender both quiet and with one core busy, interleaved "
                         "in one run (conditions alternate by round): two sets of tables")
    ap.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    args = ap.parse_args(argv)
    for key, value in QUICK.items():  # --quick changes the options left at their defaults
        if args.quick and getattr(args, key) == ap.get_default(key):
            setattr(args, key, value)
    if min(args.rounds, args.threads, args.calls, args.rows, args.chunk) < 1:
        ap.error("--rounds, --threads, --calls, --rows and --chunk must be >= 1")
    args.conditions = conditions(args.busy, args.busy_compare)
    args.shapes = list(SHAPES)
    if args.only:
        args.shapes = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in args.shapes if s not in SHAPES]
        if unknown:
            ap.error(f"unknown net(s) {unknown}; choose from {list(SHAPES)}")
    peers = []
    for p in [s.strip() for s in args.peers.split(",") if s.strip()]:
        if p == "all":
            peers += ALL_PEERS
        elif p in PEER_GROUPS:
            peers += PEER_GROUPS[p]
        elif p in ALL_PEERS or torch_threads(p):
            peers.append(p)
        elif p != "none":
            ap.error(f"unknown peer {p!r}")
    torch_n = f"torch-{args.threads}t"
    args.peer_list = list(dict.fromkeys(torch_n if p == "torch-Nt" else p for p in peers))
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ.update(thread_env(args.threads))  # before numpy and every worker load
    import multiprocessing as mp

    from peers.predict_memory import run_predict_memory
    from peers.worker import Worker

    t_start = time.perf_counter()

    def log(s=""):
        print(s, flush=True)

    log("# fastnn vs peers: prediction (float32, ReLU hidden, identity output, same weights)")
    log(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"threads={args.threads}; rounds={args.rounds}; calls={args.calls}; gap={args.gap} s"
        + {"quiet": "", "busy": f"; {BUSY_LABEL} during every timed run",
           "quiet,busy": f"; every contender timed quiet and with {BUSY_LABEL}, the two "
                         "conditions interleaved (alternating by round)"}[",".join(args.conditions)])
    log(machine_line())
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        log(f"NOTE: the machine is busy (1-min load average {load:.1f} on {os.cpu_count()} "
            "cores): multi-threaded runs and p99 latencies suffer most.")
    ctx = mp.get_context("spawn")
    names = (FASTNN[:2] if args.threads == 1 else FASTNN) + args.peer_list
    workers = [Worker(ctx, "inference", nm, args.threads) for nm in names]
    versions = {}
    for w in workers:
        status, payload = w.recv(600)
        w.status = "ready" if status == "ready" else status
        versions[w.name] = payload if status == "ready" else None
        log(f"  {w.name:19s} " + (payload if status == "ready" else
                                     f"skipped (not installed): {payload}" if status == "skip"
                                     else "FAILED to start:\n" + indent(payload)))
    results = {c: [] for c in args.conditions}
    args.spinner = Spinner()
    try:
        with args.spinner:  # started under the first "busy" run, killed on any way out
            for name in args.shapes:
                t0 = time.perf_counter()
                for res in bench_shape(name, workers, args, log):
                    res["wall_s"] = time.perf_counter() - t0
                    results[res["condition"]].append(res)
                log(f"  ({time.perf_counter() - t0:.0f} s for this net)")
    finally:
        for w in workers:
            w.close()
    memory = None
    if not args.no_memory and versions.get("fastnn"):
        memory = run_predict_memory(SHAPES["mnist"][0], args.memory_rows, args.threads, log)
    for cond, res in results.items():
        log_tables(log, res, names, versions, args, cond)
    if memory:
        log(f"\nMemory, one call on {args.memory_rows} rows of mnist in a fresh process: "
            + "; ".join(f"{how}: peak RSS +{fmt_bytes(m['rss_peak'])} for an output of "
                        f"{fmt_bytes(m['out_bytes'])} ({m['rss_peak'] / m['out_bytes']:.2f}x)"
                        for how, m in memory.items() if "rss_peak" in m))
    log(f"\ntotal wall time {time.perf_counter() - t_start:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "rounds": args.rounds, "calls": args.calls,
                       "python": platform.python_version(), "versions": versions,
                       "conditions": args.conditions, "nets": results[args.conditions[0]],
                       # "nets_busy": under --busy-compare, the busy condition's
                       **{"nets_" + c: r for c, r in results.items() if c != args.conditions[0]},
                       "memory": memory}, f, indent=1, default=float)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
