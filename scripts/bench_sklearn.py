"""fastnn's estimators against scikit-learn's MLP at scikit-learn's defaults: quality and fit time.

For each dataset and seed: a 75/25 split (stratified for classification), X standardized on the
training rows (y too, for regression), then ``MLPClassifier``/``MLPRegressor`` with the defaults
of both libraries (hidden (100,), adam, lr 1e-3, batch min(200, n), alpha 1e-4) and the same
``random_state``, ``max_iter`` and ``n_iter_no_change=np.inf``, so both run exactly ``max_iter``
epochs. Scores are test accuracy or test R²; times are one fit each, fastnn's and scikit-learn's
interleaved per seed, each after a pause of 0.3 s (BLAS workers spin after a call), fastnn
warmed up first (its compile is not timed). Prints a Markdown table of means over the seeds.

    python scripts/bench_sklearn.py                  # the six datasets, 3 seeds, max_iter=200
    python scripts/bench_sklearn.py --quick          # small and fast: a smoke test
"""
from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np


def datasets(quick: bool) -> dict:
    from sklearn import datasets as d

    out = {
        "digits": ("clf", *d.load_digits(return_X_y=True)),
        "breast_cancer": ("clf", *d.load_breast_cancer(return_X_y=True)),
        "wine": ("clf", *d.load_wine(return_X_y=True)),
        "classification": ("clf", *d.make_classification(n_samples=5000, n_features=20, n_informative=10,
                                                         n_classes=3, random_state=0)),
        "diabetes": ("reg", *d.load_diabetes(return_X_y=True)),
        "friedman1": ("reg", *d.make_friedman1(n_samples=2000, noise=1.0, random_state=0)),
    }
    if quick:
        out = {k: (t, X[:300], y[:300]) for k, (t, X, y) in list(out.items())[::3]}
    return out


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run(kind, X, y, seed, max_iter):
    """(fastnn score, scikit-learn score, fastnn seconds, scikit-learn seconds) for one seed."""
    import sklearn.neural_network as sk
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    import fastnn

    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed,
                                          stratify=y if kind == "clf" else None)
    sx = StandardScaler().fit(Xtr)
    Xtr, Xte = sx.transform(Xtr), sx.transform(Xte)
    if kind == "reg":
        sy = StandardScaler().fit(ytr[:, None])
        ytr, yte = sy.transform(ytr[:, None]).ravel(), sy.transform(yte[:, None]).ravel()
    kw = dict(max_iter=max_iter, n_iter_no_change=np.inf, random_state=seed)
    ours = (fastnn.MLPClassifier if kind == "clf" else fastnn.MLPRegressor)(**kw)
    theirs = (sk.MLPClassifier if kind == "clf" else sk.MLPRegressor)(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        (fastnn.MLPClassifier if kind == "clf" else fastnn.MLPRegressor)(max_iter=1).fit(Xtr, ytr)  # compile
        times = []
        for est in (ours, theirs):
            time.sleep(0.3)
            t0 = time.perf_counter()
            est.fit(Xtr, ytr)
            times.append(time.perf_counter() - t0)
    return ours.score(Xte, yte), theirs.score(Xte, yte), times[0], times[1], ours.n_iter_, theirs.n_iter_


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--max-iter", type=int, default=200)
    p.add_argument("--quick", action="store_true", help="2 datasets of 300 rows, 1 seed, max_iter=5")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.max_iter = 1, 5
    import sklearn

    import fastnn

    print(f"CPU: {_cpu()}; fastnn {fastnn.__version__}, scikit-learn {sklearn.__version__}; "
          f"max_iter={args.max_iter}, n_iter_no_change=inf, means over {args.seeds} seeds")
    print()
    print("| dataset | rows × features | metric | fastnn | scikit-learn | Δ | fastnn fit s | scikit-learn fit s "
          "| speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name, (kind, X, y) in datasets(args.quick).items():
        res = np.array([run(kind, X, y, seed, args.max_iter)[:4] for seed in range(args.seeds)])
        a, b, ta, tb = res.mean(axis=0)
        rows.append((name, a - b, tb / ta))
        print(f"| {name} | {X.shape[0]} × {X.shape[1]} | {'accuracy' if kind == 'clf' else 'R²'} | {a:.4f} | "
              f"{b:.4f} | {a - b:+.4f} | {ta:.3f} | {tb:.3f} | {tb / ta:.1f}× |", flush=True)
    worst = min(rows, key=lambda r: r[1])
    slow = min(rows, key=lambda r: r[2])
    print()
    print(f"worst score difference: {worst[1]:+.4f} ({worst[0]}); smallest speed-up: {slow[2]:.1f}× ({slow[0]})")
    return rows


if __name__ == "__main__":
    main()
