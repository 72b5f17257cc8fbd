"""fastnn: fast CPU training of deep fully connected networks, with Numba-compiled backprop."""
from .activations import ACTIVATIONS
from .callbacks import Callback, EarlyStopping, History
from .losses import LOSSES
from .network import Backprop, Network
from .training import DivergedError
from .optimizers import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop
from .schedules import SCHEDULES

__version__ = "0.1.0"


def __getattr__(name):
    """MLPRegressor and MLPClassifier import scikit-learn, so only when first asked for."""
    if name in ("MLPRegressor", "MLPClassifier"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'fastnn' has no attribute {name!r}")
__all__ = ["ACTIVATIONS", "LOSSES", "OPTIMIZERS", "SCHEDULES", "Adam", "AdamW", "Backprop",
           "Callback", "DivergedError", "EarlyStopping", "History", "Network", "Optimizer", "RMSprop", "SGD", "__version__"]
