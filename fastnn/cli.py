"""``fastnn train | predict | info``: a small command line over ``Network``."""
from __future__ import annotations

import argparse
import csv
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
CLASSIFICATION_LOSSES = ("cross_entropy", "binary_cross_entropy")
MAX_CLASSES = 10
"""``--task auto``: one target column of whole numbers with at most this many distinct values
is a class column (text is always one)."""


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
    t.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                   help="auto (default): a target column of text, or of whole numbers with at most "
                        f"{MAX_CLASSES} distinct values, is a class column; else regression")
    t.add_argument("--loss", choices=list(LOSSES),
                   help="default: cross_entropy for 3+ classes, binary_cross_entropy for 2, mse for "
                        "regression (cross_entropy also takes one-hot target columns; poisson, "
                        "absolute_error, huber and quantile are for regression too)")
    t.add_argument("--huber-epsilon", type=float, metavar="EPS",
                   help=f"--loss huber's threshold on the residual (default {LOSSES['huber'].param})")
    t.add_argument("--quantile", type=float, metavar="Q",
                   help=f"--loss quantile's q in (0, 1) (default {LOSSES['quantile'].param}: the median)")
    t.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS), help="default: adam")
    t.add_argument("--lr", type=float, help=f"learning rate (default: {SGD_LR} for sgd, "
                                            "the optimizer's own for the others)")
    t.add_argument("--no-scale", action="store_true",
                   help="do not standardize the numeric input columns (by default each is shifted and "
                        "scaled to mean 0, standard deviation 1, as saved in the model file)")
    t.add_argument("--epochs", type=int, default=200)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--validation-split", type=float, default=0.0, metavar="FRACTION",
                   help="hold out this fraction of the samples, drawn at random (from each class in "
                        "proportion, for classification), and report their loss and score")
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
        fastnn train --data wine.csv --target cultivar --out wine.npz     # classes: cross_entropy
        fastnn train --hidden 64,64,64 --norm layer --dropout 0.1 --residual --activation gelu
        fastnn info --model wine.npz
        fastnn predict --model wine.npz --data new_wines.csv > labels_and_probabilities.csv

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
            if net.preprocess is not None:
                print(f"inputs: {net.preprocess!r}")
            if net.classes is not None:
                print(f"classes: {net.classes.tolist()}")
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
    from .preprocess import Preprocess

    if args.target and (args.data is None or args.data.endswith(".npz")):
        raise ValueError("--target names a column of a CSV file; pass one with --data FILE.csv")
    targets: list[str] | None = None
    if args.data is None:
        X, Y = datasets.kinked(dtype=args.dtype)
        source = "built-in kinked 1-D function"
    elif args.data.endswith(".npz"):
        X, Y = datasets.load_npz(args.data)
        source = args.data
        if X.ndim != 2:
            raise ValueError(f"{args.data!r}: X must be 2-D (samples x inputs), got shape {X.shape}")
    else:
        X, Y, targets = _csv_columns(args.data, args.target, args.targets)
        source = args.data
    Y = np.asarray(Y).reshape(len(Y), -1)
    classes, y, loss = _task(args, Y, targets)
    n_K = 1 if loss == "binary_cross_entropy" else Y.shape[1] if classes is None or y is None else len(classes)
    named = hasattr(X, "columns")
    pre = Preprocess.fit(X, scale=not args.no_scale, targets=targets) if named or not args.no_scale else None
    n_0 = pre.n_features_out if pre is not None else X.shape[1]
    entry = LOSSES[loss]
    for flag, name in (("huber_epsilon", "huber"), ("quantile", "quantile")):
        if getattr(args, flag) is not None:
            if loss != name:
                raise ValueError(f"--{flag.replace('_', '-')} is a parameter of --loss {name}; got --loss {loss}")
            entry = entry.with_param(getattr(args, flag))
    net = Network([n_0, *args.hidden, n_K], args.activation, loss=entry, norm=args.norm,
                  dropout=args.dropout, residual=args.residual, dtype=args.dtype, seed=args.seed)
    net.preprocess, net.classes = pre, classes
    train, val = validation_rows(len(X), args.validation_split, y, args.seed)
    if not args.quiet:
        print(f"training on {source}: {len(X)} samples", file=sys.stderr)
        print(net.summary(), file=sys.stderr)
    Yfit = y if y is not None else Y
    if loss == "binary_cross_entropy" and y is not None:
        Yfit = y.reshape(-1, 1).astype(np.float64)
    Xt, Yt = _rows(X, train), Yfit[train]
    lr = SGD_LR if args.lr is None and args.optimizer == "sgd" else args.lr
    history = net.fit(Xt, Yt, epochs=args.epochs, batch_size=args.batch_size, lr=lr, seed=args.seed,
                      verbose=not args.quiet, optimizer=args.optimizer, early_stopping=args.early_stopping,
                      validation_data=None if val is None else (_rows(X, val), Yfit[val]))
    if history.stopped_epoch:
        print(f"stopped early after epoch {history.stopped_epoch}; best epoch {history.best_epoch}")
    print(f"epochs: {history.epochs}")
    codes = y if y is not None or classes is None else np.argmax(Y, axis=1)  # (one-hot columns)
    for part, rows in (("training", train), ("validation", val)):
        if rows is None:
            continue
        if part == "validation":
            epoch = history.best_epoch or history.epochs  # the epoch whose weights are saved
            print(f"validation loss: {history['val_loss'][epoch - 1]:.6g}")
        P = net.predict(_rows(X, rows))
        if codes is not None:
            print(f"{part} accuracy: {np.mean(_codes(P) == codes[rows]):.4f}")
        else:
            print(f"{part} R^2: {r2_score(Y[rows], P):.4f}")
    print(f"final loss: {net.loss(_rows(X, train), Yt):.6g}")
    net.save(args.out)
    print(f"saved {args.out}")
    return 0


def _task(args: argparse.Namespace, Y: npt.NDArray[Any], targets: list[str] | None
          ) -> tuple[npt.NDArray[Any] | None, npt.NDArray[np.int64] | None, str]:
    """(classes, class codes 0..C-1 of the rows, loss) for classification, (None, None, loss)
    for regression, by ``--task`` (``auto``: see MAX_CLASSES), else ``--loss``."""
    from .preprocess import class_labels

    text = Y.dtype.kind not in "biuf"
    if args.task != "auto":
        classify = args.task == "classification"
    elif args.loss is not None:
        classify = args.loss in CLASSIFICATION_LOSSES
    else:
        values = np.unique(Y) if not text else None
        classify = Y.shape[1] == 1 and (text or (values is not None and len(values) <= MAX_CLASSES
                                                 and bool((values == np.round(values)).all())))
    if text and not classify:
        raise ValueError("the target column holds text (class labels), which only classification takes; "
                         f"drop {'--loss mse' if args.task == 'auto' else '--task regression'} (or pass a "
                         "column of numbers)")
    if args.loss is not None and classify != (args.loss in CLASSIFICATION_LOSSES):
        raise ValueError(f"--loss {args.loss} is for {'regression' if classify else 'classification'}; "
                         f"--task {'classification' if classify else 'regression'} needs "
                         f"{'cross_entropy or binary_cross_entropy' if classify else 'a regression loss'}")
    if not classify:
        return None, None, args.loss or "mse"
    if Y.shape[1] > 1:  # one-hot (or probability) columns, one per class
        if args.loss != "cross_entropy":
            raise ValueError(f"classification takes one target column of labels, got {Y.shape[1]}; "
                             "pass --loss cross_entropy for one-hot columns (one per class)")
        return np.array(targets if targets else [str(i) for i in range(Y.shape[1])]), None, "cross_entropy"
    raw = Y[:, 0] if text else Y[:, 0].astype(np.float64)
    found, codes = np.unique(raw.astype(str) if text else raw, return_inverse=True)
    classes = class_labels(found)
    if classes is None:
        raise ValueError(f"classification needs labels that are text or whole numbers, got {found[0]!r} "
                         "among them; pass --task regression for a numeric target")
    if len(classes) < 2:
        raise ValueError(f"classification needs at least 2 classes in the target column, got only "
                         f"{classes.tolist()}")
    loss = args.loss or ("binary_cross_entropy" if len(classes) == 2 else "cross_entropy")
    if loss == "binary_cross_entropy" and len(classes) > 2:
        raise ValueError(f"--loss binary_cross_entropy takes 2 classes, the target has {len(classes)}; "
                         "use --loss cross_entropy")
    return classes, codes.astype(np.int64), loss


def validation_rows(n: int, fraction: float, strata: npt.NDArray[Any] | None, seed: int
           ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64] | None]:
    """The rows ``--validation-split`` holds out: ``fraction`` of the rows drawn at random, from
    each class in proportion when ``strata`` holds the rows' classes (at least one of each class
    of two or more rows), as scikit-learn's ``train_test_split(..., stratify=)`` does.

    Parameters
    ----------
    n : int
        The number of rows.
    fraction : float
        The fraction to hold out, in [0, 1).
    strata : ndarray of shape (n,) or None
        The rows' classes (classification), or None.
    seed : int
        Seeds the draw (``--seed``).

    Returns
    -------
    train, validation : ndarray of int
        The row indices of each part, sorted; validation is None for fraction 0.

    Raises
    ------
    ValueError
        If ``fraction`` is not in [0, 1) or leaves either part empty.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"--validation-split must be a fraction in [0, 1), got {fraction}")
    if not fraction:
        return np.arange(n), None
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata == c) for c in np.unique(strata)]
    held = []
    for rows in groups:
        rows = rng.permutation(rows)
        k = round(len(rows) * fraction)
        held.append(rows[:max(k, 1) if strata is not None and len(rows) > 1 else k])
    val = np.sort(np.concatenate(held))
    if len(val) == 0 or len(val) == n:
        raise ValueError(f"--validation-split {fraction} of {n} rows leaves {len(val)} for validation and "
                         f"{n - len(val)} for training; both need at least one row")
    return np.setdiff1d(np.arange(n), val), val


def _rows(X: Any, rows: npt.NDArray[np.int64]) -> Any:
    return X.iloc[rows].reset_index(drop=True) if hasattr(X, "iloc") else X[rows]


def _codes(P: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """The predicted class of each row: p > 0.5 for one sigmoid output, else the most probable."""
    return (P[:, 0] > 0.5).astype(np.int64) if P.shape[1] == 1 else np.argmax(P, axis=1)


def r2_score(Y: npt.NDArray[Any], P: npt.NDArray[Any]) -> float:
    """R² averaged over the outputs (scikit-learn's ``r2_score``, multioutput="uniform_average")."""
    Y, P = np.asarray(Y, np.float64).reshape(len(Y), -1), np.asarray(P, np.float64).reshape(len(P), -1)
    ss_res = ((Y - P) ** 2).sum(axis=0)
    ss_tot = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res > 0, 0.0, 1.0))
    return float(r2.mean())


def _csv_columns(path: str, target: list[str] | None, n_targets: int | None
                 ) -> tuple[pd.DataFrame | npt.NDArray[Any], npt.NDArray[Any], list[str] | None]:
    """(inputs, targets, the targets' names) of a CSV: the --target columns by name, or the last
    --targets N. The inputs are a DataFrame (text columns as str) when the file has a header."""
    from . import datasets

    data, header = datasets.read_csv(path, text=True)
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
    Y = data[names]
    if len(names) > 1 and any(Y[c].dtype.kind not in "biuf" for c in names):
        raise ValueError(f"{path!r}: several target columns {names} must all hold numbers; a column of "
                         "class labels (text) goes alone: --target NAME")
    Y = Y.to_numpy() if all(Y[c].dtype.kind in "biuf" for c in names) else Y.to_numpy(dtype=object)
    return X if header else X.to_numpy(), Y, [str(n) for n in names] if header else None


def _predict(args: argparse.Namespace, net: Network) -> int:
    from . import datasets
    from .preprocess import column_mismatch

    pre = net.preprocess
    n0 = pre.n_features_out if pre is not None and pre.columns is None else net.sizes[0]
    names = pre.columns if pre is not None else getattr(net, "feature_names_in_", None)
    if args.data.endswith(".npz"):
        (X,) = datasets.load_npz(args.data, ("X",))
        if X.ndim == 1 and n0 == 1:
            X = X[:, None]
        width = len(names) if names is not None else n0
        if X.ndim != 2 or X.shape[1] != width:
            raise ValueError(f"{args.data!r}: X has shape {X.shape} but the model takes {width} inputs")
    else:
        data, header = datasets.read_csv(args.data, text=set(pre.categories) if pre is not None else False)
        if names is not None:
            expected = [str(n) for n in names]
            got = list(data.columns) if header else None
            targets = list(pre.targets or []) if pre is not None else []
            if got is not None and got != expected and [c for c in got if c not in targets] == expected:
                data, got = data[expected], expected  # the training file itself: its targets are left out
            if got != expected:
                raise ValueError(column_mismatch(repr(args.data), got, expected))
            X = data
        elif data.shape[1] != n0:
            raise ValueError(f"{args.data!r} has {data.shape[1]} columns but the model takes n_0 = {n0} "
                             f"inputs; pass only the input columns (no target columns)")
        else:
            X = data.to_numpy()
    P = net.predict(X)
    header_row, rows = _table(net, P)
    out = open(args.out, "w", newline="") if args.out else sys.stdout
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header_row)
        writer.writerows(rows)
    finally:
        if args.out:
            out.close()
    return 0


def _table(net: Network, P: npt.NDArray[Any]) -> tuple[list[str], list[list[Any]]]:
    """``fastnn predict``'s header and rows: for a classifier the predicted label and one
    probability per class (p_<class>), else the outputs (named after the targets)."""
    classes = net.classes
    if classes is None and net.loss_name in CLASSIFICATION_LOSSES:  # a file without labels: classes 0..C-1
        classes = np.arange(2 if P.shape[1] == 1 else P.shape[1])
    numbers = [[f"{v:.9g}" for v in row] for row in (np.hstack([1 - P, P]) if P.shape[1] == 1 and
                                                      classes is not None else P)]
    if classes is not None:
        labels = classes[_codes(P)]
        return (["label", *(f"p_{c}" for c in classes.tolist())],
                [[str(label), *row] for label, row in zip(labels.tolist(), numbers)])
    targets = net.preprocess.targets if net.preprocess is not None else None
    if not targets or len(targets) != P.shape[1]:
        targets = ["y"] if P.shape[1] == 1 else [f"y{j}" for j in range(1, P.shape[1] + 1)]
    return list(targets), numbers
