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


def _save(fig, path, **kwargs):
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100, **kwargs)
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


# ----------------------------------------------------------------------------- kinds of net
KIND_PLOTS = ("loss_vs_depth.png", "time_vs_depth.png", "grad_norms.png", "grad_ratio.png")
UNDERFLOW_NOTE = "▼ at the bottom: 0 in float32 (the gradient underflowed)"
LOSS_CAP = 10.0  # loss panels stop at LOSS_CAP × the median initial train loss; ▲ marks more


def kind_label(row):
    """'plain', 'residual', 'layer norm', 'residual + layer norm', '... + dropout 0.1'."""
    parts = []
    if str(row.get("residual")) in ("True", "true", "1"):
        parts.append("residual")
    if row.get("norm") not in (None, "", "none"):
        parts.append(f"{row['norm']} norm")
    rate = _num(row.get("dropout"))
    if rate > 0:
        parts.append(f"dropout {rate:g}")
    return " + ".join(parts) or "plain"


def _positive_stats(values):
    """(centre, low, high, all_zero) over seeds: geometric mean and range of the positive
    finite values; all_zero when every finite value is 0 (underflow)."""
    v = [x for x in values if math.isfinite(x)]
    pos = [x for x in v if x > 0]
    if not pos:
        return math.nan, math.nan, math.nan, bool(v)
    c, lo, hi = _stats(pos, geometric=True)
    return c, lo, hi, False


def _mark_above(ax, points, cap):
    """Points above ``cap`` drawn as ▲ at the top of a log axis that ends at ``cap``."""
    ax.set_ylim(top=cap)
    for x, color in points:
        ax.plot([x], [cap], "^", color=color, ms=7, clip_on=False, zorder=5)


def _mark_zeros(ax, zeros):
    """Points whose value is 0 drawn as ▼ at the bottom of a log axis (after the other lines)."""
    if not zeros:
        return
    bottom = ax.get_ylim()[0]
    for x, color in zeros:
        ax.plot([x], [bottom], "v", color=color, ms=7, clip_on=False, zorder=5)
    ax.set_ylim(bottom=bottom)


def plot_kinds(rows, out_dir, activations, title="", profile_depth=None):
    """The sweep's figures when the kind of net (norm, residual, dropout) is an axis: one
    column of panels per hidden activation, one line per kind. Returns the PNGs' paths.

    - loss_vs_depth.png: final train loss, validation loss (and accuracy) against depth;
      an x marks a depth where some seed's fit diverged (its row holds the weights it rolled
      back to); a mean over LOSS_CAP × the median initial loss is a ▲ at the top.
    - grad_ratio.png: ||dL/dW^[1]|| / ||dL/dW^[K]|| against depth, at init (solid) and at the
      end (dashed).
    - grad_norms.png: ||dL/dW^[k]|| against k at one depth (``profile_depth``; default the
      deepest swept depth up to 32), at init (o, solid) and at the end (x, dashed).
    - time_vs_depth.png: median time per epoch against depth.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = [dict(r, kind=kind_label(r), depth=int(r["depth"])) for r in rows
            if r["activation"] in activations]
    if not rows:
        return []
    acts = [a for a in activations if any(r["activation"] == a for r in rows)]
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    cmap = plt.get_cmap("tab10" if len(kinds) <= 10 else "tab20")
    colors = {k: cmap(i % cmap.N) for i, k in enumerate(kinds)}
    classify = any(str(r.get("val_acc", "")) != "" for r in rows)
    groups = _by(rows, "activation", "kind", "depth")
    suptitle = f"{title}: mean over seeds, band = min..max" if title else "mean over seeds"
    paths = []

    all_depths = sorted({r["depth"] for r in rows})
    log_x = all_depths[0] > 0 and all_depths[-1] >= 4 * all_depths[0]

    def depth_axis(ax):
        if log_x:
            ax.set_xscale("log", base=2)
        ax.set_xticks(all_depths)
        ax.set_xticklabels([str(d) for d in all_depths])
        ax.minorticks_off()

    def depths_of(a, k):
        return sorted(int(d) for (act, kind, d) in groups if act == a and kind == k)

    def panel_grid(n_rows, height=3.0):
        fig, axes = plt.subplots(n_rows, len(acts), figsize=(3.6 * len(acts) + 0.8, height * n_rows + 0.7),
                                 squeeze=False, sharex=True)
        for j, a in enumerate(acts):
            axes[0][j].set_title(f"hidden: {a}")
            axes[-1][j].set_xlabel("depth (hidden layers)")
        for ax in axes.flat:
            depth_axis(ax)
            ax.grid(alpha=0.3)
        return fig, axes

    def finish(fig, name, note=None):
        fig.suptitle(suptitle + (f"\n{note}" if note else ""), fontsize=10)
        fig.tight_layout()
        paths.append(os.path.join(out_dir, name))
        _save(fig, paths[-1], bbox_inches="tight")
        plt.close(fig)

    def legend(fig, axes):
        """One legend for the figure, right of the panels."""
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
                   title="net", title_fontsize=9, frameon=False)

    # 1. loss (and accuracy) vs depth -----------------------------------------------------------
    panels = [("train_loss", "final train loss", True), ("val_loss", "validation loss", True)]
    if classify:
        panels.append(("val_acc", "validation accuracy", False))
    fig, axes = panel_grid(len(panels))
    init = [_num(r["init_train_loss"]) for r in rows]
    init = sorted(v for v in init if math.isfinite(v))
    cap = LOSS_CAP * init[len(init) // 2] if init else math.inf
    capped = False
    for i, (col, label, logy) in enumerate(panels):
        for j, a in enumerate(acts):
            ax, above = axes[i][j], []
            for k in kinds:
                ds = depths_of(a, k)
                if not ds:
                    continue
                runs = [groups[(a, k, d)] for d in ds]
                raw = [_stats([_num(r[col]) for r in rs]) for rs in runs]
                st = raw
                if logy:
                    above += [(d, colors[k]) for d, s in zip(ds, raw) if s[0] > cap]
                    st = [s if s[0] <= cap else (math.nan,) * 3 for s in raw]
                ax.plot(ds, [s[0] for s in st], "o-", color=colors[k], ms=4, label=k)
                ax.fill_between(ds, [min(s[1], cap) for s in st], [min(s[2], cap) for s in st],
                                color=colors[k], alpha=0.15)
                bad = [(d, min(s[0], cap) if logy else s[0]) for d, s, rs in zip(ds, raw, runs)
                       if any(str(r["status"]) != "ok" for r in rs) and math.isfinite(s[0])]
                if bad:
                    ax.plot(*zip(*bad), "x", color="black", ms=8, mew=1.5, clip_on=False, zorder=6)
            if logy:
                ax.set_yscale("log")
            if above:
                _mark_above(ax, above, cap)
                capped = True
            if j == 0:
                ax.set_ylabel(label)
    legend(fig, axes)
    finish(fig, KIND_PLOTS[0], "x: some seed's fit diverged (its row holds the rolled-back weights)"
           + (f"; ▲ at the top: mean loss above {cap:.3g} (off the scale)" if capped else ""))

    # 2. time per epoch vs depth ----------------------------------------------------------------
    fig, axes = panel_grid(1)
    for j, a in enumerate(acts):
        ax = axes[0][j]
        for k in kinds:
            ds = depths_of(a, k)
            if ds:
                st = [_stats([1e3 * _num(r["time_per_epoch_s"]) for r in groups[(a, k, d)]]) for d in ds]
                ax.plot(ds, [s[0] for s in st], "o-", color=colors[k], ms=4, label=k)
        ax.set_yscale("log")
    axes[0][0].set_ylabel("time per epoch (ms, median)")
    legend(fig, axes)
    finish(fig, KIND_PLOTS[1])

    # 3. per-layer gradient norms at one depth --------------------------------------------------
    if profile_depth is None or profile_depth not in all_depths:
        upto = [d for d in all_depths if d <= 32]
        profile_depth = upto[-1] if upto else all_depths[0]
    fig, axes = plt.subplots(1, len(acts), figsize=(3.6 * len(acts) + 0.8, 3.7), squeeze=False, sharey=True)
    any_zero = False
    for j, a in enumerate(acts):
        ax, zeros = axes[0][j], []
        for k in kinds:
            runs = groups.get((a, k, profile_depth), [])
            if not runs:
                continue
            for col, style, when in (("grad_norms_init", "o-", "init"), ("grad_norms_end", "x--", "end")):
                lists = [[_num(x) for x in str(r[col]).split(";")] for r in runs]
                K = len(lists[0])
                st = [_positive_stats([run[i] for run in lists]) for i in range(K)]
                ax.plot(range(1, K + 1), [s[0] for s in st], style, color=colors[k], ms=3, lw=1.2,
                        label=k if when == "init" else None)
                zeros += [(i + 1, colors[k]) for i, s in enumerate(st) if s[3]]
        ax.set_yscale("log")
        ax.set_title(f"hidden: {a}")
        ax.set_xlabel("layer k")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        any_zero |= bool(zeros)
        _mark_zeros(ax, zeros)
    axes[0][0].set_ylabel("||dL/dW^[k]||  (o init, x end)")
    legend(fig, axes)
    finish(fig, KIND_PLOTS[2], f"depth {profile_depth} (K = {profile_depth + 1} layers)"
           + (f"; {UNDERFLOW_NOTE}" if any_zero else ""))

    # 4. gradient ratio vs depth ----------------------------------------------------------------
    fig, axes = panel_grid(1, height=3.4)
    any_zero = False
    for j, a in enumerate(acts):
        ax, zeros = axes[0][j], []
        for k in kinds:
            ds = depths_of(a, k)
            for col, style, when in (("grad_ratio_init", "o-", "init"), ("grad_ratio_end", "x--", "end")):
                st = [_positive_stats([_num(r[col]) for r in groups[(a, k, d)]]) for d in ds]
                ax.plot(ds, [s[0] for s in st], style, color=colors[k], ms=4, lw=1.2,
                        label=k if when == "init" else None)
                zeros += [(d, colors[k]) for d, s in zip(ds, st) if s[3]]
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_yscale("log")
        any_zero |= bool(zeros)
        _mark_zeros(ax, zeros)
    axes[0][0].set_ylabel("||dL/dW^[1]|| / ||dL/dW^[K]||\n(o init, x end)")
    legend(fig, axes)
    finish(fig, KIND_PLOTS[3], UNDERFLOW_NOTE if any_zero else None)
    return paths
