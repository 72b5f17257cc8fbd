"""Built-in data and file loaders for the CLI."""
from __future__ import annotations

import csv
import itertools
import os

import numpy as np

NEEDS_PANDAS = 'reading CSV files needs pandas: pip install "fastnn[pandas]"'


def kinked(n_samples=512, seed=0, noise=0.02, dtype="float32"):
    """The seed's "why ReLU" picture: a piecewise-linear function of x ∈ [−1, 1] with kinks.

    y = |x + 0.5| − 2·relu(x − 0.2) + 0.3, plus Gaussian noise. Returns X (N, 1), Y (N, 1).
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, 1))
    y = np.abs(x + 0.5) - 2.0 * np.maximum(x - 0.2, 0.0) + 0.3
    y += noise * rng.standard_normal(y.shape)
    return x.astype(dtype), y.astype(dtype)


def load_npz(path, arrays=("X", "Y")):
    """The named arrays of an .npz file, as a tuple. Errors are one-line ValueErrors."""
    path = _existing(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            return tuple(np.asarray(f[name]) for name in arrays)
    except KeyError:
        raise ValueError(f"{path!r} must hold arrays named {' and '.join(map(repr, arrays))}") from None
    except Exception as e:
        raise ValueError(f"{path!r} is not a readable .npz file ({type(e).__name__})") from None


def read_csv(path):
    """A numeric CSV as a float64 pandas DataFrame, and whether its first line is a header.

    The delimiter is sniffed: comma, semicolon, tab or whitespace (a run of blanks is one
    delimiter). A first line with a non-numeric cell is the header and names the columns;
    otherwise it is data and the columns are numbered 0..n-1. Blank lines are skipped. A
    missing, non-numeric or infinite cell is a one-line ValueError naming its line in the file
    (1-based, the header included) and its column.
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
    if bad.any():
        r, c = np.argwhere(bad)[0]  # the first bad cell in reading order
        column = repr(raw.columns[c]) if header else str(c + 1)
        where = f"line {_line_number(path, header + r + 1)}, column {column}"
        text = raw.iat[r, c]
        if not isinstance(text, str):
            raise ValueError(f"{path!r} has a missing value at {where}; fill it in or drop the row")
        raise ValueError(f"{path!r} has a value that is not a finite number at {where}: {text!r}")
    return data, header


def _delimiter(path, n_lines=20):
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


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _line_number(path, k):
    """The 1-based line number of the k-th non-blank line (read_csv skips blank lines)."""
    with open(path, encoding="utf-8-sig") as f:
        nonblank = (number for number, line in enumerate(f, 1) if line.strip())
        return next(itertools.islice(nonblank, k - 1, None))


def _existing(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"data file {path!r} does not exist")
    return path
