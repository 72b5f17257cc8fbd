"""Short calls (bench_peers.py --short-calls): the time of one call on one row (N = 1), which is
a call's fixed cost (issue 13 targets: fit <= 10 us, predict <= 5 us on a small net).

Nets [2,2,1] (seed) and [8,32,32,1] (small), float32, ReLU hidden, identity output, the weights
of common.make_init; 256 distinct rows, cycled. Per contender, net and call:

  fastnn    fit: net.fit(x, y, epochs=1, batch_size=1, lr=LR) on NumPy rows (validation, the
            backup copy, the thread plan: everything a caller pays); predict: net.predict(x)
  torch-1t  torch.set_num_threads(1); fit: forward, 0.5*((y - yhat)**2).sum(1).mean(),
            zero_grad, backward, SGD step, on tensor rows made beforehand; predict:
            model(x).numpy() with torch.inference_mode() entered around the timed calls
  jax-jit   fit: a jax.jit SGD step (parameters donated) on device rows made beforehand, then
            block_until_ready; predict: np.asarray(jax.jit forward(params, x))

The peers get their native row types for free (for context only: their lowest cost per call).
Each call is timed alone with perf_counter_ns; a round makes --calls calls of every net and
call after WARMUP untimed ones (at set-up), and the figure is the median of a round's calls,
best over --rounds rounds. Contenders run in interleaved rounds, each in its own process, with
a --gap pause before each.
"""
from __future__ import annotations

import contextlib
import gc
import time

from .busy import LABEL, Spinner, interleaved
from .common import LR, fastnn_net, indent, make_init
from .worker import Worker

NETS = {"seed": [2, 2, 1], "small": [8, 32, 32, 1]}
CALLS = {"fit": "fit(x, y, epochs=1, batch_size=1)", "predict": "predict(x)"}
TARGET_US = {"fit": 10, "predict": 5}
CONTENDERS = ["fastnn", "torch-1t", "jax-jit"]
ROWS = 256
WARMUP = 500


def _rows(sizes):
    import numpy as np

    rng = np.random.default_rng(0)
    return (rng.standard_normal((ROWS, sizes[0]), dtype=np.float32),
            rng.standard_normal((ROWS, sizes[-1]), dtype=np.float32))


class Fastnn:
    def __init__(self):
        import fastnn

        self.version = getattr(fastnn, "__version__", "?")

    def build(self, sizes):
        X, Y = _rows(sizes)
        net = fastnn_net(sizes)
        rows = [(X[i:i + 1], Y[i:i + 1]) for i in range(ROWS)]
        return {"fit": lambda x, y: net.fit(x, y, epochs=1, batch_size=1, lr=LR),
                "predict": lambda x, y: net.predict(x)}, rows, {}


class Torch:
    def __init__(self):
        import torch

        torch.set_num_threads(1)
        self.torch, self.version = torch, f"{torch.__version__} (1 thread)"

    def build(self, sizes):
        torch, nn = self.torch, self.torch.nn
        X, Y = _rows(sizes)
        layers = []
        for W, b in zip(*make_init(sizes)):
            lin = nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin, nn.ReLU()]
        model = nn.Sequential(*layers[:-1])
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)

        def fit(x, y):
            loss = 0.5 * ((y - model(x)) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        rows = [(Xt[i:i + 1], Yt[i:i + 1]) for i in range(ROWS)]
        return ({"fit": fit, "predict": lambda x, y: model(x).numpy()}, rows,
                {"predict": torch.inference_mode})


class JaxJit:
    def __init__(self):
        import warnings

        warnings.filterwarnings("ignore", message=".*donat.*")
        import jax

        self.jax, self.version = jax, jax.__version__

    def build(self, sizes):
        import numpy as np

        jax, jnp = self.jax, self.jax.numpy
        X, Y = _rows(sizes)

        def forward(params, x):
            for W, b in params[:-1]:
                x = jax.nn.relu(x @ W.T + b)
            W, b = params[-1]
            return x @ W.T + b

        def step(params, x, y):
            g = jax.grad(lambda p: 0.5 * jnp.mean(jnp.sum((y - forward(p, x)) ** 2, 1)))(params)
            return jax.tree_util.tree_map(lambda p, gp: p - LR * gp, params, g)

        step, fwd = jax.jit(step, donate_argnums=0), jax.jit(forward)
        state = [[(jnp.asarray(W), jnp.asarray(b)) for W, b in zip(*make_init(sizes))]]

        def fit(x, y):
            state[0] = step(state[0], x, y)
            jax.block_until_ready(state[0])

        rows = [(jax.device_put(X[i:i + 1]), jax.device_put(Y[i:i + 1])) for i in range(ROWS)]
        return {"fit": fit, "predict": lambda x, y: np.asarray(fwd(state[0], x))}, rows, {}


IMPLS = {"fastnn": Fastnn, "torch-1t": Torch, "jax-jit": JaxJit}


class Runner:
    """Every net and call of one contender, warmed up (WARMUP calls each) by ``setup``."""

    def __init__(self, impl):
        self.impl, self.version, self.jobs = impl, impl.version, {}

    def setup(self):
        for net, sizes in NETS.items():
            calls, rows, modes = self.impl.build(sizes)
            for call, f in calls.items():
                self.jobs[f"{net}:{call}"] = (f, rows, modes.get(call, contextlib.nullcontext))
        for key in self.jobs:
            self.median_ns(key, WARMUP)

    def median_ns(self, key, calls):
        import numpy as np

        f, rows, mode = self.jobs[key]
        clock, ts = time.perf_counter_ns, np.empty(calls, np.int64)
        gc.collect()
        with mode():
            for i in range(calls):
                x, y = rows[i % ROWS]
                t = clock()
                f(x, y)
                ts[i] = clock() - t
        return float(np.median(ts))

    def run(self, calls):
        return {key: self.median_ns(key, calls) for key in self.jobs}


def make(name, threads):
    """The Runner of contender ``name`` (its own thread count: ``threads`` is not used)."""
    return Runner(IMPLS[name]())


def run_short_calls(args, log):
    """Time every contender's short calls under args.conditions; log one table per condition
    and return {condition: {contender: {"net:call": best median us}}, "versions": ...}."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    workers = [Worker(ctx, "short_calls", nm, args.threads) for nm in CONTENDERS]
    versions, times = {}, {c: {} for c in args.conditions}
    try:
        ready = []
        for w in workers:
            status, payload = w.recv(600)
            versions[w.name] = payload if status == "ready" else None
            if status == "ready":
                w.send("setup")
                status, payload = w.recv(600)
            w.status = "ready" if status == "ok" else status
            if status == "ok":
                ready.append(w)
                log(f"  {w.name:9s} {versions[w.name]} (set-up {payload['setup_s']:.1f} s)")
            else:
                log(f"  {w.name:9s} {'skipped (not installed)' if status == 'skip' else 'FAILED'}:"
                    f"\n" + indent(payload))
        with Spinner() as spinner:
            for _, cond, w in interleaved(args.rounds, args.conditions, ready, spinner):
                time.sleep(args.gap)
                w.send("run", args.calls)
                status, payload = w.recv(args.run_timeout)
                if status != "ok":
                    log(f"  {w.name}: FAILED in a timed run:\n" + indent(payload))
                    continue
                best = times[cond].setdefault(w.name, {})
                for key, ns in payload.items():
                    best[key] = min(best.get(key, ns / 1e3), ns / 1e3)
    finally:
        for w in workers:
            w.close()
    names = [w.name for w in workers]
    for cond, per in times.items():
        where = f", {LABEL}" if cond == "busy" else ", quiet machine" if len(times) > 1 else ""
        log(f"\n## short calls{where}: one row (N = 1) per call, float32; median µs of "
            f"{args.calls} calls after {WARMUP} warm-up calls, best of {args.rounds} rounds\n")
        head = ["net", "call", "fastnn µs", "target µs"] + [f"{n} µs" for n in names[1:]]
        log("| " + " | ".join(head) + " |")
        log("|" + "|".join("---" for _ in head) + "|")
        for net, sizes in NETS.items():
            for call, text in CALLS.items():
                cells = [f"{per[n][f'{net}:{call}']:.2f}" if n in per else "n/a" for n in names]
                log(f"| {net} {str(sizes).replace(' ', '')} | {text} | {cells[0]} | "
                    f"<= {TARGET_US[call]} | " + " | ".join(cells[1:]) + " |")
    return {"calls": args.calls, "rounds": args.rounds, "warmup": WARMUP,
            "versions": versions, "us": times}
