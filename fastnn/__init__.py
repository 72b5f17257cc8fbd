"""fastnn: fast CPU training of deep fully connected networks, with Numba-compiled backprop."""
from .activations import ACTIVATIONS
from .callbacks import Callback, EarlyStopping, History
from .losses import LOSSES
from .network import Backprop, DivergedError, Network
from .optimizers import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop
from .schedules import SCHEDULES

__version__ = "0.1.0"
__all__ = ["ACTIVATIONS", "LOSSES", "OPTIMIZERS", "SCHEDULES", "Adam", "AdamW", "Backprop",
           "Callback", "DivergedError", "EarlyStopping", "History", "Network", "Optimizer", "RMSprop", "SGD", "__version__"]
