"""Built-in data and file loaders for the CLI.

Examples
--------
>>> from fastnn import datasets
>>> X, Y = datasets.kinked(n_samples=4)
>>> X.shape, Y.shape, X.dtype
((4, 1), (4, 1), dtype('float32'))
"""
from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

    from ._typing import PathLike

NEEDS_PANDAS = 'reading CSV files needs pandas: pip install "fastnn[pandas]"'
"""The ImportError message when pandas is missing."""


def kinked(n_samples: int = 512, seed: int | None = 0, noise: float = 0.02,
           dtype: npt.DTypeLike = "float32") -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """The seed's "why ReLU" picture: a piecewise-linear function of x ∈ [−1, 1] with kinks.

    y = |x + 0.5| − 2·relu(x − 0.2) + 0.3, plus Gaussian noise, at x uniform in [−1, 1].

    Parameters
    ----------
    n_samples : int, default 512
        N, the number of samples.
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng``; None draws a fresh one.
    noise : float, default 0.02
        The noise's standard deviation.
    dtype : dtype, default "float32"
        The dtype of X and Y.

    Returns
    -------
    X : ndarray of shape (N, 1)
        The inputs x.
    Y : ndarray of shape (N, 1)
        The targets y.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, 1))
    y = np.abs(x + 0.5) - 2.0 * np.maximum(x - 0.2, 0.0) + 0.3
    y += noise * rng.standard_normal(y.shape)
    return x.astype(dtype), y.astype(dtype)


def load_npz(path: PathLike, arrays: Sequence[str] = ("X", "Y")) -> tuple[npt.NDArray[Any], ...]:
    """The named arrays of an .npz file, as a tuple.

    Parameters
    ----------
    path : str or os.PathLike
        The .npz file (read without pickles).
    arrays : sequence of str, default ("X", "Y")
        The names of the arrays to read.

    Returns
    -------
    tuple of ndarray
        The arrays, in the order of ``arrays``.

    Raises
    ------
    ValueError
        One line, if the file does not exist, is not a readable .npz file, or lacks an array.
    """
    path = _existing(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            return tuple(np.asarray(f[name]) for name in arrays)
    except KeyError:
        raise ValueError(f"{path!r} must hold arrays named {' and '.join(map(repr, arrays))}") from None
    except Exception as e:
        raise ValueError(f"{path!r} is not a readable .npz file ({type(e).__name__})") from None


def read_csv(path: PathLike, text: bool | Collection[str] = False) -> tuple[pd.DataFrame, bool]:
    """A CSV as a pandas DataFrame of float64 (and text) columns, and whether its first line is a
    header.

    The delimiter is sniffed: comma, semicolon, tab or whitespace (a run of blanks is one
    delimiter). A first line with a non-numeric cell is the header and names the columns;
    otherwise it is data and the columns are numbered 0..n-1. Blank lines are skipped.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    text : bool or collection of str, default False
        Which columns may hold text (kept as str, stripped): True, every column with a cell that
        is not a number; a collection, the columns of those names (whatever their cells);
        False, none (every cell must be a number).

    Returns
    -------
    data : pandas.DataFrame
        Every other cell as float64.
    header : bool
        Whether the first line was a header.

    Raises
    ------
    ImportError
        If pandas is not installed (the message gives the pip command).
    ValueError
        One line, if the file does not exist or cannot be parsed, its header names are empty or
        repeated, it holds no data rows, or a cell is missing, non-numeric or infinite (naming
        its line in the file, 1-based with the header, and its column).
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(NEEDS_PANDAS) from None
    path = _existing(path)
    try:
        sep = _delimiter(path)
        # Every cell as text first: the header decision and the error messages need it.
        raw = pd.read_csv(path, sep=sep, engine="python", header=None, dtype=str, skipinitialspace=True)
    except (ValueError, csv.Error) as e:  # pandas' ParserError and EmptyDataError are ValueErrors
        raise ValueError(f"{path!r} is not a readable CSV file ({str(e).splitlines()[0]})") from None
    header = any(isinstance(v, str) and not _is_number(v) for v in raw.iloc[0])
    if header:
        names = [v.strip() if isinstance(v, str) else "" for v in raw.iloc[0]]
        if "" in names or len(set(names)) < len(names):
            raise ValueError(f"{path!r}: the header row needs a distinct, non-empty name for every "
                             f"column, got {names}")
        raw = raw.iloc[1:].reset_index(drop=True)
        raw.columns = names
    if raw.empty:
        raise ValueError(f"{path!r} holds no data rows")
    data = raw.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    bad = ~np.isfinite(data.to_numpy())
    if text is not False:
        words = [c for i, c in enumerate(raw.columns) if (str(c) in text if text is not True else bool(
            (bad[:, i] & raw[c].notna().to_numpy()).any()))]
        for c in words:
            if raw[c].isna().any():
                bad[:, list(raw.columns).index(c)] = raw[c].isna().to_numpy()
                continue
            data[c] = raw[c].str.strip().astype(object)
            bad[:, list(raw.columns).index(c)] = False
    if bad.any():
        r, c = np.argwhere(bad)[0]  # the first bad cell in reading order
        column = repr(raw.columns[c]) if header else str(c + 1)
        where = f"line {_line_number(path, header + r + 1)}, column {column}"
        text = raw.iat[r, c]
        if not isinstance(text, str):
            raise ValueError(f"{path!r} has a missing value at {where}; fill it in or drop the row")
        raise ValueError(f"{path!r} has a value that is not a finite number at {where}: {text!r}")
    return data, header


def _delimiter(path: str, n_lines: int = 20) -> str:
    """read_csv's ``sep`` from the first non-blank lines: what csv.Sniffer finds among comma,
    semicolon, tab and blank; else blanks if every line splits on them into the same number
    (> 1) of fields; else a comma (a file of one column)."""
    with open(path, encoding="utf-8-sig") as f:
        lines = list(itertools.islice((line for line in f if line.strip()), n_lines))
    if not lines:
        raise ValueError("the file is empty")
    try:
        sep = csv.Sniffer().sniff("".join(lines), delimiters=",;\t ").delimiter
    except csv.Error:
        counts = {len(line.split()) for line in lines}
        sep = " " if len(counts) == 1 and counts.pop() > 1 else ","
    return r"\s+" if sep == " " else sep


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _line_number(path: str, k: int) -> int:
    """The 1-based line number of the k-th non-blank line (read_csv skips blank lines)."""
    with open(path, encoding="utf-8-sig") as f:
        nonblank = (number for number, line in enumerate(f, 1) if line.strip())
        return next(itertools.islice(nonblank, k - 1, None))


def _existing(path: PathLike) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"data file {path!r} does not exist")
    return path
