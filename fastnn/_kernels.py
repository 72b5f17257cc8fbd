"""Private Numba kernels: forward pass, backward pass (the φ^[k] recurrence), SGD step, epoch.

Kernels read and write the buffers they are handed and allocate nothing. Nothing about the
architecture is a type: widths, offsets and activation codes live in the integer table ``lay``,
so one compiled kernel serves every depth and width.

Layout (rows are samples: the seed's column vectors laid side by side, then transposed):
  theta   flat parameters; W^[k] = theta[w_off : w_off + n_k n_{k-1}] as (n_k, n_{k-1}), then b̄^[k]
  grad    flat buffer with theta's layout, for gradients only (training never touches it)
  lay     int64 (K, LAYOUT_COLS): one row per layer k = 1..K, columns named below
  abuf    x̄^[k] for k = 1..K: layer k's (B, n_k) block starts at cap · c_k, cap = rows sized for
  pbuf    φ^[k], with abuf's layout
  x0, y   flat input and target rows, read from offsets x0o / yo

Each layer runs one of two ways, chosen per layer and batch by ``_use_blas``:
  * BLAS: GEMM on the flat buffers (``_blas._gemm``) with b̄ folded in through β = 1; the
    weight update is one GEMM with β = 1 straight into θ. Wins for wide layers.
  * loops: hand-written loops over flat uint64 indices with the SGD step fused in and no array
    views created. Wins at batch 1 and for narrow layers, where BLAS call overhead dominates.
Nets small enough for ``_unrolled`` skip both and run a generated straight-line epoch.
"""
import numpy as np

from . import activations as A
from ._blas import _gemm
from ._jit import jit
from ._sync import _claim, _done, _wait

# Columns of the layout table.
N_IN, N_OUT, W_OFF, B_OFF, ACT, C_OFF = range(6)
LAYOUT_COLS = 6

# Path selection. AUTO: nets of at most _unrolled.MAX_PARAMS parameters run the generated
# straight-line epoch, and every other layer picks BLAS or loops by its work size. The other
# values force one path (the tests check each against finite differences).
# GENERIC is AUTO without the unrolled epoch.
AUTO, LOOPS, BLAS, UNROLLED, GENERIC = 0, 1, 2, 3, 4
# A layer goes to BLAS when B > 1 and B · n_{k-1} · n_k reaches this many multiply-adds; at
# batch 1 the loops won at every width measured (scripts/crossover.py).
BLAS_MIN_WORK = 2048

_N, _T = ord("n"), ord("t")  # BLAS: use an operand as stored / transposed

_IDENTITY = A.ACTIVATIONS["identity"].code
_RELU = A.ACTIVATIONS["relu"].code
_SIGMOID = A.ACTIVATIONS["sigmoid"].code
_TANH = A.ACTIVATIONS["tanh"].code
_LEAKY = A.ACTIVATIONS["leaky_relu"].code


# ------------------------------------------------------------------------------ views
# Plain NumPy views of the flat buffers, for Network (the kernels use offsets, not views).
def _W(theta, lay, k):
    """W^[k+1] (0-based k) as an (n_out, n_in) view of theta."""
    o, n_out, n_in = lay[k, W_OFF], lay[k, N_OUT], lay[k, N_IN]
    return theta[o : o + n_out * n_in].reshape(n_out, n_in)


def _b(theta, lay, k):
    o = lay[k, B_OFF]
    return theta[o : o + lay[k, N_OUT]]


def _rows(buf, lay, k, B):
    """Layer k's (B, n_k) block of a per-layer batch buffer."""
    o, n = _cap(buf, lay) * lay[k, C_OFF], lay[k, N_OUT]
    return buf[o : o + B * n].reshape(B, n)


@jit(inline=True)
def _cap(buf, lay):
    """Rows a per-layer buffer was sized for: its size over Σ_k n_k."""
    return buf.size // (lay[-1, C_OFF] + lay[-1, N_OUT])


@jit(inline=True)
def _blas_pays(mode, B, work):
    """BLAS for a product of B rows and ``work`` multiply-adds, unless a path is forced."""
    if mode == LOOPS or mode == BLAS:
        return mode == BLAS
    return B > 1 and work >= BLAS_MIN_WORK


@jit(inline=True)
def _use_blas(lay, k, B, mode):
    return _blas_pays(mode, B, B * lay[k, N_IN] * lay[k, N_OUT])


# The hot loops index flat arrays with uint64 offsets. Two Numba costs make this worth it:
# a signed index (a[o + i]) gets a negative-index wraparound select per access, which turns
# vector loads into gathers, and every array view costs tens of ns of reference counting,
# which would dominate the tiny nets (a [2, 2, 1] step is a few dozen flops).
@jit(inline=True)
def _u(x):
    return np.uint64(x)


@jit(inline=True)
def _geom(lay, k, cap):
    """Layer k's n_in, n_out, W/b offsets and buffer block offset, as uint64."""
    return (_u(lay[k, N_IN]), _u(lay[k, N_OUT]), _u(lay[k, W_OFF]), _u(lay[k, B_OFF]),
            _u(cap * lay[k, C_OFF]))


# ------------------------------------------------------------------- elementwise passes
@jit(inline=True)
def _map(buf, o, m, psi):
    for i in range(o, o + m):
        buf[i] = psi(buf[i])


@jit
def _act(buf, o, m, code):
    """z̄ → x̄ = ψ^[k](z̄) in place on m entries from offset o; one branch per layer."""
    if code == _RELU:
        _map(buf, o, m, A.relu)
    elif code == _IDENTITY:
        pass
    elif code == _SIGMOID:
        _map(buf, o, m, A.sigmoid)
    elif code == _TANH:
        _map(buf, o, m, A.tanh)
    elif code == _LEAKY:
        _map(buf, o, m, A.leaky_relu)
    else:
        _map(buf, o, m, A.softplus)


@jit(inline=True)
def _map_dpsi(p, x, o, m, dpsi):
    for i in range(o, o + m):
        p[i] *= dpsi(x[i])


@jit
def _mul_dpsi(p, x, o, m, code):
    """φ ← φ ⊙ ψ'(z̄) on m entries from offset o, ψ' taken from the stored x̄ = ψ(z̄)."""
    if code == _RELU:
        _map_dpsi(p, x, o, m, A.d_relu)
    elif code == _IDENTITY:
        pass
    elif code == _SIGMOID:
        _map_dpsi(p, x, o, m, A.d_sigmoid)
    elif code == _TANH:
        _map_dpsi(p, x, o, m, A.d_tanh)
    elif code == _LEAKY:
        _map_dpsi(p, x, o, m, A.d_leaky_relu)
    else:
        _map_dpsi(p, x, o, m, A.d_softplus)


# ----------------------------------------------------------------- one layer, forward
@jit
def _dense_loops(theta, n_in, n_out, wo, bo, src, so, dst, do, B):
    """dst rows = W src rows + b̄, each dot product kept in a register."""
    for i in range(B):
        si, di = so + i * n_in, do + i * n_out
        for j in range(n_out):
            w = wo + j * n_in
            s = theta[bo + j]
            for m in range(n_in):
                s += theta[w + m] * src[si + m]
            dst[di + j] = s


@jit
def _layer_forward(theta, lay, k, src, so, abuf, zbuf, keep_z, B, mode):
    """x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]) for B rows of src from offset so."""
    n_in, n_out, wo, bo, do = _geom(lay, k, _cap(abuf, lay))
    T, m = theta.dtype.type, _u(B) * n_out
    if _use_blas(lay, k, B, mode):
        for i in range(_u(B)):  # each row starts as b̄^[k], then GEMM adds X (W^[k])ᵀ:
            for j in range(n_out):  # column-major Zᵀ = W · Xᵀ + Zᵀ
                abuf[do + i * n_out + j] = theta[bo + j]
        _check(_gemm(_T, _N, n_out, B, n_in, T(1), theta, wo, n_in, src, so, n_in, T(1), abuf, do, n_out))
    else:
        _dense_loops(theta, n_in, n_out, wo, bo, src, so, abuf, do, _u(B))
    if keep_z:
        for i in range(do, do + m):
            zbuf[i] = abuf[i]
    _act(abuf, do, m, lay[k, ACT])


@jit(inline=True)
def _layer_input(lay, k, x0, x0o, abuf):
    """(buffer, offset) of x̄^[k-1], layer k's input: the batch's x̄^[0] rows for k = 0."""
    if k == 0:
        return x0, _u(x0o)
    return abuf, _u(_cap(abuf, lay) * lay[k - 1, C_OFF])


@jit(inline=True)
def _gather_rows(perm, start, r0, r1, Xf, Yf, xb, yb, n0, nK):
    """Rows r0..r1 of the batch starting at ``start`` of the epoch's permutation, into xb/yb."""
    for i in range(r0, r1):
        r = perm[start + i]
        for m in range(n0):
            xb[i * n0 + m] = Xf[r * n0 + m]
        for m in range(nK):
            yb[i * nK + m] = Yf[r * nK + m]


@jit
def _forward(theta, lay, x0, x0o, abuf, zbuf, keep_z, B, mode):
    """x̄^[k] for k = 1..K from B rows of the flat input x0, starting at offset x0o.

    With ``keep_z`` the pre-activations z̄^[k] also go to zbuf (for ``Network.backprop``).
    """
    for k in range(lay.shape[0]):
        src, so = _layer_input(lay, k, x0, x0o, abuf)
        _layer_forward(theta, lay, k, src, so, abuf, zbuf, keep_z, B, mode)


# ---------------------------------------------------------------- one layer, backward
@jit
def _layer_backward_loops(theta, dst, n_in, n_out, wo, bo, src, so, pbuf, po, qo, has_q, B, step):
    """From φ at po: q = rows of Wᵀφ at qo (old W) when ``has_q``; then dst −= step · φ xᵀ.

    Training passes dst = theta and step = lr/B: the SGD step, fused. For gradients, dst is
    the zeroed grad buffer and step = −1, so it receives Σ_batch φ xᵀ and Σ_batch φ.
    """
    if has_q:
        for i in range(B):
            qi, pi = qo + i * n_in, po + i * n_out
            for m in range(n_in):
                pbuf[qi + m] = 0
            for j in range(n_out):
                c, w = pbuf[pi + j], wo + j * n_in
                for m in range(n_in):
                    pbuf[qi + m] += c * theta[w + m]
    for i in range(B):
        si, pi = so + i * n_in, po + i * n_out
        for j in range(n_out):
            c, w = step * pbuf[pi + j], wo + j * n_in
            for m in range(n_in):
                dst[w + m] -= c * src[si + m]
            dst[bo + j] -= c


@jit
def _layer_backward(theta, grad, lay, k, src, so, pbuf, train, step, B, mode):
    """Layer k's share of backprop: from φ^[k], (W^[k])ᵀφ^[k] (old W) and the step on W^[k], b̄^[k].

    ``train``: θ −= step · Σ_batch (φ x̄ᵀ, φ) with step = lr/B, the SGD step fused in.
    Otherwise the zeroed grad buffer gets −step · Σ_batch (…) with step = −1.
    """
    cap = _cap(pbuf, lay)
    n_in, n_out, wo, bo, po = _geom(lay, k, cap)
    qo = _u(cap * lay[k - 1, C_OFF]) if k > 0 else _u(0)
    dst = theta if train else grad
    if not _use_blas(lay, k, B, mode):
        _layer_backward_loops(theta, dst, n_in, n_out, wo, bo, src, so, pbuf, po, qo, k > 0,
                              _u(B), step)
        return
    T = theta.dtype.type
    if k > 0:  # rows of (W^[k])ᵀ φ^[k]: Q (B × n_in) = Φ · W, column-major Qᵀ = Wᵀ Φᵀ
        _check(_gemm(_N, _N, n_in, B, n_out, T(1), theta, wo, n_in, pbuf, po, n_out, T(0), pbuf, qo, n_in))
    # W^[k] −= step · Φᵀ X, column-major (W^[k])ᵀ −= step · Xᵀ Φ, straight into dst
    _check(_gemm(_N, _T, n_in, n_out, B, -step, src, so, n_in, pbuf, po, n_out, T(1), dst, wo, n_in))
    for i in range(_u(B)):  # b̄^[k] −= step · Σ_batch φ^[k], row by row (contiguous)
        r = po + i * n_out
        for j in range(n_out):
            dst[bo + j] -= step * pbuf[r + j]


@jit(inline=True)
def _check(status):
    if status != 0:
        raise RuntimeError("BLAS gemm failed (is SciPy's BLAS available?)")


@jit
def _backward(theta, grad, lay, x0, x0o, y, yo, abuf, pbuf, train, step, B, mode):
    """The seed's backpropagation rules on a batch of B rows; returns Σ_samples ½‖y − x̄^[K]‖².

    φ^[K] = −(y − x̄^[K]) ⊙ ψ^[K]'(z̄^[K]);  φ^[k] = (W^[k+1])ᵀ φ^[k+1] ⊙ ψ^[k]'(z̄^[k]);
    ∂L/∂W^[k] = φ^[k] (x̄^[k-1])ᵀ, ∂L/∂b̄^[k] = φ^[k].
    ``train``: each layer takes its SGD step θ −= step · Σ_batch ∂L/∂θ as soon as φ^[k-1] has
    been formed from its old W^[k]. Otherwise grad receives Σ_batch ∂L/∂θ and θ is untouched.
    """
    K, cap = lay.shape[0], _cap(abuf, lay)
    if not train:
        for i in range(grad.size):
            grad[i] = 0
    o, m, yo = _u(cap * lay[K - 1, C_OFF]), _u(B * lay[K - 1, N_OUT]), _u(yo)
    loss = 0.0
    for i in range(m):
        d = abuf[o + i] - y[yo + i]
        loss += d * d
        pbuf[o + i] = d
    _mul_dpsi(pbuf, abuf, o, m, lay[K - 1, ACT])
    for k in range(K - 1, -1, -1):
        src, so = _layer_input(lay, k, x0, x0o, abuf)
        _layer_backward(theta, grad, lay, k, src, so, pbuf, train, step, B, mode)
        if k > 0:
            _mul_dpsi(pbuf, abuf, so, _u(B * lay[k, N_IN]), lay[k - 1, ACT])
    return 0.5 * loss


# ------------------------------------------------------------------------ whole runs
@jit
def _epoch(theta, grad, lay, X, Y, perm, shuffle, xb, yb, abuf, pbuf, batch, lr, mode):
    """One epoch of minibatch SGD; returns the mean per-sample loss seen during the epoch.

    Each batch's loss is taken before its update; the last partial batch is used. With
    ``shuffle`` the rows perm[start:stop] are gathered into xb/yb, else X/Y are read in place.
    """
    T = theta.dtype.type
    N, n0, nK = X.shape[0], X.shape[1], Y.shape[1]
    Xf, Yf = X.reshape(-1), Y.reshape(-1)
    total = 0.0
    for start in range(0, N, batch):
        B = min(batch, N - start)
        if shuffle:
            _gather_rows(perm, start, 0, B, Xf, Yf, xb, yb, n0, nK)
            x0, x0o, y0, yo = xb, 0, yb, 0
        else:
            x0, x0o, y0, yo = Xf, start * n0, Yf, start * nK
        _forward(theta, lay, x0, x0o, abuf, abuf, False, B, mode)
        total += _backward(theta, grad, lay, x0, x0o, y0, yo, abuf, pbuf, True, T(lr / B), B, mode)
    return total / N


# ------------------------------------------------------------ one epoch on several threads
# Data parallel within each batch. Each batch is two phases of independent items (``_sync``):
#   rows:    item p = part p of the batch's rows: gather, forward pass, φ^[K], then
#            φ^[k-1] = (W^[k])ᵀφ^[k] ⊙ ψ' down to φ^[1] (rows are independent throughout);
#   columns: item (k, p) = part p of W^[k]'s rows n_k: the SGD step on them, which sums over
#            every row of the batch, so it waits for the rows phase, which also means nobody
#            reads the old W^[k] any more.
# The next batch's rows wait for every step. Any thread may run any item, but an item always
# covers the same rows or columns with the same shapes, so results do not depend on timing.
# BLAS runs single-threaded inside each thread (Network sets that).
@jit(inline=True)
def _share(n, p, parts):
    """Part p's half-open range [lo, hi) of range(n) split into ``parts`` near-equal parts."""
    return (n * p) // parts, (n * (p + 1)) // parts


@jit
def _layer_forward_block(theta, lay, k, src, so, abuf, r0, B, c0, c1, mode):
    """Rows r0..r0+B, columns c0..c1 of x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]); so: row r0 of src."""
    n_in, n_out, wo, bo, do = _geom(lay, k, _cap(abuf, lay))
    do += _u(r0) * n_out
    c0, c1 = _u(c0), _u(c1)
    nc = c1 - c0
    if _blas_pays(mode, B, B * n_in * nc):
        for i in range(_u(B)):
            for j in range(c0, c1):
                abuf[do + i * n_out + j] = theta[bo + j]
        _check(_gemm(_T, _N, nc, B, n_in, theta.dtype.type(1), theta, wo + c0 * n_in, n_in,
                     src, so, n_in, theta.dtype.type(1), abuf, do + c0, n_out))
    else:
        for i in range(_u(B)):
            si, di = so + i * n_in, do + i * n_out
            for j in range(c0, c1):
                w = wo + j * n_in
                s = theta[bo + j]
                for m in range(n_in):
                    s += theta[w + m] * src[si + m]
                abuf[di + j] = s
    if nc == n_out:  # whole rows: one contiguous pass
        _act(abuf, do, _u(B) * n_out, lay[k, ACT])
    else:
        for i in range(_u(B)):
            _act(abuf, do + i * n_out + c0, nc, lay[k, ACT])


@jit
def _layer_dx_block(theta, lay, k, abuf, pbuf, r0, B, m0, m1, mode):
    """Rows r0..r0+B, columns m0..m1 of φ^[k-1] = (W^[k])ᵀ φ^[k] ⊙ ψ^[k-1]'(z̄^[k-1]), old W^[k]."""
    cap = _cap(pbuf, lay)
    n_in, n_out, wo, bo, po = _geom(lay, k, cap)
    po += _u(r0) * n_out
    qo = _u(cap * lay[k - 1, C_OFF]) + _u(r0) * n_in
    m0, m1 = _u(m0), _u(m1)
    nm = m1 - m0
    if _blas_pays(mode, B, B * n_out * nm):
        # Q = Φ · W, column-major Qᵀ = Wᵀ Φᵀ
        _check(_gemm(_N, _N, nm, B, n_out, theta.dtype.type(1), theta, wo + m0, n_in, pbuf, po,
                     n_out, theta.dtype.type(0), pbuf, qo + m0, n_in))
    else:
        for i in range(_u(B)):
            qi, pi = qo + i * n_in, po + i * n_out
            for m in range(m0, m1):
                pbuf[qi + m] = 0
            for j in range(n_out):
                c, w = pbuf[pi + j], wo + j * n_in
                for m in range(m0, m1):
                    pbuf[qi + m] += c * theta[w + m]
    if nm == n_in:  # whole rows: one contiguous pass
        _mul_dpsi(pbuf, abuf, qo, _u(B) * n_in, lay[k - 1, ACT])
    else:
        for i in range(_u(B)):
            _mul_dpsi(pbuf, abuf, qo + i * n_in + m0, nm, lay[k - 1, ACT])


@jit
def _layer_step_cols(theta, lay, k, src, so, pbuf, c0, c1, step, B, mode):
    """Rows c0..c1 of W^[k] and b̄^[k] take the SGD step −step · Σ_batch (φ x̄ᵀ, φ)."""
    n_in, n_out, wo, bo, po = _geom(lay, k, _cap(pbuf, lay))
    c0, c1 = _u(c0), _u(c1)
    if c1 <= c0:
        return
    nc = c1 - c0
    if _blas_pays(mode, B, B * n_in * nc):
        # rows c0..c1 of W^[k] −= step · Φ[:, c0:c1]ᵀ X; column-major, columns c0..c1 of Wᵀ
        _check(_gemm(_N, _T, n_in, nc, B, -step, src, so, n_in, pbuf, po + c0, n_out,
                     theta.dtype.type(1), theta, wo + c0 * n_in, n_in))
    else:
        for i in range(_u(B)):
            si, pi = so + i * n_in, po + i * n_out
            for j in range(c0, c1):
                c, w = step * pbuf[pi + j], wo + j * n_in
                for m in range(n_in):
                    theta[w + m] -= c * src[si + m]
    for i in range(_u(B)):
        r = po + i * n_out
        for j in range(c0, c1):
            theta[bo + j] -= step * pbuf[r + j]


@jit(inline=True)
def _step_part(theta, lay, k, p, parts, x0, x0o, abuf, pbuf, step, B, mode):
    """The SGD step on part p of ``parts`` of W^[k]'s rows (and b̄^[k])."""
    src, so = _layer_input(lay, k, x0, x0o, abuf)
    c0, c1 = _share(lay[k, N_OUT], p, parts)
    _layer_step_cols(theta, lay, k, src, so, pbuf, c0, c1, step, B, mode)


@jit
def _epoch_share(theta, lay, X, Y, perm, shuffle, xb, yb, abuf, pbuf, batch, lr, mode,
                 parts, sync, losses):
    """One epoch of minibatch SGD, run by every thread of a team at once; same result as ``_epoch``.

    Each batch is split into ``parts`` row parts and ``parts`` column parts per layer; sync is
    the team's zeroed claim/done counters. losses[p] accumulates Σ ½‖y − x̄^[K]‖² of row part p.
    """
    dt = theta.dtype.type
    N, n0, nK = X.shape[0], X.shape[1], Y.shape[1]
    Xf, Yf = X.reshape(-1), Y.reshape(-1)
    K, cap = lay.shape[0], _cap(abuf, lay)
    end = 0  # items numbered below end belong to this or earlier phases
    for start in range(0, N, batch):
        B = min(batch, N - start)
        if shuffle:
            x0, x0o, y0, yo = xb, 0, yb, 0
        else:
            x0, x0o, y0, yo = Xf, start * n0, Yf, start * nK
        end += parts
        while True:  # rows phase
            item = _claim(sync, end)
            if item < 0:
                break
            p = item - (end - parts)
            r0, r1 = _share(B, p, parts)
            nr = r1 - r0
            if shuffle:
                _gather_rows(perm, start, r0, r1, Xf, Yf, xb, yb, n0, nK)
            if nr > 0:
                for k in range(K):
                    src, so = _layer_input(lay, k, x0, x0o, abuf)
                    so += _u(r0 * lay[k, N_IN])
                    _layer_forward_block(theta, lay, k, src, so, abuf, r0, nr, 0, lay[k, N_OUT], mode)
                o, m = _u(cap * lay[K - 1, C_OFF] + r0 * nK), _u(nr * nK)
                yr, part_loss = _u(yo + r0 * nK), 0.0
                for i in range(m):  # φ^[K] rows: −(y − x̄^[K]) ⊙ ψ^[K]'
                    d = abuf[o + i] - y0[yr + i]
                    part_loss += d * d
                    pbuf[o + i] = d
                losses[p] += 0.5 * part_loss
                _mul_dpsi(pbuf, abuf, o, m, lay[K - 1, ACT])
                for k in range(K - 1, 0, -1):
                    _layer_dx_block(theta, lay, k, abuf, pbuf, r0, nr, 0, lay[k, N_IN], mode)
            _done(sync)
        _wait(sync, end)
        step = dt(lr / B)
        end += K * parts
        while True:  # columns phase
            item = _claim(sync, end)
            if item < 0:
                break
            i = item - (end - K * parts)
            _step_part(theta, lay, i // parts, i % parts, parts, x0, x0o, abuf, pbuf, step, B, mode)
            _done(sync)
        _wait(sync, end)


# Wide layers split the other way: a row part makes each thread pack all of W^[k] for its GEMMs
# (measured 0.74-0.85 of a full-batch GEMM's speed per thread, scripts/crossover.py), while a
# column part of W^[k] costs each thread only its own columns and a copy of x̄^[k-1]
# (0.96-1.12). Then each layer is a phase of its own:
#   forward k:  item p = columns c0..c1 of x̄^[k] (for k = K also of φ^[K] and the loss);
#   backward:   phase k = columns m0..m1 of φ^[k-1] = (W^[k])ᵀφ^[k] ⊙ ψ', plus the step on
#               W^[k+1] (its last reader ran in the phase before);
#   last:       the steps on W^[1] and W^[2].
@jit
def _epoch_share_cols(theta, lay, X, Y, perm, shuffle, xb, yb, abuf, pbuf, batch, lr, mode,
                      parts, sync, losses):
    """``_epoch_share`` for wide layers: every product split by columns, one phase per layer."""
    dt = theta.dtype.type
    N, n0, nK = X.shape[0], X.shape[1], Y.shape[1]
    Xf, Yf = X.reshape(-1), Y.reshape(-1)
    K, cap = lay.shape[0], _cap(abuf, lay)
    end = 0
    for start in range(0, N, batch):
        B = min(batch, N - start)
        if shuffle:
            x0, x0o, y0, yo = xb, 0, yb, 0
            end += parts
            while True:  # gather the batch's rows
                item = _claim(sync, end)
                if item < 0:
                    break
                r0, r1 = _share(B, item - (end - parts), parts)
                _gather_rows(perm, start, r0, r1, Xf, Yf, xb, yb, n0, nK)
                _done(sync)
            _wait(sync, end)
        else:
            x0, x0o, y0, yo = Xf, start * n0, Yf, start * nK
        for k in range(K):  # forward, one phase per layer
            src, so = _layer_input(lay, k, x0, x0o, abuf)
            end += parts
            while True:
                item = _claim(sync, end)
                if item < 0:
                    break
                p = item - (end - parts)
                c0, c1 = _share(lay[k, N_OUT], p, parts)
                if c1 > c0:
                    _layer_forward_block(theta, lay, k, src, so, abuf, 0, B, c0, c1, mode)
                    if k == K - 1:  # φ^[K] columns: −(y − x̄^[K]) ⊙ ψ^[K]'
                        o, yu, nKu, part_loss = _u(cap * lay[K - 1, C_OFF]), _u(yo), _u(nK), 0.0
                        for i in range(_u(B)):
                            for j in range(_u(c0), _u(c1)):
                                d = abuf[o + i * nKu + j] - y0[yu + i * nKu + j]
                                part_loss += d * d
                                pbuf[o + i * nKu + j] = d
                            _mul_dpsi(pbuf, abuf, o + i * nKu + _u(c0), _u(c1 - c0), lay[K - 1, ACT])
                        losses[p] += 0.5 * part_loss
                _done(sync)
            _wait(sync, end)
        step = dt(lr / B)
        for k in range(K - 1, -1, -1):  # φ^[k-1] columns of layer k, and the step on W^[k+1]
            n_dx = parts if k > 0 else 0
            n_step = parts if k + 1 < K else 0
            if k == 0:  # the last phase also steps W^[1]
                n_step += parts
            end += n_dx + n_step
            while True:
                item = _claim(sync, end)
                if item < 0:
                    break
                i = item - (end - n_dx - n_step)
                if i < n_dx:
                    m0, m1 = _share(lay[k, N_IN], i, parts)
                    if m1 > m0:
                        _layer_dx_block(theta, lay, k, abuf, pbuf, 0, B, m0, m1, mode)
                else:
                    i -= n_dx
                    kk = k + 1 if i < parts and k + 1 < K else 0
                    _step_part(theta, lay, kk, i % parts, parts, x0, x0o, abuf, pbuf, step, B, mode)
                _done(sync)
            _wait(sync, end)


@jit
def _predict(theta, lay, X, abuf, out, mode):
    """x̄^[K] for every row of X, in chunks of the rows abuf was sized for."""
    cap, K = _cap(abuf, lay), lay.shape[0]
    n0, nK = X.shape[1], lay[K - 1, N_OUT]
    Xf, outf = X.reshape(-1), out.reshape(-1)
    o = cap * lay[K - 1, C_OFF]
    for start in range(0, X.shape[0], cap):
        B = min(cap, X.shape[0] - start)
        _forward(theta, lay, Xf, start * n0, abuf, abuf, False, B, mode)
        for i in range(B * nK):
            outf[start * nK + i] = abuf[o + i]


@jit(fastmath=False)
def _all_finite(a):
    """True when no entry of the flat array is NaN or ±Inf (compiled without fast-math)."""
    for i in range(a.size):
        if not np.isfinite(a[i]):
            return False
    return True
