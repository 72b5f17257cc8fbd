"""``fastnn train | predict | info``: a small command line over ``Network``."""
from __future__ import annotations

import argparse
import sys

import numpy as np


def _ints(text):
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _parser():
    p = argparse.ArgumentParser(prog="fastnn", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a network (on the built-in kinked dataset by default)")
    t.add_argument("--data", help=".csv (last --targets columns are Y) or .npz with X and Y")
    t.add_argument("--targets", type=int, default=1, help="number of target columns in a CSV")
    t.add_argument("--hidden", type=_ints, default=[32, 32], help="hidden widths, e.g. 32,32")
    t.add_argument("--activation", default="relu", help="activation of the hidden layers")
    t.add_argument("--epochs", type=int, default=200)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    t.add_argument("--out", default="model.npz", help="where to save the trained model")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    q = sub.add_parser("predict", help="print predictions as CSV")
    q.add_argument("--model", required=True)
    q.add_argument("--data", required=True, help=".csv or .npz; the first n_0 columns are used")
    q.add_argument("--out", help="write the CSV here instead of stdout")

    i = sub.add_parser("info", help="print a model's layer table")
    i.add_argument("--model", required=True)
    return p


def main(argv=None):
    from .network import Network  # after argument parsing stays cheap for --help

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args, Network)
        net = Network.load(args.model)
        if args.command == "info":
            print(net.summary())
            return 0
        return _predict(args, net)
    except ValueError as e:
        parser.exit(2, f"fastnn: error: {e}\n")
    except BrokenPipeError:
        return 1


def _train(args, Network):
    from . import datasets

    if args.data is None:
        X, Y = datasets.kinked(dtype=args.dtype)
        source = "built-in kinked 1-D function"
    else:
        X, Y = datasets.load(args.data, args.targets)
        source = args.data
        if Y is None or X.ndim != 2:
            raise ValueError(f"{args.data!r} needs input columns and at least one target column")
        Y = Y.reshape(len(Y), -1)
    net = Network([X.shape[1], *args.hidden, Y.shape[1]], args.activation, dtype=args.dtype, seed=args.seed)
    if not args.quiet:
        print(f"training on {source}: {len(X)} samples", file=sys.stderr)
        print(net.summary(), file=sys.stderr)
    net.fit(X, Y, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
            verbose=not args.quiet)
    print(f"final loss: {net.loss(X, Y):.6g}")
    net.save(args.out)
    print(f"saved {args.out}")
    return 0


def _predict(args, net):
    from . import datasets

    if args.data.endswith(".npz"):
        X, _ = datasets.load(args.data)
    else:
        X = datasets.load_csv(args.data)
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    n0 = net.sizes[0]
    if X.ndim != 2 or X.shape[1] < n0:
        raise ValueError(f"{args.data!r} has {X.shape[-1]} columns but the model needs n_0 = {n0}")
    P = net.predict(X[:, :n0])
    out = open(args.out, "w") if args.out else sys.stdout
    try:
        np.savetxt(out, P, delimiter=",", fmt="%.9g")
    finally:
        if args.out:
            out.close()
    return 0
