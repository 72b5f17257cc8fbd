"""Memory: peak resident size of a large fit, and what each epoch allocates (target: nothing)."""
import tracemalloc

from .common import LR, N_OUT, fresh_net, mlp_sizes, regression_data, require, warm_jit


class FitMemory:
    """One epoch over 131072 rows × 64 float64 features (X alone is 64 MiB)."""

    def setup(self):
        require("fit")
        warm_jit("float64")
        self.X, self.Y = regression_data(131072, "float64", n_in=64)
        self.net = fresh_net([64, 64, 64, N_OUT], "float64")

    def peakmem_fit_large(self):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=256, lr=LR, seed=0)


class _EpochProbe:
    """Stands in for tqdm in ``fit(verbose=True)`` and records, for each epoch, tracemalloc's
    peak above the traced size at the epoch's start."""

    instances = []

    def __init__(self, iterable, *args, **kwargs):
        self.iterable, self.peaks = iterable, []
        _EpochProbe.instances.append(self)

    def __iter__(self):
        for item in self.iterable:
            tracemalloc.reset_peak()
            start = tracemalloc.get_traced_memory()[0]
            yield item
            self.peaks.append(tracemalloc.get_traced_memory()[1] - start)

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


class EpochAllocations:
    """Allocations of the epochs after the first in one fit (float32, 1024 rows, batch 32).

    The first epoch is left out: it may size buffers. Later epochs should allocate nothing.
    """

    epochs = 11

    def setup(self):
        require("fit")
        warm_jit("float32")
        self.X, self.Y = regression_data(1024, "float32")
        self.net = fresh_net(mlp_sizes(2, 64), "float32")
        self.fit(1)  # sizes the batch buffers that Network keeps between fits

    def fit(self, epochs, verbose=False):
        self.net.fit(self.X, self.Y, epochs=epochs, batch_size=32, lr=LR, seed=0, verbose=verbose)

    def track_alloc_bytes_per_epoch(self):
        """Python-heap bytes (tracemalloc) an epoch holds at its peak beyond its starting level,
        averaged over epochs 2..11. A floor of a few hundred bytes is the Python epoch loop's own
        small objects (floats, the progress-bar text); an array allocated per epoch or per batch
        adds its size. Numba's allocator is invisible to tracemalloc: see the NRT count below."""
        import tqdm
        import tqdm.auto

        saved = tqdm.tqdm, tqdm.auto.tqdm
        _EpochProbe.instances.clear()
        tqdm.tqdm = tqdm.auto.tqdm = _EpochProbe
        tracemalloc.start()
        try:
            self.fit(self.epochs, verbose=True)
        finally:
            tracemalloc.stop()
            tqdm.tqdm, tqdm.auto.tqdm = saved
        if not _EpochProbe.instances or len(_EpochProbe.instances[0].peaks) != self.epochs:
            raise NotImplementedError("fit(verbose=True) does not iterate epochs through tqdm")
        peaks = _EpochProbe.instances[0].peaks[1:]
        return sum(peaks) / len(peaks)

    track_alloc_bytes_per_epoch.unit = "bytes"

    def track_nrt_allocs_per_epoch(self):
        """Allocations counted by Numba's runtime (NRT) per epoch after the first: the fit of 11
        epochs minus the fit of 1, over 10. NRT also counts one per array handed from Python to a
        kernel (about ten per epoch), so the floor is that number; a kernel that allocates per
        batch adds at least one per batch (32 here)."""
        try:
            from numba.core.runtime import _nrt_python, rtsys

            _nrt_python.memsys_enable_stats()
        except (ImportError, AttributeError) as e:
            raise NotImplementedError(f"Numba's NRT statistics are unavailable: {e}") from None
        counts = []
        for epochs in (1, self.epochs):
            self.net = fresh_net(self.net.sizes, "float32")
            before = rtsys.get_allocation_stats().alloc
            self.fit(epochs)
            counts.append(rtsys.get_allocation_stats().alloc - before)
        return (counts[1] - counts[0]) / (self.epochs - 1)

    track_nrt_allocs_per_epoch.unit = "allocations"
