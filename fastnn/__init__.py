"""fastnn: fast CPU training of deep fully connected networks, with Numba-compiled backprop."""
from .activations import ACTIVATIONS
from .network import Backprop, DivergedError, Network

__version__ = "0.1.0"
__all__ = ["ACTIVATIONS", "Backprop", "DivergedError", "Network", "__version__"]
