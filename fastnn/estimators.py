"""scikit-learn estimators on ``Network``: ``MLPRegressor`` and ``MLPClassifier``.

They take scikit-learn's ``MLPRegressor``/``MLPClassifier`` parameters with the same names,
defaults and meaning, plus ``dtype``, ``n_jobs``, ``init``, ``norm``, ``dropout`` and
``residual``, and train a fastnn ``Network`` (kept as ``network_``, in the seed's notation).
Needs scikit-learn: ``pip install "fastnn[sklearn]"``.

How each parameter maps onto the network:
- hidden_layer_sizes=(n_1, …, n_{K-1}), activation → ψ^[1..K-1] ("logistic" is "sigmoid");
  ψ^[K] is the identity (regression), softmax with cross-entropy (multiclass) or sigmoid with
  binary cross-entropy (binary, multi-label);
- norm, dropout, residual → ``Network``'s options of the same names, for the hidden layers
  (Linear → norm → ψ → dropout → skip); off by default. "lbfgs" refuses dropout, and runs batch
  norm on the full batch's statistics, setting the running statistics once at the end;
- solver="adam" → ``fastnn.Adam``; "sgd" → ``fastnn.SGD`` with momentum/nesterovs_momentum and
  learning_rate "constant", "invscaling" (scikit-learn's samples-seen form) or "adaptive";
  "lbfgs" → SciPy's L-BFGS-B on the full-batch loss and gradient of the kernels;
- alpha: the L2 penalty ½·alpha·‖W‖²/n of scikit-learn, as weight decay alpha/batch_size on
  W^[k] (not b̄^[k]) in the stochastic solvers;
- MLPRegressor's loss: "squared_error" is ½‖y − x̄^[K]‖² per sample, summed over outputs, as in
  scikit-learn's gradient; ``loss_`` and ``loss_curve_`` (which tol compares) average it over the
  outputs, as scikit-learn reports it. "poisson" is fastnn's "poisson" row (ψ^[K] = exp, half
  the deviance, summed over outputs as scikit-learn's); "absolute_error", "huber"
  (``huber_epsilon``) and "quantile" (``quantile``) are the rows of the same names;
- dtype=None trains in float32 when X is float32 and in float64 otherwise, as scikit-learn
  does; dtype="float32" always trains in float32 (about twice as fast on float64 input);
- n_jobs: the threads each batch is split over (``Network.fit(threads=)``), None = automatic,
  -1 = every core this process may use (-2: all but one, as joblib counts);
- init="sklearn" (the default) draws scikit-learn's Glorot-uniform W and b̄, first from
  random_state and in scikit-learn's order, so a random_state starts from the weights
  scikit-learn's MLP starts from; init="auto" keeps the Network's (He-normal for ReLU-like ψ,
  Glorot-uniform otherwise, b̄ = 0), which converges more slowly at scikit-learn's settings
  (training R² after 20/50/200 epochs on 200 rows of scikit-learn's regression check data:
  -1.14/0.15/0.86 with "auto", 0.679/0.848/0.928 with "sklearn" and scikit-learn itself).
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, check_scoring, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import _compat, _engine, _validate
from . import losses as _losses
from . import optimizers as _opt
from . import schedules as _schedules
from .callbacks import Callback
from .network import Network
from .preprocess import class_labels
from .training import DivergedError

# L-BFGS-B's iprint is deprecated from SciPy 1.15 (a DeprecationWarning on every fit), as
# scikit-learn's utils.fixes._get_additional_lbfgs_options_dict knows: pass it to older ones only.
_LBFGS_IPRINT = tuple(int(p) for p in scipy.__version__.split(".")[:2]) < (1, 15)
Interval, StrOptions, Options, _validate_params = _compat.sklearn_param_validation()

# MLPRegressor's loss → fastnn's loss table (scikit-learn's two names, then fastnn's additions)
_REGRESSION_LOSSES = {"squared_error": "mse", "poisson": "poisson", "absolute_error": "absolute_error",
                      "huber": "huber", "quantile": "quantile"}
_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                "leaky_relu": "leaky_relu", "softplus": "softplus", "sigmoid": "sigmoid",
                "gelu": "gelu", "silu": "silu", "elu": "elu", "selu": "selu"}


# scikit-learn's words for a fit whose parameters stopped being finite
_NONFINITE = ("Solver produced non-finite parameter weights. The input data may contain large values and need to "
              "be preprocessed.")


def _stochastic(est):
    """partial_fit exists for the stochastic solvers only, as in scikit-learn."""
    if est.solver == "lbfgs":
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. {est.solver} is not "
                             "stochastic.")
    return True


class _Stopping(Callback):
    """scikit-learn's stopping rule, after each epoch: the training loss (or, with
    early_stopping, the validation score) not better by tol for more than n_iter_no_change
    epochs stops training, or with learning_rate="adaptive" divides the lr by 5 until it is
    below 1e-6. With early_stopping the best-scoring θ (and batch norm's running statistics:
    ``Network.snapshot``) is kept and restored at the end."""

    def __init__(self, est, val):
        self.est, self.val = est, val

    def on_epoch_end(self, net, epoch, logs):
        est = self.est
        loss = logs["loss"] / est._loss_outputs + est._penalty(net, est._batch_weight)
        est.loss_curve_.append(loss)
        est.loss_ = loss
        est.n_iter_ += 1
        est.t_ += est._n_train
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.val is not None:
            score = est._validation_score(*self.val)
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}")
            if score < est.best_validation_score_ + est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                est._best_snapshot = net.snapshot()
        else:
            if loss > est.best_loss_ - est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            est.best_loss_ = min(est.best_loss_, loss)
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.val is not None else "Training loss"
            msg = f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive epochs."
            if est.solver == "sgd" and est.learning_rate == "adaptive" and net.optimizer.lr > 1e-6:
                net.optimizer.lr /= 5
                if est.verbose:
                    print(msg + f" Setting learning rate to {net.optimizer.lr:f}")
                est._no_improvement_count = 0
                return False
            if est.verbose:
                print(msg + " Stopping.")
            est._converged = True
            return True
        return False


class _BaseMLP(BaseEstimator):
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"), Options(numbers.Real, {np.inf})],
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "dtype": [None, StrOptions({"float32", "float64"})],
        "n_jobs": [None, Interval(numbers.Integral, 1, None, closed="left"),
                   Interval(numbers.Integral, None, -1, closed="right")],
        "init": [StrOptions({"auto", "sklearn"})],
        # one value for every hidden layer or one per layer; Network checks the entries at fit
        "norm": [None, StrOptions({"layer", "batch"}), "array-like"],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left"), "array-like"],
        "residual": ["boolean", "array-like"],
        "clip_norm": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "scoring": [None, str, callable],
        "precision": [StrOptions({"float32", "bf16"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dtype=None, n_jobs=None, init="sklearn", norm=None,
                 dropout=0.0, residual=False, clip_norm=None, scoring=None, precision="float32"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype
        self.n_jobs = n_jobs
        self.init = init
        self.norm = norm
        self.dropout = dropout
        self.residual = residual
        self.clip_norm = clip_norm
        self.scoring = scoring
        self.precision = precision

    # ------------------------------------------------------------ fitted views of network_
    @property
    def coefs_(self):
        """W^[k] transposed, as scikit-learn lays them: (n_{k-1}, n_k) views into θ, k = 1..K.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        check_is_fitted(self, "network_")
        return [W.T for W in self.network_.weights]

    @property
    def intercepts_(self):
        """b̄^[k], shape (n_k,), for k = 1..K: views into θ.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        check_is_fitted(self, "network_")
        return list(self.network_.biases)

    @property
    def n_layers_(self):
        """K + 1, the layers counting the input (scikit-learn's count)."""
        check_is_fitted(self, "network_")
        return len(self.network_.sizes)

    @property
    def n_outputs_(self):
        """n_K, the network's outputs."""
        check_is_fitted(self, "network_")
        return self.network_.sizes[-1]

    # ------------------------------------------------------------ fitting
    def fit(self, X, y, sample_weight=None):
        """Train a network on X, y: a new one, or the last fit's with ``warm_start``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs (a DataFrame's column names are recorded). Sparse input is never
            densified: the first layer multiplies its nonzeros (docs: Sparse input).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets: numbers for the regressor, labels (or a multi-label indicator
            matrix) for the classifier.
        sample_weight : array-like of shape (n_samples,), optional
            One weight ≥ 0 per row; each batch's loss and gradient are weighted means.

        Returns
        -------
        self
            The fitted estimator.

        Raises
        ------
        ValueError
            If a parameter or the data is invalid.
        """
        _validate_params(self)
        return self._fit(X, y, sample_weight, incremental=False)

    def _partial_fit(self, X, y, sample_weight=None, classes=None):
        _validate_params(self)
        if self.solver == "lbfgs":
            raise ValueError("partial_fit is only available for the stochastic solvers 'sgd' and "
                             "'adam', got solver='lbfgs'")
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True; call fit, or set "
                             "early_stopping=False")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, numbers.Integral) else list(hidden)
        if not all(isinstance(h, numbers.Integral) and h > 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        first = not (hasattr(self, "network_") and (incremental or self.warm_start))
        X, y = validate_data(self, X, y, reset=first, accept_sparse=["csr", "csc", "coo"],
                             dtype=(np.float64, np.float32), multi_output=True,
                             y_numeric=not self._is_classifier)
        if _validate.is_sparse(X):  # never densified: the first layer runs on its nonzeros
            X = X.tocsr()
        sw = None if sample_weight is None else _compat.check_sample_weight(sample_weight, X)
        cw = self._class_weights(y, incremental)
        if cw is not None:  # class_weight: each row's class weight times its sample weight
            sw = cw if sw is None else sw * cw
        options = self._layer_options([X.shape[1], *hidden, 1])
        self._refuse_for_lbfgs(options)
        if "batch" in options["norm"] and X.shape[0] < 2:
            raise ValueError(f"norm='batch' needs at least 2 rows (one has no variance), got {X.shape[0]} sample; "
                             "pass more rows, or norm='layer' or None")
        Y = self._encode_targets(y, first, incremental, classes)
        if first:
            self._init_network(X, Y, hidden, options)
        elif self.network_.sizes[1:-1] != hidden:
            raise ValueError(f"warm_start/partial_fit: hidden_layer_sizes changed from "
                             f"{self.network_.sizes[1:-1]} to {hidden}; set warm_start=False to start over")
        else:
            entry = _losses.get(self._loss_entry())
            options_now = {**options, "loss_name": entry.name,
                           "loss_param": entry.param if entry.param_name else None}
            for name, value in options_now.items():
                if getattr(self.network_, name) != value:
                    raise ValueError(f"warm_start/partial_fit: {name} changed from {getattr(self.network_, name)} "
                                     f"to {value}; set warm_start=False to start over")
        net = self.network_
        net.precision = self.precision  # (a warm start may change it)
        if self.solver == "lbfgs":
            return self._fit_lbfgs(net, X, Y, sw)

        early = self.early_stopping and not incremental
        val = None
        if early:
            self._check_scoring()
            stratify = None
            if self._is_classifier and type_of_target(y) != "multilabel-indicator":
                # two classes: scikit-learn stratifies on the binarized column (its message names True)
                stratify = Y.astype(bool) if Y.shape[1] == 1 else y
            parts = train_test_split(X, Y, *([] if sw is None else [sw]), random_state=self._rng_split,
                                     test_size=self.validation_fraction, stratify=stratify)
            X, Xv, Y, Yv = parts[:4]
            sw, swv = (parts[4], parts[5]) if sw is not None else (None, None)
            if Xv.shape[0] < 2:
                raise ValueError(f"The validation set is too small. Increase 'validation_fraction' or the size "
                                 f"of your dataset (validation_fraction={self.validation_fraction} leaves "
                                 f"{Xv.shape[0]} validation sample(s) with early_stopping=True).")
            Xv = Xv.astype(net.dtype).tocsr() if _validate.is_sparse(Xv) else np.ascontiguousarray(Xv, net.dtype)
            val = (Xv, Yv, swv)
            if first or getattr(self, "validation_scores_", None) is None:  # else warm: continue
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
            self.best_loss_ = None
            self._best_snapshot = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            if first or getattr(self, "best_loss_", None) is None:
                self.best_loss_ = np.inf
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else self.batch_size
        if batch > n and self.batch_size != "auto":
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                          stacklevel=3)
        batch = min(batch, n)
        # ½·alpha·‖W‖² / Σ_batch w: a batch holds batch · mean(w) of weight on average
        self._batch_weight = batch * (1.0 if sw is None else float(np.mean(sw)))
        self._n_train = n
        if not incremental:  # a fit (warm or not) runs max_iter epochs with a fresh optimizer, as scikit-learn
            self.n_iter_ = 0
        if not incremental or net.optimizer is None:
            net.optimizer = self._make_optimizer(self._batch_weight, n)
        self._converged = False
        stopping = _Stopping(self, val)
        epochs = 1 if incremental else self.max_iter
        try:
            net.fit(X, Y, epochs=epochs, batch_size=batch, shuffle=self.shuffle, seed=None,
                    verbose=False, threads=self._threads(), sample_weight=sw, callbacks=[stopping])
        except KeyboardInterrupt:  # as scikit-learn: keep what trained (up to the last batch), and say so
            warnings.warn("Training interrupted by user.", stacklevel=3)
            self._converged = True
        except DivergedError as e:  # θ rolled back to the last finite epoch
            if not (early and self._best_snapshot is not None):
                self._best_snapshot = None
                raise ValueError(_NONFINITE) from e
            self._converged = True  # early stopping keeps its best epoch, as scikit-learn's does
        if early and self._best_snapshot is not None:
            net.restore(self._best_snapshot)  # θ and batch norm's running statistics
        self._best_snapshot = None
        if not incremental and not self._converged and self.n_iter_ >= self.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                          "the optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        return self

    def _class_weights(self, y, incremental):
        """Per-row weights from the classifier's class_weight (None: none)."""
        return None

    def _threads(self):
        """n_jobs as fit's threads: None stays automatic, -1 is every usable core, -2 all but one."""
        if self.n_jobs is None or self.n_jobs > 0:
            return self.n_jobs
        return max(1, _engine.usable_cores() + 1 + self.n_jobs)

    def _refuse_for_lbfgs(self, options):
        """ValueError for the options only the stochastic solvers take, under solver="lbfgs"."""
        if self.solver != "lbfgs":
            return
        if self.clip_norm is not None:
            raise ValueError(f"clip_norm={self.clip_norm!r} clips the stochastic solvers' batch gradients: "
                             "L-BFGS takes no such steps; use solver='adam' or 'sgd', or clip_norm=None")
        if self.precision != "float32":
            raise ValueError(f"precision={self.precision!r} runs the stochastic solvers' batch products in bf16; "
                             "L-BFGS's line search needs the float32 gradient: use solver='adam' or 'sgd', or "
                             "precision='float32'")
        if any(options["dropout"]):
            raise ValueError(f"dropout={self.dropout!r} needs a stochastic solver: L-BFGS minimises one "
                             "deterministic loss; use solver='adam' or 'sgd', or dropout=0.0")

    def _layer_options(self, sizes):
        """norm, dropout and residual per hidden layer, checked as Network checks them (a
        ValueError naming the parameter); sizes' last entry does not matter."""
        hidden = len(sizes) - 2
        return {"norm": _validate.layer_norms(self.norm, hidden),
                "dropout": _validate.layer_dropout(self.dropout, hidden),
                "residual": _validate.layer_residual(self.residual, sizes)}

    def _init_network(self, X, Y, hidden, options):
        # (bf16 keeps float32 master weights: dtype=None trains a bf16 fit in float32)
        dtype = self.dtype or ("float32" if X.dtype == np.float32 or self.precision == "bf16" else "float64")
        rng = check_random_state(self.random_state)
        sizes = [X.shape[1], *hidden, Y.shape[1]]
        drawn = []
        if self.init == "sklearn":  # scikit-learn's: W and b̄ uniform in ±√(f / (n_in + n_out)),
            # drawn first and in its order, so that a random_state gives scikit-learn's weights
            factor = 2.0 if self.activation == "logistic" else 6.0
            for n_in, n_out in zip(sizes[:-1], sizes[1:]):
                bound = np.sqrt(factor / (n_in + n_out))
                drawn.append((rng.uniform(-bound, bound, (n_in, n_out)), rng.uniform(-bound, bound, n_out)))
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self._rng_split = int(rng.randint(np.iinfo(np.int32).max))
        acts = [_ACTIVATIONS[self.activation]] * len(hidden)
        self.network_ = Network(sizes, [*acts, self._out_link()], loss=self._loss_entry(), dtype=dtype, seed=seed,
                                precision=self.precision, **options)
        for W, b, (Wt, bt) in zip(self.network_.weights, self.network_.biases, drawn):
            W[...], b[...] = Wt.T, bt
        if hasattr(self, "feature_names_in_"):
            self.network_.feature_names_in_ = np.asarray(self.feature_names_in_, dtype=object)
        if self._is_classifier and not self._multilabel and len(self.classes_) > 1:  # for files and fastnn predict
            self.network_.classes = class_labels(self.classes_)
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self._no_improvement_count = 0  # carries over partial_fit calls and warm starts

    def _make_optimizer(self, batch_weight, n):
        wd = self.alpha / batch_weight  # scikit-learn's ½·alpha·‖W‖²/Σ_batch w in the batch loss
        if self.solver == "adam":
            return _opt.Adam(lr=self.learning_rate_init, beta1=self.beta_1, beta2=self.beta_2,
                             eps=self.epsilon, weight_decay=wd, clip_norm=self.clip_norm)
        schedule = _schedules.InverseScaling(self.power_t, per=n) if self.learning_rate == "invscaling" else None
        return _opt.SGD(lr=self.learning_rate_init, momentum=self.momentum,
                        nesterov=self.nesterovs_momentum and self.momentum > 0, weight_decay=wd,
                        schedule=schedule, clip_norm=self.clip_norm)

    _loss_outputs = 1  # loss_ divides the loss by this: the log-loss is summed over the outputs

    def _loss_entry(self):
        """The network's loss: a name of fastnn's loss table, or an entry with its parameter."""
        return self._loss_name

    def _validation_score(self, Xv, Yv, swv):
        """The validation score early stopping maximises: ``score``'s (R², accuracy) without
        ``scoring``; minus the mean validation loss for "loss"; else scikit-learn's scorer of
        that name, or the callable, as ``scorer(self, Xv, yv[, sample_weight=swv])``. NaN when
        the network's outputs are not finite (a diverging epoch)."""
        if self.scoring is None:
            return self._val_score(Xv, Yv, swv)
        if not np.isfinite(self.network_.predictor()(Xv)).all():
            return float("nan")
        if self.scoring == "loss":
            return -float(self.network_.loss(Xv, Yv, sample_weight=swv))
        yv = self._labels_of(Yv)
        scorer = self._scorer
        return float(scorer(self, Xv, yv) if swv is None else scorer(self, Xv, yv, sample_weight=swv))

    def _check_scoring(self):
        """scikit-learn's scorer for ``scoring`` (once per fit), or a ValueError naming it."""
        if self.scoring is None or self.scoring == "loss":
            return
        try:
            self._scorer = check_scoring(self, scoring=self.scoring)
        except (ValueError, TypeError):
            raise ValueError(f"scoring={self.scoring!r} is not a scorer: pass a name from "
                             "sklearn.metrics.get_scorer_names(), 'loss', a callable "
                             "scorer(estimator, X, y) or None (score's R² / accuracy)") from None

    def _penalty(self, net, weight):
        """scikit-learn's ½·alpha·‖W‖²/weight term of the reported loss (weight: Σ w of a batch)."""
        if not self.alpha:
            return 0.0
        return 0.5 * self.alpha * sum(float(np.dot(W.ravel(), W.ravel())) for W in net.weights) / weight

    def _fit_lbfgs(self, net, X, Y, sw):
        """Full-batch L-BFGS-B (SciPy) on the mean loss + ½·alpha·‖W‖²/n, gradient from the kernels.

        Batch norm normalizes with the full batch's statistics in every evaluation (training
        mode, which leaves the running statistics alone); they are set once, at the end."""
        n = X.shape[0] if sw is None else float(np.sum(sw))
        # converted once, so each evaluation's checks take their fast path
        X = X.astype(net.dtype) if _validate.is_sparse(X) else np.ascontiguousarray(X, dtype=net.dtype)
        Y = np.ascontiguousarray(Y, dtype=net.dtype).reshape(X.shape[0], -1)

        def data_loss_grad(theta):
            net.set_parameters(theta)
            return net.loss_and_gradient(X, Y, sw, training=True)

        res = self._lbfgs(net, n, data_loss_grad)
        if "batch" in net.norm:
            net.set_batch_statistics(X, sw)
        return self._lbfgs_done(net, res, n)

    def _lbfgs(self, net, n, data_loss_grad):
        """SciPy's L-BFGS-B from θ on data_loss_grad(θ) = (mean loss, its float64 gradient) of
        rows weighing n in all, plus ½·alpha·‖W‖²/n; θ ends at the result. (``fastnn.dask``
        passes a data_loss_grad that sums its rows' parts on a cluster.)"""
        mask = np.zeros(net.n_params)  # 1 on the W^[k] entries (not b̄, γ, β), which alpha penalises
        for W in net.unpack(mask)[0]:
            W[:] = 1

        def loss_grad(theta):
            value, g = data_loss_grad(theta)
            w = theta * mask
            return value + 0.5 * self.alpha * float(w @ w) / n, g + self.alpha * w / n

        options = {"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol}
        if _LBFGS_IPRINT:
            options["iprint"] = self.verbose - 1 if self.verbose else -1
        res = minimize(loss_grad, net.parameters.astype(np.float64), method="L-BFGS-B", jac=True,
                       options=options)
        net.set_parameters(res.x)
        return res

    def _lbfgs_done(self, net, res, n):
        """The fitted attributes after ``_lbfgs``, and scikit-learn's warning when it stopped short."""
        self.n_iter_ = int(res.nit)
        penalty = self._penalty(net, n)
        self.loss_ = (float(res.fun) - penalty) / self._loss_outputs + penalty
        self.loss_curve_ = None
        self.best_loss_ = self.validation_scores_ = self.best_validation_score_ = None
        self.t_ = 0
        if res.status != 0:
            warnings.warn(f"lbfgs failed to converge after {res.nit} iterations ({res.message}). "
                          "Increase max_iter or scale the data.", ConvergenceWarning, stacklevel=5)
        return self

    def _predict_raw(self, X):
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc", "coo"],
                          dtype=(np.float64, np.float32))
        net = self.network_  # (validate_data checked X's feature names)
        return net._predict(net._check_X(X, names=False))

    def to_onnx(self, path, **kwargs):
        """Write the fitted estimator as an ONNX model (``fastnn.export.to_onnx``).

        A regressor's output "y" is ``predict``; a classifier's outputs are "label"
        (``predict``) and "probabilities" (``predict_proba``, two columns for two classes), as
        skl2onnx writes scikit-learn's classifiers with ``options={"zipmap": False}``, with
        ``classes`` in the metadata. Inside a Pipeline, see ``register_skl2onnx``.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write.
        **kwargs
            ``opset``, ``input_name``, ``output_name``, ``label_name``, as
            ``fastnn.export.to_onnx`` takes them.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        from .export import to_onnx

        check_is_fitted(self, "network_")
        to_onnx(self, path, **kwargs)

    def to_torch(self):
        """The fitted ``network_`` as a ``torch.nn.Sequential`` (``Network.to_torch``).

        Returns
        -------
        torch.nn.Sequential
            Linear and activation modules holding copies of the weights.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        check_is_fitted(self, "network_")
        return self.network_.to_torch()

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multioutput": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A fastnn network behind scikit-learn's ``MLPRegressor`` interface.

    The same parameters as ``sklearn.neural_network.MLPRegressor``, with the same names,
    defaults and meaning, plus ``dtype``, ``n_jobs``, ``init`` and the deep-net options ``norm``,
    ``dropout`` and ``residual`` (off by default), and the robust and quantile losses
    scikit-learn's MLP lacks. With the default loss the network has identity output,
    ψ^[K](z) = z, and the seed's loss ½‖y − x̄^[K]‖² per sample. Needs scikit-learn:
    ``pip install "fastnn[sklearn]"``. The module docstring (``fastnn.estimators``) says how
    each parameter maps onto the network.

    Parameters
    ----------
    loss : {"squared_error", "poisson", "absolute_error", "huber", "quantile"}, default "squared_error"
        The loss, the first positional parameter as in scikit-learn ≥ 1.7: "squared_error" is
        the seed's ½(y − x̄^[K])² ("mse"); "poisson" half the Poisson deviance with the log link,
        ψ^[K] = exp, for counts y ≥ 0 (as scikit-learn's); fastnn's additions "absolute_error"
        (|y − x̄^[K]|, the conditional median), "huber" (threshold ``huber_epsilon``) and
        "quantile" (the pinball loss of ``quantile``).
    hidden_layer_sizes : array-like of int, or int, default (100,)
        The hidden layers' widths n_1, ..., n_{K-1}.
    activation : str, default "relu"
        ψ^[1..K-1], the hidden layers' activation: "relu", "identity", "logistic", "tanh", or
        fastnn's additions to scikit-learn's list, "leaky_relu", "softplus", "sigmoid" (the same
        as "logistic"), "gelu" (exact, with erf), "silu", "elu" (α = 1) and "selu".
    solver : {"adam", "sgd", "lbfgs"}, default "adam"
        "adam": ``fastnn.Adam``; "sgd": ``fastnn.SGD`` with ``momentum``,
        ``nesterovs_momentum`` and ``learning_rate``; "lbfgs": SciPy's L-BFGS-B on the
        full-batch loss and gradient.
    alpha : float, default 1e-4
        The L2 penalty ½·alpha·‖W‖²/n on the weights W^[k] (not the biases), ≥ 0. The stochastic
        solvers apply it as weight decay alpha / batch_size.
    batch_size : int or "auto", default "auto"
        Rows per minibatch; "auto" is min(200, n_samples). Not used by "lbfgs".
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        The learning-rate schedule of solver="sgd": "constant"; "invscaling",
        learning_rate_init / (t + 1)^power_t with t the samples seen; "adaptive", divided by 5
        each time the stopping rule fires, training stopping only once it is at most 1e-6.
    learning_rate_init : float, default 0.001
        The initial learning rate of "sgd" and "adam", > 0.
    power_t : float, default 0.5
        The exponent of learning_rate="invscaling", ≥ 0.
    max_iter : int, default 200
        The most epochs of "sgd" and "adam" (each row is seen once per epoch), or the most
        iterations of "lbfgs".
    shuffle : bool, default True
        Whether "sgd" and "adam" shuffle the rows before each epoch.
    random_state : int, RandomState instance or None, default None
        Seeds the initial weights (and the network's shuffling) and the early-stopping split.
    tol : float, default 1e-4
        The stopping rule: training stops when the loss (or, with early_stopping, the
        validation score) has not improved by at least tol for n_iter_no_change epochs in a row.
        For "lbfgs", the gradient tolerance.
    verbose : bool, default False
        Whether to print the loss (and the validation score) after each epoch.
    warm_start : bool, default False
        Whether ``fit`` starts from the weights of the previous fit instead of new ones (with a
        fresh optimizer, max_iter more epochs and ``n_iter_`` counting them, as scikit-learn).
    momentum : float, default 0.9
        The momentum of "sgd", in [0, 1).
    nesterovs_momentum : bool, default True
        Whether "sgd" uses Nesterov's momentum (when momentum > 0).
    early_stopping : bool, default False
        Whether "sgd" and "adam" hold out validation_fraction of the rows and stop when the
        validation score (R² or accuracy) has not improved by tol for n_iter_no_change epochs;
        the best-scoring weights are kept.
    validation_fraction : float, default 0.1
        The fraction of the rows held out with early_stopping, in [0, 1).
    beta_1 : float, default 0.9
        The decay rate of Adam's first moment, in [0, 1).
    beta_2 : float, default 0.999
        The decay rate of Adam's second moment, in [0, 1).
    epsilon : float, default 1e-8
        Adam's eps, > 0.
    n_iter_no_change : int or np.inf, default 10
        The epochs without improvement that the stopping rule tolerates, ≥ 1; np.inf: never stop
        early.
    max_fun : int, default 15000
        The most loss evaluations of "lbfgs".
    dtype : {"float32", "float64"} or None, default None
        The network's dtype; None trains in float32 when X is float32 and in float64
        otherwise. "float32" is about twice as fast on float64 input.
    n_jobs : int or None, default None
        The threads each batch is split over (``Network.fit(threads=)``): None picks by size,
        -1 is every core this process may use, -2 all but one.
    init : {"sklearn", "auto"}, default "sklearn"
        "sklearn" draws scikit-learn's Glorot-uniform W and b̄ from random_state, in its order:
        the weights scikit-learn's MLP starts from. "auto" keeps the Network's initial weights
        (He-normal for ReLU-like ψ, Glorot-uniform otherwise, b̄ = 0).
    norm : {None, "layer", "batch"} or list of them, default None
        Normalization of each hidden layer's z̄^[k] before ψ^[k], as ``Network(norm=)``: "layer"
        as PyTorch's ``nn.LayerNorm``, "batch" as ``nn.BatchNorm1d`` (batch statistics in
        training, running statistics in ``predict``; "lbfgs" sets them once from all of X). One
        value for every hidden layer or a list with one per hidden layer; the learned γ^[k],
        β^[k] are not penalised by alpha.
    dropout : float or list of float, default 0.0
        Dropout rate in [0, 1) of each hidden layer's output, in training only, as
        ``Network(dropout=)``; one for every hidden layer or one per hidden layer. "lbfgs"
        refuses rates above 0.
    residual : bool or list of bool, default False
        Identity skips x̄^[k] = x̄^[k-1] + d^[k], as ``Network(residual=)``: True for every hidden
        layer as wide as its input (at least one must be), or one bool per hidden layer.
    clip_norm : float or None, default None
        Clip each batch's gradient (all of θ) to this global norm before the step, as
        ``fastnn.Adam(clip_norm=)`` (Keras' ``global_clipnorm``, PyTorch's
        ``clip_grad_norm_``); > 0, or None. The stochastic solvers only; a clipped fit runs on
        one thread.
    scoring : str, callable or None, default None
        The validation score of early_stopping (``validation_scores_``, which it maximises), as
        ``HistGradientBoosting*``'s: None is ``score``'s (R², accuracy); "loss" is minus the
        mean validation loss; any other string is a scikit-learn scorer name
        (``sklearn.metrics.get_scorer_names()``, e.g. "neg_mean_absolute_error", "roc_auc");
        a callable is called as ``scoring(estimator, X_val, y_val)``.
    precision : {"float32", "bf16"}, default "float32"
        Of the stochastic solvers' matrix products, as ``Network(precision=)``: "bf16" runs
        them with bf16 operands and float32 accumulation (Intel MKL; a CPU with AVX512_BF16 or
        AMX-BF16), keeping float32 master weights, optimizer state and loss; dtype=None then
        trains in float32. "lbfgs" refuses it. Where bf16 cannot run, fit raises a ValueError
        saying what is missing.
    huber_epsilon : float, default 0.1
        loss="huber"'s threshold ε > 0 on the residual r = x̄^[K] − y: ½ r² for |r| ≤ ε, ε|r| − ½ε²
        beyond (scikit-learn's ``SGDRegressor(epsilon=)``; here ``epsilon`` is Adam's).
    quantile : float, default 0.5
        loss="quantile"'s q in (0, 1): the predictions estimate y's q-quantile
        (``HistGradientBoostingRegressor(quantile=)``).

    Attributes
    ----------
    network_ : Network
        The trained network (in the seed's notation: ``network_.weights[k-1]`` is W^[k]).
    coefs_ : list of ndarray
        W^[k] transposed, shape (n_{k-1}, n_k), for k = 1..K: views into the network's θ.
    intercepts_ : list of ndarray
        b̄^[k], shape (n_k,), for k = 1..K: views into the network's θ.
    n_layers_ : int
        K + 1, the layers counting the input.
    n_outputs_ : int
        n_K, the network's outputs.
    n_features_in_ : int
        n_0, the features seen by ``fit``.
    feature_names_in_ : ndarray of str
        The features' names, when ``fit`` got X with string column names.
    loss_ : float
        The loss after the last epoch (scikit-learn's: averaged over the outputs, summed over
        them for "poisson", plus the alpha penalty).
    loss_curve_ : list of float or None
        ``loss_`` after each epoch; None for "lbfgs".
    best_loss_ : float or None
        The lowest loss of ``loss_curve_``; None with early_stopping or "lbfgs".
    validation_scores_ : list of float or None
        The validation score after each epoch with early_stopping; else None.
    best_validation_score_ : float or None
        The best of ``validation_scores_``; None without early_stopping.
    n_iter_ : int
        The epochs trained (the iterations of "lbfgs").
    t_ : int
        The training samples seen, over every epoch (0 for "lbfgs").
    out_activation_ : str
        "identity" ("exp" for loss="poisson").

    See Also
    --------
    MLPClassifier : The classifier.
    fastnn.Network : The network it trains, with its own ``fit``.

    Examples
    --------
    >>> from fastnn import MLPRegressor
    >>> from sklearn.datasets import make_friedman1
    >>> X, y = make_friedman1(n_samples=1000, random_state=0)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=200,
    ...                    random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.8
    True
    >>> [W.shape for W in reg.coefs_]
    [(10, 32), (32, 1)]
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions(set(_REGRESSION_LOSSES))],
        "huber_epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "quantile": [Interval(numbers.Real, 0, 1, closed="neither")],
    }

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant", learning_rate_init=0.001,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dtype=None, n_jobs=None, init="sklearn", norm=None,
                 dropout=0.0, residual=False, clip_norm=None, scoring=None, huber_epsilon=0.1, quantile=0.5,
                 precision="float32"):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol,
                         verbose=verbose, warm_start=warm_start, momentum=momentum,
                         nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun, dtype=dtype,
                         n_jobs=n_jobs, init=init, norm=norm, dropout=dropout, residual=residual,
                         clip_norm=clip_norm, scoring=scoring, precision=precision)
        self.loss = loss
        self.huber_epsilon = huber_epsilon
        self.quantile = quantile

    _is_classifier = False

    def _loss_entry(self):
        name = _REGRESSION_LOSSES[self.loss]
        if name == "huber":
            return _losses.huber(self.huber_epsilon)
        if name == "quantile":
            return _losses.quantile(self.quantile)
        return _losses.get(name)

    @property
    def out_activation_(self):
        """ψ^[K]: "identity", or "exp" for loss="poisson" (scikit-learn's names)."""
        return "exp" if self.loss == "poisson" else "identity"

    def _out_link(self):
        return "exp" if self.loss == "poisson" else "identity"

    @property
    def _loss_outputs(self):
        """scikit-learn's loss_ averages the squared error over the outputs (and sums the Poisson
        deviance over them); fastnn's other losses average as the squared error."""
        return 1 if self.loss == "poisson" else self.network_.sizes[-1]

    def _encode_targets(self, y, first, incremental, classes):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:  # a column: 1-D, with scikit-learn's warning
            y = column_or_1d(y, warn=True)
        if first:
            self._y_ndim = y.ndim
        elif (y.ndim == 2 and y.shape[1] != self.network_.sizes[-1]) or (y.ndim == 1 and self.network_.sizes[-1] != 1):
            raise ValueError(f"y has {1 if y.ndim == 1 else y.shape[1]} outputs but the network was "
                             f"fitted with {self.network_.sizes[-1]}")
        return y.reshape(len(y), -1)

    def _labels_of(self, Y):
        return Y.ravel() if self._y_ndim == 1 else Y

    def _val_score(self, Xv, Yv, swv):
        P = self.network_.predictor()(Xv)
        if not np.isfinite(P).all():  # a diverging epoch: no score (scikit-learn records NaN)
            return float("nan")
        return float(r2_score(Yv, P, sample_weight=swv))

    def predict(self, X):
        """x̄^[K] for each row of X.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predictions; 1-D when fitted on a 1-D y.
        """
        P = self._predict_raw(X)
        return P.ravel() if self._y_ndim == 1 else P

    @available_if(_stochastic)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over X, y, continuing from the current weights (or new ones).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), optional
            One weight ≥ 0 per row.

        Returns
        -------
        self
            The estimator.

        Raises
        ------
        ValueError
            With solver="lbfgs" or early_stopping=True, or if the data is invalid.
        """
        return self._partial_fit(X, y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A fastnn network behind scikit-learn's ``MLPClassifier`` interface.

    The same parameters as ``sklearn.neural_network.MLPClassifier``, with the same names,
    defaults and meaning, plus ``dtype``, ``n_jobs``, ``init`` and the deep-net options ``norm``,
    ``dropout`` and ``residual`` (off by default). Needs scikit-learn:
    ``pip install "fastnn[sklearn]"``. The module docstring (``fastnn.estimators``) says how
    each parameter maps onto the network.

    Binary targets train one sigmoid output with binary cross-entropy, multiclass targets a
    softmax layer with cross-entropy, and multi-label indicator matrices one sigmoid output per
    label. Any labels (strings too) are accepted; ``classes_`` lists them.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, or int, default (100,)
        The hidden layers' widths n_1, ..., n_{K-1}.
    activation : str, default "relu"
        ψ^[1..K-1], the hidden layers' activation: "relu", "identity", "logistic", "tanh", or
        fastnn's additions to scikit-learn's list, "leaky_relu", "softplus", "sigmoid" (the same
        as "logistic"), "gelu" (exact, with erf), "silu", "elu" (α = 1) and "selu".
    solver : {"adam", "sgd", "lbfgs"}, default "adam"
        "adam": ``fastnn.Adam``; "sgd": ``fastnn.SGD`` with ``momentum``,
        ``nesterovs_momentum`` and ``learning_rate``; "lbfgs": SciPy's L-BFGS-B on the
        full-batch loss and gradient.
    alpha : float, default 1e-4
        The L2 penalty ½·alpha·‖W‖²/n on the weights W^[k] (not the biases), ≥ 0. The stochastic
        solvers apply it as weight decay alpha / batch_size.
    batch_size : int or "auto", default "auto"
        Rows per minibatch; "auto" is min(200, n_samples). Not used by "lbfgs".
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        The learning-rate schedule of solver="sgd": "constant"; "invscaling",
        learning_rate_init / (t + 1)^power_t with t the samples seen; "adaptive", divided by 5
        each time the stopping rule fires, training stopping only once it is at most 1e-6.
    learning_rate_init : float, default 0.001
        The initial learning rate of "sgd" and "adam", > 0.
    power_t : float, default 0.5
        The exponent of learning_rate="invscaling", ≥ 0.
    max_iter : int, default 200
        The most epochs of "sgd" and "adam" (each row is seen once per epoch), or the most
        iterations of "lbfgs".
    shuffle : bool, default True
        Whether "sgd" and "adam" shuffle the rows before each epoch.
    random_state : int, RandomState instance or None, default None
        Seeds the initial weights (and the network's shuffling) and the early-stopping split.
    tol : float, default 1e-4
        The stopping rule: training stops when the loss (or, with early_stopping, the
        validation score) has not improved by at least tol for n_iter_no_change epochs in a row.
        For "lbfgs", the gradient tolerance.
    verbose : bool, default False
        Whether to print the loss (and the validation score) after each epoch.
    warm_start : bool, default False
        Whether ``fit`` starts from the weights of the previous fit instead of new ones (with a
        fresh optimizer, max_iter more epochs and ``n_iter_`` counting them, as scikit-learn).
    momentum : float, default 0.9
        The momentum of "sgd", in [0, 1).
    nesterovs_momentum : bool, default True
        Whether "sgd" uses Nesterov's momentum (when momentum > 0).
    early_stopping : bool, default False
        Whether "sgd" and "adam" hold out validation_fraction of the rows and stop when the
        validation score (R² or accuracy) has not improved by tol for n_iter_no_change epochs;
        the best-scoring weights are kept.
    validation_fraction : float, default 0.1
        The fraction of the rows held out with early_stopping, in [0, 1).
    beta_1 : float, default 0.9
        The decay rate of Adam's first moment, in [0, 1).
    beta_2 : float, default 0.999
        The decay rate of Adam's second moment, in [0, 1).
    epsilon : float, default 1e-8
        Adam's eps, > 0.
    n_iter_no_change : int or np.inf, default 10
        The epochs without improvement that the stopping rule tolerates, ≥ 1; np.inf: never stop
        early.
    max_fun : int, default 15000
        The most loss evaluations of "lbfgs".
    dtype : {"float32", "float64"} or None, default None
        The network's dtype; None trains in float32 when X is float32 and in float64
        otherwise. "float32" is about twice as fast on float64 input.
    n_jobs : int or None, default None
        The threads each batch is split over (``Network.fit(threads=)``): None picks by size,
        -1 is every core this process may use, -2 all but one.
    init : {"sklearn", "auto"}, default "sklearn"
        "sklearn" draws scikit-learn's Glorot-uniform W and b̄ from random_state, in its order:
        the weights scikit-learn's MLP starts from. "auto" keeps the Network's initial weights
        (He-normal for ReLU-like ψ, Glorot-uniform otherwise, b̄ = 0).
    norm : {None, "layer", "batch"} or list of them, default None
        Normalization of each hidden layer's z̄^[k] before ψ^[k], as ``Network(norm=)``: "layer"
        as PyTorch's ``nn.LayerNorm``, "batch" as ``nn.BatchNorm1d`` (batch statistics in
        training, running statistics in ``predict``; "lbfgs" sets them once from all of X). One
        value for every hidden layer or a list with one per hidden layer; the learned γ^[k],
        β^[k] are not penalised by alpha.
    dropout : float or list of float, default 0.0
        Dropout rate in [0, 1) of each hidden layer's output, in training only, as
        ``Network(dropout=)``; one for every hidden layer or one per hidden layer. "lbfgs"
        refuses rates above 0.
    residual : bool or list of bool, default False
        Identity skips x̄^[k] = x̄^[k-1] + d^[k], as ``Network(residual=)``: True for every hidden
        layer as wide as its input (at least one must be), or one bool per hidden layer.
    clip_norm : float or None, default None
        Clip each batch's gradient (all of θ) to this global norm before the step, as
        ``fastnn.Adam(clip_norm=)`` (Keras' ``global_clipnorm``, PyTorch's
        ``clip_grad_norm_``); > 0, or None. The stochastic solvers only; a clipped fit runs on
        one thread.
    scoring : str, callable or None, default None
        The validation score of early_stopping (``validation_scores_``, which it maximises), as
        ``HistGradientBoosting*``'s: None is ``score``'s (R², accuracy); "loss" is minus the
        mean validation loss; any other string is a scikit-learn scorer name
        (``sklearn.metrics.get_scorer_names()``, e.g. "neg_mean_absolute_error", "roc_auc");
        a callable is called as ``scoring(estimator, X_val, y_val)``.
    precision : {"float32", "bf16"}, default "float32"
        Of the stochastic solvers' matrix products, as ``Network(precision=)``: "bf16" runs
        them with bf16 operands and float32 accumulation (Intel MKL; a CPU with AVX512_BF16 or
        AMX-BF16), keeping float32 master weights, optimizer state and loss; dtype=None then
        trains in float32. "lbfgs" refuses it. Where bf16 cannot run, fit raises a ValueError
        saying what is missing.
    class_weight : dict, "balanced" or None, default None
        Weights of the classes (what scikit-learn's own MLP lacks): a dict {label: weight}
        (labels not in it weigh 1) or "balanced", n_samples / (n_classes · count) from y. Each
        row's weight multiplies its sample_weight; fitting with class_weight equals fitting
        with ``sample_weight=sklearn.utils.class_weight.compute_sample_weight(class_weight, y)``.
        partial_fit takes a dict only.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted (for multi-label y, the label indices).
    network_ : Network
        The trained network (in the seed's notation: ``network_.weights[k-1]`` is W^[k]).
    coefs_ : list of ndarray
        W^[k] transposed, shape (n_{k-1}, n_k), for k = 1..K: views into the network's θ.
    intercepts_ : list of ndarray
        b̄^[k], shape (n_k,), for k = 1..K: views into the network's θ.
    n_layers_ : int
        K + 1, the layers counting the input.
    n_outputs_ : int
        n_K, the network's outputs.
    n_features_in_ : int
        n_0, the features seen by ``fit``.
    feature_names_in_ : ndarray of str
        The features' names, when ``fit`` got X with string column names.
    loss_ : float
        The loss after the last epoch (scikit-learn's: averaged over the outputs, plus the
        alpha penalty).
    loss_curve_ : list of float or None
        ``loss_`` after each epoch; None for "lbfgs".
    best_loss_ : float or None
        The lowest loss of ``loss_curve_``; None with early_stopping or "lbfgs".
    validation_scores_ : list of float or None
        The validation score after each epoch with early_stopping; else None.
    best_validation_score_ : float or None
        The best of ``validation_scores_``; None without early_stopping.
    n_iter_ : int
        The epochs trained (the iterations of "lbfgs").
    t_ : int
        The training samples seen, over every epoch (0 for "lbfgs").
    out_activation_ : str
        "softmax" (multiclass) or "logistic" (binary, multi-label).

    See Also
    --------
    MLPRegressor : The regressor.
    fastnn.Network : The network it trains, with its own ``fit``.

    Examples
    --------
    >>> from fastnn import MLPClassifier
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=200,
    ...                     random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> clf.classes_, clf.out_activation_
    (array([0, 1, 2]), 'softmax')
    >>> clf.predict_proba(X[:1]).shape  # one column per class, rows summing to 1
    (1, 3)
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dtype=None, n_jobs=None, init="sklearn", norm=None,
                 dropout=0.0, residual=False, clip_norm=None, scoring=None, class_weight=None,
                 precision="float32"):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol,
                         verbose=verbose, warm_start=warm_start, momentum=momentum,
                         nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun, dtype=dtype,
                         n_jobs=n_jobs, init=init, norm=norm, dropout=dropout, residual=residual,
                         clip_norm=clip_norm, scoring=scoring, precision=precision)
        self.class_weight = class_weight

    def _class_weights(self, y, incremental):
        """compute_sample_weight(class_weight, y): "balanced" weighs each class n / (n_classes ·
        its count), a dict maps labels to weights (others 1). partial_fit takes a dict only, as
        scikit-learn's SGDClassifier: "balanced" on one batch would weigh by that batch."""
        if self.class_weight is None:
            return None
        if incremental and self.class_weight == "balanced":
            raise ValueError("class_weight='balanced' is not supported by partial_fit (each call would weigh "
                             "by its own batch); pass a dict of weights computed on all of y, e.g. from "
                             "sklearn.utils.class_weight.compute_class_weight")
        return compute_sample_weight(self.class_weight, y)

    _is_classifier = True

    def _encode_targets(self, y, first, incremental, classes):
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = column_or_1d(y, warn=True)
        if first:
            if incremental and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._label_binarizer = LabelBinarizer()
            # (a multi-label indicator y names its classes by its columns: partial_fit's classes
            # only list them, as in scikit-learn)
            multilabel_y = type_of_target(y).startswith("multilabel")
            self._label_binarizer.fit(y if classes is None or not incremental or multilabel_y else classes)
            self.classes_ = self._label_binarizer.classes_
            if incremental and classes is not None and self._label_binarizer.y_type_ != "multilabel-indicator":
                unseen = np.setdiff1d(unique_labels(y), self.classes_)
                if len(unseen):  # scikit-learn's words
                    raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                     f"{self.classes_}. 'y' has {unique_labels(y)}.")
            multilabel = self._label_binarizer.y_type_ == "multilabel-indicator"
            n_out = len(self.classes_) if len(self.classes_) > 2 or multilabel else 1
            self._multilabel = multilabel
            self._loss_name = "cross_entropy" if n_out > 1 and not multilabel else "binary_cross_entropy"
            self.out_activation_ = "softmax" if self._loss_name == "cross_entropy" else "logistic"
        else:
            if not incremental and set(unique_labels(y)) != set(self.classes_):  # warm_start, scikit-learn's words
                raise ValueError("warm_start can only be used where `y` has the same classes as in the previous "
                                 f"call to fit. Previously got {self.classes_}, `y` has {unique_labels(y)}")
            if classes is not None and incremental and not np.array_equal(np.sort(classes), np.sort(self.classes_)):
                raise ValueError(f"classes={classes!r} is not the same as on the first call, {self.classes_!r}")
            unseen = np.setdiff1d(np.unique(y), self.classes_) if not self._multilabel else []
            if len(unseen):
                raise ValueError(f"y has classes {unseen.tolist()} not seen in the first fit; "
                                 f"expected a subset of {self.classes_.tolist()}")
        Y = self._label_binarizer.transform(y)
        return np.asarray(Y, dtype=np.float64)

    def _out_link(self):
        return "softmax" if self._loss_name == "cross_entropy" else "sigmoid"

    def _labels_of(self, Y):
        return self._label_binarizer.inverse_transform(Y)

    def _val_score(self, Xv, Yv, swv):
        return float(accuracy_score(self._label_binarizer.inverse_transform(Yv),
                                    self._decode(self.network_.predictor()(Xv)), sample_weight=swv))

    def _decode(self, P):
        if len(self.classes_) == 1:  # trained on one class: it is the answer
            return np.full(len(P), self.classes_[0])
        if self._multilabel:
            return (P > 0.5).astype(int)
        if P.shape[1] == 1:
            return self.classes_[(P[:, 0] > 0.5).astype(int)]
        return self.classes_[np.argmax(P, axis=1)]

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            Labels from ``classes_``; an indicator matrix (p > 0.5) for multi-label y.
        """
        return self._decode(self._predict_raw(X))

    def predict_proba(self, X):
        """Class probabilities, x̄^[K] of the softmax or sigmoid output.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in ``classes_`` order; a binary classifier's are [1 − p, p].
        """
        P = self._predict_raw(X)
        if len(self.classes_) == 1:
            return np.ones_like(P)
        if P.shape[1] == 1 and not self._multilabel:
            return np.hstack([1 - P, P])
        return P

    def predict_log_proba(self, X):
        """The logarithm of ``predict_proba`` (−inf where a probability is 0).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @available_if(_stochastic)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over X, y, continuing from the current weights (or new ones).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            The labels, all among ``classes``.
        sample_weight : array-like of shape (n_samples,), optional
            One weight ≥ 0 per row.
        classes : array-like, optional
            Every label; required on the first call, and the same on later ones.

        Returns
        -------
        self
            The estimator.

        Raises
        ------
        ValueError
            With solver="lbfgs" or early_stopping=True, without ``classes`` on the first call, or
            on a label not seen then.
        """
        return self._partial_fit(X, y, sample_weight, classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


# ------------------------------------------------------------------------------------ skl2onnx
def register_skl2onnx() -> None:
    """Teach skl2onnx fastnn's ``MLPClassifier`` and ``MLPRegressor``, so that
    ``skl2onnx.to_onnx`` converts them, alone or inside a ``Pipeline``.

    A classifier converts as skl2onnx converts scikit-learn's own: outputs ``output_label`` and
    ``output_probability`` (a ZipMap: one {class: p} per row) by default, or ``label`` and
    ``probabilities`` (N, C) with ``options={"zipmap": False}``; a regressor's output is
    ``variable``. The graph is ``onnx_model``'s, in the input's float type (Cast around a net
    of the other dtype). Calling it again does nothing new.

    Raises
    ------
    ImportError
        If skl2onnx is not installed (``pip install "fastnn[onnx]"``).

    Examples
    --------
    >>> import numpy as np, skl2onnx
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fastnn import MLPClassifier
    >>> from fastnn.estimators import register_skl2onnx
    >>> register_skl2onnx()
    >>> X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    >>> pipe = make_pipeline(StandardScaler(), MLPClassifier((4,), max_iter=2)).fit(X, y)
    >>> onx = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={"zipmap": False})
    >>> [o.name for o in onx.graph.output]
    ['label', 'probabilities']
    """
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(MLPClassifier, "FastnnMLPClassifier", calculate_linear_classifier_output_shapes,
                                _skl2onnx_convert, options={"zipmap": [True, False, "columns"], "nocl": [True, False]})
    update_registered_converter(MLPRegressor, "FastnnMLPRegressor", calculate_linear_regressor_output_shapes,
                                _skl2onnx_convert)


def _skl2onnx_convert(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter: ``onnx_model``'s nodes and initializers, renamed into its scope."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from .export import MIN_OPSET, OPSET, onnx_model

    est = operator.raw_operator
    opset = container.target_opset if isinstance(container.target_opset, int) else OPSET
    model = onnx_model(est, opset=max(MIN_OPSET, min(opset, onnx.defs.onnx_opset_version())),
                       input_name="x", output_name="out", label_name="label")
    g = model.graph
    want = TensorProto.DOUBLE if type(operator.inputs[0].type).__name__ == "DoubleTensorType" else TensorProto.FLOAT
    have = g.input[0].type.tensor_type.elem_type
    names: dict[str, str] = {"x": operator.inputs[0].full_name}
    if have != want:  # the input's float type to the net's, and its outputs back
        names["x"] = scope.get_unique_variable_name("x_cast")
        container.add_node("Cast", [operator.inputs[0].full_name], [names["x"]],
                           name=scope.get_unique_operator_name("Cast"), to=have)
    finals = dict(zip(["label", "out"] if len(g.output) == 2 else ["out"], operator.outputs))
    for out in g.output:
        final = finals[out.name].full_name
        names[out.name] = final if out.type.tensor_type.elem_type in (have, TensorProto.STRING, TensorProto.INT64) \
            and (have == want or out.name == "label") else scope.get_unique_variable_name(out.name)
        if names[out.name] != final:
            container.add_node("Cast", [names[out.name]], [final], name=scope.get_unique_operator_name("Cast"), to=want)

    def name(tensor: str) -> str:
        if tensor not in names:
            names[tensor] = str(scope.get_unique_variable_name(tensor))
        return names[tensor]

    for init in g.initializer:
        content = [v.decode() for v in init.string_data] if init.data_type == TensorProto.STRING else \
            numpy_helper.from_array(numpy_helper.to_array(init))  # (raw_data, which add_initializer copies)
        container.add_initializer(name(init.name), init.data_type, list(init.dims), content)
    for node in g.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(node.op_type, [name(i) for i in node.input], [name(o) for o in node.output],
                           name=scope.get_unique_operator_name(node.op_type), **attrs)
