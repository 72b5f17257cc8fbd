"""Private Numba kernels: forward pass, backward pass (the φ^[k] recurrence), SGD update, epoch.

Kernels read and write the buffers they are handed and allocate nothing. Nothing about the
architecture is a type: widths, offsets and activation codes live in the integer table ``lay``,
so one compiled kernel serves every depth and width.

Conventions (rows are samples, i.e. the seed's column vectors laid side by side and transposed):
  theta   flat parameters; W^[k] = theta[w_off : w_off + n_k n_{k-1}] as (n_k, n_{k-1}), then b̄^[k]
  grad    flat gradient buffer, same layout as theta; holds the *sum* over the batch
  lay     int64 (K, 6): one row per layer k = 1..K with the columns below
  abuf    activations x̄^[k] for k = 1..K, layer k in abuf[cap*c_k : cap*(c_k + n_k)] as (B, n_k)
  pbuf    φ^[k], same layout as abuf
"""
import numpy as np

from . import activations as A
from ._jit import jit

# Columns of the layout table.
N_IN, N_OUT, W_OFF, B_OFF, ACT, C_OFF = range(6)
LAYOUT_COLS = 6

_IDENTITY = A.ACTIVATIONS["identity"].code
_RELU = A.ACTIVATIONS["relu"].code
_SIGMOID = A.ACTIVATIONS["sigmoid"].code
_TANH = A.ACTIVATIONS["tanh"].code
_LEAKY = A.ACTIVATIONS["leaky_relu"].code
_SOFTPLUS = A.ACTIVATIONS["softplus"].code


# ------------------------------------------------------------------------------ views
@jit
def _W(theta, lay, k):
    """W^[k+1] (0-based k) as an (n_out, n_in) view of theta."""
    o, n_out, n_in = lay[k, W_OFF], lay[k, N_OUT], lay[k, N_IN]
    return theta[o : o + n_out * n_in].reshape(n_out, n_in)


@jit
def _b(theta, lay, k):
    o = lay[k, B_OFF]
    return theta[o : o + lay[k, N_OUT]]


@jit
def _rows(buf, lay, k, B):
    """Layer k's (B, n_k) block of a per-layer batch buffer."""
    width = lay[-1, C_OFF] + lay[-1, N_OUT]  # Σ_k n_k
    cap = buf.size // width  # rows the buffer was sized for
    o, n = cap * lay[k, C_OFF], lay[k, N_OUT]
    return buf[o : o + B * n].reshape(B, n)


# ------------------------------------------------------------------- elementwise passes
@jit
def _map_bias(a, b, psi):
    """a ← ψ(a + b̄), with b̄ broadcast over the rows."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            a[i, j] = psi(a[i, j] + b[j])


@jit
def _bias_act(a, b, code):
    """z̄ → x̄ = ψ^[k](z̄ + b̄^[k]) in place; one branch per layer, not per element."""
    if code == _RELU:
        _map_bias(a, b, A.relu)
    elif code == _IDENTITY:
        _map_bias(a, b, A.identity)
    elif code == _SIGMOID:
        _map_bias(a, b, A.sigmoid)
    elif code == _TANH:
        _map_bias(a, b, A.tanh)
    elif code == _LEAKY:
        _map_bias(a, b, A.leaky_relu)
    else:
        _map_bias(a, b, A.softplus)


@jit
def _map_dpsi(p, x, dpsi):
    for i in range(p.shape[0]):
        for j in range(p.shape[1]):
            p[i, j] *= dpsi(x[i, j])


@jit
def _mul_dpsi(p, x, code):
    """φ ← φ ⊙ ψ'(z̄), with ψ' evaluated from the stored output x̄ = ψ(z̄)."""
    if code == _RELU:
        _map_dpsi(p, x, A.d_relu)
    elif code == _IDENTITY:
        pass
    elif code == _SIGMOID:
        _map_dpsi(p, x, A.d_sigmoid)
    elif code == _TANH:
        _map_dpsi(p, x, A.d_tanh)
    elif code == _LEAKY:
        _map_dpsi(p, x, A.d_leaky_relu)
    else:
        _map_dpsi(p, x, A.d_softplus)


# ------------------------------------------------------------------------ the passes
@jit
def _forward(theta, lay, x0, abuf, zbuf, B, keep_z):
    """x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]) for k = 1..K on the first B rows of x0.

    With ``keep_z`` the pre-activations z̄^[k] are copied into zbuf (for ``Network.backprop``).
    """
    xprev = x0[:B]
    for k in range(lay.shape[0]):
        a = _rows(abuf, lay, k, B)
        np.dot(xprev, _W(theta, lay, k).T, a)  # (B, n_{k-1}) · (n_{k-1}, n_k)
        b = _b(theta, lay, k)
        if keep_z:
            z = _rows(zbuf, lay, k, B)
            z[:] = a
            _map_bias(z, b, A.identity)  # z̄^[k] = W^[k] x̄^[k-1] + b̄^[k]
        _bias_act(a, b, lay[k, ACT])
        xprev = a


@jit
def _backward(theta, grad, lay, x0, y, abuf, pbuf, B):
    """The seed's backpropagation rules over a batch; returns Σ_samples ½‖y − x̄^[K]‖².

    φ^[K] = −(y − x̄^[K]) ⊙ ψ^[K]'(z̄^[K]);  φ^[k] = (W^[k+1])ᵀ φ^[k+1] ⊙ ψ^[k]'(z̄^[k]);
    ∂L/∂W^[k] = φ^[k] (x̄^[k-1])ᵀ and ∂L/∂b̄^[k] = φ^[k], summed over the batch into grad.
    """
    K = lay.shape[0]
    xK = _rows(abuf, lay, K - 1, B)
    p = _rows(pbuf, lay, K - 1, B)
    loss = 0.0
    for i in range(B):
        for j in range(xK.shape[1]):
            d = xK[i, j] - y[i, j]
            loss += d * d
            p[i, j] = d
    _mul_dpsi(p, xK, lay[K - 1, ACT])
    for k in range(K - 1, -1, -1):
        xprev = x0[:B] if k == 0 else _rows(abuf, lay, k - 1, B)
        np.dot(p.T, xprev, _W(grad, lay, k))  # Σ_batch φ^[k] (x̄^[k-1])ᵀ
        db = _b(grad, lay, k)
        db[:] = 0
        for i in range(B):
            db += p[i]
        if k > 0:
            q = _rows(pbuf, lay, k - 1, B)
            np.dot(p, _W(theta, lay, k), q)  # rows of (W^[k+1])ᵀ φ^[k+1]
            _mul_dpsi(q, xprev, lay[k - 1, ACT])
            p = q
    return 0.5 * loss


@jit
def _sgd(theta, grad, step):
    """θ ← θ − step · grad (step = lr / batch size, so grad is averaged)."""
    for i in range(theta.size):
        theta[i] -= step * grad[i]


@jit
def _epoch(theta, grad, lay, X, Y, perm, shuffle, xb, yb, abuf, pbuf, batch, lr):
    """One epoch of minibatch SGD; returns the mean per-sample loss seen during the epoch.

    Each batch's loss is taken before its update. The last partial batch is used. With
    ``shuffle`` the rows perm[start:stop] are gathered into xb/yb; without, X/Y are sliced.
    """
    T = theta.dtype.type
    N = X.shape[0]
    total = 0.0
    for start in range(0, N, batch):
        B = min(batch, N - start)
        if shuffle:
            for i in range(B):
                xb[i] = X[perm[start + i]]
                yb[i] = Y[perm[start + i]]
            xs, ys = xb, yb
        else:
            xs, ys = X[start : start + B], Y[start : start + B]
        _forward(theta, lay, xs, abuf, abuf, B, False)
        total += _backward(theta, grad, lay, xs, ys, abuf, pbuf, B)
        _sgd(theta, grad, T(lr / B))
    return total / N


@jit
def _predict(theta, lay, X, abuf, out):
    """x̄^[K] for every row of X, in chunks of the rows abuf was sized for."""
    K = lay.shape[0]
    width = lay[-1, C_OFF] + lay[-1, N_OUT]
    cap = abuf.size // width
    for start in range(0, X.shape[0], cap):
        B = min(cap, X.shape[0] - start)
        _forward(theta, lay, X[start : start + B], abuf, abuf, B, False)
        out[start : start + B] = _rows(abuf, lay, K - 1, B)


@jit(fastmath=False)
def _all_finite(a):
    """True when no entry of the flat array is NaN or ±Inf (compiled without fast-math)."""
    for i in range(a.size):
        if not np.isfinite(a[i]):
            return False
    return True
