"""Type aliases for fastnn's annotations.

Modules import them under ``typing.TYPE_CHECKING`` only (their annotations are strings, by
``from __future__ import annotations``), so none of this runs when fastnn is imported.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol, Union

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]
"""A float32 or float64 array: θ, a batch buffer, a row block of X or Y."""

PathLike = Union[str, "os.PathLike[str]"]
"""A file name, as ``open`` takes it."""


class NetworkLike(Protocol):
    """What the modules on top of ``Network`` (the fit loop, callbacks, persistence, export) use
    of it: its public face, named here so that they need not import ``network`` (which imports
    them)."""

    sizes: list[int]
    activations: list[str]
    loss_name: str
    dtype: np.dtype[Any]
    optimizer: Any  # an optimizers.Optimizer or None (not imported: optimizers imports this module)
    feature_names_in_: npt.NDArray[Any] | None
    classes: npt.NDArray[Any] | None
    preprocess: Any  # a preprocess.Preprocess or None
    norm: list[str | None]  # per hidden layer k = 1..K−1
    dropout: list[float]
    residual: list[bool]
    epochs_trained: int
    dropout_seed: int

    @property
    def n_params(self) -> int: ...

    @property
    def n_layers(self) -> int: ...

    @property
    def parameters(self) -> FloatArray: ...

    def unpack(self, vector: FloatArray) -> tuple[list[FloatArray], list[FloatArray]]: ...

    def set_parameters(self, theta: Any) -> None: ...

    @property
    def norm_scales(self) -> list[FloatArray | None]: ...

    @property
    def norm_shifts(self) -> list[FloatArray | None]: ...

    @property
    def running_means(self) -> list[FloatArray | None]: ...

    @property
    def running_vars(self) -> list[FloatArray | None]: ...

    def unpack_norm(self, vector: FloatArray) -> tuple[list[FloatArray | None], list[FloatArray | None]]: ...

    def set_running_stats(self, means: Any, variances: Any) -> None: ...

    def snapshot(self) -> FloatArray: ...

    def restore(self, snapshot: Any) -> None: ...


Logs = dict[str, float]
"""One epoch's logs, as ``fit`` hands them to the callbacks: ``loss``, ``time``, ``lr``,
``val_loss``, ``val_<metric>``, and any key a callback adds."""

CallbackFunction = Callable[[NetworkLike, int, Logs], "bool | None"]
"""A callback given as a plain function ``f(net, epoch, logs)``; returning True stops training."""
