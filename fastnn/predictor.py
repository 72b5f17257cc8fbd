"""``Network.predictor()``: x̄^[K] for a stream of small requests, checked once.

``Network.predict`` validates every call (feature names, conversion, NaN/Inf, the thread
hand-off with a running fit): a few µs, which is most of the time for one sample on a small
net. A ``Predictor`` takes a frozen copy of θ when it is made and, per call, only checks that X
is a C-contiguous array of the network's dtype with n_0 columns; then it runs the same kernel
as ``predict``. It is safe to call from many threads at once (each has its own buffers), and a
later ``fit`` does not change it: make a new one to serve new weights.

``net.predictor(threads=T)`` also starts T − 1 helper threads on a plain net (no norm): they
share each layer's columns of a one-row call with the caller on a net of at least 2^17
multiply-adds per row (on smaller nets one thread is faster, and runs the call), and the row
blocks of a call of at least 2^19 multiply-adds in all: the blocks ``predict`` cuts (the same
bits) for a call it splits over the cores (from 2^23), ``predict``'s results up to rounding for
a smaller one, which ``predict`` runs in one thread (a pool's wake-up costs it more than the
second core saves, and the team is awake). After a call they keep polling for the next one
for about a millisecond (yielding their core), so a stream of requests finds them awake, as
ONNX Runtime's spinning pool does. They stop when the predictor is garbage-collected or
``close()``d.

Examples
--------
>>> import numpy as np, fastnn
>>> net = fastnn.Network([4, 8, 3], seed=0)
>>> f = net.predictor()
>>> X = np.ones((2, 4), np.float32)
>>> np.array_equal(f(X), net.predict(X))
True
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _validate
from ._engine import Engine, RowTeam

if TYPE_CHECKING:
    from ._typing import FloatArray


class Predictor:
    """``f(X, out=None)`` → the (N, n_K) outputs of the network it was made from.

    Made by ``Network.predictor()``, which copies θ under the network's read guard.

    Parameters
    ----------
    theta : numpy.ndarray
        A read-only copy of the network's flat θ.
    engine : Engine
        An engine for the network's shape with buffers of its own.
    threads : int, optional
        Calls of a plain net run on this many threads (a helper team of threads − 1 that
        stays awake between calls; see the module); None or 1: as ``predict`` runs them.

    Attributes
    ----------
    sizes : list of int
        [n_0, n_1, ..., n_K], as ``net.sizes``.
    dtype : numpy.dtype
        The dtype X must have, ``net.dtype``.
    """

    def __init__(self, theta: FloatArray, engine: Engine, threads: int | None = None) -> None:
        self._theta = theta
        self._engine = engine
        self.sizes, self.dtype = list(engine.sizes), engine.dtype
        self._team = RowTeam(self, threads) if threads is not None and threads > 1 and not engine.extended else None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()  # (threads and locks stay behind: the copy starts its own)
        team = state.pop("_team")
        state["_threads"] = None if team is None else team.helpers + 1
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        threads = state.pop("_threads", None)
        self.__dict__.update(state)
        self._team = RowTeam(self, threads) if threads is not None and threads > 1 else None

    def close(self) -> None:
        """Stop the helper threads of ``threads=`` (if any); later calls run as ``predict`` does."""
        team, self._team = self._team, None
        if team is not None:
            team.stop()

    def __call__(self, X: Any, out: FloatArray | None = None) -> FloatArray:
        """x̄^[K] for each row of X, as ``Network.predict`` computes it.

        Parameters
        ----------
        X : ndarray or scipy sparse matrix of shape (N, n_0)
            A non-empty C-contiguous array of ``dtype``; NaN in gives NaN out (no check). Or a
            SciPy sparse matrix (converted to CSR of ``dtype`` and checked for NaN, as
            ``predict`` does; never densified).
        out : ndarray of shape (N, n_K), optional
            A writable C-contiguous array of ``dtype`` to write into; None: a new one.

        Returns
        -------
        ndarray of shape (N, n_K)
            ``out``, or a new array.

        Raises
        ------
        ValueError
            If X or out is not such an array (the message says how to convert X).
        """
        n0, nK = self.sizes[0], self.sizes[-1]
        if type(X) is not np.ndarray and _validate.is_sparse(X):  # converted to CSR, NaN checked
            X = _validate.check_rows(X, n0, self.dtype, first_skip=self._engine.residual[0])
        elif (type(X) is not np.ndarray or X.dtype != self.dtype or X.ndim != 2 or X.shape[1] != n0
                or not X.flags.c_contiguous or not len(X)):
            raise ValueError(
                f"X: a predictor takes non-empty C-contiguous {self.dtype.name} arrays of shape "
                f"(N, {n0}), got {_describe(X)}; convert with "
                f"np.ascontiguousarray(X, dtype='{self.dtype.name}'), or use net.predict")
        N = X.shape[0]
        if out is None:
            out = np.empty((N, nK), self.dtype)
        elif (type(out) is not np.ndarray or out.dtype != self.dtype or out.shape != (N, nK)
              or not out.flags.c_contiguous or not out.flags.writeable):
            raise ValueError(f"out: pass a writable C-contiguous {self.dtype.name} array of shape "
                             f"({N}, {nK}), got {_describe(out)}")
        team = self._team
        if team is not None and type(X) is np.ndarray and (team.run(X, out) if N == 1 else team.run_rows(X, out)):
            return out
        self._engine.predict(self._theta, X, out)
        return out

    def __repr__(self) -> str:
        return f"Predictor(sizes={self.sizes}, dtype='{self.dtype.name}')"


def _describe(a: object) -> str:
    if isinstance(a, np.ndarray):
        order = "C" if a.flags.c_contiguous else "non-contiguous"
        return f"a {order} {a.dtype} array of shape {a.shape}"
    return type(a).__name__
