"""``Network``: a K-layer fully connected net, x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]).

The class holds the architecture, the parameters θ and their public API, and inference
(predict, loss, gradients, backprop). Training is ``training.fit``, saving and loading
``persist``, export ``export``; every kernel call goes through ``_engine``.
Layers are counted k = 1..K as in the seed; ``weights[k-1]`` is W^[k].
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _engine, _layout, _validate
from . import activations as _act
from . import losses as _losses
from . import training as _training
from ._guard import GuardedTheta
from ._sparse import SparseRows
from .training import DivergedError  # noqa: F401  (fastnn.network.DivergedError, as before)

if TYPE_CHECKING:
    from .callbacks import History
    from .optimizers import Optimizer
    from .predictor import Predictor
    from .preprocess import Preprocess


@dataclass
class Backprop:
    """Every quantity of the seed's derivation, keyed by its 1-based layer number k.

    ``Network.backprop`` returns one. Rows are samples: ``x[k][i]`` is the seed's column x̄^[k]
    for sample i, laid as a row. ``phi[k]`` is per sample (not divided by N); ``dW``/``db`` are
    the gradients of the mean loss.

    Attributes
    ----------
    z : dict of int to numpy.ndarray
        z̄^[k] = W^[k] x̄^[k-1] + b̄^[k] for k = 1..K, shape (N, n_k).
    x : dict of int to numpy.ndarray
        x̄^[k] for k = 0..K, shape (N, n_k): ``x[0]`` is the input, ``x[K]`` what ``predict``
        returns.
    phi : dict of int to numpy.ndarray
        φ^[k] = ∂L/∂z̄^[k] of each sample's loss L, for k = 1..K, shape (N, n_k).
    dW : dict of int to numpy.ndarray
        ∂L/∂W^[k] of the mean loss, shape (n_k, n_{k-1}).
    db : dict of int to numpy.ndarray
        ∂L/∂b̄^[k] of the mean loss, shape (n_k,).
    loss : float
        The mean loss over the N samples.
    xhat : dict of int to numpy.ndarray
        x̂^[k] = (z̄^[k] − μ)/√(σ² + ε), for the hidden layers with norm, shape (N, n_k).
    zhat : dict of int to numpy.ndarray
        ẑ^[k] = γ^[k] ⊙ x̂^[k] + β^[k] (z̄^[k] itself without norm), k = 1..K−1.
    g : dict of int to numpy.ndarray
        ∂L/∂ẑ^[k] per sample, for the hidden layers with norm (φ^[k] is ∂L/∂z̄^[k]).
    mask : dict of int to numpy.ndarray
        Dropout's mask m^[k] (1 kept, 0 dropped), for the layers with dropout, in training mode.
    dgamma, dbeta : dict of int to numpy.ndarray
        ∂L/∂γ^[k] and ∂L/∂β^[k] of the mean loss, for the hidden layers with norm.

    Examples
    --------
    >>> net = Network([2, 4, 1], seed=0)
    >>> bp = net.backprop(np.ones((3, 2)), np.ones((3, 1)))
    >>> sorted(bp.x), sorted(bp.phi)              # x̄^[0..K], φ^[1..K]
    ([0, 1, 2], [1, 2])
    >>> bp.x[1].shape, bp.dW[1].shape             # x̄^[1] for 3 samples, ∂L/∂W^[1]
    ((3, 4), (4, 2))
    """

    z: dict[int, np.ndarray] = field(default_factory=dict)  # z̄^[k], k = 1..K
    x: dict[int, np.ndarray] = field(default_factory=dict)  # x̄^[k], k = 0..K
    phi: dict[int, np.ndarray] = field(default_factory=dict)  # φ^[k], k = 1..K
    dW: dict[int, np.ndarray] = field(default_factory=dict)  # ∂L/∂W^[k]
    db: dict[int, np.ndarray] = field(default_factory=dict)  # ∂L/∂b̄^[k]
    loss: float = 0.0
    xhat: dict[int, np.ndarray] = field(default_factory=dict)  # x̂^[k], layers with norm
    zhat: dict[int, np.ndarray] = field(default_factory=dict)  # ẑ^[k] = γ ⊙ x̂ + β (z̄^[k] without norm)
    g: dict[int, np.ndarray] = field(default_factory=dict)  # ∂L/∂ẑ^[k], layers with norm
    mask: dict[int, np.ndarray] = field(default_factory=dict)  # dropout's m^[k] (0/1), training mode
    dgamma: dict[int, np.ndarray] = field(default_factory=dict)  # ∂L/∂γ^[k]
    dbeta: dict[int, np.ndarray] = field(default_factory=dict)  # ∂L/∂β^[k]


class Network:
    """A fully connected network, x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]) for k = 1..K.

    Parameters
    ----------
    sizes : sequence of int
        Widths n_0 (inputs), n_1, ..., n_K (outputs).
    activations : str, sequence of str or None
        ψ^[1..K] by name from ``fastnn.ACTIVATIONS``: one per layer, one name for every hidden
        layer (the output keeps the loss's default), or None (ReLU inside).
    loss : str or Loss
        One of ``fastnn.LOSSES``: "mse" (the seed's ½‖y − x̄^[K]‖², any output ψ^[K]),
        "cross_entropy" (softmax outputs) or "binary_cross_entropy" (sigmoid outputs), which fix
        ψ^[K] so that ``predict`` returns probabilities; "poisson" (half the Poisson deviance,
        ψ^[K] = exp: predicts a positive mean of counts y ≥ 0); "absolute_error", "huber" and
        "quantile" (robust and quantile regression, any output ψ^[K]). ``fastnn.losses.huber(ε)``
        and ``fastnn.losses.quantile(q)`` set the last two's parameter (default ε = 0.1, q = 0.5).
    norm : {None, "layer", "batch"} or sequence of them
        Normalization of each hidden layer's z̄^[k]: ẑ = γ ⊙ (z̄ − μ)/√(σ² + ε) + β, with μ, σ²
        per sample over the n_k units ("layer", as PyTorch's ``nn.LayerNorm``) or per unit over
        the batch ("batch", as ``nn.BatchNorm1d``: running statistics for inference, momentum
        0.1); ε = 1e-5. One value for every hidden layer, or one per hidden layer.
    dropout : float or sequence of float
        Dropout rate p in [0, 1) of each hidden layer's output, in training only: d = a ⊙ m / (1 − p).
    residual : bool or sequence of bool
        Identity skips x̄^[k] = x̄^[k-1] + d^[k]: True for every hidden layer whose width equals
        its input's (at least one must), or one bool per hidden layer.
    dtype : {"float32", "float64"}
        Of θ, the buffers and the outputs.
    seed : int or numpy.random.Generator, optional
        Draws the initial weights, fit's shuffles and the key of the dropout masks.
    parameters : array_like or None
        Initial θ (``n_params`` entries, laid out as ``parameters``); None draws He-normal
        weights for ReLU-like ψ^[k], Glorot-uniform for the others, and b̄ = 0. A writable
        C-contiguous 1-D array of ``dtype`` is used in place, anything else is copied.
    kernel_path : {"auto", "loops", "blas", "unrolled", "generic"}
        Which kernels run (for tests and benchmarks): "auto" picks per net and layer; the
        others force hand-written loops, BLAS, the unrolled tiny-net epoch, or "auto" without
        the unrolled epoch. Results agree to rounding.
    precision : {"float32", "bf16"}
        Of fit's matrix products. "bf16" (mixed precision, as PyTorch's autocast): every
        product that runs as a GEMM (layers of at least 2048 multiply-adds per batch, batch > 1)
        takes bf16 operands and accumulates in float32 through Intel MKL's
        ``cblas_gemm_bf16bf16f32``; θ (the master weights), the optimizer's state, the loss and
        every elementwise step stay float32, and ``predict``, ``loss`` and ``gradients`` run in
        float32. Needs dtype float32, a CPU with AVX512_BF16 or AMX-BF16 and ``pip install
        "fastnn[mkl]"``; elsewhere a ValueError says what is missing. Settable later
        (``net.precision = "bf16"``).

    Attributes
    ----------
    sizes : list of int
        n_0, n_1, ..., n_K.
    activations : list of str
        ψ^[1..K] by name; for a cross-entropy loss the last is its link ("softmax" or
        "sigmoid").
    loss_name : str
        The loss's name, a key of ``fastnn.LOSSES``.
    loss_param : float or None
        Its parameter (Huber's ε, the quantile q), or None for a loss without one.
    dtype : numpy.dtype
        float32 or float64.
    kernel_path : str
        As passed.
    precision : str
        "float32" or "bf16", as passed or set.
    weights, biases : list of numpy.ndarray
        Views of θ: ``weights[k-1]`` is W^[k] (n_k × n_{k-1}), ``biases[k-1]`` is b̄^[k].
    optimizer : Optimizer or None
        The optimizer the last fit used, with its state; the next fit continues it.
    feature_names_in_ : numpy.ndarray or None
        A DataFrame's column names, recorded by fit.
    classes : numpy.ndarray or None
        The class labels of the outputs, kept in the model file for display (``fastnn
        predict`` prints them): one per output, or two for a single sigmoid output (the
        labels of p < 0.5 and p > 0.5). Set by ``fastnn train`` and the classifier's
        ``network_``; None: not a classifier, or labels unknown.
    preprocess : fastnn.preprocess.Preprocess or None
        An input transform, kept in the model file: with one, ``predict``, ``loss``, ``fit``
        (and the other methods taking X) take the raw columns and transform them first
        (standardized numbers, one-hot categories); ``predictor()`` does not. Set by ``fastnn
        train``; None: X goes in as it is.
    norm : list of {None, "layer", "batch"}
        Per hidden layer k = 1..K−1.
    dropout : list of float
        Per hidden layer.
    residual : list of bool
        Per hidden layer.
    epochs_trained : int
        Epochs of ``fit`` so far, across fits and files; keys the dropout masks.
    dropout_seed : int
        The other key of the dropout masks, drawn from ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn import Network
    >>> net = Network([2, 2, 1], seed=0)          # n_0 = 2 inputs, one hidden layer, 1 output
    >>> net.weights[0].shape                      # W^[1] is n_1 × n_0
    (2, 2)
    >>> net.activations                           # ψ^[1], ψ^[2]
    ['relu', 'identity']
    >>> Network([4, 8, 3], loss="cross_entropy").activations
    ['relu', 'softmax']
    """

    def __init__(self, sizes: Sequence[int], activations: str | Sequence[str] | None = None, *,
                 loss: str | _losses.Loss = "mse", norm: str | Sequence[str | None] | None = None,
                 dropout: float | Sequence[float] = 0.0, residual: bool | Sequence[bool] = False,
                 dtype: Any = "float32", seed: Any = None, parameters: Any = None,
                 kernel_path: str = "auto", precision: str = "float32") -> None:
        sizes = _validate.sizes(sizes)
        K = len(sizes) - 1
        entry = _losses.get(loss)
        out = entry.link or "identity"  # the default ψ^[K]
        if activations is None:
            activations = ["relu"] * (K - 1) + [out]
        elif isinstance(activations, str):
            activations = [activations] * (K - 1) + [out]
        else:
            activations = list(activations)
            if len(activations) != K:
                raise ValueError(f"activations: got {len(activations)} names for {K} layers; "
                                 f"pass one name per layer (psi^[1..{K}]), a single string, or None")
        if entry.link and activations[-1] != entry.link:
            raise ValueError(
                f"activations: loss={entry.name!r} fixes the output activation to {entry.link!r}, "
                f"got {activations[-1]!r}; pass {entry.link!r} as the last activation, or activations=None "
                f"for the defaults")
        # A linked loss's output layer stores z̄^[K] (identity); the loss applies its link.
        table = [_act.get(a) for a in activations[:-1]]
        table.append(_act.ACTIVATIONS["identity"] if entry.link else _act.get(activations[-1]))
        if not getattr(table[-1], "from_output", True):
            raise ValueError(f"activations: {table[-1].name!r} is for hidden layers (its derivative needs "
                             "z̄, which the output layer does not keep); pick another output activation, "
                             "e.g. 'identity'")
        self.dtype = _validate.dtype(dtype)
        path = _engine.kernel_path_code(kernel_path)
        self.norm = _validate.layer_norms(norm, K - 1)
        self.dropout = _validate.layer_dropout(dropout, K - 1)
        self.residual = _validate.layer_residual(residual, sizes)
        self.sizes = sizes
        self.activations = [a.name for a in table[:-1]] + [entry.link or table[-1].name]
        self.loss_name = entry.name
        self.loss_param = entry.param if entry.param_name else None
        self.kernel_path = kernel_path
        self.optimizer: Optimizer | None = None  # set by fit; its state carries over to the next fit
        self.feature_names_in_: np.ndarray | None = None  # a DataFrame's column names, recorded by fit
        self.classes: np.ndarray | None = None  # the outputs' class labels (display and files)
        self.preprocess: Preprocess | None = None  # the input transform X goes through first
        self._rng = np.random.default_rng(seed)
        self._engine = _engine.Engine(
            sizes, [a.code for a in table], entry.code, self.dtype, path,
            [*(_layout.NORM_CODES[n] for n in self.norm), 0], [*self.residual, False], [*self.dropout, 0.0],
            [not getattr(a, "from_output", True) for a in table], entry.param)
        self.precision = precision
        self.epochs_trained = 0
        self.dropout_seed = 0
        n, n_run = self._engine.n_params, self._engine.n_running
        if parameters is None:
            self._theta = GuardedTheta(np.zeros(n + n_run, dtype=self.dtype))
            self._init_weights(table)
        elif n_run:
            values = self._checked_parameters(parameters, "parameters", in_place=False)
            self._theta = GuardedTheta(np.concatenate([values, np.zeros(n_run, self.dtype)]))
        else:
            self._theta = GuardedTheta(self._checked_parameters(parameters, "parameters", in_place=True))
        for r in self._engine_running(self._theta.array):  # PyTorch's initial μ = 0, σ² = 1
            if r is not None:
                r[0][:], r[1][:] = 0, 1
        if any(p > 0 for p in self.dropout):  # (drawn after θ's: other nets draw as before)
            self.dropout_seed = int(self._rng.integers(0, 2**63 - 1))
        self._engine.dropout_seed = self.dropout_seed

    def _init_weights(self, table: list[_act.Activation]) -> None:
        """He-normal for ReLU-like ψ^[k], LeCun-normal for SELU, Glorot-uniform for tanh/sigmoid/
        identity/softmax; b̄ = 0; γ = 1, β = 0."""
        for W, b, a in zip(self.weights, self.biases, table):
            n_out, n_in = W.shape
            if a.init == "he":
                W[:] = self._rng.normal(0.0, np.sqrt(2.0 / n_in), size=W.shape)
            elif a.init == "lecun":
                W[:] = self._rng.normal(0.0, np.sqrt(1.0 / n_in), size=W.shape)
            else:
                lim = np.sqrt(6.0 / (n_in + n_out))
                W[:] = self._rng.uniform(-lim, lim, size=W.shape)
            b[:] = 0
        for gamma, beta in zip(self.norm_scales, self.norm_shifts):
            if gamma is not None and beta is not None:
                gamma[:], beta[:] = 1, 0

    @property
    def dropout_seed(self) -> int:
        """The key of the dropout masks (with ``epochs_trained``), drawn from ``seed`` for a net
        with dropout (0 otherwise); setting it sets the kernels' key too (``load`` does).

        Examples
        --------
        >>> net = Network([2, 4, 1], dropout=0.1, seed=0)
        >>> net.dropout_seed = 12345                  # the masks of another seeded run
        >>> net.dropout_seed
        12345
        """
        return self._engine.dropout_seed

    @dropout_seed.setter
    def dropout_seed(self, value: int) -> None:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
                or not 0 <= value < 2**63:
            raise ValueError(f"dropout_seed must be an integer in [0, 2**63), got {value!r}")
        self._engine.dropout_seed = int(value)

    @property
    def dtype(self) -> np.dtype:
        """θ's dtype, float32 or float64: fixed when the network is made (θ, the optimizer's state
        and the kernels are of it). Setting it raises a ValueError saying how to make a copy in
        the other dtype.

        Examples
        --------
        >>> Network([2, 4, 1], dtype="float64").dtype
        dtype('float64')
        """
        return self.__dict__["dtype"]  # type: ignore[no-any-return]

    @dtype.setter
    def dtype(self, value: Any) -> None:
        if "dtype" in self.__dict__:
            raise ValueError(
                f"dtype: a network's dtype is fixed when it is made (it is {self.dtype.name}); make a "
                f"copy in {value!r}: a new Network with the same sizes, activations, loss and layer options, "
                f"dtype={value!r} and parameters=net.parameters, e.g. Network(net.sizes, "
                f"activations=net.activations, loss=net.loss_name, dtype={value!r}, parameters=net.parameters)")
        self.__dict__["dtype"] = value

    @property
    def precision(self) -> str:
        """fit's matrix products: "float32", or "bf16" (bf16 operands, float32 accumulation and
        master weights; see the class docstring). Setting "bf16" checks this machine first: a
        ValueError says what is missing (the CPU's bf16 instructions, or Intel MKL).

        Examples
        --------
        >>> Network([2, 4, 1]).precision
        'float32'
        """
        return self._engine.precision

    @precision.setter
    def precision(self, value: str) -> None:
        self._engine.precision = _validate.precision(value, self.dtype)

    def _engine_running(self, store: np.ndarray) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Batch norm's (mean, variance) views of a store, per hidden layer (None: no batch norm)."""
        run = self._engine.split(store)[1]
        return [_layout.running(run, self._engine.lay, k) for k in range(1, self.n_layers)]

    # Pickling (pickle, copy.deepcopy, joblib) keeps θ and the engine's plan, and drops the
    # thread state (locks, per-thread buffers, a running fit's snapshot).
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_theta"] = self._theta.array
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["_theta"] = GuardedTheta(state["_theta"])
        self.__dict__.update(state)

    # ------------------------------------------------------------------ parameters
    @property
    def n_layers(self) -> int:
        """K, the number of layers with weights.

        Examples
        --------
        >>> Network([2, 4, 1]).n_layers
        2
        """
        return len(self.sizes) - 1

    @property
    def n_params(self) -> int:
        """Entries of θ: Σ_k (n_k n_{k-1} + n_k).

        Examples
        --------
        >>> Network([2, 4, 1]).n_params               # (4·2 + 4) + (1·4 + 1)
        17
        """
        return self._engine.n_params

    @property
    def weights(self) -> list[np.ndarray]:
        """W^[1..K] as views of θ: ``weights[k-1]`` is W^[k], shape (n_k, n_{k-1}).

        Not read under the guard: while another thread's fit runs they show θ as it trains;
        ``parameters`` is a consistent copy, ``set_parameters`` the guarded way to write.

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> [W.shape for W in net.weights]            # W^[1] is 4 × 2, W^[2] is 1 × 4
        [(4, 2), (1, 4)]
        """
        return self.unpack(self._theta.array[: self.n_params])[0]

    @property
    def biases(self) -> list[np.ndarray]:
        """b̄^[1..K] as views of θ: ``biases[k-1]`` is b̄^[k], shape (n_k,).

        Not read under the guard, as ``weights``.

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> [b.shape for b in net.biases]             # b̄^[1], b̄^[2]
        [(4,), (1,)]
        """
        return self.unpack(self._theta.array[: self.n_params])[1]

    @property
    def norm_scales(self) -> list[np.ndarray | None]:
        """γ^[1..K−1] as views of θ (None for a layer without norm); not read under the guard.

        Examples
        --------
        >>> net = Network([2, 4, 4, 1], norm=["layer", None], seed=0)
        >>> net.norm_scales[0], net.norm_scales[1]
        (array([1., 1., 1., 1.], dtype=float32), None)
        """
        return self.unpack_norm(self._theta.array[: self.n_params])[0]

    @property
    def norm_shifts(self) -> list[np.ndarray | None]:
        """β^[1..K−1] as views of θ (None for a layer without norm); not read under the guard.

        Examples
        --------
        >>> Network([2, 4, 1], norm="batch", seed=0).norm_shifts
        [array([0., 0., 0., 0.], dtype=float32)]
        """
        return self.unpack_norm(self._theta.array[: self.n_params])[1]

    @property
    def running_means(self) -> list[np.ndarray | None]:
        """Batch norm's running means per hidden layer (read-only copies; None without batch norm).

        Examples
        --------
        >>> Network([2, 3, 1], norm="batch").running_means
        [array([0., 0., 0.], dtype=float32)]
        """
        return [None if r is None else r[0] for r in self._running_copies()]

    @property
    def running_vars(self) -> list[np.ndarray | None]:
        """Batch norm's running (unbiased) variances per hidden layer, as ``running_means``.

        Examples
        --------
        >>> Network([2, 3, 1], norm="batch").running_vars
        [array([1., 1., 1.], dtype=float32)]
        """
        return [None if r is None else r[1] for r in self._running_copies()]

    def _running_copies(self) -> list[tuple[np.ndarray, np.ndarray] | None]:
        with self._theta.reading() as store:
            out = [None if r is None else (r[0].copy(), r[1].copy()) for r in self._engine_running(store)]
        for r in out:
            if r is not None:
                r[0].flags.writeable = r[1].flags.writeable = False
        return out

    def set_running_stats(self, means: Sequence[Any], variances: Sequence[Any]) -> None:
        """Write batch norm's running statistics: one entry per hidden layer, (n_k,) arrays
        for the batch norm layers and None for the others, as ``running_means``/``running_vars``.

        Raises
        ------
        ValueError
            If an entry is missing, of the wrong shape, not finite, or a variance is negative.

        Examples
        --------
        >>> net = Network([2, 3, 1], norm="batch")
        >>> net.set_running_stats([np.ones(3)], [np.full(3, 4.0)])
        >>> net.running_vars[0]
        array([4., 4., 4.], dtype=float32)
        """
        current = self._engine_running(self._theta.array)
        if len(means) != len(current) or len(variances) != len(current):
            raise ValueError(f"means, variances: pass one entry per hidden layer ({len(current)}), None for "
                             "layers without batch norm")
        values = []
        for k, (r, m, v) in enumerate(zip(current, means, variances), start=1):
            if r is None:
                if m is not None or v is not None:
                    raise ValueError(f"means, variances: layer {k} has no batch norm; pass None for it")
                continue
            m = np.asarray(m, dtype=self.dtype)
            v = np.asarray(v, dtype=self.dtype)
            n = r[0].shape
            if m.shape != n or v.shape != n or not (np.isfinite(m).all() and np.isfinite(v).all()) or (v < 0).any():
                raise ValueError(f"means, variances: layer {k} needs finite arrays of shape {n}, variances >= 0")
            values.append((k - 1, m, v))
        with self._theta.writing("set_running_stats") as own:
            run = self._engine_running(own)
            for k0, m, v in values:
                r = run[k0]
                assert r is not None
                r[0][:], r[1][:] = m, v

    def snapshot(self) -> np.ndarray:
        """A read-only copy of θ followed by batch norm's running statistics: all the state
        ``predict`` depends on; ``restore`` writes it back (EarlyStopping's best weights).

        Examples
        --------
        >>> net = Network([2, 3, 1], norm="batch", seed=0)
        >>> s = net.snapshot()
        >>> s.size == net.n_params + 2 * 3            # θ, then the running mean and variance
        True
        """
        with self._theta.reading() as store:
            out: np.ndarray = store.copy()
        out.flags.writeable = False
        return out

    def restore(self, snapshot: Any) -> None:
        """Write back a ``snapshot``: θ and the running statistics.

        Raises
        ------
        ValueError
            If ``snapshot`` is not a finite flat array of the snapshot's size.

        Examples
        --------
        >>> net = Network([2, 3, 1], norm="batch", seed=0)
        >>> s = net.snapshot()
        >>> net.set_parameters(np.zeros(net.n_params))
        >>> net.restore(s)
        >>> np.array_equal(net.snapshot(), s)
        True
        """
        size = self._theta.array.size
        values = np.asarray(snapshot, dtype=self.dtype)
        if values.shape != (size,) or not np.isfinite(values).all():
            raise ValueError(f"snapshot: pass a finite flat array of {size} entries, as net.snapshot() returns")
        with self._theta.writing("restore") as own:
            np.copyto(own, values)

    def unpack_norm(self, vector: np.ndarray) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
        """Split a θ-shaped flat vector's γ^[k] and β^[k] blocks, as views (None without norm).

        Parameters
        ----------
        vector : numpy.ndarray
            ``n_params`` entries laid out as ``parameters``.

        Returns
        -------
        scales, shifts : list of numpy.ndarray or None
            ``scales[k-1]`` is the block of γ^[k], ``shifts[k-1]`` of β^[k], k = 1..K−1.

        Raises
        ------
        ValueError
            If ``vector`` does not have shape (n_params,).

        Examples
        --------
        >>> net = Network([2, 4, 1], norm="layer", dtype="float64", seed=0)
        >>> loss, grad = net.loss_and_gradient(np.ones((3, 2)), np.ones((3, 1)))
        >>> dgamma, dbeta = net.unpack_norm(grad)
        >>> dgamma[0].shape
        (4,)
        """
        if np.shape(vector) != (self.n_params,):
            raise ValueError(f"vector has shape {np.shape(vector)}; pass a flat array of n_params = "
                             f"{self.n_params} entries")
        lay = self._engine.lay
        ks = range(1, self.n_layers)
        return ([_layout.norm_scale(vector, lay, k) for k in ks], [_layout.norm_shift(vector, lay, k) for k in ks])

    @property
    def parameters(self) -> np.ndarray:
        """A read-only copy of the flat θ: W^[1], b̄^[1], ..., W^[K], b̄^[K], each W row-major.

        Taken under the read guard: while another thread's fit runs, the snapshot of the last
        finished epoch. ``unpack`` splits it into W^[k] and b̄^[k].

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> theta = net.parameters
        >>> theta.shape, theta.flags.writeable
        ((17,), False)
        >>> np.array_equal(theta[:8], net.weights[0].ravel())   # W^[1] first, row-major
        True
        """
        with self._theta.reading() as store:
            out: np.ndarray = store[: self.n_params].copy()
        out.flags.writeable = False
        return out

    def set_parameters(self, theta: Any) -> None:
        """Write θ: the one way to write all parameters from outside.

        Like a fit, it waits for the inference calls other threads already started. From a
        callback of a running fit it writes at once.

        Parameters
        ----------
        theta : array_like
            ``n_params`` finite numbers, laid out as ``parameters``; copied in the network's
            dtype.

        Raises
        ------
        ValueError
            If ``theta`` is not a flat numeric array of ``n_params`` entries, holds NaN or Inf
            (or values beyond the dtype), or is an array NumPy would cast silently (np.matrix,
            masked, complex, datetime, bytes).
        RuntimeError
            While another thread's fit trains this network.

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> net.set_parameters(np.zeros(net.n_params))
        >>> net.predict([[1.0, 2.0]])
        array([[0.]], dtype=float32)
        """
        values = self._checked_parameters(theta, "theta", in_place=False)
        with self._theta.writing("set_parameters") as own:
            np.copyto(own[: self.n_params], values)

    def unpack(self, vector: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Split a θ-shaped flat vector into its per-layer blocks, as views.

        Parameters
        ----------
        vector : numpy.ndarray
            ``n_params`` entries laid out as ``parameters``: θ, a gradient from
            ``loss_and_gradient``, ...

        Returns
        -------
        weights : list of numpy.ndarray
            ``weights[k-1]`` is the block of W^[k], shape (n_k, n_{k-1}).
        biases : list of numpy.ndarray
            ``biases[k-1]`` is the block of b̄^[k], shape (n_k,).

        Raises
        ------
        ValueError
            If ``vector`` does not have shape (n_params,).

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> loss, grad = net.loss_and_gradient(np.ones((3, 2)), np.ones((3, 1)))
        >>> dW, db = net.unpack(grad)                 # dW[k-1] is ∂L/∂W^[k]
        >>> dW[1].shape, db[1].shape
        ((1, 4), (1,))
        """
        if np.shape(vector) != (self.n_params,):
            raise ValueError(f"vector has shape {np.shape(vector)}; pass a flat array of n_params = "
                             f"{self.n_params} entries")
        lay = self._engine.lay
        K = self.n_layers
        return ([_layout.weight(vector, lay, k) for k in range(1, K + 1)],
                [_layout.bias(vector, lay, k) for k in range(1, K + 1)])

    def _checked_parameters(self, theta: Any, name: str, in_place: bool) -> np.ndarray:
        """θ as a finite flat array of the dtype; with ``in_place``, memory the network may own
        (``theta`` itself when it already is a writable C-contiguous array of the dtype)."""
        _validate.refuse_unsafe(theta, name)
        try:
            with np.errstate(over="ignore"):
                values = np.asarray(theta, dtype=self.dtype)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name} must be a numeric array of {self.n_params} entries: {e}") from None
        if values.shape != (self.n_params,):
            raise ValueError(f"{name} has shape {values.shape}; pass a flat array of n_params = "
                             f"{self.n_params} entries (net.parameters has this layout)")
        if not _engine.all_finite(np.ascontiguousarray(values)):
            raise ValueError(f"{name} contains NaN or Inf (or values beyond {self.dtype.name}); "
                             "pass finite parameters")
        if in_place and not (values is theta and values.flags.c_contiguous and values.flags.writeable):
            values = np.array(values, copy=True)
        return values

    # ------------------------------------------------------------------ validation
    def _check_X(self, X: Any, name: str = "X", names: bool = True) -> np.ndarray | SparseRows:
        # (names=False: the caller checked X's column names already, as the estimators do)
        if self.preprocess is not None:
            X = self.preprocess.transform(X, name)
        if names and (type(X) is not np.ndarray or self.feature_names_in_ is not None):  # (an array has none)
            _validate.check_names(X, self.feature_names_in_, name, warn=True)
        return _validate.check_rows(X, self.sizes[0], self.dtype, name, first_skip=self.residual[:1] == [True])

    def _check_XY(self, X: Any, Y: Any) -> tuple[np.ndarray | SparseRows, np.ndarray]:
        return _training.check_xy(self, X, Y)

    # ------------------------------------------------------------------ inference
    def predict(self, X: Any) -> np.ndarray:
        """x̄^[K] for every row of X (probabilities for a cross-entropy loss).

        Parameters
        ----------
        X : array_like or pandas DataFrame of shape (N, n_0)
            The inputs, one sample per row. A DataFrame's columns must carry the feature names
            ``fit`` recorded, in that order.

        Returns
        -------
        numpy.ndarray of shape (N, n_K)
            The outputs, in the network's dtype.

        Raises
        ------
        ValueError
            If X is not N × n_0 numbers (N >= 1), holds NaN or Inf, is an array NumPy would
            cast silently (np.matrix, masked, complex, datetime, bytes), or its columns do not
            match the recorded feature names.

        Warns
        -----
        UserWarning
            If X has no feature names but ``fit`` recorded some (scikit-learn's warning).

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> net.predict(np.zeros((3, 2))).shape
        (3, 1)
        """
        return self._predict(self._check_X(X))

    def _predict(self, X: np.ndarray | SparseRows) -> np.ndarray:
        """``predict`` of checked rows."""
        out = np.empty((len(X), self.sizes[-1]), self.dtype)
        theta, counted = self._theta.read()  # (not `with reading()`: a µs less on one-row calls)
        try:
            self._engine.predict(theta, X, out)
        finally:
            if counted:
                self._theta.done_reading()
        return out

    def predictor(self, threads: int | None = None) -> Predictor:
        """A callable for many fast predictions: ``f = net.predictor(); f(X)``.

        It holds a frozen copy of θ as it is now (taken under the read guard) and checks only
        that X is a C-contiguous array of the network's dtype with n_0 columns (no NaN check,
        no feature names), which makes a one-sample call on a small net about 5x cheaper than
        ``predict``. Thread-safe; a later ``fit`` does not change it (see ``fastnn.predictor``).

        Parameters
        ----------
        threads : int, optional
            Run the calls of a plain net (no norm) on this many threads, with ``threads − 1``
            helper threads that stay awake about a millisecond after each call (yielding their
            core): a one-row call's layers are shared by columns on a net of at least 2^17
            multiply-adds per row (below, one thread runs it: faster), for the latency of a
            stream of single requests on a wide net; a call of several rows and at least 2^19
            multiply-adds in all is shared in blocks of rows without waking a pool, for streams
            of batched requests (the blocks ``predict`` cuts from 2^23 multiply-adds, the same
            bits; ``predict``'s results up to rounding below, where it runs one thread). None
            (default) or 1: none.

        Returns
        -------
        Predictor
            ``f(X, out=None)`` → the (N, n_K) outputs, as ``predict`` computes them.

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> f = net.predictor()
        >>> X = np.ones((5, 2), dtype=np.float32)     # the network's dtype, C-contiguous
        >>> np.array_equal(f(X), net.predict(X))
        True

        A network with a ``preprocess`` transform: ``f`` takes the transformed inputs,
        ``net.preprocess.transform(X)``.
        """
        from .predictor import Predictor

        if threads is not None:
            threads = _validate.positive_int("threads", threads)
        return Predictor(self.snapshot(), self._engine.fresh(), threads)

    def loss(self, X: Any, Y: Any, sample_weight: Any = None, *, training: bool = False) -> float:
        """Mean over samples of the loss L (``loss_name``: the seed's ½‖y − x̄^[K]‖² by default).

        Parameters
        ----------
        X : array_like or pandas DataFrame of shape (N, n_0)
            The inputs, one sample per row. A DataFrame's columns must carry the feature names
            ``fit`` recorded, in that order.
        Y : array_like of shape (N, n_K) or (N,)
            The targets (see ``fit``).
        sample_weight : array_like of shape (N,), optional
            One weight >= 0 per sample: the loss is then the weighted mean Σ w L / Σ w.
        training : bool
            Evaluate as ``fit`` does (dropout's masks of the next epoch, batch norm on all of
            X's statistics) instead of as ``predict`` does; never updates the running statistics.

        Returns
        -------
        float
            The mean loss.

        Raises
        ------
        ValueError
            If X, Y or ``sample_weight`` is invalid (the message names it), or the loss is not
            finite in the network's dtype (inputs too large for it, or diverged weights).

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> net.set_parameters(np.zeros(net.n_params))    # x̄^[K] = 0 for every input
        >>> net.loss([[0, 0], [1, 1]], [0, 2])              # (½·0² + ½·2²) / 2
        1.0
        >>> net.loss([[0, 0], [1, 1]], [0, 2], sample_weight=[3, 1])   # (3·0 + 1·2) / 4
        0.5
        """
        X, Y = self._check_XY(X, Y)
        sw = _validate.sample_weight(sample_weight, len(X), self.dtype)
        if training and self._engine.extended:  # in one block: batch norm's statistics are X's
            value = self.loss_and_gradient(X, Y, sample_weight, training=True)[0]
        else:
            with self._theta.reading() as theta:
                value = self._engine.mean_loss(theta, X, Y, sw)
        if not np.isfinite(value):
            hint = (_validate.overflow_hint(self.dtype, X, Y)
                    or "; the weights may have diverged (check net.parameters)")
            raise ValueError(f"loss: the loss of this input is not finite in {self.dtype.name}{hint}")
        return value

    def loss_and_gradient(self, X: Any, Y: Any, sample_weight: Any = None, *,
                          training: bool = False) -> tuple[float, np.ndarray]:
        """The mean loss (as ``loss``) and its gradient ∂L/∂θ, flat, for ``scipy.optimize``.

        Computed on a copy of θ taken under the read guard.

        Parameters
        ----------
        X : array_like or pandas DataFrame of shape (N, n_0)
            The inputs, one sample per row. A DataFrame's columns must carry the feature names
            ``fit`` recorded, in that order.
        Y : array_like of shape (N, n_K) or (N,)
            The targets (see ``fit``).
        sample_weight : array_like of shape (N,), optional
            One weight >= 0 per sample: both results are then the weighted means Σ w (·) / Σ w.
        training : bool
            Evaluate as ``fit`` does (dropout's masks of the next epoch, batch norm on X's own
            statistics) instead of as ``predict`` does. Never updates the running statistics.

        Returns
        -------
        loss : float
            The mean loss.
        gradient : numpy.ndarray of shape (n_params,)
            ∂L/∂θ, laid out as ``parameters`` (``unpack`` splits it), in float64: what
            ``scipy.optimize.minimize(..., jac=True)`` takes.

        Raises
        ------
        ValueError
            If X, Y or ``sample_weight`` is invalid (the message names it).

        Examples
        --------
        >>> from scipy.optimize import minimize
        >>> net = Network([2, 4, 1], dtype="float64", seed=0)
        >>> X, Y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
        >>> def f(theta):
        ...     net.set_parameters(theta)
        ...     return net.loss_and_gradient(X, Y)
        >>> res = minimize(f, net.parameters, jac=True, method="L-BFGS-B")
        >>> net.set_parameters(res.x)
        >>> net.loss(X, Y) < 0.01
        True
        """
        X, Y = self._check_XY(X, Y)
        sw = _validate.sample_weight(sample_weight, len(X), self.dtype) if sample_weight is not None else None
        _, grad, total = self._engine.backward_all(self._private_theta(), X, Y, sw, self._ctl(training))
        N = len(X)
        return float(total) / N, grad.astype(np.float64) / N

    def gradients(self, X: Any, Y: Any, *, training: bool = False) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """∂/∂W^[k] and ∂/∂b̄^[k] of ``loss(X, Y)``, shaped like weights/biases.

        Computed by the same kernels ``fit`` uses for this network, on a copy of θ taken under
        the read guard.

        Parameters
        ----------
        X : array_like or pandas DataFrame of shape (N, n_0)
            The inputs, one sample per row. A DataFrame's columns must carry the feature names
            ``fit`` recorded, in that order.
        Y : array_like of shape (N, n_K) or (N,)
            The targets (see ``fit``).
        training : bool
            Differentiate the loss as ``fit`` sees it (as ``loss_and_gradient``).

        Returns
        -------
        dW : list of numpy.ndarray
            ``dW[k-1]`` is ∂L/∂W^[k], shape (n_k, n_{k-1}), in the network's dtype.
        db : list of numpy.ndarray
            ``db[k-1]`` is ∂L/∂b̄^[k], shape (n_k,).

        Raises
        ------
        ValueError
            If X or Y is invalid (the message names it).

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> dW, db = net.gradients(np.ones((3, 2)), np.ones((3, 1)))
        >>> [g.shape for g in dW]
        [(4, 2), (1, 4)]
        """
        X, Y = self._check_XY(X, Y)
        if training:
            grad = self._engine.backward_all(self._private_theta(), X, Y, None, self._ctl(True))[1]
        else:
            grad = self._engine.gradient_sum(self._private_theta(), X, Y)
        grad /= self.dtype.type(len(X))
        return self.unpack(grad)

    def _ctl(self, training: bool) -> np.ndarray | None:
        return self._engine.ctl(training, _engine.KEEP, self.epochs_trained)

    def set_batch_statistics(self, X: Any, sample_weight: Any = None) -> None:
        """Set batch norm's running statistics to X's full-batch mean and unbiased variance
        (what the L-BFGS solver does once at the end, instead of at every evaluation).

        Parameters
        ----------
        X : array_like of shape (N, n_0)
            The inputs, N >= 2.
        sample_weight : array_like of shape (N,), optional
            Weights of the statistics (integer weights act as repeated rows).

        Examples
        --------
        >>> net = Network([1, 2, 1], norm="batch", seed=0)
        >>> net.set_batch_statistics([[0.0], [1.0], [2.0]])
        >>> bool(net.running_vars[0][0] > 0)
        True
        """
        X = self._check_X(X)
        sw = _validate.sample_weight(sample_weight, len(X), self.dtype)
        Y = np.zeros((len(X), self.sizes[-1]), self.dtype)
        with self._theta.writing("set_batch_statistics") as own:
            ctl = self._engine.ctl(True, _engine.SET, self.epochs_trained, 0,
                                   _validate.weight_exponent(sample_weight) if sw.size else 0)
            self._engine.backward_all(own, X, Y, sw if sw.size else None, ctl)

    def backprop(self, X: Any, Y: Any, *, training: bool = False) -> Backprop:
        """Run the seed's forward pass and φ^[k] recurrence on all of X; return every piece.

        Parameters
        ----------
        X : array_like or pandas DataFrame of shape (N, n_0)
            The inputs, one sample per row. A DataFrame's columns must carry the feature names
            ``fit`` recorded, in that order.
        Y : array_like of shape (N, n_K) or (N,)
            The targets (see ``fit``).

        training : bool
            Run as ``fit`` does (dropout's masks of the next epoch, batch norm on X's own
            statistics) instead of as ``predict`` does; never updates the running statistics.

        Returns
        -------
        Backprop
            z̄^[k], x̄^[k], φ^[k], ∂L/∂W^[k], ∂L/∂b̄^[k] by layer number k, and the mean loss;
            for the hidden layers' extended steps x̂^[k], ẑ^[k], ∂L/∂ẑ^[k], the dropout masks,
            ∂L/∂γ^[k] and ∂L/∂β^[k].

        Raises
        ------
        ValueError
            If X or Y is invalid (the message names it).

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> X, Y = np.ones((3, 2)), np.ones((3, 1))
        >>> bp = net.backprop(X, Y)
        >>> np.allclose(bp.x[2], net.predict(X)), np.allclose(bp.dW[1], net.gradients(X, Y)[0][0])
        (True, True)
        """
        if _validate.is_sparse(X):
            raise ValueError("backprop: X is sparse, but backprop returns every layer's rows densely, x̄^[0] "
                             "included; pass X.toarray() (of a few rows), or use gradients or loss_and_gradient, "
                             "which take sparse X")
        X, Y = self._check_XY(X, Y)
        assert not isinstance(X, SparseRows)
        N, K, e = len(X), self.n_layers, self._engine
        store = self._private_theta()
        scratch, grad, loss = e.backward_all(store, X, Y, None, self._ctl(training))
        abuf, pbuf, zbuf, gbuf = scratch[0], scratch[1], scratch[4], scratch[5]
        bp = Backprop(loss=float(loss / N))
        bp.x[0] = X
        theta = store[: self.n_params]
        Ws, bs = self.unpack(theta)
        dWs, dbs = self.unpack(grad)
        gammas, betas = self.unpack_norm(theta)
        dgs, dbetas = self.unpack_norm(grad)
        T = self.dtype.type
        for k in range(1, K + 1):
            bp.x[k] = e.rows(abuf, k, N)
            bp.z[k] = bp.x[k - 1] @ Ws[k - 1].T + bs[k - 1]  # z̄^[k], recomputed
            bp.phi[k] = e.rows(pbuf, k, N)
            bp.dW[k] = dWs[k - 1] / T(N)
            bp.db[k] = dbs[k - 1] / T(N)
            if k == K:
                break
            gamma, beta, dg, dbeta = gammas[k - 1], betas[k - 1], dgs[k - 1], dbetas[k - 1]
            bp.zhat[k] = bp.z[k]
            if gamma is not None and beta is not None and dg is not None and dbeta is not None:
                bp.xhat[k] = e.rows(zbuf, k, N)
                bp.zhat[k] = bp.xhat[k] * gamma + beta
                bp.g[k] = e.rows(gbuf, k, N)
                bp.dgamma[k], bp.dbeta[k] = dg / T(N), dbeta / T(N)
            if training and self.dropout[k - 1] > 0:
                bp.mask[k] = e.dropout_mask(k, N, self.epochs_trained)
        return bp

    def _private_theta(self) -> np.ndarray:
        """A copy of θ (or of a running fit's snapshot) for gradients and backprop: their kernels
        compile only for writable θ, and must not see a fit that starts in another thread write it."""
        with self._theta.reading() as theta:
            copy: np.ndarray = theta.copy()
        return copy

    # ------------------------------------------------------------------ training
    def fit(self, X: Any, Y: Any, *, epochs: int = 10, batch_size: int = 32, lr: float | None = None,
            shuffle: bool = True, seed: Any = None, verbose: bool = False, threads: int | None = None,
            optimizer: Any = None, sample_weight: Any = None, validation_data: Any = None,
            validation_split: float = 0.0, early_stopping: Any = None, callbacks: Any = None,
            metrics: Any = None) -> History:
        """Train on X, Y for ``epochs`` epochs of minibatches; one optimizer step per batch.

        Parameters
        ----------
        X : array_like or pandas DataFrame of shape (N, n_0)
            The inputs, one sample per row. A DataFrame's column names are recorded as
            ``feature_names_in_``; later calls must pass those columns, in that order.
        Y : array_like or pandas Series of shape (N, n_K) or (N,)
            The targets: (N,) when n_K = 1. For loss="cross_entropy", rows of probabilities or
            integer class labels 0..n_K − 1 of shape (N,); for "binary_cross_entropy", values
            in [0, 1].
        epochs : int, default 10
            Passes over the training rows.
        batch_size : int, default 32
            Rows per optimizer step (at most N); an epoch's last batch takes the rows left.
        lr : float, optional
            Sets the optimizer's learning rate; None keeps the optimizer's own (0.01 for SGD).
        shuffle : bool, default True
            Visit the rows in a fresh random order each epoch; False keeps their order.
        seed : int or numpy.random.Generator, optional
            Draws this fit's shuffles. None: the network's own generator
            (``Network(seed=...)``), whose state ``save`` stores.
        verbose : bool, default False
            Show a progress bar over the epochs (tqdm), and one over an epoch's batches when
            the epoch is expected to take ``training.LONG_EPOCH_SECONDS`` (2 s) or more.
        threads : int, optional
            Into how many parts each batch is split, for as many cores (BLAS runs one thread
            per core). None picks by size: one for small nets, else every core this process
            may use (``FASTNN_NUM_THREADS`` caps it). When another process holds a core, fit
            runs the parts on fewer threads for as long as that is faster. A seeded run's
            result depends on the data, the arguments and the number of parts, never on timing
            or load; different part counts differ in the last bits.
        optimizer : str or Optimizer, optional
            A name from ``fastnn.OPTIMIZERS`` ("sgd", "adam", "adamw", "rmsprop") or an object
            such as ``fastnn.Adam(lr=1e-3)``. None continues ``self.optimizer`` (the one the
            last fit used, with its state), or starts plain SGD: W^[k] ← W^[k] − lr · (mean of
            ∂L/∂W^[k] over the batch). A name that matches ``self.optimizer``'s kind also
            continues it.
        sample_weight : array_like of shape (N,), optional
            One weight >= 0 per row; each batch's gradient and loss become the weighted means
            Σ w (·) / Σ w over the batch (scikit-learn's rule).
        validation_data : tuple, optional
            ``(Xv, Yv)`` or ``(Xv, Yv, wv)``: rows never trained on. Each epoch then logs
            ``val_loss`` and ``val_<name>`` for each of ``metrics``.
        validation_split : float, default 0.0
            Instead of ``validation_data``: hold out the last fraction of the rows (before any
            shuffling), in [0, 1), and log the same.
        early_stopping : bool or int or EarlyStopping, optional
            True, a patience, or a ``fastnn.EarlyStopping``: stop when the validation loss
            (else the training loss) has not improved for ``patience`` epochs, and restore the
            best epoch's weights.
        callbacks : Callback, callable or list of those, optional
            ``fastnn.Callback`` objects or functions ``f(net, epoch, logs)`` called after each
            epoch; returning True stops training. Every callback's ``on_train_end`` runs
            however the fit ends: normally, by Ctrl-C or by ``DivergedError`` (so an
            ``EarlyStopping(restore_best_weights=True)`` restores its best epoch then too).
        metrics : str, callable or list of those, optional
            Computed on the validation rows: "accuracy", "r2", "mae", "mse", or functions
            ``f(y_true, y_pred) → float``, logged as ``val_<name>`` (``__name__`` for a
            function).

        Returns
        -------
        History
            ``history["loss"]`` holds each epoch's mean training loss (each batch's taken before
            its update), then ``val_loss``, ``time`` (seconds) and ``lr``.

        Raises
        ------
        ValueError
            Before any training, if an argument or the data is invalid (the message names
            it), e.g. ``metrics`` without validation rows, or an ``EarlyStopping`` monitoring
            a key no log will hold.
        DivergedError
            If the loss or the weights turn non-finite: the weights go back to the end of the
            last finite epoch, the optimizer's moments restart from zero, and the error's
            ``epoch`` and ``loss`` say where.
        RuntimeError
            If this network is already training: a fit in another thread, or a fit called
            from one of its own callbacks.
        KeyboardInterrupt
            On Ctrl-C (see Notes), carrying the ``History`` of the finished epochs as
            ``.history`` and the number of batches done in the interrupted epoch as
            ``.batches`` (0: it stopped between epochs).

        Notes
        -----
        Ctrl-C (in the main thread) stops training within about ``training.RUN_SECONDS``
        (50 ms): epochs run as runs of whole batches, and training stops after the run in
        progress. The weights and the optimizer are then those after the last finished batch
        (never half a batch). A second Ctrl-C interrupts at once.

        Threads: a fit owns θ. It waits for inference calls (predict, loss, gradients,
        backprop) that other threads already started, and while it runs, those threads' calls
        see a consistent snapshot: θ at the start of this fit, or at the end of the last
        finished epoch once they have asked.

        A network whose parameters are read-only (loaded with ``joblib.load(mmap_mode="r")``)
        first copies them into memory of its own; the file is never written.

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> X, Y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
        >>> h = net.fit(X, Y, epochs=3, batch_size=2, optimizer="adam", lr=0.01)
        >>> h.epochs, sorted(h)
        (3, ['loss', 'lr', 'time'])
        >>> h = net.fit(X, Y, epochs=2, validation_data=(X, Y), metrics="mae")  # Adam continues
        >>> sorted(h), net.optimizer.name
        (['loss', 'lr', 'time', 'val_loss', 'val_mae'], 'adam')
        >>> try:
        ...     net.fit(X, Y, epochs=3, optimizer="sgd", lr=1e30)   # far too large
        ... except DivergedError:
        ...     print("diverged; weights finite:", np.isfinite(net.parameters).all())
        diverged; weights finite: True
        """
        return _training.fit(self, self._theta, self._engine, self._rng, X, Y, epochs, batch_size, lr, shuffle,
                             seed, verbose, threads, optimizer, sample_weight, validation_data,
                             validation_split, early_stopping, callbacks, metrics)

    # ------------------------------------------------------------------ display
    def summary(self) -> str:
        """A table of the layers in the seed's 1-based numbering; ``print(net)`` prints it.

        Returns
        -------
        str
            One row per layer k: W^[k]'s shape, b̄^[k]'s size, ψ^[k] and the parameter count
            (γ^[k] and β^[k] included). A net with normalization, dropout or skips has three
            more columns: norm ("layer" or "batch"), the dropout rate and "yes" for a skip
            x̄^[k] = x̄^[k-1] + d^[k]; "-" where a layer has none.

        Examples
        --------
        >>> print(Network([2, 4, 1]).summary())
        Network(sizes=[2, 4, 1], loss=mse, dtype=float32)
        k  W^[k]  b^[k]  psi^[k]   params
        ---------------------------------
        1  4 x 2      4  relu          12
        2  1 x 4      1  identity       5
        total params: 17
        >>> print(Network([2, 4, 4, 1], norm=["layer", "batch"], dropout=0.1, residual=True).summary())
        Network(sizes=[2, 4, 4, 1], loss=mse, dtype=float32)
        k  W^[k]  b^[k]  psi^[k]   norm   dropout  skip  params
        -------------------------------------------------------
        1  4 x 2      4  relu      layer      0.1  -         20
        2  4 x 4      4  relu      batch      0.1  yes       28
        3  1 x 4      1  identity  -            -  -          5
        total params: 53
        """
        extended = any(self.norm) or any(self.dropout) or any(self.residual)
        header = ("k", "W^[k]", "b^[k]", "psi^[k]") + ("norm", "dropout", "skip") * extended + ("params",)
        text = {3, 4, 6} if extended else {3}  # left-aligned columns: ψ^[k], norm, skip
        rows = [header]
        for k, (W, a) in enumerate(zip(self.weights, self.activations), start=1):
            n_out, n_in = W.shape
            # the output layer K has no norm, dropout or skip
            norm, p, skip = (self.norm[k - 1], self.dropout[k - 1], self.residual[k - 1]) \
                if k < self.n_layers else (None, 0.0, False)
            count = n_out * n_in + n_out + (2 * n_out if norm else 0)  # W^[k], b̄^[k], γ^[k], β^[k]
            row: tuple[str, ...] = (str(k), f"{n_out} x {n_in}", f"{n_out}", a)
            if extended:
                row += (norm or "-", f"{p:g}" if p else "-", "yes" if skip else "-")
            rows.append((*row, f"{count:,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]

        def fmt(r: tuple[str, ...]) -> str:
            return "  ".join(s.ljust(w) if c in text else s.rjust(w) for c, (s, w) in enumerate(zip(r, widths)))

        loss = self.loss_name if self.loss_param is None else f"{self.loss_name}({self.loss_param!r})"
        lines = [f"Network(sizes={self.sizes}, loss={loss}, dtype={self.dtype.name})", fmt(rows[0])]
        lines.append("-" * len(lines[-1]))
        lines += [fmt(r) for r in rows[1:]]
        lines.append(f"total params: {self.n_params:,}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        loss = repr(self.loss_name) if self.loss_param is None else f"losses.{self.loss_name}({self.loss_param!r})"
        return (f"Network(sizes={self.sizes}, activations={self.activations}, loss={loss}, "
                f"dtype='{self.dtype.name}')")

    # ------------------------------------------------------------------ persistence and export
    def save(self, path: Any) -> None:
        """Write an .npz with the architecture (with each hidden layer's norm, dropout and
        skip), loss, parameters, batch norm's running statistics, optimizer state, the shuffling
        generator's state, ``epochs_trained`` and ``dropout_seed``, atomically; ``load`` then
        resumes training exactly.

        The file is written next to ``path`` under a temporary name, then renamed over it: if
        writing fails (a full disk, an error, a killed process), an existing file at ``path``
        stays as it was. It keeps that file's permission bits, or gets 0o666 less the umask.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write.

        Raises
        ------
        OSError
            If the file cannot be written; the message names ``path``: ``FileNotFoundError``
            when its folder does not exist, ``PermissionError``, errno ENOSPC for a full disk.
        RuntimeError
            While another thread's ``fit`` trains this network (the optimizer's state is
            mid-update); save from a callback of that fit, or after it returns.

        Examples
        --------
        >>> import os, tempfile
        >>> net = Network([2, 4, 1], seed=0)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     net.save(os.path.join(folder, "net.npz"))
        ...     back = Network.load(os.path.join(folder, "net.npz"))
        >>> np.array_equal(back.parameters, net.parameters)
        True
        """
        from . import persist

        if self._theta.training_elsewhere():
            raise RuntimeError("save: this network is training in another thread; save from one "
                               "of that fit's callbacks (fit(callbacks=[...])), or after it returns")
        with self._theta.reading() as store:
            running = [a for r in self._engine_running(store) if r is not None for a in r]
            persist.save(path, sizes=self.sizes, activations=self.activations, loss=self.loss_name,
                         dtype=self.dtype, theta=store[: self.n_params], rng=self._rng,
                         optimizer=self.optimizer, feature_names=self.feature_names_in_, norm=self.norm,
                         dropout=self.dropout, residual=self.residual,
                         running=np.concatenate(running) if running else None,
                         epochs_trained=self.epochs_trained, dropout_seed=self.dropout_seed,
                         loss_param=self.loss_param, classes=self.classes, preprocess=self.preprocess)

    @classmethod
    def load(cls, path: Any) -> Network:
        """Read a model written by ``save`` (format 1 to 5), trusting nothing in the file.

        Every field is checked before anything sized by the file is allocated, and the weights
        are read from the file, never drawn at random first. Never unpickles.

        Parameters
        ----------
        path : str or os.PathLike
            The file ``save`` wrote.

        Returns
        -------
        Network
            The network, with its optimizer (and its state), its shuffling generator, batch
            norm's running statistics, the dropout masks' keys (``epochs_trained``,
            ``dropout_seed``) and its recorded feature names restored, so that ``fit`` resumes
            exactly. Files of formats 1 to 3 give nets without norm, dropout or skips, with
            ``epochs_trained`` 0.

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        ValueError
            If the file is damaged, hostile or foreign, or its network needs more memory than
            is available; the message names the file and the field.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     Network([2, 4, 1], loss="binary_cross_entropy").save(os.path.join(folder, "net.npz"))
        ...     Network.load(os.path.join(folder, "net.npz"))
        Network(sizes=[2, 4, 1], activations=['relu', 'sigmoid'], loss='binary_cross_entropy', dtype='float32')
        """
        from . import persist

        return persist.load(cls, path)

    def to_onnx(self, path: Any, *, opset: int | None = None, input_name: str = "x",
                output_name: str = "y") -> None:
        """Write the network as an ONNX model (per layer Gemm, then LayerNormalization or
        BatchNormalization, the activation and an Add for a skip; a dynamic batch axis "N",
        opset 17 by default); needs ``pip install "fastnn[onnx]"``.

        θ is read under the read guard; ``fastnn.export.to_onnx`` gives the details.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (atomically).
        opset : int, optional
            The ONNX operator set, from ``fastnn.export.MIN_OPSET`` (13; 17 with layer norm) to
            the installed onnx's newest; None: 17. From 20 on, gelu is one Gelu node.
        input_name : str, default "x"
            The name of the model's input, shape (N, n_0).
        output_name : str, default "y"
            The name of its output, shape (N, n_K): not ``input_name``, and neither may be one
            of the model's own tensor names (W1, b1, z1, x1, ...).

        Raises
        ------
        ImportError
            If onnx is not installed.
        ValueError
            If ``opset`` or a name is invalid.
        OSError
            If the file cannot be written.

        Examples
        --------
        >>> import os, tempfile, onnx
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     Network([2, 4, 1]).to_onnx(os.path.join(folder, "net.onnx"))
        ...     [node.op_type for node in onnx.load(os.path.join(folder, "net.onnx")).graph.node]
        ['Gemm', 'Relu', 'Gemm']
        """
        from .export import to_onnx

        to_onnx(self, path, opset=opset, input_name=input_name, output_name=output_name)

    def to_torch(self) -> Any:
        """A ``torch.nn.Sequential`` of Linear, LayerNorm/BatchNorm1d, activation and Dropout
        modules with these parameters, a hidden layer with a skip wrapped in
        ``fastnn.export.Residual``.

        ``fastnn.export.to_torch`` gives the modules each ψ^[k] becomes. The module is in
        training mode, as torch makes modules: with dropout or batch norm, call
        ``module.eval()`` to compute ``predict``.

        Returns
        -------
        torch.nn.Sequential
            Copies of W^[k], b̄^[k], γ^[k], β^[k] and the running statistics, in the network's
            dtype; ``module.eval()(X)`` equals ``predict(X)``.

        Raises
        ------
        ImportError
            If torch is not installed.

        Examples
        --------
        >>> Network([2, 4, 1]).to_torch()
        Sequential(
          (0): Linear(in_features=2, out_features=4, bias=True)
          (1): ReLU()
          (2): Linear(in_features=4, out_features=1, bias=True)
        )
        """
        from .export import to_torch

        return to_torch(self)

    @classmethod
    def from_torch(cls, module: Any, *, loss: str | None = None, dtype: Any = None) -> Network:
        """A Network from a ``torch.nn.Sequential`` of Linear layers, each followed by an optional
        LayerNorm or BatchNorm1d, a supported activation and an optional Dropout, in that order,
        hidden layers with a skip wrapped in ``fastnn.export.Residual`` (see
        ``fastnn.export.from_torch`` for the rules).

        Parameters
        ----------
        module : torch.nn.Sequential
            The layers to read, with their weights.
        loss : str, optional
            The Network's loss; None chooses it from the last activation.
        dtype : str, optional
            The Network's dtype, "float32" or "float64"; None: the first Linear's weight dtype.

        Returns
        -------
        Network
            With a copy of the module's parameters and batch norm's running statistics, and
            its norm, dropout rates and skips.

        Raises
        ------
        ValueError
            If ``module`` holds a module fastnn cannot represent, modules in another order,
            layers whose widths do not chain, or an activation that ``loss`` does not allow (the
            message names the module and its position).

        Examples
        --------
        >>> net = Network([2, 4, 1], seed=0)
        >>> back = Network.from_torch(net.to_torch())
        >>> back.sizes, np.array_equal(back.parameters, net.parameters)
        ([2, 4, 1], True)
        """
        from .export import from_torch

        spec = from_torch(module, loss=loss, dtype=dtype)
        means, variances = spec.pop("running_stats")
        net = cls(spec.pop("sizes"), spec.pop("activations"), **spec)
        if "batch" in net.norm:
            net.set_running_stats(means, variances)
        return net
