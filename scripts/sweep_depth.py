#!/usr/bin/env python
"""Sweep network depth x hidden activation x seed with fastnn, locally or on a Dask cluster.

Each run builds Network([n_0] + [width] * depth + [n_out]) with ``activation`` in the hidden
layers and identity at the output, trains it with minibatch SGD, and records the time per epoch,
the final train/validation loss (and accuracy on digits), the parameter count, and the per-layer
gradient norms ||dL/dW^[k]|| at initialisation and at the end of training.

    python scripts/sweep_depth.py --depths 1,2,4,8 --activations relu,tanh,sigmoid \\
        --width 32 --seeds 0,1,2 --epochs 50 --out sweep_out
    python scripts/sweep_depth.py --depths 2,8,32 --activations relu,sigmoid \\
        --norms none,layer --residual off,on --optimizer adam --lr 0.001 --out sweep_kinds
    python scripts/sweep_depth.py ... --scheduler tcp://HOST:8786     # on a Dask cluster

Output in --out: results.csv (one row per finished run of this sweep), metadata.json (machine,
versions, arguments), loss_vs_depth.png, time_vs_depth.png, grad_norms.png, and runs/ (one JSON
file per finished run). --norms, --residual and --dropouts make the kind of net an axis too
(results.csv then gains the columns norm, residual, dropout and optimizer, and the plots draw
one line per kind of net, plus grad_ratio.png). Running the same command again skips the runs already in runs/.
Exit status: 0 done, 1 a run failed or the scheduler could not be used, 2 bad arguments,
130 interrupted (finished runs are kept).
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import _sweep_worker as W  # noqa: E402  (standard library only at import time)

PROG = "sweep_depth"
SCHEMA = 1  # bump when a run's meaning changes: old run files then no longer count as done
CSV_NAME, META_NAME, RUNS_DIR = "results.csv", "metadata.json", "runs"
NORMS, RESIDUAL = ("none", "layer", "batch"), ("off", "on")


class UsageError(Exception):
    """Bad arguments: exit status 2."""


class RunError(Exception):
    """The sweep could not run (scheduler, failed runs): exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block
        raise UsageError(message)


def _int_list(what, minimum):
    def parse(text):
        out = []
        for part in str(text).split(","):
            part = part.strip()
            try:
                n = int(part)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"{what} must be comma-separated integers, got {part!r}") from None
            if n < minimum:
                raise argparse.ArgumentTypeError(f"{what} must be >= {minimum}, got {n}")
            if n not in out:
                out.append(n)
        return out
    return parse


def _name_list(text):
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    if not out:
        raise argparse.ArgumentTypeError("give at least one name")
    return out


def _positive(kind):
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not (v > 0 and math.isfinite(v)):
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return v
    return parse


def _nonnegative(text):
    try:
        v = int(text)
    except ValueError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return v


def _choice_list(what, choices):
    def parse(text):
        out = _name_list(text)
        bad = [c for c in out if c not in choices]
        if bad:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {bad[0]!r}; choose from {', '.join(choices)}")
        return out
    return parse


def _rate_list(text):
    out = []
    for part in str(text).split(","):
        try:
            v = float(part)
        except ValueError:
            v = math.nan
        if not 0 <= v < 1:
            raise argparse.ArgumentTypeError(f"dropout rates must be in [0, 1), got {part.strip()!r}")
        if v not in out:
            out.append(v)
    return out


def _fraction(text):
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text!r}")
    return v


def build_parser():
    p = _Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--depths", type=_int_list("depths", 0), default=[1, 2, 4, 8],
                   help="numbers of hidden layers, e.g. 1,2,4,8 (0 = a linear model)")
    p.add_argument("--activations", type=_name_list, default=["relu", "tanh", "sigmoid"],
                   help="activation of the hidden layers, e.g. relu,tanh,sigmoid")
    p.add_argument("--norms", type=_choice_list("norm", NORMS), default=None,
                   help="normalization of the hidden layers, an axis: e.g. none,layer,batch "
                        "(default: none, and no norm/residual/dropout columns)")
    p.add_argument("--residual", type=_choice_list("residual setting", RESIDUAL), default=None,
                   help="identity skips on every hidden layer of the width of its input (all "
                        "but the first), an axis: off, on or off,on (default: off)")
    p.add_argument("--dropouts", type=_rate_list, default=None,
                   help="dropout rates of the hidden layers, an axis: e.g. 0,0.1 (default: 0)")
    p.add_argument("--width", type=_positive(int), default=32, help="width of every hidden layer")
    p.add_argument("--seeds", type=_int_list("seeds", 0), default=[0, 1, 2],
                   help="random seeds (weights and shuffling), e.g. 0,1,2")
    p.add_argument("--dataset", choices=["kinked", "digits"], default="kinked",
                   help="kinked: fastnn's 1-D kinked regression; digits: scikit-learn's 8x8 "
                        "digits, one-hot targets (needs scikit-learn)")
    p.add_argument("--n-samples", type=_positive(int), default=1024,
                   help="samples of the kinked dataset (default 1024)")
    p.add_argument("--val-fraction", type=_fraction, default=0.2,
                   help="share of the data held out for validation (default 0.2)")
    p.add_argument("--data-seed", type=_nonnegative, default=0,
                   help="seed of the data and of the train/validation split (default 0)")
    p.add_argument("--epochs", type=_positive(int), default=50)
    p.add_argument("--batch-size", type=_positive(int), default=32)
    p.add_argument("--lr", type=_positive(float), default=0.01)
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help="sgd (the default), adam, adamw or rmsprop (fastnn.OPTIMIZERS)")
    p.add_argument("--grad-samples", type=_positive(int), default=256,
                   help="training rows (the first ones) on which gradient norms are measured")
    p.add_argument("--out", default="sweep_out", help="output folder (default sweep_out)")
    p.add_argument("--workers", type=_positive(int), default=None,
                   help="local worker processes (default: the number of cores)")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run on this existing Dask distributed scheduler instead")
    p.add_argument("--connect-timeout", type=_positive(float), default=10.0,
                   help="seconds to wait for the scheduler and its first worker (default 10)")
    p.add_argument("--profile-depth", type=_positive(int), default=None,
                   help="with kinds of net: the depth whose per-layer gradient norms "
                        "grad_norms.png draws (default: the deepest swept depth up to 32)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


# ----------------------------------------------------------------------------- small helpers
def _say(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _now():
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _atomic_write(path, write):
    """``write(f)`` into a new ``.<hex>.tmp`` file in path's folder, then renamed over path: a
    reader, or a resumed sweep, sees the old file or the new one, never half of one. (No fsync:
    a run file that a power cut leaves unreadable is done again, see ``load_done``.)"""
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "x", newline="") as f:  # permissions 0o666 less the umask, as open("w")
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_json(path, obj):
    _atomic_write(path, lambda f: json.dump(obj, f, indent=1, default=str))


def write_csv(path, rows, columns=W.COLUMNS):
    def write(f):
        w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: r[c] for c in columns})
    _atomic_write(path, write)


def check_out(out):
    """Create --out and runs/ and prove they can be written, or raise UsageError."""
    try:
        for d in (out, os.path.join(out, RUNS_DIR)):
            os.makedirs(d, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=d, prefix=".probe-")
            os.close(fd)
            os.unlink(probe)
    except OSError as e:
        raise UsageError(f"argument --out: cannot write to {out!r} ({e.strerror or e})") from None
    runs = os.path.join(out, RUNS_DIR)
    for name in os.listdir(runs):  # temporary files of an interrupted write
        if name.startswith(".") and name.endswith(".tmp"):
            try:
                os.unlink(os.path.join(runs, name))
            except OSError:
                pass


# ----------------------------------------------------------------------------- data and grid
def load_data(args):
    """The sweep's data as float32 arrays with a seeded train/validation split."""
    import numpy as np

    seed = args.data_seed
    if args.dataset == "kinked":
        from fastnn.datasets import kinked

        X, Y = kinked(n_samples=args.n_samples, seed=seed)
        task = "regression"
    else:
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise UsageError("argument --dataset: digits needs scikit-learn "
                             "(pip install scikit-learn)") from None
        d = load_digits()
        X = d.data / 16.0
        Y = np.eye(10)[d.target]
        task = "classification"
    X = np.ascontiguousarray(X, dtype=np.float32)
    Y = np.ascontiguousarray(Y, dtype=np.float32).reshape(len(X), -1)
    if len(X) < 2:
        raise UsageError("argument --n-samples: need at least 2 samples")
    perm = np.random.default_rng(seed).permutation(len(X))
    n_val = min(len(X) - 1, max(1, round(len(X) * args.val_fraction)))
    va, tr = perm[:n_val], perm[n_val:]
    digest = hashlib.sha1(X.tobytes() + Y.tobytes() + perm.tobytes()).hexdigest()[:12]
    return {"name": args.dataset, "task": task, "digest": digest,
            "X_train": X[tr], "Y_train": Y[tr], "X_val": X[va], "Y_val": Y[va]}


def extended(args):
    """Whether the sweep uses the newer settings: norm, residual or dropout as an axis, or an
    optimizer. Without them a sweep's specs, keys, rows and plots are those of before."""
    return any(v is not None for v in (args.norms, args.residual, args.dropouts, args.optimizer))


def columns(args):
    return W.EXTENDED_COLUMNS if extended(args) else W.COLUMNS


def config_hash(args, data):
    """Everything besides depth, activation, seed (and the kind of net) that changes a run's
    result."""
    cfg = {"schema": SCHEMA, "dataset": args.dataset, "data": data["digest"],
           "n_val": len(data["X_val"]),
           "width": args.width, "epochs": args.epochs, "batch_size": args.batch_size,
           "lr": args.lr, "grad_samples": args.grad_samples, "dtype": "float32"}
    if args.optimizer is not None:  # absent for plain SGD, so older runs keep their keys
        cfg["optimizer"] = args.optimizer
    return hashlib.sha1(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:10]


def kinds(args):
    """The kinds of net swept: (norm, residual, dropout) triples, in the arguments' order."""
    return [(n, r == "on", p) for n in (args.norms or ["none"]) for r in (args.residual or ["off"])
            for p in (args.dropouts or [0.0])]


def can_skip(depth, n_0, width):
    """Whether residual=True finds a layer to put a skip on: hidden layer 1 maps n_0 to width,
    the others width to width."""
    return depth >= 2 or (depth == 1 and n_0 == width)


def make_grid(args, cfg, n_0=None):
    """The runs of the sweep; with kinds of net, a residual kind at a depth with no hidden layer
    of its input's width (depth 0, or 1 when n_0 != width) is left out (see ``skipped``)."""
    grid = []
    for depth in args.depths:
        for act in args.activations:
            if not extended(args):
                for seed in args.seeds:
                    grid.append({"key": f"d{depth}-{act}-s{seed}-{cfg}", "depth": depth,
                                 "activation": act, "seed": seed, "width": args.width,
                                 "epochs": args.epochs, "batch_size": args.batch_size,
                                 "lr": args.lr, "grad_samples": args.grad_samples})
                continue
            for norm, res, rate in kinds(args):
                if res and not can_skip(depth, n_0, args.width):
                    continue
                kind = f"{norm}-{'res' if res else 'nores'}-p{rate:g}"
                for seed in args.seeds:
                    grid.append({"key": f"d{depth}-{act}-{kind}-s{seed}-{cfg}", "depth": depth,
                                 "activation": act, "norm": norm, "residual": res,
                                 "dropout": rate, "seed": seed, "width": args.width,
                                 "epochs": args.epochs, "batch_size": args.batch_size,
                                 "lr": args.lr, "optimizer": args.optimizer or "sgd",
                                 "grad_samples": args.grad_samples})
    return grid


def skipped(args, n_0):
    """The (depth, kind) pairs make_grid leaves out: residual kinds too shallow for a skip."""
    if not extended(args):
        return []
    return [d for d in args.depths if not can_skip(d, n_0, args.width)
            and any(r for _, r, _ in kinds(args))]


def load_done(runs_dir, grid, cols=W.COLUMNS):
    """The finished runs of this grid: key -> stored result."""
    done = {}
    for spec in grid:
        path = os.path.join(runs_dir, spec["key"] + ".json")
        if not os.path.exists(path):
            continue
        try:
            with open(path) as f:
                res = json.load(f)
            if set(cols) <= set(res["row"]):
                done[spec["key"]] = res
                continue
        except (OSError, ValueError, KeyError, TypeError):
            pass
        _say(f"warning: {path} is unreadable; that run will be done again")
    return done


# ----------------------------------------------------------------------------- metadata
def _versions():
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("fastnn", "numpy", "numba", "scipy", "tqdm", "dask", "distributed",
                 "cloudpickle", "matplotlib", "scikit-learn"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    try:
        out["script_git"] = subprocess.run(
            ["git", "-C", HERE, "describe", "--always", "--dirty"], capture_output=True,
            text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        out["script_git"] = None
    return out


def _machine():
    return {"hostname": socket.gethostname(), "platform": platform.platform(),
            "machine": platform.machine(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "usable_cores": _cores()}


# ----------------------------------------------------------------------------- executors
class _ByValue:
    """Stands for ``fn`` in a Dask task graph and unpickles to ``fn`` itself, shipped by value
    with cloudpickle: the scheduler and the workers need neither this script nor its helper
    module on their path, only cloudpickle (a Dask dependency) and, to run it, fastnn."""

    def __init__(self, fn, module):
        import cloudpickle

        self.fn = fn
        cloudpickle.register_pickle_by_value(module)
        try:
            self.blob = cloudpickle.dumps(fn)
        finally:
            cloudpickle.unregister_pickle_by_value(module)

    def __reduce__(self):
        import cloudpickle

        return (cloudpickle.loads, (self.blob,))

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)


_ADDRESS = re.compile(r"^((tcp|tls|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[^/:\[\]\s]+):\d{1,5}/?$")


def connect(address, timeout):
    """A Client of a running Dask scheduler with at least one worker that can import fastnn."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise UsageError("argument --scheduler: needs dask.distributed; install the sweep extra: "
                         "pip install 'fastnn[sweep]'") from None
    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)
    except Exception as e:  # OSError / TimeoutError / ValueError for a malformed address
        raise RunError(f"cannot reach the Dask scheduler at {address} ({_one_line(e)})") from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except Exception:
            raise RunError(f"the Dask scheduler at {address} has no workers "
                           f"(waited {timeout:g} s)") from None
        try:
            info = client.run(_ByValue(W.worker_info, W))
        except Exception as e:
            raise RunError(f"the Dask workers at {address} cannot run fastnn "
                           f"({_one_line(e)}); install fastnn on every worker") from None
    except BaseException:
        client.close()
        raise
    return client, info


def run_local(todo, data, workers, on_result):
    """Run the specs in ``workers`` spawned processes, each with cores // workers threads."""
    import concurrent.futures as cf
    import multiprocessing as mp

    threads = max(1, _cores() // workers)
    saved = {v: os.environ.get(v) for v in W.THREAD_VARS}
    os.environ.update({v: str(threads) for v in W.THREAD_VARS})  # inherited at spawn, so set
    ex = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                initializer=W.init_worker, initargs=(data, threads))
    try:
        futures = {ex.submit(W.run_one, spec): spec for spec in todo}
        for fut in cf.as_completed(futures):
            on_result(futures[fut], fut.result)
    except BaseException:  # Ctrl-C or a failure: stop the workers now, mid-run if need be
        procs = list((getattr(ex, "_processes", None) or {}).values())  # before shutdown drops it
        ex.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(10)
        raise
    finally:
        ex.shutdown(wait=True)
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


def run_dask(client, todo, data, on_result):
    from dask.distributed import as_completed

    data_f = client.scatter([data], broadcast=True)[0]
    fn = _ByValue(W.run_one, W)
    tag = uuid.uuid4().hex[:8]
    futures = {}
    try:
        for spec in todo:
            fut = client.submit(fn, spec, data_f, key=f"sweep_depth-{spec['key']}-{tag}")
            futures[fut] = spec
        for fut in as_completed(list(futures), loop=client.loop):
            on_result(futures[fut], fut.result)
            fut.release()
    except BaseException:
        client.cancel(list(futures))
        raise


# ----------------------------------------------------------------------------- main
def main(argv=None):
    try:
        return _main(argv)
    except UsageError as e:
        _say(f"error: {e}")
        return 2
    except RunError as e:
        _say(f"error: {e}")
        return 1


def _main(argv):
    t_start = time.time()
    args = build_parser().parse_args(argv)

    from fastnn import ACTIVATIONS, OPTIMIZERS

    bad = [a for a in args.activations if a not in ACTIVATIONS]
    if bad:
        raise UsageError(f"argument --activations: unknown activation {bad[0]!r}; choose from "
                         f"{', '.join(ACTIVATIONS)}")
    if args.optimizer is not None and args.optimizer not in OPTIMIZERS:
        raise UsageError(f"argument --optimizer: unknown optimizer {args.optimizer!r}; choose "
                         f"from {', '.join(OPTIMIZERS)}")
    if "batch" in (args.norms or []) and args.batch_size == 1:
        raise UsageError("argument --batch-size: batch norm needs at least 2 rows a batch; "
                         "pass --batch-size 2 or more, or leave batch out of --norms")
    if args.scheduler:
        if not _ADDRESS.match(args.scheduler):
            raise UsageError(f"argument --scheduler: expected tcp://HOST:PORT, got {args.scheduler!r}")
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise UsageError("argument --scheduler: needs dask.distributed; install the sweep "
                             "extra: pip install 'fastnn[sweep]'") from None
    out = args.out
    check_out(out)
    runs_dir = os.path.join(out, RUNS_DIR)
    plots = not args.no_plots
    if plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            _say("warning: matplotlib is not installed; no plots (pip install 'fastnn[sweep]')")
            plots = False

    data = load_data(args)
    cfg = config_hash(args, data)
    n_0 = int(data["X_train"].shape[1])
    grid = make_grid(args, cfg, n_0)
    cols = columns(args)
    too_shallow = skipped(args, n_0)
    if not grid:
        raise UsageError("argument --depths: nothing to run: every run of this grid is a "
                         "residual net too shallow for a skip; add depths >= 2")
    if too_shallow:
        _say(f"residual nets left out at depth {', '.join(map(str, too_shallow))}: no hidden "
             f"layer there has the width of its input")
    done = load_done(runs_dir, grid, cols)
    # Longest runs first, so that the last runs to finish are short ones.
    todo = sorted((s for s in grid if s["key"] not in done),
                  key=lambda s: -(s["depth"] + 1) * s["width"] ** 2)

    client, execution = None, {}
    if args.scheduler and todo:
        client, info = connect(args.scheduler, args.connect_timeout)
        execution = {"mode": "dask", "scheduler": args.scheduler, "workers": info}
        where = f"the Dask cluster at {args.scheduler} ({len(info)} workers)"
    elif todo:
        workers = min(args.workers or _cores(), len(todo))
        threads = max(1, _cores() // workers)
        execution = {"mode": "local", "workers": workers, "threads_per_worker": threads,
                     "thread_env": {v: str(threads) for v in W.THREAD_VARS}}
        where = f"{workers} local worker process(es), {threads} thread(s) each"

    meta_path = os.path.join(out, META_NAME)
    invocations = []
    try:
        with open(meta_path) as f:
            invocations = list(json.load(f).get("invocations", []))
    except (OSError, ValueError, AttributeError):
        pass
    # With nothing to run, the metadata keeps saying how the runs were last executed.
    last_execution = execution or next(
        (i["execution"] for i in reversed(invocations) if i.get("execution")), {})
    invocation = {"started_at": _now(), "command": [sys.executable, *sys.argv],
                  "argv": list(sys.argv[1:] if argv is None else argv),
                  "skipped": len(done), "to_run": len(todo), "execution": execution}
    invocations.append(invocation)
    meta = {
        "script": "scripts/sweep_depth.py", "schema": SCHEMA, "status": "running",
        "arguments": vars(args), "config_hash": cfg,
        "grid": {"depths": args.depths, "activations": args.activations, "seeds": args.seeds,
                 "n_runs": len(grid)},
        "dataset": {"name": data["name"], "task": data["task"], "digest": data["digest"],
                    "n_train": len(data["X_train"]), "n_val": len(data["X_val"]),
                    "n_inputs": int(data["X_train"].shape[1]),
                    "n_outputs": int(data["Y_train"].shape[1])},
        "machine": _machine(), "versions": _versions(), "execution": last_execution,
        "columns": list(cols), "timing_columns": list(W.TIMING_COLUMNS),
        "csv": CSV_NAME, "runs_dir": RUNS_DIR, "invocations": invocations,
    }
    if extended(args):
        meta["grid"].update(norms=args.norms or ["none"], residual=args.residual or ["off"],
                            dropouts=args.dropouts or [0.0], residual_too_shallow=too_shallow)
    _write_json(meta_path, meta)
    csv_path = os.path.join(out, CSV_NAME)

    def rows():
        return [done[s["key"]]["row"] for s in grid if s["key"] in done]

    failures = []
    status = "complete"
    if todo:
        _say(f"{len(grid)} runs: {len(done)} already in {runs_dir}, {len(todo)} to run on {where}")
    else:
        _say(f"{len(grid)} runs: all already in {runs_dir}; nothing to run")
    write_csv(csv_path, rows(), cols)

    from tqdm.auto import tqdm

    bar = tqdm(total=len(grid), initial=len(done), unit="run", desc="sweep", file=sys.stderr,
               disable=args.quiet or not todo, smoothing=0, dynamic_ncols=True)

    # Ctrl-C or SIGTERM stops the sweep, but never between writing a run's file and the CSV.
    sig = {"critical": False, "pending": False}

    def on_signal(signum, frame):
        if sig["critical"]:
            sig["pending"] = True
        else:
            raise KeyboardInterrupt

    def on_result(spec, get):
        sig["critical"] = True
        try:
            _on_result(spec, get)
        finally:
            sig["critical"] = False
        if sig["pending"]:
            raise KeyboardInterrupt

    def _on_result(spec, get):
        label = f"depth={spec['depth']} activation={spec['activation']} seed={spec['seed']}"
        if "norm" in spec:
            label += (f" norm={spec['norm']} residual={'on' if spec['residual'] else 'off'}"
                      f" dropout={spec['dropout']:g}")
        try:
            res = get()
        except Exception as e:
            failures.append(f"{label}: {_one_line(e)}")
            bar.write(f"{PROG}: run {label} failed: {_one_line(e)}", file=sys.stderr)
            return
        res["spec"] = spec
        res["finished_at"] = _now()
        _write_json(os.path.join(runs_dir, spec["key"] + ".json"), res)
        done[spec["key"]] = res
        write_csv(csv_path, rows(), cols)  # complete rows only, replaced atomically
        bar.update(1)
        bar.set_postfix_str(f"{label} train_loss={res['row']['train_loss']:.3g}", refresh=False)

    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if client is not None:
            run_dask(client, todo, data, on_result)
        elif todo:
            run_local(todo, data, execution["workers"], on_result)
    except KeyboardInterrupt:
        status = "interrupted"
    except Exception as e:  # lost scheduler, broken pool: what finished is kept
        status = "failed"
        failures.append(f"the sweep stopped: {_one_line(e)}")
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
        bar.close()
        if client is not None:
            client.close()

    final = rows()
    write_csv(csv_path, final, cols)
    made = []
    if plots and final and status != "interrupted":
        from _sweep_plots import plot_all, plot_kinds

        title = f"{data['name']}, width {args.width}, {args.epochs} epochs, lr {args.lr:g}"
        if extended(args):
            title += f", {args.optimizer or 'sgd'}"
            made = plot_kinds([dict(r) for r in final], out, args.activations, title=title,
                              profile_depth=args.profile_depth)
        else:
            made = plot_all([dict(r) for r in final], out, args.activations, title=title)
    if status == "complete" and failures:
        status = "failed"
    invocation.update(finished_at=_now(), elapsed_s=round(time.time() - t_start, 3),
                      ran=len(final) - invocation["skipped"], failed=len(failures),
                      status=status)
    meta.update(status=status,
                n_finished=len(final), n_failed=len(failures), finished_at=_now(),
                plots=[os.path.basename(p) for p in made])
    if failures:
        meta["failures"] = failures
    _write_json(meta_path, meta)

    if status == "interrupted":
        _say(f"interrupted; {len(final)} of {len(grid)} runs are saved in {out}; "
             f"run the same command again to resume")
        return 130
    if failures:
        raise RunError(f"{len(failures)} run(s) failed, first: {failures[0]}; the {len(final)} "
                       f"finished runs are saved in {out}")
    print(f"{PROG}: {len(final)} runs in {csv_path}; metadata in {meta_path}"
          + (f"; plots {', '.join(os.path.basename(p) for p in made)}" if made else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
