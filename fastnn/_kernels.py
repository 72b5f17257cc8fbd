"""Private Numba kernels: forward pass, backward pass (the φ^[k] recurrence), optimizer step, epoch.

Kernels read and write the buffers they are handed and allocate nothing. Nothing about the
architecture is a type: widths, offsets and activation codes live in the integer table ``lay``,
so one compiled kernel serves every depth and width.

Layout (rows are samples: the seed's column vectors laid side by side, then transposed):
  theta   flat parameters; W^[k] = theta[w_off : w_off + n_k n_{k-1}] as (n_k, n_{k-1}), then b̄^[k]
  grad    flat buffer with theta's layout: gradients, and the batch's mean gradient for every
          optimizer but plain SGD (whose step is fused into the gradient GEMM: no grad at all)
  state   the optimizer's flat state buffers (``optimizers``), laid end to end
  lay     int64 (K, _layout.COLS): one row per layer k = 1..K (``_layout``)
  abuf    x̄^[k] for k = 1..K: layer k's (B, n_k) block starts at cap · c_k, cap = rows sized for
  pbuf    φ^[k], with abuf's layout
  x0, y   flat input and target rows, read from offsets x0o / yo
  loss, opt, h
          the loss code (``losses``), the optimizer code (``optimizers``; FUSED is plain SGD)
          and its hyperparameters, read by name (``optimizers.Hyper``: h[LR] is this epoch's lr)
The entry points take these in named bundles (``shape``, ``step``, ``rows``, ``scratch``,
``team``) and unpack them once.

The loss enters in one place, ``output_delta`` (φ^[K] and Σ L of whole output rows), and the
optimizer in one, ``_layer_update``; both dispatch on their code in ``_dispatch``, generated
from the tables.

Each layer runs one of two ways, chosen per layer and batch by ``_blas_pays``:
  * BLAS: GEMM on the flat buffers (``_blas._gemm``) with b̄ folded in through β = 1; plain
    SGD's update is one GEMM with β = 1 straight into θ, other optimizers' gradient one GEMM
    with β = 0 into grad. Wins for wide layers.
  * loops: hand-written loops over flat uint64 indices and no array views created. Wins at
    batch 1 and for narrow layers, where BLAS call overhead dominates.
The serial epoch and both threaded epochs run the same per-layer block functions, on a block
of rows or columns.
Nets small enough for ``_unrolled`` skip both and run a generated straight-line epoch.
"""
import math

import numpy as np
from numba import carray

from . import _codegen
from ._blas import _fresh_w, _kp, _mm, _path
from ._dispatch import act as _act
from ._dispatch import mul_dpsi as _mul_dpsi
from ._dispatch import mul_dpsi_z as _mul_dpsi_z
from ._dispatch import opt_prepare, opt_step, output_delta, output_link
from ._jit import jit, readonly
from ._layout import (
    ACT,
    B_OFF,
    BATCH_NORM,
    C_OFF,
    DROP,
    EXT,
    G_OFF,
    KEEP_A,
    LAYER_NORM,
    N_IN,
    N_OUT,
    NORM,
    R_OFF,
    RES,
    W_OFF,
)
from ._sync import (
    CALL_BASE,
    CALL_CHUNK,
    CALL_COLS,
    CALL_ITEMS,
    CALL_N,
    CALL_OUT,
    CALL_SLOT,
    CALL_X,
    CLAIMED,
    GEN,
    HELPER_CPU,
    SERVING,
    _address,
    _announce,
    _atomic_add,
    _atomic_load,
    _claim,
    _done,
    _pointer,
    _sched_getcpu,
    _sched_yield,
    _wait,
)
from .optimizers import CLIP_NORM, FUSED, LR, WEIGHT_DECAY

# Kernel arguments travel in a few named bundles, each a plain tuple that the kernels unpack by
# name on entry (``lay, loss, kernel_path, rates = shape``); ``_engine`` builds them:
#   shape    (lay, loss, kernel_path, rates): the network's layout table, the loss as (its code,
#            its parameter lp: Huber's ε, the quantile q), the kernel path and the dropout rate
#            p^[k] per layer (float64, rates[k0])
#   step     (theta, grad, state, opt, h, t0, run): θ, the gradient buffer, the optimizer's state
#            and code (FUSED: plain SGD inside the gradient GEMM), its hyperparameters h (a plain
#            tuple read as h[LR], h[WEIGHT_DECAY], ...: ``optimizers.Hyper``), the steps taken,
#            and batch norm's running statistics (``_layout.running``; empty without)
#   rows     (X, Y, sw, perm, shuffle, ctl): a run's rows, the sample weights in the epoch's
#            order (or empty), the epoch's permutation, whether to read rows through it, and the
#            run's mode (``ctl``: SEED, EPOCH, ROW0, TRAINING, UPDATE)
#   scratch  (abuf, pbuf, xb, yb, zbuf, gbuf, stat): x̄^[k] and φ^[k] for k = 1..K, the
#            gathered x̄^[0] and y rows; for extended layers x̂^[k] (z̄^[k] without norm) and
#            ẑ^[k] then ∂L/∂ẑ^[k], with abuf's layout, and float64 statistics (``_stat``); the
#            last three are None for a net without extended layers. Every extended step that a
#            plain kernel calls starts with ``if zbuf is None: return``, a branch Numba prunes
#            while compiling: a plain net's kernels compile none of the extended code (which
#            tripled the cold compile) and run the seed's layer loop alone; a variant without
#            layer options (WITH_EXTENDED false) does not even compile those functions' stubs
#   team     (parts, sync, losses): a thread team's items per phase, claim/done counters
#            (``_sync``) and one loss sum per row part (summed in a fixed order)
#   sparse   (counts, cols, starts, crow, cval, wb): a sparse X's batch sorted by column, for the
#            first layer's product and gradient over its nonzeros (section "sparse input")
# Plain, not named tuples: Numba's dispatcher types a plain tuple in C and a named one in Python
# (0.26 against 0.69 µs a call measured), which a one-row fit would pay several times.


# Path selection. AUTO: nets of at most _unrolled.MAX_PARAMS parameters run the generated
# straight-line epoch, and every other layer picks BLAS or loops by its work size. The other
# values force one path (the tests check each against finite differences).
# GENERIC is AUTO without the unrolled epoch.
AUTO, LOOPS, BLAS, UNROLLED, GENERIC = 0, 1, 2, 3, 4
# A layer goes to BLAS when B > 1 and B · n_{k-1} · n_k reaches this many multiply-adds; at
# batch 1 the loops won at every width measured (scripts/crossover.py).
BLAS_MIN_WORK = 2048

_N, _T = ord("n"), ord("t")  # BLAS: use an operand as stored / transposed

# ctl, an int64 array: the dropout masks' seed, the epoch (counted across fits), the row of the
# epoch a run starts at, training mode (1: dropout acts, batch norm uses the batch's statistics;
# 0: evaluation, as PyTorch's eval()), and what batch norm does to its running statistics in
# training mode (KEEP them, MOVE them by MOMENTUM, or SET them to the batch's), and the power of
# two the sample weights were scaled by (``_validate.sample_weight``): the running variance's
# unbiased correction counts Σ w in the caller's units, so integer weights act as repeated rows.
SEED, EPOCH, ROW0, TRAINING, UPDATE, WEXP = range(6)
STATS, AFFINE = 0, 1  # what ``_norm_forward`` does for batch norm (layer norm does both per row)
CHUNK = 2048  # entries of a block the extended forward steps take at a time (in the L1 cache)
KEEP, MOVE, SET = 0, 1, 2
NORM_EPS = 1e-5  # ε of layer and batch norm (PyTorch's default)
MOMENTUM = 0.1  # batch norm's running statistics: r ← (1 − m) r + m · batch statistic
# The layer options the kernels hold code for, and whether an optimizer steps apart from the
# gradient (WITH_STEP; not for plain SGD, fused into the gradient GEMM): all of them here; a
# variant (``_codegen.kernels``) sets these to its net's, and Numba prunes the branches they open
# (a test of a global False) without compiling what is inside, not even an empty function.
WITH_LAYER_NORM = WITH_BATCH_NORM = WITH_DROPOUT = WITH_SKIP = WITH_STEP = True
WITH_NORM = WITH_LAYER_NORM or WITH_BATCH_NORM
WITH_EXTENDED = WITH_NORM or WITH_DROPOUT or WITH_SKIP  # any layer beyond the seed's Dense→ψ

@jit(inline=True)
def _cap(buf, lay):
    """Rows a per-layer buffer was sized for: its size over Σ_k n_k."""
    return buf.size // (lay[-1, C_OFF] + lay[-1, N_OUT])


@jit(inline=True)
def _blas_pays(kernel_path, B, work):
    """BLAS for a product of B rows and ``work`` multiply-adds, unless a path is forced."""
    path = _path(kernel_path)
    if path == LOOPS or path == BLAS:
        return path == BLAS
    return B > 1 and work >= BLAS_MIN_WORK


# The hot loops index flat arrays with uint64 offsets. Two Numba costs make this worth it:
# a signed index (a[o + i]) gets a negative-index wraparound select per access, which turns
# vector loads into gathers, and every array view costs tens of ns of reference counting,
# which would dominate the tiny nets (a [2, 2, 1] step is a few dozen flops).
_u = np.uint64  # (a plain alias: an inlined helper would cost compile time at each of its many calls)


# A constant argument (0, True, STATS) reaches a non-inline kernel as a Literal type, which
# Numba compiles a specialization of its own for: one more copy of the kernel per constant.
# Calls pass such values through _i (or np.bool_), so each kernel compiles once per dtype.
_i = np.int64


@jit(inline=True)
def _geom(lay, k0, cap):
    """Layer k's n_in, n_out, W/b offsets and buffer block offset, as uint64 (k = k0 + 1)."""
    return (_u(lay[k0, N_IN]), _u(lay[k0, N_OUT]), _u(lay[k0, W_OFF]), _u(lay[k0, B_OFF]),
            _u(cap * lay[k0, C_OFF]))


@jit(inline=True)
def _check(status):
    if status != 0:
        raise RuntimeError("BLAS gemm failed (is SciPy's BLAS available?)")


@jit(inline=True)
def _share(n, p, parts):
    """Part p's half-open range [lo, hi) of range(n) split into ``parts`` near-equal parts."""
    return (n * p) // parts, (n * (p + 1)) // parts


@jit(inline=True)
def _layer_input(lay, k0, x0, x0o, abuf):
    """(buffer, offset) of x̄^[k-1], layer k's input (k = k0 + 1): the batch's x̄^[0] rows for k0 = 0."""
    if k0 == 0:
        return x0, _u(x0o)
    return abuf, _u(_cap(abuf, lay) * lay[k0 - 1, C_OFF])


@jit(inline=True)
def _gather_rows(perm, start, r0, r1, Xf, Yf, xb, yb, n0, nK):
    """Rows r0..r1 of the batch starting at ``start`` of the epoch's permutation, into xb/yb."""
    for i in range(r0, r1):
        r = perm[start + i]
        for m in range(n0):
            xb[i * n0 + m] = Xf[r * n0 + m]
        for m in range(nK):
            yb[i * nK + m] = Yf[r * nK + m]


# ------------------------------------------------------- one layer, on a block of rows or columns
# Layers are 0-based here: k0 = 0..K-1 is the seed's layer k = k0 + 1, and the docstrings
# speak of k (W^[k] is the layout's row k0).
@jit(inline=True)
def _layer_linear_block(theta, lay, k0, src, so, abuf, r0, B, c0, c1, kernel_path):
    """Rows r0..r0+B, columns c0..c1 of z̄^[k] = W^[k] x̄^[k-1] + b̄^[k] into abuf's block k;
    so: row r0 of src."""
    n_in, n_out, wo, bo, do = _geom(lay, k0, _cap(abuf, lay))
    do += _u(r0) * n_out
    c0, c1 = _u(c0), _u(c1)
    nc = c1 - c0
    if _blas_pays(kernel_path, B, B * n_in * nc):
        for i in range(_u(B)):  # each row starts as b̄^[k], then GEMM adds X (W^[k])ᵀ:
            for j in range(c0, c1):  # column-major Zᵀ = W · Xᵀ + Zᵀ
                abuf[do + i * n_out + j] = theta[bo + j]
        _check(_mm(kernel_path, _T, _N, nc, B, n_in, theta.dtype.type(1), theta, wo + c0 * n_in, n_in,
                   src, so, n_in, theta.dtype.type(1), abuf, do + c0, n_out, True, False))
    else:  # each dot product kept in a register
        for i in range(_u(B)):
            si, di = so + i * n_in, do + i * n_out
            for j in range(c0, c1):
                w = wo + j * n_in
                s = theta[bo + j]
                for m in range(n_in):
                    s += theta[w + m] * src[si + m]
                abuf[di + j] = s


@jit(inline=True)
def _act_block(lay, k0, abuf, r0, B, c0, c1):
    """x̄ = ψ^[k](·) in place on rows r0..r0+B, columns c0..c1 of abuf's block k."""
    n_out = _u(lay[k0, N_OUT])
    do = _u(_cap(abuf, lay) * lay[k0, C_OFF]) + _u(r0) * n_out
    c0, c1 = _u(c0), _u(c1)
    nc = c1 - c0
    if nc == n_out:  # whole rows: one contiguous pass
        _act(abuf, do, _u(B) * n_out, lay[k0, ACT])
    else:
        for i in range(_u(B)):
            _act(abuf, do + i * n_out + c0, nc, lay[k0, ACT])


@jit
def _layer_linear(theta, lay, k0, src, so, dst, r0, B, c0, c1, kernel_path):
    """``_layer_linear_block`` compiled once: an extended layer's z̄^[k] into zbuf, and with
    layer options in the kernels (WITH_EXTENDED) the seed's layers' too, into abuf."""
    if dst is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return
    _layer_linear_block(theta, lay, k0, src, so, dst, r0, B, c0, c1, kernel_path)


@jit
def _layer_forward_block(theta, lay, k0, src, so, abuf, r0, B, c0, c1, kernel_path):
    """Rows r0..r0+B, columns c0..c1 of x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]); so: row r0 of src."""
    if WITH_EXTENDED:  # one compiled copy of the layer's GEMM and loops, shared with the extended
        # layers' z̄^[k] (two cost a net with layer options about 2 s of compiling)
        _layer_linear(theta, lay, k0, src, so, abuf, r0, B, c0, c1, kernel_path)
    else:  # (a plain net's variant compiles the block here, one function fewer)
        _layer_linear_block(theta, lay, k0, src, so, abuf, r0, B, c0, c1, kernel_path)
    _act_block(lay, k0, abuf, r0, B, c0, c1)


# Compiled on their own, not inlined (as are _layer_forward_block and _finish_backward): the
# serial, both threaded and the sparse epochs, the batch gradient and evaluation all call them,
# and one compiled copy serves them all. Inlined, each entry point compiled its own copy: 40%
# of the compile time of a session that fits on one and two threads, then predicts (AMD EPYC:
# 60 s, now 35 s). Arguments go through _i / _u / np.bool_, so every caller reaches the same
# specialization.
@jit
def _layer_dx_block(theta, lay, k0, abuf, pbuf, r0, B, m0, m1, kernel_path):
    """Rows r0..r0+B, columns m0..m1 of φ^[k-1] = (W^[k])ᵀ φ^[k] ⊙ ψ^[k-1]'(z̄^[k-1]), old W^[k];
    with a skip in layer k the product is added to the δ^[k] already there (``_finish_backward``),
    and an extended layer k − 1 is finished by the caller."""
    cap = _cap(pbuf, lay)
    n_in, n_out, wo, _, po = _geom(lay, k0, cap)
    po += _u(r0) * n_out
    qo = _u(cap * lay[k0 - 1, C_OFF]) + _u(r0) * n_in
    m0, m1 = _u(m0), _u(m1)
    nm = m1 - m0
    if _blas_pays(kernel_path, B, B * n_out * nm):
        # Q = Φ · W, column-major Qᵀ = Wᵀ Φᵀ
        _check(_mm(kernel_path, _N, _N, nm, B, n_out, theta.dtype.type(1), theta, wo + m0, n_in, pbuf, po,
                   n_out, theta.dtype.type(lay[k0, RES]), pbuf, qo + m0, n_in, True, False))
    else:
        for i in range(_u(B)):
            qi, pi = qo + i * n_in, po + i * n_out
            if lay[k0, RES] == 0:
                for m in range(m0, m1):
                    pbuf[qi + m] = 0
            for j in range(n_out):
                c, w = pbuf[pi + j], wo + j * n_in
                for m in range(m0, m1):
                    pbuf[qi + m] += c * theta[w + m]
    if lay[k0 - 1, EXT] != 0:
        return
    if nm == n_in:  # whole rows: one contiguous pass
        _mul_dpsi(pbuf, abuf, qo, _u(B) * n_in, lay[k0 - 1, ACT])
    else:
        for i in range(_u(B)):
            _mul_dpsi(pbuf, abuf, qo + i * n_in + m0, nm, lay[k0 - 1, ACT])


@jit(inline=True)
def _layer_grad_cols(theta, dst, lay, k0, src, so, pbuf, zbuf, gbuf, c0, c1, step, overwrite, B, kernel_path):
    """Rows c0..c1 of W^[k] and b̄^[k] in dst −= step · Σ_batch (φ^[k] (x̄^[k-1])ᵀ, φ^[k]), and
    with norm units c0..c1 of γ^[k], β^[k] (``_norm_grad_cols``).

    dst = θ with step = lr/B is plain SGD's step, fused. With ``overwrite`` dst's rows are
    replaced instead (dst = grad, step = −1/B: the batch's mean gradient; −1: its sum).
    """
    n_in, n_out, wo, bo, po = _geom(lay, k0, _cap(pbuf, lay))
    if WITH_NORM and lay[k0, NORM] != 0 and c1 > c0:
        _norm_grad_cols(dst, lay, k0, zbuf, gbuf, pbuf, _i(c0), _i(c1), step, np.bool_(overwrite), _i(B))
    c0, c1 = _u(c0), _u(c1)
    if c1 <= c0:
        return
    nc = c1 - c0
    if overwrite:
        for j in range(bo + c0, bo + c1):
            dst[j] = 0
    if _blas_pays(kernel_path, B, B * n_in * nc):
        # rows c0..c1 of W^[k] −= step · Φ[:, c0:c1]ᵀ X; column-major, columns c0..c1 of Wᵀ
        beta = theta.dtype.type(0 if overwrite else 1)
        _check(_mm(kernel_path, _N, _T, n_in, nc, B, -step, src, so, n_in, pbuf, po + c0, n_out,
                   beta, dst, wo + c0 * n_in, n_in, False, False))
        for i in range(_u(B)):  # b̄^[k], row by row (contiguous)
            r = po + i * n_out
            for j in range(c0, c1):
                dst[bo + j] -= step * pbuf[r + j]
        return
    if overwrite:
        for j in range(wo + c0 * n_in, wo + c1 * n_in):
            dst[j] = 0
    for i in range(_u(B)):
        si, pi = so + i * n_in, po + i * n_out
        for j in range(c0, c1):
            c, w = step * pbuf[pi + j], wo + j * n_in
            for m in range(n_in):
                dst[w + m] -= c * src[si + m]
            dst[bo + j] -= c


@jit  # not inlined: see _layer_dx_block
def _layer_update(theta, grad, state, lay, k0, src, so, pbuf, zbuf, gbuf, c0, c1, B, opt, h, c, kernel_path, train):
    """The optimizer's step on rows c0..c1 of W^[k] and b̄^[k] (and γ^[k], β^[k]), from this
    batch's φ^[k] (and ∂L/∂ẑ^[k]); without ``train``, Σ_batch ∂L/∂θ of those rows into grad."""
    T = theta.dtype.type
    fused = train and opt == FUSED  # plain SGD: θ −= lr/B · Σ_batch, inside the gradient GEMM
    # (one call for the three cases: each inlined copy of the layer's GEMM and loops costs compile time)
    _layer_grad_cols(theta, theta if fused else grad, lay, k0, src, so, pbuf, zbuf, gbuf, c0, c1,
                     T(h[LR] / B) if fused else T(-1.0 / B) if train else T(-1), not fused, B, kernel_path)
    if not train:
        return
    if WITH_STEP and not fused:
        _layer_step(theta, grad, state, lay, k0, c0, c1, opt, h, c)
    n_in = lay[k0, N_IN]  # bf16: the rows just stepped, cast for the next products
    _fresh_w(kernel_path, theta, lay[k0, W_OFF] + c0 * n_in, (c1 - c0) * n_in)


@jit(inline=True)
def _layer_step(theta, grad, state, lay, k0, c0, c1, opt, h, c):
    """The optimizer's step on rows c0..c1 of W^[k] and b̄^[k] (and γ^[k], β^[k]) from the batch's
    mean gradient in grad (weight decay on W^[k] only)."""
    T = theta.dtype.type
    n_in, wo, bo = _u(lay[k0, N_IN]), _u(lay[k0, W_OFF]), _u(lay[k0, B_OFF])
    if WITH_NORM and lay[k0, NORM] != 0:  # γ, β: no decay, as b̄
        go, n = _u(lay[k0, G_OFF]), _u(lay[k0, N_OUT])
        opt_step(opt, theta, grad, state, go + _u(c0), go + _u(c1), T(0), c)
        opt_step(opt, theta, grad, state, go + n + _u(c0), go + n + _u(c1), T(0), c)
    c0, c1 = _u(c0), _u(c1)
    opt_step(opt, theta, grad, state, wo + c0 * n_in, wo + c1 * n_in, T(h[WEIGHT_DECAY]), c)  # W: decay
    opt_step(opt, theta, grad, state, bo + c0, bo + c1, T(0), c)  # b̄: no decay


@jit(inline=True)
def _constants(opt, h, t):
    """The optimizer's constants for step t; none for plain SGD."""
    c = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    if WITH_STEP and opt != FUSED:
        c = opt_prepare(opt, h, t)
    return c



# --------------------------------------------------- the extended steps of a hidden layer
# A hidden layer may add, after z̄^[k] = W^[k] x̄^[k-1] + b̄^[k] (``_layout``'s NORM, DROP, RES):
#   ẑ = γ ⊙ x̂ + β, x̂ = (z̄ − μ) / √(σ² + ε)   layer norm (μ, σ² of each row) or batch norm
#                                            (of each unit, over the batch's rows, weighted)
#   a = ψ(ẑ);  d = a ⊙ m / (1 − p) in training (m: a mask drawn by ``_keep``);
#   x̄^[k] = x̄^[k-1] + d with a skip, else d.
# The buffers: zbuf holds x̂ (z̄ without norm), gbuf ẑ, then in the backward pass g = ∂L/∂ẑ.
# ``stat`` (float64) holds 1/σ: layer norm's per row (K · cap entries, layer k0's at k0 · cap),
# batch norm's per unit (width entries at K · cap + c_k), then 2 · width sums per unit, then
# for a thread team 8 · parts · (cap + width) partial sums per row or unit (``_partial``).
# Statistics are summed in float64 in a fixed order, whatever the thread split. These functions
# are compiled once each, not inlined: they run once per layer and block, and inlining them
# into every kernel would multiply the kernels' compile time. A batch norm
# block holds the whole batch, or in the row split ``_epoch_share`` sums each part's rows
# first and combines the parts' sums in part order (``_bn_forward_rows``); a layer norm block
# holds whole rows, or in the column split ``_epoch_share_cols`` sums each part's share of a
# row's units likewise (``_ln_forward_cols``).
_GOLD = np.uint64(0x9E3779B97F4A7C15)


@jit(inline=True)
def _mix(z):
    """SplitMix64's finalizer: a bijection of uint64 whose output bits look independent."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@jit(inline=True)
def _row_key(ctl, pos, k0):
    """The dropout key of the sample at position ``pos`` of the epoch in layer k0 + 1."""
    z = _mix(np.uint64(ctl[SEED]) ^ _GOLD)
    z = _mix(z ^ (np.uint64(ctl[EPOCH]) * _GOLD))
    z = _mix(z ^ (np.uint64(pos) * _GOLD))
    return _mix(z ^ (np.uint64(k0 + 1) * _GOLD))


@jit(inline=True)
def _keep(key, j, p):
    """True when unit j survives dropout at rate p: u ≥ p for u uniform in [0, 1) from
    (seed, epoch, position, layer, unit), a counter-based draw no thread order can change."""
    u = _mix(key + (np.uint64(j) + np.uint64(1)) * _GOLD)
    return np.float64(u >> np.uint64(11)) * (1.0 / 9007199254740992.0) >= p


@jit(inline=True)
def _stat_width(lay):
    return lay[-1, C_OFF] + lay[-1, N_OUT]


@jit(inline=True)
def _weight(sw, swo, i):
    return 1.0 if sw.size == 0 else np.float64(sw[swo + i])


@jit(inline=True)
def _inverse(W):
    return 1.0 / W if W > 0 else 0.0  # (Σ w = 0: no weight, no statistic)


@jit(inline=True)
def _rows_weight(sw, swo, B):
    """(Σ w, 1 / Σ w) over B rows whose weights start at sw[swo] (1 each without weights)."""
    W = 0.0
    for i in range(B):
        W += _weight(sw, swo, i)
    return W, _inverse(W)


@jit(inline=True)
def _zero_sums(stat, mo, width, c0, c1):
    """Zero units c0..c1 of the two per-unit sums at stat[mo] and stat[mo + width]."""
    for j in range(c0, c1):
        stat[_u(mo + j)] = 0.0
        stat[_u(mo + width + j)] = 0.0


@jit(inline=True)
def _move_running(run, ro, n, j, mu, var, count, update):
    """Batch norm's running mean and unbiased variance of unit j (at run[ro], run[ro + n]) moved
    by MOMENTUM towards the batch's μ and σ² (update MOVE) or set to them (SET); ``count``: Σ w
    in the caller's units. One row (or Σ w ≤ 1) has no unbiased variance: they are kept."""
    if update == KEEP or count <= 1:
        return
    T = run.dtype.type
    m = MOMENTUM if update == MOVE else 1.0
    run[_u(ro + j)] = T((1 - m) * run[_u(ro + j)] + m * mu)
    run[_u(ro + n + j)] = T((1 - m) * run[_u(ro + n + j)] + m * (var * count / (count - 1)))


@jit(inline=True)
def _affine(theta, zbuf, gbuf, abuf, o, go, n, j, mu, rstd):
    """x̂ = (z̄ − μ)/σ into zbuf[_u(o)], ẑ = γ_j x̂ + β_j into gbuf[_u(o)] and abuf[_u(o)] (alias-safe)."""
    xh = (zbuf[_u(o)] - mu) * rstd
    zh = theta[_u(go + j)] * xh + theta[_u(go + n + j)]
    zbuf[_u(o)] = xh
    gbuf[_u(o)] = zh
    abuf[_u(o)] = zh


@jit
def _norm_forward(theta, run, lay, k0, abuf, zbuf, gbuf, stat, cap, sw, swo, r0, B, c0, c1, ctl, what):
    """Layer norm of rows r0..r0+B (whole rows), or batch norm of units c0..c1: its statistics
    over the batch's rows r0..r0+B (what = STATS; in training it also moves or sets the running
    statistics), or its x̂, ẑ of rows r0..r0+B from them (what = AFFINE): x̂ into zbuf, ẑ into
    gbuf and abuf, 1/σ into stat."""
    K, width = lay.shape[0], _stat_width(lay)
    n, go = lay[k0, N_OUT], lay[k0, G_OFF]
    zo = cap * lay[k0, C_OFF] + r0 * n
    if WITH_LAYER_NORM and lay[k0, NORM] == LAYER_NORM:  # per row, over its n_k units
        for i in range(B):
            ro = zo + i * n
            mu = 0.0
            for j in range(n):
                mu += zbuf[_u(ro + j)]
            mu /= n
            var = 0.0
            for j in range(n):
                d = zbuf[_u(ro + j)] - mu
                var += d * d
            rstd = 1.0 / np.sqrt(var / n + NORM_EPS)
            stat[_u(k0 * cap + r0 + i)] = rstd
            for j in range(n):
                _affine(theta, zbuf, gbuf, abuf, ro + j, go, n, j, mu, rstd)
        return
    if not WITH_BATCH_NORM:
        return
    so = K * cap + lay[k0, C_OFF]  # batch norm: per unit, over the whole batch
    mo, ro = so + width, lay[k0, R_OFF]
    if what == AFFINE:
        for i in range(B):
            io = zo + i * n
            for j in range(c0, c1):
                _affine(theta, zbuf, gbuf, abuf, io + j, go, n, j, stat[_u(mo + j)], stat[_u(so + j)])
        return
    if ctl[TRAINING] == 0:  # evaluation: the running statistics
        for j in range(c0, c1):
            stat[_u(mo + j)] = run[_u(ro + j)]
            stat[_u(so + j)] = 1.0 / np.sqrt(np.float64(run[_u(ro + n + j)]) + NORM_EPS)
    else:
        W, inv = _rows_weight(sw, swo, B)
        _zero_sums(stat, mo, width, c0, c1)
        for i in range(B):
            w, io = _weight(sw, swo, i), zo + i * n
            for j in range(c0, c1):
                stat[_u(mo + j)] += w * zbuf[_u(io + j)]
        for j in range(c0, c1):
            stat[_u(mo + j)] *= inv
        for i in range(B):
            w, io = _weight(sw, swo, i), zo + i * n
            for j in range(c0, c1):
                d = zbuf[_u(io + j)] - stat[_u(mo + j)]
                stat[_u(mo + width + j)] += w * d * d
        update = ctl[UPDATE]
        count = W * 2.0 ** ctl[WEXP] if sw.size else W  # Σ w in the caller's units
        for j in range(c0, c1):
            var = stat[_u(mo + width + j)] * inv
            stat[_u(so + j)] = 1.0 / np.sqrt(var + NORM_EPS)
            _move_running(run, ro, n, j, stat[_u(mo + j)], var, count, update)


@jit(inline=True)
def _partial(lay, cap, q, which):
    """Offset in stat of part q's partial sums number ``which``: 0, 1 for the forward pass and
    4, 5 for the backward pass, + 2 for the odd batch norm layers (``_bn_slot``): in the row
    split a part may write one layer's sums while another still reads the previous layer's."""
    K, width = lay.shape[0], _stat_width(lay)
    return K * cap + 3 * width + (8 * q + which) * (cap + width)


@jit
def _ln_partial_forward(lay, k0, zbuf, stat, cap, B, c0, c1, part, parts, which):
    """Part ``part``'s sums over its units c0..c1 of each of the B rows of z̄^[k]: Σ z (which 0)
    or Σ (z − μ)² (which 1, μ from every part's first sums, combined in part order)."""
    if not WITH_LAYER_NORM:  # (a variant without it: compiled empty)
        return
    if zbuf is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return
    n = lay[k0, N_OUT]
    o = cap * lay[k0, C_OFF]
    dst = _partial(lay, cap, part, which)
    for i in range(B):
        mu = 0.0
        if which == 1:
            for q in range(parts):
                mu += stat[_u(_partial(lay, cap, q, 0) + i)]
            mu /= n
        s = 0.0
        for j in range(c0, c1):
            d = zbuf[_u(o + i * n + j)] - mu
            s += d if which == 0 else d * d
        stat[_u(dst + i)] = s


@jit
def _ln_forward_cols(theta, lay, k0, abuf, zbuf, gbuf, stat, cap, B, ra, rb, c0, c1, part, parts):
    """Layer norm of units c0..c1 of rows ra..rb of the batch's B, μ and σ² combined from the
    parts' sums."""
    if not WITH_LAYER_NORM:  # (a variant without it: compiled empty)
        return
    n, go = lay[k0, N_OUT], lay[k0, G_OFF]
    o = cap * lay[k0, C_OFF]
    r0, r1 = _share(B, part, parts)
    for i in range(ra, rb):
        mu = var = 0.0
        for q in range(parts):
            mu += stat[_u(_partial(lay, cap, q, 0) + i)]
            var += stat[_u(_partial(lay, cap, q, 1) + i)]
        rstd = 1.0 / np.sqrt(var / n + NORM_EPS)
        if r0 <= i < r1:  # 1/σ for the backward pass, each row's written by one part
            stat[_u(k0 * cap + i)] = rstd
        for j in range(c0, c1):
            _affine(theta, zbuf, gbuf, abuf, o + i * n + j, go, n, j, mu / n, rstd)


@jit(inline=True)
def _parts_weight(lay, stat, cap, sl, parts):
    """(Σ w, 1 / Σ w) of the batch from the row parts' sums of weights in slot ``sl``."""
    W = 0.0
    for q in range(parts):
        W += stat[_u(_partial(lay, cap, q, sl) + _stat_width(lay))]
    return W, _inverse(W)


@jit(inline=True)
def _parts_means(lay, stat, cap, sl, j, parts, inv):
    """Unit j's sums in slots sl and sl + 1, added over the row parts in part order, times inv."""
    a = b = 0.0
    for q in range(parts):
        a += stat[_u(_partial(lay, cap, q, sl) + j)]
        b += stat[_u(_partial(lay, cap, q, sl + 1) + j)]
    return a * inv, b * inv


@jit(inline=True)
def _bn_slot(lay, k0):
    """2 when an odd number of batch norm layers precede layer k0 + 1, else 0 (``_partial``)."""
    c = 0
    for k in range(k0):
        c += lay[k, NORM] == BATCH_NORM
    return 2 * (c % 2)


@jit
def _bn_partial_forward(lay, k0, zbuf, stat, cap, sw, swo, r0, nr, part, parts, which):
    """Part ``part``'s weighted sums over its rows r0..r0+nr (weights from sw[swo]) of each unit
    of z̄^[k]: Σ w z and Σ w (which 0; Σ w at index width), or Σ w (z − μ)² (which 1, μ from
    every part's first sums, combined in part order)."""
    if not WITH_BATCH_NORM:  # (a variant without it: compiled empty)
        return
    n, width = lay[k0, N_OUT], _stat_width(lay)
    o = cap * lay[k0, C_OFF] + r0 * n
    sl = _bn_slot(lay, k0)
    dst = _partial(lay, cap, part, sl + which)
    if which == 0:
        for j in range(n):
            stat[_u(dst + j)] = 0.0
        sw_part = 0.0
        for i in range(nr):
            w, io = _weight(sw, swo, i), o + i * n
            sw_part += w
            for j in range(n):
                stat[_u(dst + j)] += w * zbuf[_u(io + j)]
        stat[_u(dst + width)] = sw_part
        return
    _, inv = _parts_weight(lay, stat, cap, sl, parts)
    for j in range(n):
        mu = 0.0
        for q in range(parts):
            mu += stat[_u(_partial(lay, cap, q, sl) + j)]
        mu *= inv
        acc = 0.0
        for i in range(nr):
            d = zbuf[_u(o + i * n + j)] - mu
            acc += _weight(sw, swo, i) * d * d
        stat[_u(dst + j)] = acc


@jit
def _bn_forward_rows(theta, run, lay, k0, abuf, zbuf, gbuf, stat, cap, r0, nr, part, parts, ctl, weighted):
    """Batch norm of rows r0..r0+nr, μ and σ² combined from the parts' sums; each part also
    stores 1/σ and moves the running statistics of its own share of the units."""
    if not WITH_BATCH_NORM:  # (a variant without it: compiled empty)
        return
    K = lay.shape[0]
    n, go = lay[k0, N_OUT], lay[k0, G_OFF]
    so, ro = K * cap + lay[k0, C_OFF], lay[k0, R_OFF]
    o = cap * lay[k0, C_OFF] + r0 * n
    sl = _bn_slot(lay, k0)
    W, inv = _parts_weight(lay, stat, cap, sl, parts)
    count = W * 2.0 ** ctl[WEXP] if weighted else W
    u0, u1 = _share(n, part, parts)
    update = ctl[UPDATE]
    for j in range(n):
        mu, var = _parts_means(lay, stat, cap, sl, j, parts, inv)
        rstd = 1.0 / np.sqrt(var + NORM_EPS)
        if u0 <= j < u1:
            stat[_u(so + j)] = rstd
            _move_running(run, ro, n, j, mu, var, count, update)
        for i in range(nr):
            _affine(theta, zbuf, gbuf, abuf, o + i * n + j, go, n, j, mu, rstd)


@jit
def _bn_backward_rows(theta, lay, k0, pbuf, zbuf, gbuf, stat, sw, swo, r0, nr, parts):
    """φ^[k] of rows r0..r0+nr of a batch norm layer, from the parts' sums of h and h ⊙ x̂ (and
    of w), combined in part order (``_finish_backward``)."""
    if not WITH_BATCH_NORM:  # (a variant without it: compiled empty)
        return
    cap = _cap(pbuf, lay)
    K = lay.shape[0]
    n, go = lay[k0, N_OUT], lay[k0, G_OFF]
    so = K * cap + lay[k0, C_OFF]
    o = cap * lay[k0, C_OFF] + r0 * n
    sl = 4 + _bn_slot(lay, k0)
    _, inv = _parts_weight(lay, stat, cap, sl, parts)
    for j in range(n):
        A, C = _parts_means(lay, stat, cap, sl, j, parts, inv)
        for i in range(nr):
            io, w = o + i * n + j, _weight(sw, swo, i)
            h = np.float64(theta[_u(go + j)] * gbuf[_u(io)])
            pbuf[_u(io)] = (h - w * A - w * zbuf[_u(io)] * C) * stat[_u(so + j)]


@jit
def _finish_forward(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw, swo, pos0,
                    r0, B, c0, c1, part, parts):
    """Rows r0..r0+B, columns c0..c1 of an extended layer k from z̄^[k] in zbuf: norm, ψ,
    dropout (training), skip; x̄^[k] into abuf. pos0: the epoch position of the block's row 0.
    part ≥ 0: the parts made the norm's sums (layer norm: column parts; batch norm: row parts);
    the serial kernels pass None, and Numba prunes the parts' code (``if part is not None``).
    After batch norm's statistics, rows go through every step a few at a time (``CHUNK``), so
    that each step finds them in the L1 cache."""
    if zbuf is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return
    cap = _cap(abuf, lay)
    n, norm = lay[k0, N_OUT], lay[k0, NORM]
    bn_rows = False
    if part is not None:
        bn_rows = norm == BATCH_NORM and part >= 0 and ctl[TRAINING] != 0
        if WITH_BATCH_NORM and bn_rows:
            _bn_forward_rows(theta, run, lay, k0, abuf, zbuf, gbuf, stat, cap, r0, B, part, parts, ctl, sw.size > 0)
    if WITH_BATCH_NORM and norm == BATCH_NORM and not bn_rows:
        _norm_forward(theta, run, lay, k0, abuf, zbuf, gbuf, stat, cap, sw, swo, r0, B, c0, c1, ctl, _i(STATS))
    step = max(1, CHUNK // max(c1 - c0, 1))
    for a in range(0, B, step):
        rows = min(step, B - a)
        if part is not None and WITH_LAYER_NORM and norm == LAYER_NORM and part >= 0:
            _ln_forward_cols(theta, lay, k0, abuf, zbuf, gbuf, stat, cap, B, a, a + rows, c0, c1, part, parts)
        elif WITH_LAYER_NORM and norm == LAYER_NORM:
            _norm_forward(theta, run, lay, k0, abuf, zbuf, gbuf, stat, cap, sw, swo, r0 + a, rows, c0, c1, ctl,
                          _i(AFFINE))
        elif WITH_BATCH_NORM and norm == BATCH_NORM and not bn_rows:
            _norm_forward(theta, run, lay, k0, abuf, zbuf, gbuf, stat, cap, sw, swo, r0 + a, rows, c0, c1, ctl,
                          _i(AFFINE))
        elif norm == 0 and lay[k0, KEEP_A] == 0:
            o = cap * lay[k0, C_OFF] + (r0 + a) * n
            for i in range(rows):
                for j in range(c0, c1):
                    abuf[_u(o + i * n + j)] = zbuf[_u(o + i * n + j)]
        _forward_tail(lay, k0, rates, ctl, src, _u(so) + _u(a * n), abuf, zbuf, gbuf, pos0, r0 + a, rows, c0, c1)


@jit(inline=True)
def _forward_tail(lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, pos0, r0, B, c0, c1):
    """ψ, dropout (training) and the skip on rows r0..r0+B, columns c0..c1 of abuf's block k
    (so: row r0 of src). A KEEP_A layer arrives with a = ψ(z̄) in abuf: it is kept in zbuf,
    and dropout's multipliers m/(1 − p) in gbuf (which a layer without norm does not use)."""
    keep_a = lay[k0, KEEP_A] != 0
    if not keep_a:
        _act_block(lay, k0, abuf, r0, B, c0, c1)
    drop = lay[k0, DROP] != 0 and ctl[TRAINING] != 0
    res = lay[k0, RES] != 0
    if not (drop or res or keep_a):
        return
    n = _u(lay[k0, N_OUT])
    o = _u(_cap(abuf, lay) * lay[k0, C_OFF]) + _u(r0) * n
    so, c0, c1 = _u(so), _u(c0), _u(c1)
    p = rates[k0]
    scale = abuf.dtype.type(1.0 / (1.0 - p))
    zero = abuf.dtype.type(0)
    for i in range(_u(B)):
        io, si = o + i * n, so + i * n
        if keep_a:
            for j in range(c0, c1):
                zbuf[io + j] = abuf[io + j]
        if WITH_DROPOUT and drop:
            key = _row_key(ctl, ctl[ROW0] + pos0 + r0 + np.int64(i), k0)
            for j in range(c0, c1):
                m = scale if _keep(key, j, p) else zero
                if keep_a:
                    gbuf[io + j] = m
                d = abuf[io + j] * m
                abuf[io + j] = d + src[si + j] if res else d
        elif WITH_SKIP and res:
            for j in range(c0, c1):
                abuf[io + j] += src[si + j]


@jit
def _finish_backward(theta, lay, k0, rates, ctl, pbuf, zbuf, gbuf, stat, sw, swo, pos0, r0, B, c0, c1,
                     part, parts):
    """φ^[k] of rows r0..r0+B, columns c0..c1 of an extended layer k from δ = ∂L/∂x̄^[k] in
    pbuf (DESIGN.md, "Inside a hidden layer"): a skip first passes δ on to φ^[k-1]'s block,
    where layer k's (W^[k])ᵀφ^[k] is then added; dropout masks δ and scales it by 1/(1 − p);
    g = δ ⊙ ψ'(ẑ) (kept in gbuf for ∂L/∂γ, ∂L/∂β when there is norm); through the norm, with
    h = γ ⊙ g, φ = (h − mean(h) − x̂ ⊙ mean(h ⊙ x̂)) / σ, the means over the row's units (layer
    norm) or, weighted, over the batch (batch norm in training; in evaluation φ = h / σ)."""
    if zbuf is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return
    cap = _cap(pbuf, lay)
    n = lay[k0, N_OUT]
    o = cap * lay[k0, C_OFF] + r0 * n
    drop = lay[k0, DROP] != 0 and ctl[TRAINING] != 0
    skip = lay[k0, RES] != 0 and k0 > 0
    p = rates[k0]
    scale = pbuf.dtype.type(1.0 / (1.0 - p))
    zero = pbuf.dtype.type(0)
    q = cap * lay[k0 - 1, C_OFF] + r0 * n if k0 > 0 else 0  # φ^[k-1]'s block (n_{k-1} = n_k)
    norm, go = lay[k0, NORM], lay[k0, G_OFF]
    ln_rows = norm == LAYER_NORM and (part is None or part < 0)  # (None: Numba prunes the parts' code)
    keep_a = lay[k0, KEEP_A] != 0
    for i in range(B):  # row by row, each step on a row in the L1 cache
        io = o + i * n
        if WITH_SKIP and skip:
            for j in range(c0, c1):
                pbuf[_u(q + i * n + j)] = pbuf[_u(io + j)]
        if WITH_DROPOUT and drop and keep_a:  # the multipliers the forward pass kept
            for j in range(c0, c1):
                pbuf[_u(io + j)] *= gbuf[_u(io + j)]
        elif WITH_DROPOUT and drop:
            key = _row_key(ctl, ctl[ROW0] + pos0 + r0 + i, k0)
            for j in range(c0, c1):
                pbuf[_u(io + j)] = pbuf[_u(io + j)] * scale if _keep(key, j, p) else zero
        if keep_a:  # φ = δ ⊙ ψ'(z̄), ψ' written in a = ψ(z̄)
            _mul_dpsi(pbuf, zbuf, _u(io + c0), _u(c1 - c0), lay[k0, ACT])
        elif norm == 0:  # φ = δ ⊙ ψ'(z̄)
            _mul_dpsi_z(pbuf, pbuf, zbuf, _u(io + c0), _u(c1 - c0), lay[k0, ACT])
        else:  # g = δ ⊙ ψ'(ẑ), into gbuf over ẑ
            _mul_dpsi_z(gbuf, pbuf, gbuf, _u(io + c0), _u(c1 - c0), lay[k0, ACT])
        if WITH_LAYER_NORM and ln_rows:  # layer norm of a whole row
            mh = mhx = 0.0
            for j in range(n):
                h = np.float64(theta[_u(go + j)] * gbuf[_u(io + j)])
                mh += h
                mhx += h * zbuf[_u(io + j)]
            mh /= n
            mhx /= n
            rstd = stat[_u(k0 * cap + r0 + i)]
            for j in range(n):
                h = np.float64(theta[_u(go + j)] * gbuf[_u(io + j)])
                pbuf[_u(io + j)] = (h - mh - zbuf[_u(io + j)] * mhx) * rstd
    if norm == 0 or ln_rows:
        return
    if not WITH_BATCH_NORM and not WITH_LAYER_NORM:
        return
    # this part's sums of h and h ⊙ x̂ over units c0..c1
    if part is not None and WITH_LAYER_NORM and norm == LAYER_NORM and part >= 0:
        d0, d1 = _partial(lay, cap, part, 4), _partial(lay, cap, part, 5)
        for i in range(B):
            io = o + i * n
            sh = shx = 0.0
            for j in range(c0, c1):
                h = np.float64(theta[_u(go + j)] * gbuf[_u(io + j)])
                sh += h
                shx += h * zbuf[_u(io + j)]
            stat[_u(d0 + i)], stat[_u(d1 + i)] = sh, shx
        return  # φ once every part's sums are in (``_ln_backward_cols``)
    if not WITH_BATCH_NORM:
        return
    if part is not None and norm == BATCH_NORM and part >= 0 and ctl[TRAINING] != 0:  # this part's rows' sums per unit
        width, sl = _stat_width(lay), 4 + _bn_slot(lay, k0)
        d0, d1 = _partial(lay, cap, part, sl), _partial(lay, cap, part, sl + 1)
        for j in range(n):
            stat[_u(d0 + j)] = stat[_u(d1 + j)] = 0.0
        sw_part = 0.0
        for i in range(B):
            io = o + i * n
            sw_part += _weight(sw, swo, i)
            for j in range(n):
                h = np.float64(theta[_u(go + j)] * gbuf[_u(io + j)])
                stat[_u(d0 + j)] += h
                stat[_u(d1 + j)] += h * zbuf[_u(io + j)]
        stat[_u(d0 + width)] = sw_part
        return  # φ once every part's sums are in (``_bn_backward_rows``)
    K, width = lay.shape[0], _stat_width(lay)
    so = K * cap + lay[k0, C_OFF]
    mo = so + width
    if ctl[TRAINING] == 0:
        for i in range(B):
            io = o + i * n
            for j in range(c0, c1):
                pbuf[_u(io + j)] = theta[_u(go + j)] * gbuf[_u(io + j)] * stat[_u(so + j)]
        return
    _, inv = _rows_weight(sw, swo, B)
    _zero_sums(stat, mo, width, c0, c1)
    for i in range(B):
        io = o + i * n
        for j in range(c0, c1):
            h = np.float64(theta[_u(go + j)] * gbuf[_u(io + j)])
            stat[_u(mo + j)] += h
            stat[_u(mo + width + j)] += h * zbuf[_u(io + j)]
    for i in range(B):
        io, w = o + i * n, _weight(sw, swo, i) * inv
        for j in range(c0, c1):
            h = np.float64(theta[_u(go + j)] * gbuf[_u(io + j)])
            xh = zbuf[_u(io + j)]
            pbuf[_u(io + j)] = (h - w * stat[_u(mo + j)] - w * xh * stat[_u(mo + width + j)]) * stat[_u(so + j)]


@jit
def _ln_backward_cols(theta, lay, k0, pbuf, zbuf, gbuf, stat, B, c0, c1, parts):
    """φ^[k] of units c0..c1 of every row of a layer norm layer, from the parts' sums of h and
    h ⊙ x̂ (``_finish_backward``), combined in part order."""
    if not WITH_LAYER_NORM:  # (a variant without it: compiled empty)
        return
    if zbuf is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return
    cap = _cap(pbuf, lay)
    n, go = lay[k0, N_OUT], lay[k0, G_OFF]
    o = cap * lay[k0, C_OFF]
    for i in range(B):
        mh = mhx = 0.0
        for q in range(parts):
            mh += stat[_u(_partial(lay, cap, q, 4) + i)]
            mhx += stat[_u(_partial(lay, cap, q, 5) + i)]
        mh /= n
        mhx /= n
        rstd = stat[_u(k0 * cap + i)]
        io = o + i * n
        for j in range(c0, c1):
            h = np.float64(theta[_u(go + j)] * gbuf[_u(io + j)])
            pbuf[_u(io + j)] = (h - mh - zbuf[_u(io + j)] * mhx) * rstd


@jit
def _norm_grad_cols(dst, lay, k0, zbuf, gbuf, pbuf, c0, c1, step, overwrite, B):
    """Units c0..c1 of γ^[k], β^[k] in dst −= step · Σ_batch (g ⊙ x̂, g), g = ∂L/∂ẑ^[k]."""
    if zbuf is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return
    cap = _cap(pbuf, lay)
    n, go = lay[k0, N_OUT], lay[k0, G_OFF]
    o = cap * lay[k0, C_OFF]
    if overwrite:
        for j in range(c0, c1):
            dst[_u(go + j)] = 0
            dst[_u(go + n + j)] = 0
    for i in range(B):
        io = o + i * n
        for j in range(c0, c1):
            c = step * gbuf[_u(io + j)]
            dst[_u(go + j)] -= c * zbuf[_u(io + j)]
            dst[_u(go + n + j)] -= c


@jit(inline=True)
def _forward_block(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw, swo, pos0, r0, B, c0, c1,
                   kernel_path):
    """Rows r0..r0+B, columns c0..c1 of x̄^[k]: the seed's layer (the call it always was), or
    with the extended steps."""
    swo, pos0, r0, B, c0, c1 = _i(swo), _i(pos0), _i(r0), _i(B), _i(c0), _i(c1)
    if not WITH_EXTENDED or lay[k0, EXT] == 0:
        _layer_forward_block(theta, lay, k0, src, so, abuf, r0, B, c0, c1, kernel_path)
    else:
        _extended_forward_block(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw, swo, pos0, r0,
                                B, c0, c1, kernel_path)


@jit
def _extended_forward_block(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw, swo, pos0, r0, B,
                            c0, c1, kernel_path):
    """``_forward_block`` of an extended layer: z̄^[k] (or a = ψ(z̄) for KEEP_A), then the steps."""
    if zbuf is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return
    if lay[k0, KEEP_A] != 0:  # a = ψ(z̄) as the seed's layer computes it; the tail keeps it
        _layer_forward_block(theta, lay, k0, src, so, abuf, r0, B, c0, c1, kernel_path)
    else:
        _layer_linear(theta, lay, k0, src, so, zbuf, r0, B, c0, c1, kernel_path)
    _finish_forward(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw, swo, pos0,
                    r0, B, c0, c1, None, _i(1))


@jit(inline=True)
def _backward_block(theta, lay, k0, rates, ctl, abuf, pbuf, zbuf, gbuf, stat, sw, swo, pos0, r0, B, m0, m1, kernel_path,
                    part, parts):
    """Rows r0..r0+B, columns m0..m1 of φ^[k-1] from φ^[k] (k = k0 + 1 ≥ 2); part ≥ 0: column
    part ``part`` of ``parts`` of a layer norm layer k − 1, whose φ ``_ln_backward_cols`` ends;
    part: None from the serial kernels, or an int64 (−1 for none) from a team's."""
    # (the buffers taken one by one where used: each name bound to a tuple's array costs a
    # reference count, which a one-row step of a small net feels)
    _layer_dx_block(theta, lay, _i(k0), abuf, pbuf, _i(r0), _i(B), _i(m0), _i(m1), _kp(kernel_path))
    if WITH_EXTENDED and lay[k0 - 1, EXT] != 0:
        _finish_backward(theta, lay, k0 - 1, rates, ctl, pbuf, zbuf, gbuf, stat, sw,
                         _i(swo), _i(pos0), _i(r0), _i(B), _i(m0), _i(m1), part, _i(parts))


# -------------------------------------------------------------------------- sample weights
@jit(inline=True)
def _batch_scale(sw, swo, B):
    """B / Σ_batch w for the batch whose weights start at sw[swo] (0 when they sum to 0), so
    that the kernels' Σ φ / B becomes the weighted mean Σ w φ / Σ w."""
    if sw.size == 0:
        return 1.0
    s = 0.0
    for r in range(B):
        s += sw[swo + r]
    return B / s if s > 0 else 0.0


@jit  # not inlined: one compiled copy for every entry point (see _layer_dx_block)
def _output_rows(loss, act, abuf, pbuf, o, y, yo, rows, nK, sw, swo, scale):
    """φ^[K] and Σ L of ``rows`` whole output rows from offsets o (x̄, φ) and yo (y).

    With sample weights (sw non-empty) row r's φ^[K] and L are scaled by sw[swo + r] · scale.
    """
    if sw.size == 0:
        return output_delta(loss[0], loss[1], act, abuf, pbuf, o, y, yo, rows, nK)
    total = 0.0
    for r in range(rows):
        s = sw[swo + r] * scale
        total += s * output_delta(loss[0], loss[1], act, abuf, pbuf, o + _u(r * nK), y, yo + _u(r * nK), _u(1), nK)
        for j in range(nK):
            pbuf[o + _u(r * nK + j)] *= s
    return total


# -------------------------------------------------------------------------- one batch, serial
# Both inlined into their callers (the epoch, predict, evaluate): a call with these bundles
# costs a small net's batch a few tenths of a µs in reference counts alone.
@jit(inline=True)
def _forward(shape, theta, run, x0, x0o, scratch, B, ctl, sw, swo, pos0):
    """x̄^[k] for k = 1..K from B rows of the flat input x0, starting at offset x0o (weights
    sw[swo:swo+B] for batch norm; pos0: the epoch position of row 0, for dropout).

    For a loss with a link (softmax, sigmoid) x̄^[K] is still z̄^[K]: ``output_delta`` or
    ``output_link`` finishes it on whole rows.
    """
    lay, _, kernel_path, rates = shape
    abuf, zbuf, gbuf, stat = scratch[0], scratch[4], scratch[5], scratch[6]
    for k0 in range(lay.shape[0]):
        src, so = _layer_input(lay, k0, x0, x0o, abuf)
        _forward_block(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw, swo, pos0, 0, B, 0,
                       lay[k0, N_OUT], kernel_path)


@jit(inline=True)
def _backward(shape, step, x0, x0o, y, yo, sw, swo, scratch, B, train, c, ctl, pos0):
    """The seed's backpropagation rules on a batch of B rows; returns Σ_samples L.

    φ^[K] = ∂L/∂z̄^[K] (``output_delta``);  φ^[k] = (W^[k+1])ᵀ φ^[k+1] ⊙ ψ^[k]'(z̄^[k]);
    ∂L/∂W^[k] = φ^[k] (x̄^[k-1])ᵀ, ∂L/∂b̄^[k] = φ^[k].
    ``train``: each layer takes the optimizer's step as soon as φ^[k-1] has been formed from
    its old W^[k]. Otherwise grad receives Σ_batch ∂L/∂θ and θ is untouched.
    Sample weights sw[swo:swo+B] (sw empty: none) turn every Σ_batch into B · Σ w (·) / Σ w.
    """
    lay, loss, kernel_path, rates = shape
    theta, grad, state, opt, h = step[0], step[1], step[2], step[3], step[4]
    abuf, pbuf, zbuf, gbuf, stat = scratch[0], scratch[1], scratch[4], scratch[5], scratch[6]
    K, cap = lay.shape[0], _cap(abuf, lay)
    o, nK = _u(cap * lay[K - 1, C_OFF]), _u(lay[K - 1, N_OUT])
    total = _output_rows(loss, lay[K - 1, ACT], abuf, pbuf, o, y, _u(yo), _u(B), nK, sw, _i(swo),
                         _batch_scale(sw, swo, B))
    for k0 in range(K - 1, -1, -1):
        if k0 > 0:
            _backward_block(theta, lay, k0, rates, ctl, abuf, pbuf, zbuf, gbuf, stat, sw, swo, pos0, 0, B, 0,
                            lay[k0, N_IN], kernel_path, None, 1)
        src, so = _layer_input(lay, k0, x0, x0o, abuf)
        _layer_update(theta, grad, state, lay, _i(k0), src, _u(so), pbuf, zbuf, gbuf, _i(0), _i(lay[k0, N_OUT]), _i(B),
                      _i(opt), h, c, _kp(kernel_path), np.bool_(train))
    return total


# ------------------------------------------------------------------------ whole runs
# A run of batches is the rows perm[0:N] (shuffle) or X[0:N] (in order): fit passes a slice of
# perm, or of X and Y, to run part of an epoch and return to Python (Ctrl-C) in between.
@jit(inline=True)
def _param_range(lay, k0, i):
    """Range i of layer k0 + 1's parameters in θ: 0 W^[k] (with weight decay), 1 b̄^[k], 2 γ^[k],
    3 β^[k]; (lo, hi, decays), empty (0, 0) for γ, β without norm."""
    n_out, n_in = _u(lay[k0, N_OUT]), _u(lay[k0, N_IN])
    if i == 0:
        return _u(lay[k0, W_OFF]), _u(lay[k0, W_OFF]) + n_out * n_in, True
    if i == 1:
        return _u(lay[k0, B_OFF]), _u(lay[k0, B_OFF]) + n_out, False
    if lay[k0, NORM] == 0:
        return _u(0), _u(0), False
    lo = _u(lay[k0, G_OFF]) + (n_out if i == 3 else _u(0))
    return lo, lo + n_out, False


@jit
def _clipped_step(theta, grad, state, lay, B, opt, h, c):
    """The optimizer's step on all of θ from grad = Σ_batch ∂L/∂θ, the batch's mean gradient
    g = grad / B first clipped to the global norm h[CLIP_NORM]: g ← g · min(1, clip / (‖g‖₂ +
    1e-6)), as torch.nn.utils.clip_grad_norm_. The norm needs every layer's gradient, so the
    batch's backward pass took no step (``train`` off)."""
    T = theta.dtype.type
    ss = 0.0
    for k0 in range(lay.shape[0]):
        for i in range(4):
            lo, hi, _ = _param_range(lay, k0, i)
            for j in range(lo, hi):
                ss += float(grad[j]) * float(grad[j])
    coef = h[CLIP_NORM] / (math.sqrt(ss) / B + 1e-6)
    scale = T(min(1.0, coef) / B)
    for k0 in range(lay.shape[0]):
        for i in range(4):
            lo, hi, decays = _param_range(lay, k0, i)
            for j in range(lo, hi):
                grad[j] *= scale
            if hi > lo:
                opt_step(opt, theta, grad, state, lo, hi, T(h[WEIGHT_DECAY]) if decays else T(0), c)


@jit(inline=True)
def _fresh_all_w(kernel_path, theta, lay):
    """bf16: every W^[k] cast for the next products after a step on all of θ (no-op in float32)."""
    for k0 in range(lay.shape[0]):
        _fresh_w(kernel_path, theta, lay[k0, W_OFF], lay[k0, N_IN] * lay[k0, N_OUT])


@jit(inline=True)
def _rows_in_order(X, perm, shuffle):
    return perm.shape[0] if shuffle else X.shape[0]


@jit
def _epoch(shape, step, rows, scratch, batch, total, clip):
    """One epoch (or a run of its batches) of minibatch training; returns ``total`` plus the
    Σ_samples L seen (a run continues the sum of the runs before it, so runs add up exactly as
    one call would).

    Each batch's loss is taken before its update; the last partial batch is used. With
    ``shuffle`` the rows perm[start:stop] are gathered into xb/yb, else X/Y are read in place.
    Batch b (0-based) is the optimizer's step t0 + b + 1. sw: the sample weights in the
    epoch's order (sw[start + r] weighs the batch's row r), or empty. ``clip``: None, or True
    for clip_norm (h[CLIP_NORM]), whose step waits for every layer's gradient; Numba prunes the
    ``clip is not None`` branches of a fit without it, which never compiles ``_clipped_step``.
    """
    X, Y, sw, perm, shuffle, ctl = rows
    xb, yb = scratch[2], scratch[3]
    N, n0, nK = _rows_in_order(X, perm, shuffle), X.shape[1], Y.shape[1]
    Xf, Yf = X.reshape(-1), Y.reshape(-1)
    theta, grad, state, opt, h, t, run = step
    for start in range(0, N, batch):
        B = min(batch, N - start)
        t += 1
        if shuffle:
            _gather_rows(perm, start, 0, B, Xf, Yf, xb, yb, n0, nK)
            x0, x0o, y0, yo = xb, 0, yb, 0
        else:
            x0, x0o, y0, yo = Xf, start * n0, Yf, start * nK
        c = _constants(opt, h, t)
        _forward(shape, theta, run, x0, x0o, scratch, B, ctl, sw, start, start)
        total += _backward(shape, step, x0, x0o, y0, yo, sw, start, scratch, B, np.bool_(clip is None), c, ctl, start)
        if clip is not None:
            _clipped_step(theta, grad, state, shape[0], B, opt, h, c)
            _fresh_all_w(shape[2], theta, shape[0])
    return total


# ------------------------------------------------------------ one epoch on several threads
# Data parallel within each batch. Each batch is two phases of independent items (``_sync``):
#   rows:    item p = part p of the batch's rows: gather, forward pass, φ^[K], then
#            φ^[k-1] = (W^[k])ᵀφ^[k] ⊙ ψ' down to φ^[1] (rows are independent throughout);
#   columns: item (k, p) = part p of W^[k]'s rows n_k: the optimizer's step on them (and on
#            their gradient and state: the step is elementwise), which sums over every row of
#            the batch, so it waits for the rows phase, which also means nobody reads the old
#            W^[k] any more.
# The next batch's rows wait for every step. Any thread may run any item, but an item always
# covers the same rows or columns with the same shapes, so results do not depend on timing.
# BLAS runs single-threaded inside each thread (Network sets that).
@jit(inline=True)
def _update_part(theta, grad, state, lay, k0, p, parts, x0, x0o, abuf, pbuf, zbuf, gbuf, B, opt, h, c, kernel_path):
    """The optimizer's step on part p of ``parts`` of W^[k]'s rows (and b̄^[k], γ^[k], β^[k])."""
    src, so = _layer_input(lay, k0, x0, x0o, abuf)
    c0, c1 = _share(lay[k0, N_OUT], p, parts)
    _layer_update(theta, grad, state, lay, _i(k0), src, _u(so), pbuf, zbuf, gbuf, _i(c0), _i(c1), _i(B), _i(opt), h, c,
                  _kp(kernel_path), np.bool_(True))


@jit(inline=True)
def _output_part(lay, loss, abuf, pbuf, y0, yo, r0, r1, sw, start, B):
    """φ^[K] and Σ L of whole output rows r0..r1 (softmax needs a whole row)."""
    K = lay.shape[0]
    nK = lay[K - 1, N_OUT]
    o = _cap(abuf, lay) * lay[K - 1, C_OFF] + r0 * nK
    return _output_rows(loss, lay[K - 1, ACT], abuf, pbuf, _u(o), y0, _u(yo + r0 * nK),
                        _u(r1 - r0), _u(nK), sw, _i(start + r0), _batch_scale(sw, start, B))


@jit(inline=True)
def _bn_layer(lay, i):
    """The 0-based index of the i-th batch norm layer (K when there are fewer; −1 for i < 0)."""
    if i < 0:
        return -1
    c = 0
    for k0 in range(lay.shape[0]):
        if lay[k0, NORM] == BATCH_NORM:
            if c == i:
                return k0
            c += 1
    return lay.shape[0]


@jit(inline=True)
def _n_batch_norms(lay):
    c = 0
    for k0 in range(lay.shape[0]):
        c += lay[k0, NORM] == BATCH_NORM
    return c


@jit
def _rows_stage(shape, theta, run, ctl, scratch, zbuf, sw, x0, x0o, y0, yo, start, B, r0, r1, p, parts, s, m):
    """Stage s of the rows phases of a batch whose m batch norm layers b_1 < ... < b_m make the
    row parts meet (``_epoch_share``), for row part p (rows r0..r1); returns its Σ L (stage 2m).
      s = 2i < 2m:   finish b_i's rows (i > 0), forward to b_{i+1}, its z̄ and the part's Σ w z;
      s = 2i + 1:    the part's Σ w (z − μ)² of b_{i+1};
      s = 2m:        finish b_m's rows, forward to the output, φ^[K], backward down to b_m,
                     whose sums of h and h ⊙ x̂ the part makes;
      s = 2m + t:    φ of b_{m-t+1}'s rows, backward down to b_{m-t} (or to φ^[1])."""
    if zbuf is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return 0.0
    lay, loss, kernel_path, rates = shape
    abuf, pbuf, gbuf, stat = scratch[0], scratch[1], scratch[5], scratch[6]
    K, nr, cap = lay.shape[0], r1 - r0, _cap(abuf, lay)
    total = 0.0
    if s <= 2 * m:
        i = s // 2
        b, prev = _bn_layer(lay, i), _bn_layer(lay, i - 1)
        if s % 2 == 1:
            _bn_partial_forward(lay, b, zbuf, stat, cap, sw, start + r0, r0, nr, p, parts, _i(1))
            return total
        for k0 in range(max(prev, 0), b if s < 2 * m else K):
            src, so = _layer_input(lay, k0, x0, x0o, abuf)
            so += _u(r0 * lay[k0, N_IN])
            if k0 == prev:  # its z̄ and sums are in: normalize, ψ, dropout, skip
                _finish_forward(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw,
                                start + r0, start, r0, nr, _i(0), lay[k0, N_OUT], p, parts)
            else:
                _forward_block(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw, start + r0, start,
                               r0, nr, 0, lay[k0, N_OUT], kernel_path)
        if s < 2 * m:
            src, so = _layer_input(lay, b, x0, x0o, abuf)
            if nr > 0:
                _layer_linear(theta, lay, b, src, so + _u(r0 * lay[b, N_IN]), zbuf, r0, nr, _i(0),
                                    lay[b, N_OUT], kernel_path)
            _bn_partial_forward(lay, b, zbuf, stat, cap, sw, start + r0, r0, nr, p, parts, _i(0))
            return total
        if nr > 0:
            total = _output_part(lay, loss, abuf, pbuf, y0, yo, r0, r1, sw, start, B)
        top, stop = K - 1, _bn_layer(lay, m - 1) + 1 if m > 0 else 1
    else:
        b = _bn_layer(lay, 2 * m - s + m)  # s = 2m + t: b_{m-t+1}, 0-based m − t
        _bn_backward_rows(theta, lay, b, pbuf, zbuf, gbuf, stat, sw, start + r0, r0, nr, parts)
        top, stop = b, _bn_layer(lay, 3 * m - s - 1) + 1 if 3 * m - s - 1 >= 0 else 1
    for k0 in range(top, max(stop, 1) - 1, -1):  # φ^[k0-1] from φ^[k0], k0 = top .. stop
        if k0 < 1:
            break
        split = k0 == stop and lay[k0 - 1, NORM] == BATCH_NORM
        _backward_block(theta, lay, k0, rates, ctl, abuf, pbuf, zbuf, gbuf, stat, sw, start + r0, start, r0, nr, 0,
                        lay[k0, N_IN], kernel_path, p if split else -1, parts)
    return total


@jit
def _epoch_share(shape, step, rows, scratch, batch, team):
    """One epoch, run by every thread of a team at once; same result as ``_epoch``.

    Each batch is split into ``parts`` row parts and ``parts`` column parts per layer; sync is
    the team's zeroed claim/done counters. losses[p] accumulates Σ L of row part p. Layer norm
    runs within a row part; batch norm needs the whole batch (``_epoch_share_cols``).
    """
    lay, loss, kernel_path, rates = shape
    theta, grad, state, opt, h, t0, run = step
    X, Y, sw, perm, shuffle, ctl = rows
    abuf, pbuf, xb, yb, zbuf, gbuf, stat = scratch
    parts, sync, losses = team
    N, n0, nK = _rows_in_order(X, perm, shuffle), X.shape[1], Y.shape[1]
    Xf, Yf = X.reshape(-1), Y.reshape(-1)
    K = lay.shape[0]
    m = _n_batch_norms(lay)  # batch norm layers make the row parts meet: 3m + 1 rows phases
    end = 0  # items numbered below end belong to this or earlier phases
    for start in range(0, N, batch):
        B = min(batch, N - start)
        if shuffle:
            x0, x0o, y0, yo = xb, 0, yb, 0
        else:
            x0, x0o, y0, yo = Xf, start * n0, Yf, start * nK
        for s in range(3 * m + 1 if m > 0 else 0):  # rows phases that meet at batch norm layers
            end += parts
            while True:
                item = _claim(sync, end)
                if item < 0:
                    break
                p = item - (end - parts)
                r0, r1 = _share(B, p, parts)
                if shuffle and s == 0:
                    _gather_rows(perm, start, r0, r1, Xf, Yf, xb, yb, n0, nK)
                if WITH_BATCH_NORM:  # (m = 0 without: a plain variant compiles no stage)
                    losses[p] += _rows_stage(shape, theta, run, ctl, scratch, scratch[4], sw, x0, x0o, y0, yo, start,
                                             B, r0, r1, p, parts, s, m)
                _done(sync)
            _wait(sync, end)
        end += parts if m == 0 else 0
        while m == 0:  # rows phase
            item = _claim(sync, end)
            if item < 0:
                break
            p = item - (end - parts)
            r0, r1 = _share(B, p, parts)
            nr = r1 - r0
            if shuffle:
                _gather_rows(perm, start, r0, r1, Xf, Yf, xb, yb, n0, nK)
            if nr > 0:
                for k0 in range(K):
                    src, so = _layer_input(lay, k0, x0, x0o, abuf)
                    so += _u(r0 * lay[k0, N_IN])
                    _forward_block(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw, start + r0,
                                   start, r0, nr, 0, lay[k0, N_OUT], kernel_path)
                losses[p] += _output_part(lay, loss, abuf, pbuf, y0, yo, r0, r1, sw, start, B)
                for k0 in range(K - 1, 0, -1):
                    _backward_block(theta, lay, k0, rates, ctl, abuf, pbuf, zbuf, gbuf, stat, sw, start + r0, start,
                                    r0, nr, 0, lay[k0, N_IN], kernel_path, None, 1)
            _done(sync)
        if m == 0:
            _wait(sync, end)
        c = _constants(opt, h, t0 + start // batch + 1)
        end += K * parts
        while True:  # columns phase
            item = _claim(sync, end)
            if item < 0:
                break
            i = item - (end - K * parts)
            _update_part(theta, grad, state, lay, i // parts, i % parts, parts, x0, x0o, abuf, pbuf, zbuf,
                         gbuf, B, opt, h, c, kernel_path)
            _done(sync)
        _wait(sync, end)


# Wide layers split the other way: a row part makes each thread pack all of W^[k] for its GEMMs
# (measured 0.74-0.85 of a full-batch GEMM's speed per thread, scripts/crossover.py), while a
# column part of W^[k] costs each thread only its own columns and a copy of x̄^[k-1]
# (0.96-1.12). Then each layer is a phase of its own:
#   forward k:  item p = columns c0..c1 of x̄^[k];
#   output:     item p = rows r0..r1 of φ^[K] and their loss (whole rows, for softmax);
#   backward:   phase k = columns m0..m1 of φ^[k-1] = (W^[k])ᵀφ^[k] ⊙ ψ', plus the step on
#               W^[k+1] (its last reader ran in the phase before);
#   last:       the steps on W^[1] and W^[2].
@jit
def _epoch_share_cols(shape, step, rows, scratch, batch, team):
    """``_epoch_share`` for wide layers: every product split by columns, one phase per layer.
    Batch norm runs within a column part; layer norm takes two more phases forward and one
    backward, to combine the parts' sums over each row's units."""
    lay, loss, kernel_path, rates = shape
    theta, grad, state, opt, h, t0, run = step
    X, Y, sw, perm, shuffle, ctl = rows
    abuf, pbuf, xb, yb, zbuf, gbuf, stat = scratch
    parts, sync, losses = team
    N, n0, nK = _rows_in_order(X, perm, shuffle), X.shape[1], Y.shape[1]
    Xf, Yf = X.reshape(-1), Y.reshape(-1)
    K = lay.shape[0]
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
        for k0 in range(K):  # forward, one phase per layer (layer norm: three)
            src, so = _layer_input(lay, k0, x0, x0o, abuf)
            split_ln = lay[k0, NORM] == LAYER_NORM
            for step_ in range(3 if split_ln else 1):
                end += parts
                while True:
                    item = _claim(sync, end)
                    if item < 0:
                        break
                    p = item - (end - parts)
                    c0, c1 = _share(lay[k0, N_OUT], p, parts)
                    if not WITH_LAYER_NORM or not split_ln:  # (a variant without: no layer norm phases)
                        if c1 > c0:
                            _forward_block(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw,
                                           start, start, 0, B, c0, c1, kernel_path)
                    elif step_ < 2:  # z̄ and this part's Σ z per row; then its Σ (z − μ)²
                        if step_ == 0 and c1 > c0:
                            _layer_linear(theta, lay, k0, src, so, zbuf, _i(0), B, c0, c1, kernel_path)
                        _ln_partial_forward(lay, k0, zbuf, stat, _cap(abuf, lay), B, c0, c1, p, parts, step_)
                    else:
                        _finish_forward(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, sw,
                                        start, start, _i(0), B, c0, c1, p, parts)
                    _done(sync)
                _wait(sync, end)
        end += parts
        while True:  # φ^[K] by whole rows
            item = _claim(sync, end)
            if item < 0:
                break
            p = item - (end - parts)
            r0, r1 = _share(B, p, parts)
            if r1 > r0:
                losses[p] += _output_part(lay, loss, abuf, pbuf, y0, yo, r0, r1, sw, start, B)
            _done(sync)
        _wait(sync, end)
        c = _constants(opt, h, t0 + start // batch + 1)
        for k0 in range(K - 1, -1, -1):  # φ^[k-1] columns of layer k, and the step on W^[k+1]
            n_dx = parts if k0 > 0 else 0
            split_ln = k0 > 0 and lay[k0 - 1, NORM] == LAYER_NORM
            n_step = parts if k0 + 1 < K else 0
            if k0 == 0:  # the last phase also steps W^[1]
                n_step += parts
            end += n_dx + n_step
            while True:
                item = _claim(sync, end)
                if item < 0:
                    break
                i = item - (end - n_dx - n_step)
                if i < n_dx:
                    m0, m1 = _share(lay[k0, N_IN], i, parts)
                    if m1 > m0 or split_ln:  # (an empty part's layer norm sums are its zeros)
                        _backward_block(theta, lay, k0, rates, ctl, abuf, pbuf, zbuf, gbuf, stat, sw, start, start, 0,
                                        B, m0, m1, kernel_path, i if split_ln else -1, parts)
                else:
                    i -= n_dx
                    kk = k0 + 1 if i < parts and k0 + 1 < K else 0
                    _update_part(theta, grad, state, lay, kk, i % parts, parts, x0, x0o, abuf, pbuf,
                                 zbuf, gbuf, B, opt, h, c, kernel_path)
                _done(sync)
            _wait(sync, end)
            if WITH_LAYER_NORM and split_ln:  # φ^[k-1] of a layer norm layer, from the parts' sums
                end += parts
                while True:
                    item = _claim(sync, end)
                    if item < 0:
                        break
                    m0, m1 = _share(lay[k0, N_IN], item - (end - parts), parts)
                    _ln_backward_cols(theta, lay, k0 - 1, pbuf, zbuf, gbuf, stat, B, m0, m1, parts)
                    _done(sync)
                _wait(sync, end)


# ------------------------------------------------------------------------ inference
@jit(inline=True)
def _predict_rows(shape, theta, run, X, r0, r1, block, scratch, out, ctl):
    """x̄^[K] for rows r0..r1 of X into the same rows of out, in blocks of ``block`` rows (the
    scratch buffers hold at least that many). A row's result may depend on its block (BLAS),
    never on the buffers."""
    lay, loss, _, _ = shape
    abuf = scratch[0]
    cap, K = _cap(abuf, lay), lay.shape[0]
    n0, nK = X.shape[1], lay[K - 1, N_OUT]
    Xf, outf = readonly(X.reshape(-1)), out.reshape(-1)  # (read-only as fit's: the same layer blocks)
    o = cap * lay[K - 1, C_OFF]
    for start in range(r0, r1, block):
        B = min(block, r1 - start)
        _forward(shape, theta, run, Xf, start * n0, scratch, B, ctl, Xf[:0], start, start)
        output_link(loss[0], abuf, _u(o), _u(B), _u(nK))
        for i in range(B * nK):
            outf[start * nK + i] = abuf[o + i]


@jit
def _predict(shape, theta, run, X, scratch, out, block, ctl):
    """x̄^[K] for every row of X, in blocks of ``block`` rows."""
    _predict_rows(shape, theta, run, X, 0, X.shape[0], block, scratch, out, ctl)


@jit
def _predict_share(shape, theta, run, X, scratch, out, chunk, sync, wait, ctl):
    """``_predict`` run by every thread of a team at once: each claims blocks of ``chunk`` rows
    (abuf, its own, holds one) until none is left, and with ``wait`` returns once all are done.
    Rows are independent, so any thread may take any block, and a thread that loses its core
    delays the rest by one block at most."""
    N = X.shape[0]
    items = (N + chunk - 1) // chunk
    while True:
        i = _claim(sync, items)
        if i < 0:
            break
        _predict_rows(shape, theta, run, X, i * chunk, min(N, (i + 1) * chunk), chunk, scratch, out, ctl)
        _done(sync)
    if wait:
        _wait(sync, items)


@jit
def _predict_row_share(shape, theta, run, X, scratch, out, parts, sync, wait, ctl, base=0):
    """x̄^[K] of X's one row by a team of ``parts`` threads sharing one scratch bundle: each
    layer's columns in about 4·parts items that the threads claim, every thread waiting for
    layer k's items before it claims layer k + 1's (x̄^[k] is their input); with ``wait``, the
    caller also finishes the output link and writes out. A column's value is the same dot
    product whichever thread computes it, so the result is ``_predict``'s bit for bit. Plain
    layers only (a norm needs its whole layer at once). Items are numbered from ``base`` (the
    counters of ``sync`` only grow, so a team can serve call after call: ``_predict_row_serve``)."""
    lay, loss = shape[0], shape[1]
    abuf, K = scratch[0], lay.shape[0]
    _layers_shared(shape, theta, run, ctl, scratch, X.reshape(-1), 0, 1, parts, False, sync, base)
    if wait:
        nK = lay[K - 1, N_OUT]
        o = _cap(abuf, lay) * lay[K - 1, C_OFF]
        output_link(loss[0], abuf, _u(o), _u(1), _u(nK))
        for i in range(nK):
            out[0, i] = abuf[o + i]


@jit
def _row_items(lay, parts):
    """How many items ``_predict_row_share`` cuts one row into, all layers together."""
    return _layer_items(lay, parts, False)


@jit(inline=True)
def _item_cols(n, parts, many):
    """Columns per item when a team of ``parts`` shares a layer of n units: on one row about
    four items per thread (at least 8 columns); on a block of rows (``many``) one item per
    thread, a multiple of 16 (a vector register of float32)."""
    if many:
        return max(16, ((n + parts - 1) // parts + 15) // 16 * 16)
    return max(8, (n + 4 * parts - 1) // (4 * parts))


@jit(inline=True)
def _layer_items(lay, parts, many):
    """How many items ``_layers_shared`` cuts the layers into, all together."""
    total = 0
    for k0 in range(lay.shape[0]):
        n = lay[k0, N_OUT]
        cols = _item_cols(n, parts, many)
        total += (n + cols - 1) // cols
    return total


@jit(inline=True)
def _layers_shared(shape, theta, run, ctl, scratch, Xf, xo, B, parts, many, sync, first):
    """x̄^[k] for k = 1..K of B rows (x̄^[0] read from Xf at offset xo) by a team: each layer's
    columns in items numbered from ``first`` (``_item_cols``) that the threads claim, every
    thread waiting for layer k's items before it claims layer k + 1's (x̄^[k] is their input).
    A column's value is the same product whichever thread computes it. Returns the number of
    the next item."""
    lay, _, kernel_path, rates = shape
    abuf, zbuf, gbuf, stat = scratch[0], scratch[4], scratch[5], scratch[6]
    for k0 in range(lay.shape[0]):
        n = lay[k0, N_OUT]
        cols = _item_cols(n, parts, many)
        end = first + (n + cols - 1) // cols
        src, so = _layer_input(lay, k0, Xf, xo, abuf)
        while True:
            i = _claim(sync, end)
            if i < 0:
                break
            c0 = (i - first) * cols
            _forward_block(theta, run, lay, k0, rates, ctl, src, so, abuf, zbuf, gbuf, stat, Xf[:0], 0, 0, 0, B,
                           c0, min(n, c0 + cols), kernel_path)
            _done(sync)
        _wait(sync, end)
        first = end
    return first


@jit
def _predict_row_call(shape, theta, run, X, scratch, out, parts, sync, ctl):
    """A ``Predictor``'s one-row call with its helper team: announces call g (``sync[GEN]``, after
    X is written) and computes its items with whichever helpers poll (``_predict_row_serve``)."""
    g = _announce(sync)
    base = (g - 1) * _row_items(shape[0], parts)
    _predict_row_share(shape, theta, run, X, scratch, out, parts, sync, True, ctl, base)


@jit
def _predict_rows_call(shape, theta, run, X, scratch, out, block, parts, cols, sync, call, ctl):
    """A ``Predictor``'s call of several rows with its helper team, in blocks of ``block``
    rows claimed by the caller and whichever helpers poll (``_predict_row_serve``): with
    ``cols``, every layer's columns of each block shared in the caller's ``scratch``, which the
    helpers share too (``_cols_share``); else whole blocks, the ones ``predict`` cuts (so the
    same bits), each thread in a scratch bundle of its own (``_rows_share``). The call is
    described in slot g % 2 of ``call`` before it is announced on ``sync[GEN]``; its items
    follow the last call's (the counters only grow)."""
    N = X.shape[0]
    items = (N + block - 1) // block * ((_layer_items(shape[0], parts, True) + 1) if cols else 1)
    g = _atomic_load(sync, GEN) + 1
    s = (g % 2) * CALL_SLOT
    base = _atomic_load(sync, CLAIMED)  # (every item of the calls before is claimed and done)
    call[s + CALL_N], call[s + CALL_X], call[s + CALL_OUT] = N, _address(X), _address(out)
    call[s + CALL_BASE], call[s + CALL_ITEMS], call[s + CALL_CHUNK] = base, items, block
    call[s + CALL_COLS] = cols
    _announce(sync)  # (sequentially consistent: the slot is written before)
    if cols:
        _cols_share(shape, theta, run, X, scratch, out, block, parts, sync, ctl, base)
    else:
        _rows_share(shape, theta, run, X, scratch, out, block, sync, ctl, base, items)
        _wait(sync, base + items)


@jit(inline=True)
def _cols_share(shape, theta, run, X, scratch, out, block, parts, sync, ctl, base):
    """A team call of several rows (items from ``base``), by blocks of ``block`` rows: each
    layer's columns of the block in one item per thread (``_layers_shared``: one product of all
    the block's rows each, where a split by rows would have every thread pack all of W^[k]);
    then one item for the output link and the copy into out. The shared scratch bundle holds
    ``block`` rows. Items are fixed column ranges, whichever thread claims one, so the result
    never depends on timing. Plain layers."""
    lay, loss = shape[0], shape[1]
    abuf, K, N, n0 = scratch[0], lay.shape[0], X.shape[0], X.shape[1]
    nK = lay[K - 1, N_OUT]
    o = _cap(abuf, lay) * lay[K - 1, C_OFF]
    Xf, outf = X.reshape(-1), out.reshape(-1)
    first = base  # the number of this step's first item
    for start in range(0, N, block):
        B = min(block, N - start)
        first = _layers_shared(shape, theta, run, ctl, scratch, Xf, start * n0, B, parts, True, sync, first)
        if _claim(sync, first + 1) >= 0:  # the output: x̄^[K] of the block's rows into out
            output_link(loss[0], abuf, _u(o), _u(B), _u(nK))
            for i in range(B * nK):
                outf[start * nK + i] = abuf[o + i]
            _done(sync)
        first += 1
        _wait(sync, first)  # (the next block's products overwrite abuf)


@jit(inline=True)
def _rows_share(shape, theta, run, X, scratch, out, chunk, sync, ctl, base, items):
    """Claim blocks of a team call (items base .. base + items − 1) until none is left."""
    N = X.shape[0]
    while True:
        i = _claim(sync, base + items)
        if i < 0:
            break
        r0 = (i - base) * chunk
        _predict_rows(shape, theta, run, X, r0, min(N, r0 + chunk), chunk, scratch, out, ctl)
        _done(sync)


@jit
def _predict_row_serve(shape, theta, run, X, scratch, out, parts, sync, ctl, polls, own, bsync, call):
    """A ``Predictor``'s helper thread: whenever ``sync[GEN]`` moves on to call g, it joins the
    caller on that call's items (numbered from (g − 1) · items); whenever ``bsync[GEN]`` moves
    on to a call of several rows, it joins that call's items in ``own``: its own scratch
    bundle for whole blocks of rows, or the team's shared one for a call by columns.
    Returns 0 after ``polls`` idle polls (each yields the core), or at once when ``sync[GEN]``
    is negative (the predictor is closed). ``sync[SERVING]`` is 1 while it polls, so a caller
    knows to skip waking it. It publishes the CPU it polls on as ``HELPER_CPU`` in both syncs
    (for ``_sync._announce``)."""
    items = _row_items(shape[0], parts)
    n0, nK = X.shape[1], out.shape[1]
    # (the latest calls count as unseen: a helper woken by a call joins it, however late; a
    # call already finished has no items left to claim)
    seen = _atomic_load(sync, GEN) - 1
    bseen = _atomic_load(bsync, GEN) - 1
    _atomic_add(sync, SERVING, 1)
    idle, last = 0, -1
    while idle < polls:
        g = _atomic_load(sync, GEN)
        if g < 0:
            break
        b = _atomic_load(bsync, GEN)
        cpu = _sched_getcpu()
        if cpu != last:
            sync[HELPER_CPU] = bsync[HELPER_CPU] = last = cpu
        if g != seen:
            seen = g
            _predict_row_share(shape, theta, run, X, scratch, out, parts, sync, False, ctl, (g - 1) * items)
            idle = 0
        elif b != bseen:
            bseen = b
            s = (b % 2) * CALL_SLOT
            N, xa, oa = call[s + CALL_N], call[s + CALL_X], call[s + CALL_OUT]
            base, nb, chunk = call[s + CALL_BASE], call[s + CALL_ITEMS], call[s + CALL_CHUNK]
            # The slot is call b's whole only if no later call was announced meanwhile (slot
            # b % 2 is rewritten for call b + 2 alone); a later call's items are not ours.
            if b > 0 and _atomic_load(bsync, GEN) == b:  # (b = 0: no call yet, the slot is empty)
                Xc = carray(_pointer(xa, X), (N, n0))
                Oc = carray(_pointer(oa, out), (N, nK))
                if call[s + CALL_COLS]:
                    _cols_share(shape, theta, run, Xc, own, Oc, chunk, parts, bsync, ctl, base)
                else:
                    _rows_share(shape, theta, run, Xc, own, Oc, chunk, bsync, ctl, base, nb)
            idle = 0
        else:
            idle += 1
            _sched_yield()
    _atomic_add(sync, SERVING, -1)


@jit
def _evaluate(shape, theta, run, X, Y, sw, scratch, block, ctl):
    """Σ_samples L (or Σ w L, with sample weights sw) over every row of X, Y, in blocks of
    ``block`` rows (the scratch buffers hold at least that many)."""
    lay, loss, _, _ = shape
    abuf, pbuf = scratch[0], scratch[1]
    cap, K = _cap(abuf, lay), lay.shape[0]
    n0, nK = X.shape[1], lay[K - 1, N_OUT]
    Xf, Yf = X.reshape(-1), Y.reshape(-1)
    o = _u(cap * lay[K - 1, C_OFF])
    total = 0.0
    for start in range(0, X.shape[0], block):
        B = min(block, X.shape[0] - start)
        _forward(shape, theta, run, Xf, start * n0, scratch, B, ctl, sw, start, start)
        total += _output_rows(loss, lay[K - 1, ACT], abuf, pbuf, _u(o), Yf, _u(start * nK), _u(B), _u(nK),
                              sw, _i(start), 1.0)
    return total


@jit
def _dropout_mask(ctl, k0, p, out):
    """out[i, j] = 1.0 if unit j of layer k0 + 1 survives dropout at rate p for the sample at
    epoch position ctl[ROW0] + i, else 0.0 (the masks ``_finish_forward`` draws)."""
    for i in range(out.shape[0]):
        key = _row_key(ctl, ctl[ROW0] + i, k0)
        for j in range(out.shape[1]):
            out[i, j] = 1.0 if _keep(key, j, p) else 0.0


# ------------------------------------------------------------ sparse input (a CSR x̄^[0])
# A CSR X (data, indices, indptr) feeds the first layer without ever being densified: for each
# batch its rows' nonzeros are sorted by column (``_csc_batch``: a stable counting sort, so each
# column's rows stay in order), and then
#   z̄^[1] = W^[1] x̄^[0] + b̄^[1]:  z_ij = b_j + Σ_(m, v) in row i  W_jm v   (``_sparse_linear``)
#   ∂L/∂W^[1] = Σ_batch φ^[1] (x̄^[0])ᵀ:  ∂W_jm = Σ_(i, v) in column m  φ_ij v   (``_sparse_grad``)
# both over the nonzeros only. W^[1] is stored row-major (n_1 × n_0), so its column m is
# strided; the loops take SPARSE_UNITS rows of W^[1] at a time and walk the batch's columns in
# increasing m, so that each of those rows is read forwards (a stream the prefetcher follows)
# and each nonzero updates SPARSE_UNITS contiguous entries of z̄^[1] or of the gradient's sums.
# Layers k ≥ 2, the loss, norm and dropout of layer 1 run the dense code on z̄^[1] unchanged.
# The ``sparse`` bundle: (counts, cols, starts, crow, cval, wb) — per column of X a counter
# (n_0 + 1 int64, zero between batches), the batch's distinct columns in increasing order and
# where each one's entries start, the entries' batch rows and values in column order, and
# SPARSE_UNITS entries of scratch. Serial only: a sparse fit runs on one thread.
SPARSE_UNITS = 8
_SU = np.uint64(SPARSE_UNITS)  # (a global: Numba freezes it, so a full block's loops have a constant trip count)


@jit(inline=True)
def _axpy_units(dst, o, v, wb, nj):
    """dst[o + jj] += v · wb[jj] for the block's nj units (a full block with a constant trip
    count, which LLVM can unroll and vectorise)."""
    if nj == _SU:
        for jj in range(_SU):
            dst[o + jj] += v * wb[jj]
    else:
        for jj in range(nj):
            dst[o + jj] += v * wb[jj]


@jit(inline=True)
def _csc_batch(perm, start, B, data, indices, indptr, sparse):
    """Rows perm[start:start+B] (rows start..start+B without a perm) of the CSR X in column
    order into the ``sparse`` bundle; returns the number of distinct columns."""
    counts, cols, starts, crow, cval = sparse[0], sparse[1], sparse[2], sparse[3], sparse[4]
    n0 = counts.size - 1
    for i in range(B):
        r = perm[start + i] if perm.size else start + i
        for p in range(indptr[r], indptr[r + 1]):
            counts[indices[p]] += 1
    nu, pos = 0, 0
    for m in range(n0):  # counts become each column's write position
        n = counts[m]
        if n:
            cols[nu], starts[nu] = m, pos
            nu += 1
            counts[m] = pos
            pos += n
    starts[nu] = pos
    for i in range(B):
        r = perm[start + i] if perm.size else start + i
        for p in range(indptr[r], indptr[r + 1]):
            m = indices[p]
            q = counts[m]
            crow[q], cval[q] = i, data[p]
            counts[m] = q + 1
    for u in range(nu):
        counts[cols[u]] = 0
    return nu


@jit(inline=True)
def _gather_units(acc, v, src, o, nj):
    """acc[jj] += v · src[o + jj] for the block's nj units (a full block with a constant trip
    count, which LLVM can unroll and vectorise)."""
    if nj == _SU:
        for jj in range(_SU):
            acc[jj] += v * src[o + jj]
    else:
        for jj in range(nj):
            acc[jj] += v * src[o + jj]


@jit
def _sparse_linear(theta, lay, dst, B, sparse, nu):
    """z̄^[1] = W^[1] x̄^[0] + b̄^[1] of the batch's B rows (in the ``sparse`` bundle) into layer
    1's block of dst (abuf, or zbuf for an extended layer)."""
    cols, starts, crow, cval, wb = sparse[1], sparse[2], sparse[3], sparse[4], sparse[5]
    n_in, n_out, wo, bo, do = _geom(lay, 0, _cap(dst, lay))
    for i in range(_u(B)):
        for j in range(n_out):
            dst[do + i * n_out + j] = theta[bo + j]
    for j0 in range(_u(0), n_out, _u(SPARSE_UNITS)):
        nj = min(_u(SPARSE_UNITS), n_out - j0)
        for u in range(_u(nu)):
            m = _u(cols[u])
            for jj in range(nj):  # W^[1]_jm for the block's units j
                wb[jj] = theta[wo + (j0 + jj) * n_in + m]
            for p in range(_u(starts[u]), _u(starts[u + 1])):
                _axpy_units(dst, do + _u(crow[p]) * n_out + j0, cval[p], wb, nj)


@jit
def _sparse_grad(dst, lay, pbuf, zbuf, gbuf, step, overwrite, B, sparse, nu):
    """W^[1] and b̄^[1] in dst −= step · Σ_batch (φ^[1] (x̄^[0])ᵀ, φ^[1]) over the nonzeros of
    x̄^[0] only (and γ^[1], β^[1] with norm); with ``overwrite`` dst's W^[1], b̄^[1] are
    replaced instead (``_layer_grad_cols``)."""
    cols, starts, crow, cval, wb = sparse[1], sparse[2], sparse[3], sparse[4], sparse[5]
    n_in, n_out, wo, bo, po = _geom(lay, 0, _cap(pbuf, lay))
    if lay[0, NORM] != 0:
        _norm_grad_cols(dst, lay, _i(0), zbuf, gbuf, pbuf, _i(0), _i(n_out), step, np.bool_(overwrite), _i(B))
    if overwrite:
        for j in range(wo, wo + n_out * n_in):
            dst[j] = 0
        for j in range(bo, bo + n_out):
            dst[j] = 0
    for j0 in range(_u(0), n_out, _u(SPARSE_UNITS)):
        nj = min(_u(SPARSE_UNITS), n_out - j0)
        for u in range(_u(nu)):
            for jj in range(nj):
                wb[jj] = 0
            for p in range(_u(starts[u]), _u(starts[u + 1])):
                _gather_units(wb, cval[p], pbuf, po + _u(crow[p]) * n_out + j0, nj)
            m = _u(cols[u])
            for jj in range(nj):
                dst[wo + (j0 + jj) * n_in + m] -= step * wb[jj]
    for i in range(_u(B)):  # b̄^[1], row by row
        r = po + i * n_out
        for j in range(n_out):
            dst[bo + j] -= step * pbuf[r + j]


@jit
def _sparse_update(theta, grad, state, lay, pbuf, zbuf, gbuf, B, opt, h, c, train, sparse, nu):
    """``_layer_update`` of layer 1 from a sparse x̄^[0]: plain SGD steps the nonzeros' entries
    of W^[1] in θ directly; the other optimizers take their step on all of W^[1] from the mean
    gradient (zero outside the batch's columns), as they do for dense input."""
    T = theta.dtype.type
    fused = train and opt == FUSED
    _sparse_grad(theta if fused else grad, lay, pbuf, zbuf, gbuf,
                 T(h[LR] / B) if fused else T(-1.0 / B) if train else T(-1), np.bool_(not fused), _i(B), sparse,
                 _i(nu))
    if WITH_STEP and train and not fused:
        _layer_step(theta, grad, state, lay, 0, 0, lay[0, N_OUT], opt, h, c)


@jit
def _sparse_first_extended(theta, run, lay, rates, ctl, abuf, zbuf, gbuf, stat, sw, swo, pos0, B, sparse, nu):
    """Layer 1 with norm or dropout from a sparse x̄^[0]: z̄^[1], then the extended steps
    (``_extended_forward_block``; a skip in layer 1 is refused before any kernel runs)."""
    if zbuf is None:  # a net without extended layers: this body is compiled away (see ``scratch``)
        return
    n1 = lay[0, N_OUT]
    if lay[0, KEEP_A] != 0:  # a = ψ(z̄), as the seed's layer computes it; the tail keeps it
        _sparse_linear(theta, lay, abuf, B, sparse, nu)
        _act_block(lay, 0, abuf, 0, B, 0, n1)
    else:
        _sparse_linear(theta, lay, zbuf, B, sparse, nu)
    _finish_forward(theta, run, lay, _i(0), rates, ctl, abuf, _u(0), abuf, zbuf, gbuf, stat, sw, swo, pos0,
                    _i(0), B, _i(0), n1, None, _i(1))


# The entry points share two compiled (not inlined) steps, ``_forward_sparse`` and
# ``_batch_sparse``: each inlined copy of the layers' GEMMs and loops and of every loss and
# optimizer costs compile time, and a call per batch costs nothing next to a sparse batch.
@jit
def _forward_sparse(shape, theta, run, sparse, nu, scratch, B, ctl, sw, swo, pos0):
    """``_forward`` with x̄^[0] the batch's sparse rows (in the ``sparse`` bundle)."""
    lay, kernel_path, rates = shape[0], shape[2], shape[3]
    abuf, zbuf, gbuf, stat = scratch[0], scratch[4], scratch[5], scratch[6]
    if lay[0, EXT] == 0:
        _sparse_linear(theta, lay, abuf, _i(B), sparse, _i(nu))
        _act_block(lay, 0, abuf, 0, B, 0, lay[0, N_OUT])
    else:
        _sparse_first_extended(theta, run, lay, rates, ctl, abuf, zbuf, gbuf, stat, sw, _i(swo), _i(pos0), _i(B),
                               sparse, _i(nu))
    cap = _cap(abuf, lay)
    for k0 in range(1, lay.shape[0]):
        _forward_block(theta, run, lay, k0, rates, ctl, abuf, _u(cap * lay[k0 - 1, C_OFF]), abuf, zbuf, gbuf, stat,
                       sw, swo, pos0, 0, B, 0, lay[k0, N_OUT], kernel_path)


@jit
def _batch_sparse(shape, step, sparse, nu, y, sw, swo, scratch, B, train, c, ctl, pos0):
    """The forward pass, then ``_backward`` with x̄^[0] the batch's sparse rows: layers k ≥ 2 as
    there, layer 1's gradient over the nonzeros (``_sparse_update``); y: the batch's targets,
    flat. Returns Σ_samples L."""
    _forward_sparse(shape, step[0], step[6], sparse, nu, scratch, B, ctl, sw, swo, pos0)
    lay, loss, kernel_path, rates = shape[0], shape[1], shape[2], shape[3]
    theta, grad, state, opt, h = step[0], step[1], step[2], step[3], step[4]
    abuf, pbuf, zbuf, gbuf, stat = scratch[0], scratch[1], scratch[4], scratch[5], scratch[6]
    K, cap = lay.shape[0], _cap(abuf, lay)
    o, nK = _u(cap * lay[K - 1, C_OFF]), _u(lay[K - 1, N_OUT])
    total = _output_rows(loss, lay[K - 1, ACT], abuf, pbuf, o, y, _u(0), _u(B), nK, sw, _i(swo),
                         _batch_scale(sw, swo, B))
    for k0 in range(K - 1, 0, -1):
        _backward_block(theta, lay, k0, rates, ctl, abuf, pbuf, zbuf, gbuf, stat, sw, swo, pos0, 0, B, 0,
                        lay[k0, N_IN], kernel_path, None, 1)
        _layer_update(theta, grad, state, lay, _i(k0), abuf, _u(cap * lay[k0 - 1, C_OFF]), pbuf, zbuf, gbuf, _i(0),
                      _i(lay[k0, N_OUT]), _i(B), _i(opt), h, c, _kp(kernel_path), np.bool_(train))
    _sparse_update(theta, grad, state, lay, pbuf, zbuf, gbuf, _i(B), opt, h, c, np.bool_(train), sparse, _i(nu))
    return total


@jit
def _epoch_sparse(shape, step, rows, scratch, sparse, batch, total, clip):
    """``_epoch`` on a CSR X: rows = (data, indices, indptr, Y, sw, perm, ctl), the run's rows
    being perm (in the epoch's order, or in order without shuffling); each batch's rows are
    sorted by column (``_csc_batch``) and its targets gathered into yb. ``clip``: as ``_epoch``'s."""
    data, indices, indptr, Y, sw, perm, ctl = rows
    yb = scratch[3]
    N, nK = perm.shape[0], Y.shape[1]
    Yf = Y.reshape(-1)
    theta, grad, state, opt, h, t = step[0], step[1], step[2], step[3], step[4], step[5]
    for start in range(0, N, batch):
        B = min(batch, N - start)
        t += 1
        for i in range(B):
            r = perm[start + i]
            for m in range(nK):
                yb[i * nK + m] = Yf[r * nK + m]
        nu = _csc_batch(perm, start, B, data, indices, indptr, sparse)
        c = _constants(opt, h, t)
        total += _batch_sparse(shape, step, sparse, _i(nu), yb, sw, start, scratch, B, np.bool_(clip is None), c, ctl,
                               start)
        if clip is not None:
            _clipped_step(theta, grad, state, shape[0], B, opt, h, c)
            _fresh_all_w(shape[2], theta, shape[0])
    return total


@jit
def _predict_sparse(shape, theta, run, csr, scratch, sparse, out, block, ctl, no_sw):
    """x̄^[K] of every row of a CSR X = (data, indices, indptr), in blocks of ``block`` rows
    (no_sw: empty sample weights, of the type the other kernels take)."""
    data, indices, indptr = csr
    lay, loss = shape[0], shape[1]
    abuf = scratch[0]
    cap, K = _cap(abuf, lay), lay.shape[0]
    nK = lay[K - 1, N_OUT]
    N = indptr.size - 1
    outf = out.reshape(-1)
    o = cap * lay[K - 1, C_OFF]
    no_perm = indptr[:0]
    for start in range(0, N, block):
        B = min(block, N - start)
        nu = _csc_batch(no_perm, start, B, data, indices, indptr, sparse)
        _forward_sparse(shape, theta, run, sparse, _i(nu), scratch, B, ctl, no_sw, start, start)
        output_link(loss[0], abuf, _u(o), _u(B), _u(nK))
        for i in range(B * nK):
            outf[start * nK + i] = abuf[o + i]


@jit
def _evaluate_sparse(shape, theta, run, csr, Y, sw, scratch, sparse, block, ctl):
    """``_evaluate`` on a CSR X = (data, indices, indptr)."""
    data, indices, indptr = csr
    lay, loss = shape[0], shape[1]
    abuf, pbuf = scratch[0], scratch[1]
    cap, K = _cap(abuf, lay), lay.shape[0]
    nK = lay[K - 1, N_OUT]
    N = indptr.size - 1
    Yf = Y.reshape(-1)
    o = _u(cap * lay[K - 1, C_OFF])
    no_perm = indptr[:0]
    total = 0.0
    for start in range(0, N, block):
        B = min(block, N - start)
        nu = _csc_batch(no_perm, start, B, data, indices, indptr, sparse)
        _forward_sparse(shape, theta, run, sparse, _i(nu), scratch, B, ctl, sw, start, start)
        total += _output_rows(loss, lay[K - 1, ACT], abuf, pbuf, _u(o), Yf, _u(start * nK), _u(B), _u(nK),
                              sw, _i(start), 1.0)
    return total


@jit
def _gradient_sparse(shape, step, csr, y, sw, scratch, sparse, ctl):
    """The forward pass and the φ^[k] recurrence on every row of a CSR X at once (one batch;
    y: the targets, flat and writable, as the epoch's gathered rows); Σ_samples ∂L/∂θ into
    step's grad (θ untouched); returns Σ_samples L."""
    data, indices, indptr = csr
    N = indptr.size - 1
    nu = _csc_batch(indptr[:0], 0, N, data, indices, indptr, sparse)
    return _batch_sparse(shape, step, sparse, _i(nu), y, sw, _i(0), scratch, N, np.bool_(False),
                         _constants(step[3], step[4], 1), ctl, _i(0))


_codegen.drop_stale_cache(_epoch)  # before any kernel is loaded from the cache
