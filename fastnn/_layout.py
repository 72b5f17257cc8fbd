"""The offset table: where W^[k] and b̄^[k] live in the flat parameter vector θ.

θ holds, for k = 1..K in order, W^[k] (n_k × n_{k-1}, row-major) then b̄^[k] (n_k). The table
``lay`` has one row per layer, 0-based: row k−1 describes the seed's layer k. Widths and
activation codes are data, not types, so one compiled kernel serves every depth and width.
The per-layer batch buffers (x̄^[k], φ^[k]) use the same table: layer k's block of a buffer
sized for ``cap`` rows starts at ``cap · c_k``, c_k = n_1 + … + n_{k−1}.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Columns of the layout table.
N_IN, N_OUT, W_OFF, B_OFF, ACT, C_OFF = range(6)
COLS = 6


def build(sizes: Sequence[int], codes: Sequence[int]) -> tuple[np.ndarray, int]:
    """(lay, n_params) for widths n_0..n_K and the K activation codes of ψ^[1..K]."""
    K = len(sizes) - 1
    lay = np.zeros((K, COLS), dtype=np.int64)
    off = width = 0
    for k in range(K):
        n_in, n_out = sizes[k], sizes[k + 1]
        lay[k] = (n_in, n_out, off, off + n_out * n_in, codes[k], width)
        off += n_out * n_in + n_out
        width += n_out
    return lay, off


def width(lay: np.ndarray) -> int:
    """Σ_k n_k: the entries one row takes in a per-layer batch buffer."""
    return int(lay[-1, C_OFF] + lay[-1, N_OUT])


def weight(vec: np.ndarray, lay: np.ndarray, k: int) -> np.ndarray:
    """W^[k] (1-based k) as an (n_k, n_{k-1}) view of the θ-shaped flat ``vec``."""
    o, n_out, n_in = lay[k - 1, W_OFF], lay[k - 1, N_OUT], lay[k - 1, N_IN]
    return vec[o : o + n_out * n_in].reshape(n_out, n_in)


def bias(vec: np.ndarray, lay: np.ndarray, k: int) -> np.ndarray:
    """b̄^[k] (1-based k) as a view of the θ-shaped flat ``vec``."""
    o = lay[k - 1, B_OFF]
    return vec[o : o + lay[k - 1, N_OUT]]


def rows(buf: np.ndarray, lay: np.ndarray, k: int, B: int) -> np.ndarray:
    """Layer k's (B, n_k) block (1-based k) of a per-layer batch buffer."""
    cap = buf.size // width(lay)
    o, n = cap * lay[k - 1, C_OFF], lay[k - 1, N_OUT]
    return buf[o : o + B * n].reshape(B, n)
