"""What precision="bf16" does to training (issue 23): loss curves and scores against float32,
for the same seeds, on data with signal.

    python scripts/bf16_quality.py [--seeds 3] [--epochs 30] [--plot docs/bf16_loss_curves.png]

- friedman1 (scikit-learn's make_friedman1, 20,000 rows, noise 1, y scaled to unit variance):
  [10, 256, 256, 1], MSE, Adam (lr 1e-3), batch 64: the training loss after each epoch and the
  held-out R² (5,000 rows);
- a teacher net: y = a fixed random [256, 512, 512, 1] tanh net of X (40,000 rows, wide
  layers, where every product is a GEMM): [256, 1024, 1024, 1], MSE, SGD (lr 1e-2), batch 128;
- digits (8×8 images, 10 classes; 30% held out, stratified): ``MLPClassifier((256, 128))``
  with Adam, max_iter 40, batch 64: test accuracy.
Each case trains float32 and bf16 from the same seed; the table gives the final values and the
largest gap between the two loss curves, relative to float32's, over the last half of training.
"""
from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np


def curves(sizes, X, Y, seed, epochs, batch, optimizer, lr, precision):
    from fastnn import Network

    net = Network(sizes, seed=seed, precision=precision)
    history = net.fit(X, Y, epochs=epochs, batch_size=batch, optimizer=optimizer, lr=lr, seed=seed)
    return net, np.asarray(history["loss"], np.float64)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--plot", help="write the loss curves to this PNG (matplotlib)")
    args = ap.parse_args(argv)
    import fastnn

    missing = fastnn.bf16_missing()
    if missing:
        print(f"bf16 cannot run here: {missing}")
        return 1
    from sklearn.datasets import load_digits, make_friedman1
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    X, y = make_friedman1(n_samples=25000, noise=1.0, random_state=0)
    X, y = X.astype(np.float32), (y / y.std()).astype(np.float32)
    Xtr, Xte, ytr, yte = X[:20000], X[20000:], y[:20000, None], y[20000:]
    rng = np.random.default_rng(0)
    Xt = rng.standard_normal((40000, 256)).astype(np.float32)
    teacher = fastnn.Network([256, 512, 512, 1], "tanh", seed=123)
    Yt = teacher.predict(Xt).astype(np.float32)
    Yt /= Yt.std()
    cases = [("friedman1 [10,256,256,1] adam", [10, 256, 256, 1], Xtr, ytr, 64, "adam", 1e-3),
             ("teacher [256,1024,1024,1] sgd", [256, 1024, 1024, 1], Xt, Yt, 128, "sgd", 1e-2)]
    print("| case | seed | final loss float32 | final loss bf16 | bf16/float32 | largest gap, last half "
          "| held-out float32 / bf16 |")
    print("|---|---|---|---|---|---|---|")
    plotted = {}
    for name, sizes, Xc, Yc, batch, opt, lr in cases:
        for seed in range(args.seeds):
            got = {p: curves(sizes, Xc, Yc, seed, args.epochs, batch, opt, lr, p) for p in ("float32", "bf16")}
            f, b = got["float32"][1], got["bf16"][1]
            half = len(f) // 2
            gap = float(np.max(np.abs(b[half:] - f[half:]) / f[half:]))
            held = "-"
            if name.startswith("friedman1"):
                held = " / ".join(f"{r2_score(yte, got[p][0].predict(Xte).ravel()):.4f}" for p in got)
            print(f"| {name} | {seed} | {f[-1]:.5f} | {b[-1]:.5f} | {b[-1] / f[-1]:.3f} | {gap:.1%} | {held} |",
                  flush=True)
            plotted.setdefault(name, []).append((f, b))
    warnings.filterwarnings("ignore", "Stochastic Optimizer: Maximum iterations")  # (40 epochs, on purpose)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    for seed in range(args.seeds):
        acc = {p: fastnn.MLPClassifier((256, 128), max_iter=40, batch_size=64, random_state=seed,
                                       precision=p).fit(Xa, ya).score(Xb, yb) for p in ("float32", "bf16")}
        print(f"| digits MLPClassifier((256,128)) adam | {seed} | - | - | - | - | accuracy {acc['float32']:.4f} / "
              f"{acc['bf16']:.4f} (gap {acc['bf16'] - acc['float32']:+.4f}) |", flush=True)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(plotted), figsize=(5 * len(plotted), 3.6))
        for ax, (name, runs) in zip(np.atleast_1d(axes), plotted.items()):
            for i, (f, b) in enumerate(runs):
                ax.semilogy(range(1, len(f) + 1), f, color="C0", alpha=0.8, label="float32" if i == 0 else None)
                ax.semilogy(range(1, len(b) + 1), b, color="C1", ls="--", alpha=0.8, label="bf16" if i == 0 else None)
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("epoch")
            ax.set_ylabel("training loss")
            ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
