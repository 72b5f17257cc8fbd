"""Sparse input: a SciPy sparse X in the form the kernels take, never densified.

``SparseRows`` holds a CSR matrix's three arrays as the kernels read them (values in the
network's dtype, int32 column indices, int64 row pointers) and acts as X does in the fit loop:
``len``, ``shape`` and row slices (views, no copy of the values). ``_validate.check_rows``
converts and checks a SciPy matrix into one; the engine sizes the kernels' ``sparse`` bundle
(``_kernels``, "sparse input") by the most nonzeros a block of rows holds (``max_block_nnz``).

Which options take sparse X (docs/guide/sparse.md): every loss, optimizer, activation, kernel
path, norm and dropout; not a skip in layer 1 (x̄^[1] = x̄^[0] + d^[1] would densify X), and
not ``Network.backprop`` (it returns x̄^[0] densely). A sparse fit runs on one thread (a
large sparse predict on every core).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SparseRows:
    """A CSR matrix of N rows and n_0 columns as the kernels read it.

    Attributes
    ----------
    data : numpy.ndarray
        The nonzero values, in the network's dtype, read-only.
    indices : numpy.ndarray
        Their columns, int32, read-only.
    indptr : numpy.ndarray
        Row r's entries are data[indptr[r]:indptr[r + 1]], int64 (N + 1 entries), read-only.
    n_cols : int
        n_0.
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    n_cols: int

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.n_cols

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def nnz(self) -> int:
        """The number of stored entries."""
        return int(self.indptr[-1] - self.indptr[0])

    def __getitem__(self, rows: slice) -> SparseRows:
        """Rows r0:r1 (a slice with step 1): views of data and indices, and a rebased indptr."""
        r0, r1, stride = rows.indices(len(self))
        if stride != 1:
            raise ValueError("SparseRows takes row slices with step 1")
        p = self.indptr[r0:max(r0, r1) + 1]
        a, b = int(p[0]), int(p[-1])
        return SparseRows(_readonly(self.data[a:b]), _readonly(self.indices[a:b]), _readonly(p - a), self.n_cols)

    @property
    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(data, indices, indptr): the kernels' ``csr`` bundle."""
        return self.data, self.indices, self.indptr

    def max_block_nnz(self, rows: int) -> int:
        """The most nonzeros any ``rows`` rows hold together (the ``rows`` fullest rows')."""
        counts = np.diff(self.indptr)
        if rows >= len(counts):
            return int(counts.sum())
        return int(np.partition(counts, len(counts) - rows)[len(counts) - rows:].sum())


def _readonly(a: np.ndarray) -> np.ndarray:
    a = a.view()
    a.flags.writeable = False
    return a

