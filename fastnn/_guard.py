"""θ and its reader/writer guard: who may read the parameters while a fit writes them.

Inference calls (predict, loss, gradients, backprop, ``parameters``, export, save, a new
predictor) read θ; ``fit`` writes it. A fit owns θ: it waits for the calls already reading θ,
and until it ends, other threads' calls read a snapshot: a copy of θ at the start of the fit
or, once one of them asked, at the end of the last finished epoch. A second fit at the same
time is an error. Calls from the fitting thread itself (its callbacks) read θ directly.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np


class GuardedTheta:
    """The flat parameter vector θ (``array``) with its reader/writer protocol."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        # (``with`` takes the plain lock: a Condition's own __enter__ is a Python call, which
        # every one-row predict and fit paid; wait and notify_all go through the Condition)
        self._mutex = threading.Lock()
        self._lock = threading.Condition(self._mutex)
        self._owner: int | None = None  # the thread whose fit owns θ
        self._readers = 0  # inference calls reading θ itself
        self._snapshot: np.ndarray | None = None
        self.snapshot_wanted = False

    def read(self) -> tuple[np.ndarray, bool]:
        """The θ a call reads, and whether it must call ``done_reading``: θ itself, or during
        another thread's fit its snapshot."""
        with self._mutex:
            owner = self._owner
            if owner is not None and owner != threading.get_ident():
                self.snapshot_wanted = True
                assert self._snapshot is not None
                return self._snapshot, False
            self._readers += 1
            return self.array, True

    def done_reading(self) -> None:
        with self._mutex:
            self._readers -= 1
            if not self._readers and self._owner is not None:
                self._lock.notify_all()  # the fit waiting in claim

    def reading(self) -> _Reading:
        """``with guard.reading() as theta:`` a consistent θ for the duration of the block."""
        return _Reading(self)

    def training_elsewhere(self) -> bool:
        """True while another thread's fit owns θ."""
        owner = self._owner
        return owner is not None and owner != threading.get_ident()

    def claim(self) -> None:
        """A fit takes θ: later calls from other threads read a snapshot, and the fit starts
        once the calls already reading θ are done."""
        with self._mutex:
            if self._owner is not None:
                raise RuntimeError("fit: this network is already training (in another thread, or "
                                   "fit was called from one of its own callbacks); wait for that fit "
                                   "to end, or train a copy (copy.deepcopy(net))")
            self._snapshot = self.array.copy()
            self.snapshot_wanted = False
            self._owner = threading.get_ident()
            while self._readers:
                self._lock.wait()

    def publish(self) -> None:
        """A fresh snapshot for other threads (end of an epoch), if one of them asked."""
        if self.snapshot_wanted:
            with self._mutex:
                self._snapshot = self.array.copy()
                self.snapshot_wanted = False

    def release(self) -> None:
        with self._mutex:
            self._owner = None
            self._snapshot = None

    @contextlib.contextmanager
    def writing(self, what: str) -> Iterator[np.ndarray]:
        """``with guard.writing("set_parameters") as theta:`` θ to write in place: from the
        fitting thread (a callback) directly; otherwise as a fit would take it (after the
        readers, refused while another thread trains)."""
        if self._owner == threading.get_ident():
            yield self.own()
            return
        with self._mutex:
            if self._owner is not None:
                raise RuntimeError(f"{what}: this network is training in another thread; call it "
                                   "from one of that fit's callbacks, or after fit returns")
        self.claim()
        try:
            yield self.own()
        finally:
            self.release()

    def own(self) -> np.ndarray:
        """θ made writable memory of its own (a network loaded read-only with
        ``joblib.load(mmap_mode="r")`` copies it first; the file is never written)."""
        if not self.array.flags.writeable:
            self.array = np.array(self.array)
        return self.array


class _Reading:
    """``GuardedTheta.reading()``'s context manager (a class: a generator-based one costs about
    a microsecond more per call, which one-row predicts pay)."""

    __slots__ = ("_counted", "_guard")

    def __init__(self, guard: GuardedTheta) -> None:
        self._guard = guard
        self._counted = False

    def __enter__(self) -> np.ndarray:
        theta, self._counted = self._guard.read()
        return theta

    def __exit__(self, *exc: object) -> None:
        if self._counted:
            self._guard.done_reading()
