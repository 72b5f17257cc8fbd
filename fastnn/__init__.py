"""fastnn: fast CPU training of deep fully connected networks, with Numba-compiled backprop.

The layers follow the seed's notation: x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]) for k = 1..K, with
``net.weights[k-1]`` holding W^[k] (shape n_k × n_{k-1}) and ``net.biases[k-1]`` holding b̄^[k].

Examples
--------
>>> import numpy as np, fastnn
>>> X = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
>>> net = fastnn.Network([1, 16, 1], seed=0)
>>> history = net.fit(X, X**2, epochs=5, lr=0.05, verbose=False)
>>> net.predict(X).shape
(64, 1)
"""
from typing import TYPE_CHECKING, Any

from ._blas import bf16_missing, gemm_library
from ._engine import kernel_mode
from .activations import ACTIVATIONS
from .callbacks import Callback, EarlyStopping, History
from .losses import LOSSES
from .network import Backprop, Network
from .optimizers import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop
from .schedules import SCHEDULES
from .training import DivergedError

if TYPE_CHECKING:  # imported on first use at run time (they import scikit-learn): __getattr__
    from .estimators import MLPClassifier as MLPClassifier
    from .estimators import MLPRegressor as MLPRegressor

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """MLPRegressor and MLPClassifier import scikit-learn, so only when first asked for."""
    if name in ("MLPRegressor", "MLPClassifier"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'fastnn' has no attribute {name!r}")
__all__ = ["ACTIVATIONS", "LOSSES", "OPTIMIZERS", "SCHEDULES", "SGD", "Adam", "AdamW", "Backprop",
           "Callback", "DivergedError", "EarlyStopping", "History", "Network", "Optimizer", "RMSprop",
           "__version__", "bf16_missing", "gemm_library", "kernel_mode"]
