#!/usr/bin/env python
"""Benchmark training on sparse input (issue 20, section 3): fastnn's MLPClassifier on a SciPy CSR
matrix against scikit-learn's MLPClassifier on the same matrix and a PyTorch MLP whose first
layer is ``torch.sparse.mm``.

Data: a generated bag-of-words classification set (``make_data``): --rows documents (20,000)
over a --cols term vocabulary (50,000), about --density of the entries nonzero (0.5%: 250
terms a document), term frequencies Zipf-like, each class favouring its own slice of the
vocabulary; TF-IDF weighted, rows L2-normalised, float32 CSR. 80% train, 20% test.

Every contender trains the same net: n_0 → --hidden (100) ReLU → classes, softmax cross-entropy,
Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), no L2 penalty, batches of --batch (200) rows
shuffled each epoch, --epochs epochs (no early stop), float32, from its own random init:
  fastnn        fastnn.MLPClassifier(solver="adam", alpha=0, ...) on the CSR matrix (its first
                layer runs on the nonzeros; a sparse fit runs on one thread);
  sklearn       sklearn.neural_network.MLPClassifier with the same parameters;
  torch         nn.Parameter W^[1] (n_0 × n_1), torch.sparse.mm on each batch's CSR rows (sliced
                by SciPy, handed over without a copy), nn.Linear after, torch.optim.Adam.
Each contender runs in a worker process of its own at 1 thread and at every core (thread pools
capped through the environment: peers.common.thread_env), so each library's best setting is
in the table; the workers build the data, warm up on a small fit (Numba compile or cache load,
torch's first calls), and then time whole fits in interleaved rounds (every contender once per
round, the order rotated), each after a 0.3 s pause. Reported per contender: median fit time,
its ratio to fastnn's, the peak resident memory a fit adds to the process (Linux VmHWM after
resetting it, above the RSS before the fit, with the data already loaded) and the test accuracy.

    python scripts/bench_sparse.py                       # the full run (minutes)
    python scripts/bench_sparse.py --quick               # small sizes: a smoke test
    python scripts/bench_sparse.py --peers fastnn,sklearn --threads 1 --json /tmp/sparse.json

Peers are optional; one whose import fails is reported as "skipped (not installed)".
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers.common import REPO, fmt_bytes, thread_env

PEERS = ("fastnn", "sklearn", "torch")
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8


def make_data(rows, cols, density, classes, seed=0):
    """(X_train, X_test, y_train, y_test): TF-IDF rows of a generated bag-of-words set, float32 CSR."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, rows)
    lengths = rng.poisson(max(1.0, density * cols), rows).clip(1, cols)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    zipf = 1.0 / np.arange(1, cols + 1) ** 1.1  # a term's frequency by its rank
    indices = rng.choice(cols, indptr[-1], p=zipf / zipf.sum())
    topic = rng.integers(0, cols, (classes, max(1, cols // 20)))  # each class's own terms
    own = rng.random(indptr[-1]) < 0.3  # 30% of a document's terms come from its class's
    cls = np.repeat(y, lengths)[own]
    indices[own] = topic[cls, rng.integers(0, topic.shape[1], own.sum())]
    counts = sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(rows, cols))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=cols)
    idf = np.log((1 + rows) / (1 + df)).astype(np.float32) + 1
    X = counts.copy()
    X.data = np.log1p(X.data) * idf[X.indices]
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.csr_matrix(sp.diags(1 / np.maximum(norms, 1e-12).astype(np.float32)) @ X, dtype=np.float32)
    cut = int(0.8 * rows)
    return X[:cut], X[cut:], y[:cut], y[cut:]


# ------------------------------------------------------------------------------ contenders
def fit_fastnn(X, y, a, seed):
    import fastnn

    return fastnn.MLPClassifier(hidden_layer_sizes=(a.hidden,), solver="adam", alpha=0.0, batch_size=a.batch,
                                learning_rate_init=LR, beta_1=BETAS[0], beta_2=BETAS[1], epsilon=EPS,
                                max_iter=a.epochs, n_iter_no_change=a.epochs + 1, shuffle=True,
                                random_state=seed).fit(X, y)


def fit_sklearn(X, y, a, seed):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(a.hidden,), solver="adam", alpha=0.0, batch_size=a.batch,
                         learning_rate_init=LR, beta_1=BETAS[0], beta_2=BETAS[1], epsilon=EPS,
                         max_iter=a.epochs, n_iter_no_change=a.epochs + 1, shuffle=True,
                         random_state=seed).fit(X, y)


class TorchSparseMLP:
    """n_0 → hidden ReLU → classes with W^[1] stored n_0 × n_1 (the layout ``torch.sparse.mm``
    multiplies a CSR batch by), trained by torch.optim.Adam on softmax cross-entropy."""

    def __init__(self, n0, hidden, classes, seed):
        import torch

        torch.manual_seed(seed)
        bound = (6.0 / (n0 + hidden)) ** 0.5
        self.w1 = torch.nn.Parameter(torch.empty(n0, hidden).uniform_(-bound, bound))
        self.b1 = torch.nn.Parameter(torch.zeros(hidden))
        self.out = torch.nn.Linear(hidden, classes)
        self.gen = torch.Generator().manual_seed(seed)

    def logits(self, X):
        import torch

        xb = torch.sparse_csr_tensor(torch.from_numpy(X.indptr.astype("int64")),
                                     torch.from_numpy(X.indices.astype("int64")), torch.from_numpy(X.data),
                                     size=X.shape)
        return self.out(torch.relu(torch.sparse.mm(xb, self.w1) + self.b1))

    def fit(self, X, y, a):
        import numpy as np
        import torch

        self.classes_ = np.unique(y)
        target = torch.from_numpy(np.searchsorted(self.classes_, y))
        opt = torch.optim.Adam([self.w1, self.b1, *self.out.parameters()], lr=LR, betas=BETAS, eps=EPS)
        loss_fn = torch.nn.CrossEntropyLoss()
        N = X.shape[0]
        for _ in range(a.epochs):
            perm = torch.randperm(N, generator=self.gen).numpy()
            for s in range(0, N, a.batch):
                idx = perm[s:s + a.batch]
                opt.zero_grad()
                loss_fn(self.logits(X[idx]), target[idx]).backward()
                opt.step()
        return self

    def score(self, X, y):
        import torch

        with torch.no_grad():
            pred = self.classes_[self.logits(X).argmax(1).numpy()]
        return float((pred == y).mean())


def fit_torch(X, y, a, seed):
    import warnings

    import numpy as np

    warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
    return TorchSparseMLP(X.shape[1], a.hidden, len(np.unique(y)), seed).fit(X, y, a)


FIT = {"fastnn": fit_fastnn, "sklearn": fit_sklearn, "torch": fit_torch}
IMPORT = {"fastnn": "fastnn", "sklearn": "sklearn", "torch": "torch"}


# ------------------------------------------------------------------------------ worker
def _status(key):
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith(key + ":"))


def worker(a):
    """One contender's process: build the data, warm up, then one timed fit per line on stdin."""
    import warnings

    warnings.filterwarnings("ignore")
    fit = FIT[a.worker]
    Xtr, Xte, ytr, yte = make_data(a.rows, a.cols, a.density, a.classes)
    small = argparse.Namespace(**{**vars(a), "epochs": 1})
    fit(Xtr[: min(Xtr.shape[0], 4 * a.batch)], ytr[: min(Xtr.shape[0], 4 * a.batch)], small, 0)  # warm-up
    print("@@" + json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        seed = int(line)
        time.sleep(a.gap)
        try:  # the fit's peak above the process's RSS now (Linux: VmHWM reset to VmRSS)
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            rss0 = _status("VmRSS")
        except OSError:
            rss0 = None
        t0 = time.perf_counter()
        model = fit(Xtr, ytr, a, seed)
        dt = time.perf_counter() - t0
        peak = _status("VmHWM") - rss0 if rss0 is not None else None
        print("@@" + json.dumps({"time": dt, "peak": peak, "accuracy": model.score(Xte, yte)}), flush=True)


def _read(proc):
    for line in proc.stdout:
        if line.startswith("@@"):
            return json.loads(line[2:])
    raise RuntimeError(f"worker exited: {proc.stderr.read()[-2000:]}")


# ------------------------------------------------------------------------------ driver
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--cols", type=int, default=50_000)
    p.add_argument("--density", type=float, default=0.005)
    p.add_argument("--classes", type=int, default=5)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3, help="timed fits per contender (median reported)")
    p.add_argument("--gap", type=float, default=0.3, help="pause before each timed fit, seconds")
    p.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated, of {','.join(PEERS)}")
    p.add_argument("--threads", default="1,all", help="thread settings to run each peer at: 1, all, or numbers")
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke test of a few seconds)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.quick:
        a.rows, a.cols, a.density, a.hidden, a.batch, a.epochs, a.rounds, a.gap = 600, 3000, 0.01, 16, 50, 1, 1, 0.0
    return a


def _contenders(a):
    cores = os.cpu_count() or 1
    threads = sorted({cores if t == "all" else int(t) for t in a.threads.split(",")})
    return [(peer, t) for peer in a.peers.split(",") for t in threads
            if not (peer == "fastnn" and t > 1 and 1 in threads)]  # (a sparse fastnn fit runs on one thread)


def main(argv=None):
    a = parse_args(argv)
    if a.worker:
        return worker(a)
    for peer in a.peers.split(","):
        if peer not in PEERS:
            raise SystemExit(f"--peers: unknown peer {peer!r}; choose from {', '.join(PEERS)}")
    nnz = int(a.rows * a.cols * a.density)
    print(f"# sparse input: {a.rows} rows × {a.cols} columns, ~{a.density:.2%} nonzero (~{nnz:,} entries: CSR "
          f"~{fmt_bytes(nnz * 8)}, dense float32 {fmt_bytes(a.rows * a.cols * 4)}); net {a.cols} → {a.hidden} → "
          f"{a.classes}, Adam, batch {a.batch}, {a.epochs} epoch(s), {a.rounds} round(s)")
    procs, skipped = {}, []
    flags = [f"--{k}={getattr(a, k)}" for k in ("rows", "cols", "density", "classes", "hidden", "batch", "epochs",
                                                 "gap")]
    for peer, t in _contenders(a):
        name = f"{peer}-{t}t"
        env = dict(os.environ, **thread_env(t))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
        check = subprocess.run([sys.executable, "-c", f"import {IMPORT[peer]}"], env=env, capture_output=True)
        if check.returncode != 0:
            skipped.append(name)
            continue
        procs[name] = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", peer, *flags],
                                       env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
    results = {name: [] for name in procs}
    try:
        for proc in procs.values():  # data built and warmed up
            _read(proc)
        names = list(procs)
        for r in range(a.rounds):
            for name in names[r % len(names):] + names[: r % len(names)]:  # rotated each round
                procs[name].stdin.write(f"{r}\n")
                procs[name].stdin.flush()
                results[name].append(_read(procs[name]))
    finally:
        for proc in procs.values():
            proc.stdin.close()
            proc.wait(timeout=60)
    base = statistics.median(x["time"] for x in results[next(n for n in results if n.startswith("fastnn"))]) \
        if any(n.startswith("fastnn") for n in results) else None
    print("\n| contender | fit s (median) | time / fastnn | fit's peak memory | test accuracy |")
    print("|---|---|---|---|---|")
    summary = {}
    for name, runs in results.items():
        t = statistics.median(x["time"] for x in runs)
        peak = max((x["peak"] for x in runs if x["peak"] is not None), default=None)
        acc = statistics.mean(x["accuracy"] for x in runs)
        summary[name] = {"time": t, "peak": peak, "accuracy": acc, "runs": runs}
        ratio = f"{t / base:.2f}x" if base else "n/a"
        print(f"| {name} | {t:.3f} | {ratio} | {fmt_bytes(peak)} | {acc:.4f} |")
    for name in skipped:
        print(f"| {name} | skipped (not installed) | | | |")
    print("\ntime / fastnn: a contender's median fit time over fastnn's (above 1: fastnn is faster); peak memory: "
          "the most resident memory a fit added above the process's RSS before it (data loaded).")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "results": summary, "skipped": skipped}, f, indent=1)
    return summary


if __name__ == "__main__":
    main()
