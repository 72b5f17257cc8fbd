"""fastnn.MLPClassifier / MLPRegressor against scikit-learn's, as a user runs them (--estimators).

Four datasets on a fixed 75/25 split (random_state=0): digits (raw pixels) and breast_cancer
(standardised) for classification, diabetes (standardised) and make_friedman1 (2000 rows,
noise 1) for regression. Both libraries get the same parameters, float64 data (so both train
in float64) and the same seeds 0..S-1. Reported per dataset:

  score     mean test accuracy / R² over the seeds (and fastnn − scikit-learn);
  fit       median wall time of a whole ``fit`` (each stops by its own tol rule, so epochs differ);
  epoch     median of fit time / n_iter_, the cost of one epoch of the same work;
  float32   fastnn with dtype="float32" (its fastest setting; scikit-learn trains float32 only
            on float32 input): score and fit ratio;

with both ratios scikit-learn / fastnn. Runs are interleaved (fastnn, sklearn, fastnn, …) with
a pause before each; fastnn's first fit per dataset (Numba compile / cache load) is untimed.
"""
from __future__ import annotations

import statistics
import time
import warnings

DATASETS = {  # name: (kind, loader, parameters for both, standardise X?)
    "digits": ("clf", "load_digits", {}, False),
    "breast_cancer": ("clf", "load_breast_cancer", {}, True),
    "diabetes": ("reg", "load_diabetes", dict(hidden_layer_sizes=(64,), learning_rate_init=0.01,
                                              max_iter=1000), True),
    "friedman1": ("reg", "make_friedman1", dict(hidden_layer_sizes=(64, 64),
                                                learning_rate_init=0.003, max_iter=500), False),
}


def load(name):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loader = getattr(datasets, DATASETS[name][1])
    if name == "friedman1":
        X, y = loader(n_samples=2000, noise=1.0, random_state=0)
    else:
        X, y = loader(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def make(lib, name, seed, **extra):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    kind, _, params, scale = DATASETS[name]
    cls = lib.MLPClassifier if kind == "clf" else lib.MLPRegressor
    est = cls(random_state=seed, **params, **extra)
    return make_pipeline(StandardScaler(), est) if scale else est


def run(log, seeds=3, gap=0.25, names=None):
    import sklearn.neural_network as sk

    import fastnn

    libs = {"fastnn": (fastnn, {}), "sklearn": (sk, {}), "fastnn-f32": (fastnn, {"dtype": "float32"})}
    rows = []
    log("\n## scikit-learn estimators: fastnn.MLP* vs sklearn.neural_network.MLP*\n")
    log("| dataset | fastnn score | sklearn score | Δ score | fastnn fit s | sklearn fit s | fit ratio "
        "| fastnn ms/epoch | sklearn ms/epoch | epoch ratio | epochs (fastnn / sklearn) "
        "| fastnn float32 score | float32 fit ratio |")
    log("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names or DATASETS:
        Xtr, Xte, ytr, yte = load(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make(fastnn, name, 0).fit(Xtr, ytr)  # compile / load the kernels, untimed
            make(fastnn, name, 0, dtype="float32").fit(Xtr, ytr)
            res = {lib: {"score": [], "fit": [], "epoch": [], "iters": []} for lib in libs}
            for seed in range(seeds):
                for lib, (mod, extra) in libs.items():
                    model = make(mod, name, seed, **extra)
                    time.sleep(gap)
                    t0 = time.perf_counter()
                    model.fit(Xtr, ytr)
                    dt = time.perf_counter() - t0
                    est = model[-1] if hasattr(model, "steps") else model
                    r = res[lib]
                    r["score"].append(model.score(Xte, yte))
                    r["fit"].append(dt)
                    r["epoch"].append(dt / est.n_iter_)
                    r["iters"].append(est.n_iter_)
        f, s, f32 = res["fastnn"], res["sklearn"], res["fastnn-f32"]
        sc_f, sc_s = statistics.mean(f["score"]), statistics.mean(s["score"])
        fit_f, fit_s = statistics.median(f["fit"]), statistics.median(s["fit"])
        ep_f, ep_s = statistics.median(f["epoch"]), statistics.median(s["epoch"])
        rows.append(dict(dataset=name, fastnn=f, sklearn=s))
        log(f"| {name} | {sc_f:.4f} | {sc_s:.4f} | {sc_f - sc_s:+.4f} | {fit_f:.3f} | {fit_s:.3f} | "
            f"{fit_s / fit_f:.2f}x | {ep_f * 1e3:.2f} | {ep_s * 1e3:.2f} | {ep_s / ep_f:.2f}x | "
            f"{statistics.mean(f['iters']):.0f} / {statistics.mean(s['iters']):.0f} | "
            f"{statistics.mean(f32['score']):.4f} | {fit_s / statistics.median(f32['fit']):.2f}x |")
    log(f"\nscore: mean over seeds 0..{seeds - 1} (accuracy for digits/breast_cancer, R² otherwise); "
        "times: medians; ratios: sklearn time / fastnn time.")
    return rows
