"""The input transform a ``Network`` can carry: columns by name, standardized numbers, one-hot
categories, and the class labels of its outputs.

``fastnn train`` fits a ``Preprocess`` on a table's input columns and keeps it in the model file
(``net.preprocess``), so that ``Network.load(path).predict(table)`` and ``fastnn predict`` take
the raw columns and transform them as training did. The output of the transform is laid out as
scikit-learn's ``ColumnTransformer([("num", StandardScaler(), numeric), ("cat", OneHotEncoder(),
categorical)])`` lays it out: the numeric columns, standardized, in their order, then one 0/1
column per category of each categorical column (categories sorted, as ``OneHotEncoder``'s).

Examples
--------
>>> import pandas as pd
>>> from fastnn.preprocess import Preprocess
>>> df = pd.DataFrame({"size": [1.0, 2.0, 3.0], "color": ["red", "blue", "red"]})
>>> pre = Preprocess.fit(df)
>>> pre.categories, pre.n_features_out
({'color': ['blue', 'red']}, 3)
>>> pre.transform(df).round(3)
array([[-1.225,  0.   ,  1.   ],
       [ 0.   ,  1.   ,  0.   ],
       [ 1.225,  0.   ,  1.   ]])
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt


class Preprocess:
    """Columns by name, standardization of the numeric ones, one-hot encoding of the others.

    Parameters
    ----------
    columns : sequence of str or None
        The input columns, in order; None: unnamed, all numeric (X is taken by position).
    categories : mapping of str to sequence of str, optional
        The categorical columns (some of ``columns``) and their categories, in one-hot order.
    mean, scale : array_like of float, optional
        Per numeric column (``columns`` less ``categories``, in order): x ↦ (x − mean) / scale.
        None: the numbers pass unchanged. Both or neither.
    targets : sequence of str, optional
        The names of the outputs (the target columns), for display.

    Attributes
    ----------
    columns, categories, mean, scale, targets
        As given (``categories`` a dict of lists, ``mean`` and ``scale`` float64 arrays).
    numeric : list of str or None
        The numeric columns' names (None when ``columns`` is None).
    n_features_out : int
        The transform's width: the numeric columns plus one per category.
    """

    def __init__(self, columns: Sequence[str] | None, *, categories: Mapping[str, Sequence[str]] | None = None,
                 mean: npt.ArrayLike | None = None, scale: npt.ArrayLike | None = None,
                 targets: Sequence[str] | None = None) -> None:
        self.columns = None if columns is None else [str(c) for c in columns]
        if self.columns is not None and len(set(self.columns)) != len(self.columns):
            raise ValueError(f"columns must be distinct names, got {self.columns}")
        self.categories = {str(c): [str(v) for v in values] for c, values in (categories or {}).items()}
        unknown = [c for c in self.categories if self.columns is None or c not in self.columns]
        if unknown:
            raise ValueError(f"categories names {unknown}, which are not among columns {self.columns}")
        for c, values in self.categories.items():
            if not values or len(set(values)) != len(values):
                raise ValueError(f"categories[{c!r}] must be distinct values, at least one, got {values}")
        self.numeric = None if self.columns is None else [c for c in self.columns if c not in self.categories]
        if (mean is None) != (scale is None):
            raise ValueError("pass mean and scale together (standardization), or neither")
        self.mean = None if mean is None else np.array(mean, dtype=np.float64).reshape(-1)
        self.scale = None if scale is None else np.array(scale, dtype=np.float64).reshape(-1)
        if self.mean is not None and self.scale is not None:
            n = len(self.mean) if self.numeric is None else len(self.numeric)
            if self.mean.shape != (n,) or self.scale.shape != (n,):
                raise ValueError(f"mean and scale need one entry per numeric column ({n}), got "
                                 f"{self.mean.size} and {self.scale.size}")
            if not (np.isfinite(self.mean).all() and np.isfinite(self.scale).all() and (self.scale > 0).all()):
                raise ValueError("mean must be finite and scale finite and > 0")
        elif self.columns is None:
            raise ValueError("an unnamed Preprocess (columns=None) needs mean and scale")
        self.targets = None if targets is None else [str(t) for t in targets]

    @property
    def n_features_out(self) -> int:
        """The transform's width: the numeric columns plus one per category."""
        n = len(self.numeric) if self.numeric is not None else len(self.mean)  # type: ignore[arg-type]
        return n + sum(len(v) for v in self.categories.values())

    @classmethod
    def fit(cls, X: Any, *, scale: bool = True, targets: Sequence[str] | None = None) -> Preprocess:
        """The transform of the table X: a DataFrame's text columns become categorical (their
        sorted values the categories), its other columns numeric; an array is all numeric.

        Parameters
        ----------
        X : pandas.DataFrame or array_like of shape (N, n)
            The input columns.
        scale : bool, default True
            Standardize the numeric columns with their mean and standard deviation (ddof 0; a
            constant column gets scale 1, as scikit-learn's ``StandardScaler``).
        targets : sequence of str, optional
            The outputs' names, kept for display.

        Returns
        -------
        Preprocess
        """
        if hasattr(X, "columns"):
            columns = [str(c) for c in X.columns]
            text = [c for c, dt in zip(columns, X.dtypes) if getattr(dt, "kind", "O") not in "biuf"]
            categories = {c: sorted({str(v) for v in X[c]}) for c in text}
            numbers = np.asarray(X[[c for c in columns if c not in categories]], dtype=np.float64)
        else:
            columns, categories = None, {}
            numbers = np.asarray(X, dtype=np.float64)
        mean = std = None
        if scale or columns is None:
            mean, std = numbers.mean(axis=0), numbers.std(axis=0)
            if not scale:
                mean, std = np.zeros_like(mean), np.ones_like(std)
            std[std < 10 * np.finfo(np.float64).eps * np.maximum(1, np.abs(mean))] = 1.0
        return cls(columns, categories=categories, mean=mean, scale=std, targets=targets)

    def transform(self, X: Any, name: str = "X") -> npt.NDArray[np.float64]:
        """X's columns transformed: numbers standardized, categories one-hot.

        Parameters
        ----------
        X : pandas.DataFrame or array_like of shape (N, n)
            A DataFrame with exactly ``columns``, in that order; or an array taking the columns
            by position (all numeric unless it holds the categories' text).
        name : str, default "X"
            The argument's name in error messages.

        Returns
        -------
        ndarray of shape (N, n_features_out), float64

        Raises
        ------
        ValueError
            If the columns do not match, a numeric cell is not a finite number, or a category
            was not seen in training (naming the column).
        """
        if hasattr(X, "columns"):
            got = [str(c) for c in X.columns]
            if self.columns is not None and got != self.columns:
                raise ValueError(column_mismatch(name, got, self.columns))
            table = {c: np.asarray(X[X.columns[i]]) for i, c in enumerate(self.columns or got)}
            n_cols = len(got)
        else:
            arr = np.asarray(X, dtype=object if self.categories else np.float64)
            if arr.ndim == 1:
                arr = arr[:, None]
            names = self.columns or [str(i) for i in range(self.n_features_out)]
            if arr.ndim != 2 or arr.shape[1] != len(names):
                raise ValueError(f"{name} has shape {arr.shape}; the model takes {len(names)} columns"
                                 + (f" {names}" if self.columns else ""))
            table = {c: arr[:, i] for i, c in enumerate(names)}
            n_cols = len(names)
        n_rows = len(next(iter(table.values()))) if n_cols else 0
        numeric = self.numeric if self.numeric is not None else list(table)
        try:
            numbers = np.column_stack([np.asarray(table[c], dtype=np.float64) for c in numeric]) \
                if numeric else np.empty((n_rows, 0))
        except (ValueError, TypeError):
            bad = next(c for c in numeric if not _floats(table[c]))
            raise ValueError(f"{name}'s column {bad!r} must hold numbers (it was numeric in training)") from None
        if not np.isfinite(numbers).all():
            col = numeric[int(np.argwhere(~np.isfinite(numbers))[0, 1])]
            raise ValueError(f"{name}'s column {col!r} holds NaN or Inf; pass finite numbers")
        if self.mean is not None and self.scale is not None:
            numbers = (numbers - self.mean) / self.scale
        blocks = [numbers]
        for c, values in self.categories.items():
            cells = np.array([str(v) for v in table[c]], dtype=object)
            codes = {v: i for i, v in enumerate(values)}
            unseen = sorted({v for v in cells if v not in codes})
            if unseen:
                raise ValueError(f"{name}'s column {c!r} has {unseen[0]!r}, a category not seen in training "
                                 f"(known: {values})")
            onehot = np.zeros((len(cells), len(values)))
            onehot[np.arange(len(cells)), [codes[v] for v in cells]] = 1.0
            blocks.append(onehot)
        return np.hstack(blocks)

    # ------------------------------------------------------------------ the model file
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that ``from_dict`` reads back (the model file stores it)."""
        return {"columns": self.columns, "categories": self.categories,
                "mean": None if self.mean is None else self.mean.tolist(),
                "scale": None if self.scale is None else self.scale.tolist(), "targets": self.targets}

    @classmethod
    def from_dict(cls, d: Any) -> Preprocess:
        """The ``Preprocess`` that ``to_dict`` described; ValueError for anything else.

        Parameters
        ----------
        d : dict
            As ``to_dict`` returns it (read from a model file, so checked).

        Returns
        -------
        Preprocess
        """
        if not isinstance(d, dict) or set(d) != {"columns", "categories", "mean", "scale", "targets"}:
            raise ValueError("not a Preprocess description (keys columns, categories, mean, scale, targets)")

        def strings(v: Any, what: str) -> list[str] | None:
            if v is None:
                return None
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                raise ValueError(f"{what} must be a list of strings")
            return v

        def numbers(v: Any, what: str) -> list[float] | None:
            if v is None:
                return None
            if not isinstance(v, list) or not all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v):
                raise ValueError(f"{what} must be a list of finite numbers")
            return v

        cats = d["categories"]
        if not isinstance(cats, dict):
            raise ValueError("categories must be a dict")
        return cls(strings(d["columns"], "columns"),
                   categories={c: strings(v, f"categories[{c!r}]") or [] for c, v in cats.items()},
                   mean=numbers(d["mean"], "mean"), scale=numbers(d["scale"], "scale"),
                   targets=strings(d["targets"], "targets"))

    def __repr__(self) -> str:
        cats = f", categories={self.categories}" if self.categories else ""
        scaled = ", standardized" if self.mean is not None and self.scale is not None and (
            self.mean.any() or (self.scale != 1).any()) else ""
        return f"Preprocess(columns={self.columns}{cats}{scaled})"


def _floats(values: Any) -> bool:
    try:
        np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError):
        return False
    return True


def column_mismatch(where: str, got: list[str] | None, expected: list[str]) -> str:
    """The message for columns that are not exactly ``expected``, in order."""
    if got is None:
        return f"{where} has no header row; the model needs the columns {expected}"
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    problems = [f"missing {missing}"] * bool(missing) + [f"extra {extra}"] * bool(extra)
    return (f"{where} has columns {got} but the model needs exactly {expected} in that order"
            + (f" ({', '.join(problems)})" if problems else " (reordered)"))


def check_classes(classes: Any, n_outputs: int) -> npt.NDArray[Any]:
    """``classes`` as an array of distinct ints or strings naming ``n_outputs`` outputs (two for
    one sigmoid output); ValueError otherwise."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.dtype.kind not in "iuU" or len(set(arr.tolist())) != len(arr):
        raise ValueError(f"classes must be distinct integers or strings, one per output, got {_short(classes)}")
    want = 2 if n_outputs == 1 else n_outputs
    if len(arr) != want:
        raise ValueError(f"classes has {len(arr)} labels but the network's {n_outputs} output(s) need {want}")
    return arr


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def class_labels(values: Any) -> npt.NDArray[Any] | None:
    """Labels as a model file keeps them: whole numbers as int64, text as str; None for others
    (fractions, mixed kinds), which a file cannot name.

    Parameters
    ----------
    values : array_like
        Class labels, e.g. an estimator's ``classes_`` or the values of a target column.

    Returns
    -------
    ndarray or None
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.round(arr)).all() \
            and (np.abs(arr) < 2**53).all():
        return arr.astype(np.int64)
    if arr.dtype.kind == "U" or (arr.dtype.kind == "O" and all(isinstance(v, str) for v in arr.ravel())):
        return arr.astype(str)
    return None
