"""Type aliases for fastnn's annotations.

Modules import them under ``typing.TYPE_CHECKING`` only (their annotations are strings, by
``from __future__ import annotations``), so none of this runs when fastnn is imported.
"""
from __future__ import annotations

import os
from typing import Any, Union

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]
"""A float32 or float64 array: θ, a batch buffer, a row block of X or Y."""

PathLike = Union[str, "os.PathLike[str]"]
"""A file name, as ``open`` takes it."""
