"""Built-in data and file loaders for the CLI."""
from __future__ import annotations

import os

import numpy as np


def kinked(n_samples=512, seed=0, noise=0.02, dtype="float32"):
    """The seed's "why ReLU" picture: a piecewise-linear function of x ∈ [−1, 1] with kinks.

    y = |x + 0.5| − 2·relu(x − 0.2) + 0.3, plus Gaussian noise. Returns X (N, 1), Y (N, 1).
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, 1))
    y = np.abs(x + 0.5) - 2.0 * np.maximum(x - 0.2, 0.0) + 0.3
    y += noise * rng.standard_normal(y.shape)
    return x.astype(dtype), y.astype(dtype)


def load(path, targets=1):
    """(X, Y) from a .npz (arrays ``X`` and ``Y``) or a numeric .csv whose last ``targets``
    columns are Y. A header row in the CSV is skipped. Errors are one-line ValueErrors."""
    path = _existing(path)
    if path.endswith(".npz"):
        try:
            with np.load(path, allow_pickle=False) as f:
                X, Y = f["X"], f["Y"]
        except KeyError:
            raise ValueError(f"{path!r} must hold arrays named 'X' and 'Y'") from None
        except Exception as e:
            raise ValueError(f"{path!r} is not a readable .npz file ({type(e).__name__})") from None
        return np.asarray(X), np.asarray(Y)
    data = load_csv(path)
    if targets < 0 or targets >= data.shape[1]:
        raise ValueError(
            f"{path!r} has {data.shape[1]} columns; --targets {targets} leaves no input columns"
        )
    if targets == 0:
        return data, None
    return data[:, :-targets], data[:, -targets:]


def load_csv(path):
    """A numeric CSV as a 2-D float64 array; a non-numeric first row is taken as a header."""
    path = _existing(path)
    for skip in (0, 1):
        try:
            data = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=skip)
            break
        except ValueError as e:
            err = e
    else:
        raise ValueError(f"{path!r} is not a numeric CSV ({str(err).splitlines()[0]})")
    if data.size == 0:
        raise ValueError(f"{path!r} holds no data rows")
    return data


def _existing(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"data file {path!r} does not exist")
    return path
