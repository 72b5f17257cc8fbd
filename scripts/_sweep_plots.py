"""The depth sweep's figures (matplotlib, no screen needed). Used by sweep_depth.py."""
from __future__ import annotations

import math
import os

PLOTS = ("loss_vs_depth.png", "time_vs_depth.png", "grad_norms.png")


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _by(rows, *keys):
    out = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def _stats(values, geometric=False):
    """(centre, low, high) over seeds: the mean (geometric for norms) and the range."""
    import numpy as np

    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return math.nan, math.nan, math.nan
    if geometric and np.all(v > 0):
        return float(np.exp(np.mean(np.log(v)))), float(v.min()), float(v.max())
    return float(v.mean()), float(v.min()), float(v.max())


def _pick_depths(depths, n=4):
    """Up to n depths spread over the sweep's range, the deepest always among them; depth 0
    (a single layer, a single point) only when there is nothing else."""
    depths = sorted(set(depths))
    if len(depths) > 1:
        depths = [d for d in depths if d > 0]
    if len(depths) <= n:
        return depths
    idx = sorted({round(i * (len(depths) - 1) / (n - 1)) for i in range(n)})
    return [depths[i] for i in idx]


def _save(fig, path):
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, path)


def plot_all(rows, out_dir, activations, title=""):
    """Write the three PNGs into out_dir; return their paths. ``rows``: CSV rows (dicts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = [r for r in rows if r["activation"] in activations]
    if not rows:
        return []
    colors = {a: plt.get_cmap("tab10")(i % 10) for i, a in enumerate(activations)}
    classify = any(str(r.get("val_acc", "")) != "" for r in rows)
    paths = []

    # 1. loss (and accuracy) vs depth, one line per activation ---------------------------------
    panels = [("train_loss", "final train loss", True), ("val_loss", "validation loss", True)]
    if classify:
        panels.append(("val_acc", "validation accuracy", False))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    groups = _by(rows, "activation", "depth")
    for ax, (col, label, logy) in zip(axes[0], panels):
        for a in activations:
            ds = sorted(d for (act, d) in groups if act == a)
            if not ds:
                continue
            st = [_stats([_num(r[col]) for r in groups[(a, d)]]) for d in ds]
            ax.plot(ds, [s[0] for s in st], "o-", color=colors[a], label=a)
            ax.fill_between(ds, [s[1] for s in st], [s[2] for s in st], color=colors[a], alpha=0.2)
        ax.set_xlabel("depth (hidden layers)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        if logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].legend(title="hidden activation")
    fig.suptitle(f"{title}: mean over seeds, band = min..max" if title else "mean over seeds")
    fig.tight_layout()
    paths.append(os.path.join(out_dir, PLOTS[0]))
    _save(fig, paths[-1])
    plt.close(fig)

    # 2. time per epoch vs depth ---------------------------------------------------------------
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for a in activations:
        ds = sorted(d for (act, d) in groups if act == a)
        if not ds:
            continue
        st = [_stats([1e3 * _num(r["time_per_epoch_s"]) for r in groups[(a, d)]]) for d in ds]
        ax.plot(ds, [s[0] for s in st], "o-", color=colors[a], label=a)
        ax.fill_between(ds, [s[1] for s in st], [s[2] for s in st], color=colors[a], alpha=0.2)
    ax.set_xlabel("depth (hidden layers)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("time per epoch (ms, median)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(title="hidden activation")
    ax.set_title(title)
    fig.tight_layout()
    paths.append(os.path.join(out_dir, PLOTS[1]))
    _save(fig, paths[-1])
    plt.close(fig)

    # 3. gradient norm vs layer index, for several depths, one panel per activation ------------
    depths = _pick_depths([r["depth"] for r in rows])
    shades = {d: plt.get_cmap("viridis")(i / max(1, len(depths) - 1) * 0.85)
              for i, d in enumerate(depths)}
    acts = [a for a in activations if any(r["activation"] == a for r in rows)]
    fig, axes = plt.subplots(1, len(acts), figsize=(3.3 * len(acts) + 0.6, 3.3),
                             sharey=True, squeeze=False)
    for ax, a in zip(axes[0], acts):
        for d in depths:
            runs = groups.get((a, d), [])
            if not runs:
                continue
            for col, style, when in (("grad_norms_init", "o-", "init"), ("grad_norms_end", "x--", "end")):
                lists = [[_num(x) for x in str(r[col]).split(";")] for r in runs]
                K = len(lists[0])
                centre = [_stats([run[k] for run in lists], geometric=True)[0] for k in range(K)]
                ax.plot(range(1, K + 1), centre, style, color=shades[d], ms=4,
                        label=f"depth {d}" if when == "init" else None)
        ax.set_yscale("log")
        ax.set_title(f"hidden: {a}")
        ax.set_xlabel("layer k")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("||dL/dW^[k]||  (o init, x end)")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    paths.append(os.path.join(out_dir, PLOTS[2]))
    _save(fig, paths[-1])
    plt.close(fig)
    return paths
