"""The offset table: where W^[k] and b̄^[k] live in the flat parameter vector θ.

θ holds, for k = 1..K in order, W^[k] (n_k × n_{k-1}, row-major), b̄^[k] (n_k), and for a
layer with normalization γ^[k] then β^[k] (n_k each). The table ``lay`` has one row per layer,
0-based: row k−1 describes the seed's layer k. Widths, activation codes and the optional steps
of a hidden layer (norm, dropout, skip) are data, not types, so one compiled kernel serves every
depth and width. The per-layer batch buffers (x̄^[k], φ^[k], and x̂^[k], ẑ^[k] for extended
layers) use the same table: layer k's block of a buffer sized for ``cap`` rows starts at
``cap · c_k``, c_k = n_1 + … + n_{k−1}. Batch norm's running mean and variance are a second
flat vector beside θ: layer k's mean at ``r_k``, its variance at ``r_k + n_k``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Columns of the layout table. NORM: NO_NORM, LAYER_NORM or BATCH_NORM; G_OFF: γ^[k]'s offset
# in θ (β^[k] follows), −1 without norm; RES: 1 for an identity skip x̄^[k] = x̄^[k-1] + d^[k];
# DROP: 1 when dropout acts (its rate is the kernels' ``rates[k-1]``); R_OFF: the running
# statistics' offset (batch norm), −1 otherwise; EXT: 1 for a layer that runs the extended
# steps (any of the above, or a ψ whose ψ' needs z̄: ``activations.Activation.from_output``);
# KEEP_A: 1 for an extended layer without norm whose ψ' is written in a = ψ(z̄): its x̂ buffer
# keeps a instead of z̄, and its ẑ buffer dropout's multipliers m/(1 − p), so the backward
# pass needs neither z̄ nor a second draw of the masks.
N_IN, N_OUT, W_OFF, B_OFF, ACT, C_OFF, NORM, G_OFF, RES, DROP, R_OFF, EXT, KEEP_A = range(13)
COLS = 13
NO_NORM, LAYER_NORM, BATCH_NORM = 0, 1, 2
NORM_CODES = {None: NO_NORM, "layer": LAYER_NORM, "batch": BATCH_NORM}


def build(sizes: Sequence[int], codes: Sequence[int], norms: Sequence[int] | None = None,
          residual: Sequence[bool] | None = None, dropout: Sequence[bool] | None = None,
          needs_z: Sequence[bool] | None = None) -> tuple[np.ndarray, int, int]:
    """(lay, n_params, n_running) for widths n_0..n_K, the K activation codes of ψ^[1..K] and,
    per layer, its norm code, skip, dropout and whether ψ' needs z̄ (all off when None)."""
    K = len(sizes) - 1
    norms = norms or [NO_NORM] * K
    residual, dropout, needs_z = residual or [False] * K, dropout or [False] * K, needs_z or [False] * K
    lay = np.zeros((K, COLS), dtype=np.int64)
    off = width = run = 0
    for k in range(K):
        n_in, n_out = sizes[k], sizes[k + 1]
        g_off = off + n_out * n_in + n_out if norms[k] else -1
        r_off = run if norms[k] == BATCH_NORM else -1
        ext = bool(norms[k] or residual[k] or dropout[k] or needs_z[k])
        lay[k] = (n_in, n_out, off, off + n_out * n_in, codes[k], width, norms[k], g_off,
                  residual[k], dropout[k], r_off, ext, ext and not norms[k] and not needs_z[k])
        off += n_out * n_in + n_out + (2 * n_out if norms[k] else 0)
        run += 2 * n_out if norms[k] == BATCH_NORM else 0
        width += n_out
    return lay, off, run


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


def norm_scale(vec: np.ndarray, lay: np.ndarray, k: int) -> np.ndarray | None:
    """γ^[k] (1-based k) as a view of the θ-shaped flat ``vec``; None without norm."""
    o, n = lay[k - 1, G_OFF], lay[k - 1, N_OUT]
    return None if o < 0 else vec[o : o + n]


def norm_shift(vec: np.ndarray, lay: np.ndarray, k: int) -> np.ndarray | None:
    """β^[k] (1-based k) as a view of the θ-shaped flat ``vec``; None without norm."""
    o, n = lay[k - 1, G_OFF], lay[k - 1, N_OUT]
    return None if o < 0 else vec[o + n : o + 2 * n]


def running(run: np.ndarray | None, lay: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, variance) of batch norm's running statistics of layer k (1-based) as views of the
    flat ``run`` (None: a net without extended layers); None for a layer without batch norm."""
    o, n = lay[k - 1, R_OFF], lay[k - 1, N_OUT]
    return None if o < 0 or run is None else (run[o : o + n], run[o + n : o + 2 * n])
