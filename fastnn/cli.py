"""``fastnn train | predict | info``: a small command line over ``Network``."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .activations import ACTIVATIONS
from .losses import LOSSES
from .optimizers import OPTIMIZERS

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

    from .network import Network

SGD_LR = 0.05
"""``--lr`` for sgd when none is given (``Network.fit``'s own default is 0.01)."""


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="fastnn", description=__doc__)
    p.add_argument("--version", action="version", version=f"fastnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a network (on the built-in kinked dataset by default)")
    t.add_argument("--data", help=".csv (comma, semicolon, tab or blank separated; a header row "
                                  "names the columns) or .npz with arrays X and Y")
    t.add_argument("--target", action="append", metavar="NAME",
                   help="a CSV target column by header name; repeat or comma-separate for several, "
                        "the other columns are the inputs")
    t.add_argument("--targets", type=int, metavar="N",
                   help="without --target: the last N columns of a CSV are the targets (default 1)")
    t.add_argument("--hidden", type=_ints, default=[32, 32], help="hidden widths, e.g. 32,32")
    t.add_argument("--activation", default="relu",
                   help=f"activation of the hidden layers: {', '.join(ACTIVATIONS)}")
    t.add_argument("--norm", choices=["layer", "batch"],
                   help="normalize each hidden layer's z before its activation (default: none)")
    t.add_argument("--dropout", type=float, default=0.0, metavar="P",
                   help="dropout rate in [0, 1) after each hidden layer, in training only")
    t.add_argument("--residual", action="store_true",
                   help="identity skip around each hidden layer as wide as its input")
    t.add_argument("--loss", default="mse", choices=list(LOSSES),
                   help="mse (default); cross_entropy takes one column of class labels 0..C-1 or "
                        "one-hot columns, and predicts probabilities")
    t.add_argument("--optimizer", default="sgd", choices=list(OPTIMIZERS))
    t.add_argument("--lr", type=float, help=f"learning rate (default: {SGD_LR} for sgd, "
                                            "the optimizer's own for the others)")
    t.add_argument("--epochs", type=int, default=200)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--validation-split", type=float, default=0.0, metavar="FRACTION",
                   help="hold out this fraction of the samples and report their loss")
    t.add_argument("--early-stopping", type=int, nargs="?", const=10, metavar="PATIENCE",
                   help="stop after PATIENCE epochs (default 10) without a better validation loss "
                        "(training loss without --validation-split); keep the best weights")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    t.add_argument("--out", default="model.npz", help="where to save the trained model")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    q = sub.add_parser("predict", help="print predictions as CSV")
    q.add_argument("--model", required=True)
    q.add_argument("--data", required=True,
                   help=".csv with the model's input columns (by header name if it was trained on "
                        "named columns), or .npz with an array X")
    q.add_argument("--out", help="write the CSV here instead of stdout")

    i = sub.add_parser("info", help="print a model's layer table")
    i.add_argument("--model", required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``fastnn train | predict | info``.

    ``fastnn train`` trains a ``Network`` on a CSV or .npz file (or the built-in ``kinked``
    data) and saves it; ``fastnn predict`` prints a saved model's predictions as CSV;
    ``fastnn info`` prints its layer table. ``fastnn --help`` and ``fastnn COMMAND --help``
    list the options.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 1 on a broken pipe.

    Raises
    ------
    SystemExit
        On ``--help``/``--version`` (status 0), on bad arguments or input (status 2, with a
        one-line message on stderr), and on a diverged fit or an OS error (status 1).

    Examples
    --------
    From a shell (``python -m fastnn`` is the same program)::

        fastnn train --hidden 32,32 --epochs 200 --out model.npz   # the built-in kinked data
        fastnn train --data wine.csv --target cultivar --loss cross_entropy --out wine.npz
        fastnn train --hidden 64,64,64 --norm layer --dropout 0.1 --residual --activation gelu
        fastnn info --model wine.npz
        fastnn predict --model wine.npz --data new_wines.csv > probabilities.csv

    From Python, ``main(["info", "--model", "wine.npz"])``.
    """
    from .network import Network
    from .training import DivergedError

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args, Network)
        try:
            net = Network.load(args.model)
        except FileNotFoundError:  # load raises it as np.load does; here it is a usage error
            raise ValueError(f"model file {args.model!r} does not exist") from None
        if args.command == "info":
            print(net.summary())
            return 0
        return _predict(args, net)
    except (ValueError, ImportError) as e:  # ImportError: pandas missing, with the pip command
        parser.exit(2, f"fastnn: error: {e}\n")
    except DivergedError as e:
        parser.exit(1, f"fastnn: error: {e}\n")
    except BrokenPipeError:
        return 1
    except OSError as e:  # save/--out: a missing folder, no permission, a full disk (names the path)
        parser.exit(1, f"fastnn: error: {e}\n")


def _train(args: argparse.Namespace, Network: type[Network]) -> int:
    from . import datasets

    if args.target and (args.data is None or args.data.endswith(".npz")):
        raise ValueError("--target names a column of a CSV file; pass one with --data FILE.csv")
    if args.data is None:
        X, Y = datasets.kinked(dtype=args.dtype)
        source = "built-in kinked 1-D function"
    elif args.data.endswith(".npz"):
        X, Y = datasets.load_npz(args.data)
        source = args.data
        if X.ndim != 2:
            raise ValueError(f"{args.data!r}: X must be 2-D (samples x inputs), got shape {X.shape}")
    else:
        X, Y = _csv_columns(args.data, args.target, args.targets)
        source = args.data
    Y = Y.reshape(len(Y), -1)
    if LOSSES[args.loss].targets == "probabilities" and Y.shape[1] == 1:
        Y = _class_labels(Y[:, 0], args.loss)
    n_K = int(Y.max()) + 1 if Y.ndim == 1 else Y.shape[1]
    net = Network([X.shape[1], *args.hidden, n_K], args.activation, loss=args.loss, norm=args.norm,
                  dropout=args.dropout, residual=args.residual, dtype=args.dtype, seed=args.seed)
    if not args.quiet:
        print(f"training on {source}: {len(X)} samples", file=sys.stderr)
        print(net.summary(), file=sys.stderr)
    lr = SGD_LR if args.lr is None and args.optimizer == "sgd" else args.lr
    history = net.fit(X, Y, epochs=args.epochs, batch_size=args.batch_size, lr=lr, seed=args.seed,
                      verbose=not args.quiet, optimizer=args.optimizer,
                      validation_split=args.validation_split, early_stopping=args.early_stopping)
    if history.stopped_epoch:
        print(f"stopped early after epoch {history.stopped_epoch}; best epoch {history.best_epoch}")
    if "val_loss" in history:
        epoch = history.best_epoch or history.epochs  # the epoch whose weights are saved
        print(f"validation loss: {history['val_loss'][epoch - 1]:.6g}")
    print(f"final loss: {net.loss(X, Y):.6g}")
    net.save(args.out)
    print(f"saved {args.out}")
    return 0


def _csv_columns(path: str, target: list[str] | None, n_targets: int | None
                 ) -> tuple[pd.DataFrame | npt.NDArray[Any], npt.NDArray[Any]]:
    """(inputs, targets) of a CSV: the --target columns by name, or the last --targets N.

    The inputs are a DataFrame when the file has a header, so fit records their names.
    """
    from . import datasets

    data, header = datasets.read_csv(path)
    columns = list(data.columns)
    if target:
        if n_targets is not None:
            raise ValueError("pass --target NAME or --targets N, not both")
        if not header:
            raise ValueError(f"{path!r} has no header row, so --target has no names to match; "
                             f"use --targets N for its last N columns")
        names = list(dict.fromkeys(n.strip() for t in target for n in t.split(",")))
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise ValueError(f"{path!r} has no column named {', '.join(map(repr, unknown))}; "
                             f"its columns are {columns}")
        if len(names) == len(columns):
            raise ValueError(f"--target names all {len(columns)} columns of {path!r}; "
                             f"leave at least one input column")
    else:
        n = 1 if n_targets is None else n_targets
        if not 0 < n < len(columns):
            raise ValueError(f"{path!r} has {len(columns)} columns; --targets {n} must leave at "
                             f"least one input column and take at least one target")
        names = columns[-n:]
    X = data.drop(columns=names)
    return (X if header else X.to_numpy()), data[names].to_numpy()


def _class_labels(y: npt.NDArray[Any], loss: str) -> npt.NDArray[np.int64]:
    """One column of class labels 0..C-1 as integers (fit one-hot encodes them)."""
    bad = (y != np.floor(y)) | (y < 0)
    if bad.any():
        raise ValueError(f"--loss {loss} with one target column needs class labels 0, 1, ..., C-1; "
                         f"got {y[bad][0]:g}")
    return y.astype(np.int64)


def _predict(args: argparse.Namespace, net: Network) -> int:
    from . import datasets

    n0 = net.sizes[0]
    names = getattr(net, "feature_names_in_", None)
    if args.data.endswith(".npz"):
        (X,) = datasets.load_npz(args.data, ("X",))
        if X.ndim == 1 and n0 == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != n0:
            raise ValueError(f"{args.data!r}: X has shape {X.shape} but the model takes n_0 = {n0} inputs")
    else:
        data, header = datasets.read_csv(args.data)
        if names is not None:
            _check_columns(args.data, list(data.columns) if header else None, [str(n) for n in names])
            X = data
        elif data.shape[1] != n0:
            raise ValueError(f"{args.data!r} has {data.shape[1]} columns but the model takes n_0 = {n0} "
                             f"inputs; pass only the input columns (no target columns)")
        else:
            X = data.to_numpy()
    P = net.predict(X)
    out = open(args.out, "w") if args.out else sys.stdout
    try:
        np.savetxt(out, P, delimiter=",", fmt="%.9g")
    finally:
        if args.out:
            out.close()
    return 0


def _check_columns(path: str, got: list[str] | None, expected: list[str]) -> None:
    """A one-line ValueError unless the CSV's header is exactly the model's input columns."""
    if got == expected:
        return
    if got is None:
        raise ValueError(f"{path!r} has no header row; the model needs the columns {expected}")
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    problems = [f"missing {missing}"] * bool(missing) + [f"extra {extra}"] * bool(extra)
    raise ValueError(f"{path!r} has columns {got} but the model needs exactly {expected} in that order"
                     + (f" ({', '.join(problems)})" if problems else " (reordered)"))
