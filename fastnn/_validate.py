"""Input checks as pure functions: arrays, targets, sample weights, feature names, counts.

Each returns the input in the form the kernels take (C-contiguous, the network's dtype, 2-D) or
raises ``ValueError`` naming the argument and the fix. Nothing here touches a network.
"""
from __future__ import annotations

import math
import sys
import warnings
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from . import losses as _losses
from ._engine import all_finite, readonly
from ._sparse import SparseRows

if TYPE_CHECKING:
    from ._typing import FloatArray

DTYPES = ("float32", "float64")
# size 0, read-only: nothing to write, and the type the kernels take sample weights as (``_engine.readonly``)
NO_WEIGHTS = {np.dtype(d): np.empty(0, d) for d in DTYPES}
for _a in NO_WEIGHTS.values():
    _a.flags.writeable = False


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def learning_rate(lr: Any) -> float | None:
    """fit's ``lr``: None, or a positive finite number."""
    if lr is None or (type(lr) is float and 0 < lr < math.inf):
        return lr
    if (isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (int, float, np.integer, np.floating))
            or not np.isfinite(lr) or lr <= 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    return float(lr)


def sizes(value: Any) -> list[int]:
    """Layer widths n_0..n_K as a list of positive ints."""
    try:
        out = list(value)
    except TypeError:
        raise ValueError(f"sizes must be a list of layer widths like [2, 2, 1], got {value!r}") from None
    if len(out) < 2:
        raise ValueError(f"sizes needs at least two entries (n_0 inputs and n_K outputs), got {out!r}")
    for n in out:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"sizes: every width must be a positive integer, got {out!r}")
    return [int(n) for n in out]


def dtype(value: Any) -> np.dtype:
    name = str(np.dtype(value) if isinstance(value, type) else value)
    if name not in DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {value!r}")
    return np.dtype(name)


PRECISIONS = {"float32": "float32", "bf16": "bf16", "bfloat16": "bf16"}


def precision(value: Any, dtype: np.dtype) -> str:
    """fit's precision, "float32" or "bf16" (also spelled "bfloat16"); ValueError naming the
    choices, a float64 network (bf16 keeps float32 master weights), or what this machine lacks
    for bf16 (the CPU instructions or Intel MKL)."""
    name = PRECISIONS.get(value) if isinstance(value, str) else None
    if name is None:
        raise ValueError(f"precision must be 'float32' or 'bf16', got {value!r}")
    if name == "bf16":
        if dtype != np.float32:
            raise ValueError(f"precision='bf16' needs dtype='float32' (bf16 products with float32 master "
                             f"weights), got dtype={str(dtype)!r}")
        from ._blas import require_bf16

        require_bf16()
    return name


def feature_names(X: Any) -> np.ndarray | None:
    """A DataFrame's column names when they are all strings (scikit-learn's rule), else None."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = list(columns)
    if not names or not all(isinstance(c, str) for c in names):
        return None
    if any("\0" in c for c in names):  # a saved model could not keep them (NumPy strips NUL)
        raise ValueError(f"X: column names may not contain NUL characters, got {names!r}; "
                         "rename those columns")
    return np.asarray(names, dtype=object)


def check_names(X: Any, known: np.ndarray | None, name: str = "X", warn: bool = False) -> np.ndarray | None:
    """X's column names, checked against ``known`` (those fit recorded). With ``warn``, input
    without names for a network trained with them gets scikit-learn's warning."""
    names = feature_names(X)
    if names is None:
        if warn and known is not None:
            warnings.warn(f"{name} has no feature names, but this network was trained with feature "
                          f"names {list(known)}; pass a DataFrame with those columns to have them "
                          "checked", UserWarning, stacklevel=4)
        return None
    if known is not None and (len(names) != len(known) or (names != known).any()):
        have, want = set(names), set(known)
        missing = [n for n in known if n not in have]
        extra = [n for n in names if n not in want]
        detail = "; ".join(s for s in (f"missing {missing}" if missing else "",
                                       f"unexpected {extra}" if extra else "") if s)
        raise ValueError(
            f"{name}'s columns {list(names)} do not match the feature names the network was "
            f"trained on, {list(known)} ({detail or 'same names, different order'}); "
            f"select them in that order, e.g. {name}[net.feature_names_in_]")
    return names


def _dtypes_of(a: Any) -> list[np.dtype]:
    """The NumPy dtypes of an array, a pandas Series (one) or a DataFrame (one per column)."""
    if isinstance(a, np.ndarray):
        return [a.dtype]
    dts = getattr(a, "dtypes", None)
    if dts is None:
        dt = getattr(a, "dtype", None)
        dts = [] if dt is None else [dt]
    elif isinstance(dts, np.dtype) or not hasattr(dts, "__iter__"):  # a Series: one dtype
        dts = [dts]
    return [d for d in dts if isinstance(d, np.dtype)]


def refuse_unsafe(a: Any, name: str) -> None:
    """Refuse input that NumPy would cast to float silently and wrongly: complex (drops the
    imaginary part), datetime/timedelta (become counts of a unit), bytes, ``np.matrix`` and
    masked arrays (their mask would be ignored)."""
    if a is None:
        return
    if isinstance(a, np.matrix):
        raise ValueError(f"{name} is an np.matrix; pass a plain array: np.asarray({name})")
    if isinstance(a, np.ma.MaskedArray):
        raise ValueError(f"{name} is a masked array; its mask would be ignored: fill or drop the "
                         f"masked entries first ({name}.filled(value) or {name}.compressed())")
    kinds = {d.kind for d in _dtypes_of(a)}
    if not kinds and not hasattr(a, "dtypes"):
        try:
            kinds = {np.asarray(a).dtype.kind}
        except Exception:  # conversion errors are reported by the caller's own conversion
            return
    if "c" in kinds:
        raise ValueError(f"{name} is complex; fastnn trains on real numbers: pass the real part "
                         f"(np.real({name})) or split real and imaginary parts into columns")
    if kinds & {"M", "m"}:
        raise ValueError(f"{name} holds datetime or timedelta values; convert them to numbers "
                         "first, e.g. seconds since a reference: (t - t0) / np.timedelta64(1, 's')")
    if "S" in kinds or "V" in kinds:
        raise ValueError(f"{name} holds bytes; decode and convert them to numbers first")


def check_X(X: Any, n0: int, dt: np.dtype[Any], name: str = "X") -> FloatArray:
    """X as a C-contiguous (N, n_0) array of ``dt`` with N ≥ 1 finite rows."""
    if (type(X) is np.ndarray and X.dtype == dt and X.ndim == 2 and X.flags.c_contiguous
            and X.shape[1] == n0 and X.shape[0]):  # already what the kernels take
        if not all_finite(X):
            raise ValueError(f"{name} contains NaN or Inf; remove or impute those entries first")
        return cast("FloatArray", X)
    refuse_unsafe(X, name)
    try:
        with np.errstate(over="ignore"):  # too big for float32 → Inf, reported below
            X = np.asarray(X, dtype=dt)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a numeric array of shape (N, {n0}): {e}") from None
    if X.ndim == 1 and n0 == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != n0:
        raise ValueError(f"{name} has shape {X.shape} but the input layer has n_0 = {n0} "
                         f"units; pass {name} with shape (N, {n0})")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 rows); pass at least one sample")
    X = np.ascontiguousarray(X)
    if not all_finite(X):
        raise ValueError(f"{name} contains NaN or Inf; remove or impute those entries first")
    return cast("FloatArray", X)


def is_sparse(X: Any) -> bool:
    """True for a SciPy sparse matrix or array (any format). Costs nothing when SciPy's sparse
    module was never imported: then X cannot be one."""
    sp = sys.modules.get("scipy.sparse")
    return sp is not None and bool(sp.issparse(X))


def check_sparse_X(X: Any, n0: int, dt: np.dtype[Any], name: str = "X") -> SparseRows:
    """A SciPy sparse X as ``SparseRows`` of ``dt``: any format (converted with ``tocsr``, far
    cheaper than densifying), n_0 columns, at least one row, finite values; duplicate entries of
    a position add up, as ``toarray`` adds them."""
    if X.ndim != 2 or X.shape[1] != n0:
        raise ValueError(f"{name} has shape {X.shape} but the input layer has n_0 = {n0} units; "
                         f"pass {name} with shape (N, {n0})")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 rows); pass at least one sample")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} is a sparse matrix of {X.dtype}; fastnn trains on real numbers: "
                         f"convert it with {name}.astype('{dt.name}')")
    if X.format != "csr":
        X = X.tocsr()
    with np.errstate(over="ignore"):  # too big for float32 → Inf, reported below
        data = np.ascontiguousarray(X.data, dtype=dt)
    if not all_finite(data):
        raise ValueError(f"{name} contains NaN or Inf; remove or impute those entries first "
                         f"({name}.data holds the nonzero values)")
    indices = np.ascontiguousarray(X.indices, dtype=np.int32)
    indptr = np.ascontiguousarray(X.indptr, dtype=np.int64)
    return SparseRows(readonly(data), readonly(indices), readonly(indptr), n0)


def check_rows(X: Any, n0: int, dt: np.dtype[Any], name: str = "X",
               first_skip: bool = False) -> FloatArray | SparseRows:
    """``check_X``, or ``check_sparse_X`` for a SciPy sparse X (or ``SparseRows`` as they are,
    when of ``dt``). ``first_skip``: layer 1 of the network has a skip, which sparse X cannot
    feed (x̄^[1] = x̄^[0] + d^[1] is dense)."""
    if type(X) is np.ndarray:
        return check_X(X, n0, dt, name)
    if isinstance(X, SparseRows) and X.dtype == dt and X.n_cols == n0:
        rows = X
    elif is_sparse(X):
        rows = check_sparse_X(X, n0, dt, name)
    else:
        return check_X(X, n0, dt, name)
    if first_skip:
        raise ValueError(f"{name} is sparse, but layer 1 has a skip (residual), x̄^[1] = x̄^[0] + d^[1], which "
                         f"would make it dense; pass residual=False for layer 1, or {name}.toarray()")
    return rows


def check_Y(Y: Any, N: int, nK: int, dt: np.dtype[Any], loss: _losses.Loss, name: str = "X") -> FloatArray:
    """Targets as a C-contiguous (N, n_K) array of ``dt`` fit for ``loss`` (integer class
    labels (N,) become one-hot rows for a loss on probabilities). ``name``: X's name."""
    yname = f"{name}'s Y" if name != "X" else "Y"
    labels = False
    if not (type(Y) is np.ndarray and Y.dtype == dt and Y.ndim == 2 and Y.flags.c_contiguous
            and Y.shape[1] == nK):  # else already what the kernels take
        refuse_unsafe(Y, yname)
        labels = loss.targets == "probabilities" and np.ndim(Y) == 1
        try:
            with np.errstate(over="ignore"):
                Y = np.asarray(Y, dtype=np.float64 if labels else dt)
        except (TypeError, ValueError) as e:
            if np.ndim(Y) == 1:
                raise ValueError(
                    f"{yname} looks like class labels that are not numbers ({e}); Network trains on "
                    f"numeric targets: encode the classes as integers 0..{max(nK - 1, 1)} "
                    "(np.unique(labels, return_inverse=True)[1]) with loss='cross_entropy', or use "
                    "fastnn.MLPClassifier, which takes any labels") from None
            raise ValueError(f"{yname} must be a numeric array of shape (N, {nK}): {e}") from None
        if Y.ndim == 1 and nK == 1:
            Y = Y[:, None]
        if labels:
            Y = one_hot(Y, nK, dt)
        if Y.ndim != 2 or Y.shape[1] != nK:
            raise ValueError(
                f"{yname} has shape {Y.shape} but the output layer has n_K = {nK} units; "
                f"pass {yname} with shape (N, {nK})" + (" or (N,)" if nK == 1 else "")
                + (" or integer labels of shape (N,)" if loss.targets == "probabilities" else ""))
        Y = np.ascontiguousarray(Y)
    if Y.shape[0] != N:
        raise ValueError(f"{name} has {N} rows but its Y has {Y.shape[0]}; pass one target row per sample")
    if not all_finite(Y):
        raise ValueError(f"{yname} contains NaN or Inf; remove or impute those entries first")
    if loss.targets == "probabilities" and not labels:
        sums = Y.sum(axis=1, dtype=np.float64)
        if (Y < 0).any() or (np.abs(sums - 1) > 1e-4).any():
            bad = int(np.argmax((np.abs(sums - 1) > 1e-4) | (Y < 0).any(axis=1)))
            raise ValueError(
                f"{yname}: loss='cross_entropy' needs probability rows (entries >= 0 summing to 1) "
                f"or integer labels of shape (N,); row {bad} is {Y[bad].tolist()}")
    if loss.targets == "nonnegative" and (Y < 0).any():
        bad = int(np.argmax((Y < 0).any(axis=1)))
        raise ValueError(f"{yname}: loss='poisson' needs counts or rates y >= 0 (it predicts exp(z) > 0); "
                         f"row {bad} is {Y[bad].tolist()}: shift or drop the negative targets, or pick "
                         "another loss")
    if loss.targets == "binary" and ((Y < 0) | (Y > 1)).any():
        raise ValueError(f"{yname}: loss='binary_cross_entropy' needs targets in [0, 1] "
                         "(one column of 0/1 labels per output)")
    return cast("FloatArray", Y)


def one_hot(labels: np.ndarray, nK: int, dt: np.dtype) -> np.ndarray:
    """Integer class labels (N,) → one-hot rows (N, n_K)."""
    if not ((labels == np.floor(labels)) & (labels >= 0) & (labels < nK)).all():
        raise ValueError(f"Y: class labels must be integers in [0, {nK}) for n_K = {nK} "
                         f"outputs, got values from {labels.min():g} to {labels.max():g}")
    Y = np.zeros((len(labels), nK), dt)
    Y[np.arange(len(labels)), labels.astype(np.int64)] = 1
    return Y


def sample_weight(value: Any, N: int, dt: np.dtype, name: str = "sample_weight") -> np.ndarray:
    """Per-sample weights as a ``dt`` array of N entries >= 0 (empty for None)."""
    if value is None:
        return NO_WEIGHTS[dt]
    refuse_unsafe(value, name)
    try:
        w = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a numeric array of shape ({N},): {e}") from None
    if w.ndim == 0:
        w = np.full(N, float(w))
    if w.shape != (N,):
        raise ValueError(f"{name} has shape {w.shape}; pass one weight per sample, shape ({N},)")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{name} must be finite and >= 0 (got min {w.min():g}, max {w.max():g})")
    if not w.max(initial=0.0) > 0:
        raise ValueError(f"{name} sums to 0; at least one sample needs a positive weight")
    # Only ratios matter (Σ w (·) / Σ w): a power-of-two rescale to max w in [0.5, 1) is
    # exact and keeps any accepted scale inside the dtype's range, sums included
    # (``weight_exponent`` gives the power, for batch norm's count of rows).
    w = np.ascontiguousarray(np.ldexp(w, -weight_exponent(w)), dtype=dt)
    if not w.sum(dtype=np.float64) > 0:
        raise ValueError(f"{name}: the weights span more than {dt.name} can hold")
    return w


def weight_exponent(value: Any) -> int:
    """e such that ``sample_weight`` scaled valid weights by 2^−e (0 for None)."""
    if value is None:
        return 0
    w = np.asarray(value, dtype=np.float64)
    return int(np.frexp(w.max(initial=0.0))[1])


def overflow_hint(dt: np.dtype, *arrays: np.ndarray | SparseRows) -> str:
    """Why a loss may be non-finite for finite input: entries so large that their squares (or
    products with W) overflow ``dt``; '' when the data looks ordinary."""
    values = [a.data if isinstance(a, SparseRows) else a for a in arrays if a is not None]
    big = max((float(np.abs(a).max()) for a in values if a.size), default=0.0)
    if big > math.sqrt(float(np.finfo(dt).max)) / 1e3:
        return (f"; the data has entries up to {big:.3g}, whose squares overflow {dt.name}: "
                "standardize X and Y (e.g. sklearn.preprocessing.StandardScaler)"
                + (" or use dtype='float64'" if dt == np.float32 else ""))
    return ""


def _per_layer(name: str, value: Any, hidden: int, scalar: tuple[type, ...]) -> list[Any]:
    """One entry per hidden layer: a scalar repeated, or a sequence of ``hidden`` entries."""
    if value is None or isinstance(value, scalar) or isinstance(value, np.generic):
        return [value] * hidden
    try:
        entries = list(value)
    except TypeError:
        raise ValueError(f"{name}: pass one value for every hidden layer or a list of {hidden}, "
                         f"got {value!r}") from None
    if len(entries) != hidden:
        raise ValueError(f"{name}: got {len(entries)} entries for {hidden} hidden layers; pass one per "
                         f"hidden layer (k = 1..{hidden}) or a single value")
    return entries


def layer_norms(value: Any, hidden: int) -> list[str | None]:
    """``norm`` per hidden layer: None, "layer" or "batch"."""
    out = _per_layer("norm", value, hidden, (str,))
    for v in out:
        if v not in (None, "layer", "batch"):
            raise ValueError(f"norm: {v!r} is not a normalization; pass None, 'layer' or 'batch' "
                             "(or a list of them, one per hidden layer)")
    return out


def layer_dropout(value: Any, hidden: int) -> list[float]:
    """``dropout`` per hidden layer: rates in [0, 1)."""
    out = []
    for v in _per_layer("dropout", value, hidden, (int, float)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not 0 <= float(v) < 1:
            raise ValueError(f"dropout: rates must be numbers in [0, 1), got {v!r}; pass e.g. dropout=0.1")
        out.append(float(v))
    return out


def layer_residual(value: Any, sizes: list[int]) -> list[bool]:
    """``residual`` per hidden layer k: an identity skip, allowed where n_k = n_{k-1}."""
    hidden = len(sizes) - 2
    fits = [sizes[k] == sizes[k - 1] for k in range(1, hidden + 1)]
    if isinstance(value, (bool, np.bool_)):
        if not value:
            return [False] * hidden
        if not any(fits):
            raise ValueError(f"residual: no hidden layer of sizes={sizes} has the width of its input "
                             "(a skip x̄^[k] = x̄^[k-1] + d^[k] needs n_k = n_{k-1}); make two widths equal "
                             "or pass residual=False")
        return fits
    out = _per_layer("residual", value, hidden, ())
    for k, (v, ok) in enumerate(zip(out, fits), start=1):
        if not isinstance(v, (bool, np.bool_)):
            raise ValueError(f"residual: entries must be True or False, got {v!r} for layer {k}")
        if v and not ok:
            raise ValueError(f"residual: layer {k} maps {sizes[k - 1]} to {sizes[k]} units, so it cannot have "
                             "a skip (needs n_k = n_{k-1}); pass False for it")
    return [bool(v) for v in out]
