"""Compile time: a fresh process imports fastnn and runs its first fit, with Numba's on-disk
cache empty (every kernel compiles) or warm (kernels load from the cache)."""
import os
import subprocess
import sys

from . import common

FIRST_FIT = """
import numpy as np
from fastnn import Network
X = np.random.default_rng(0).uniform(-1, 1, size=(64, 8)).astype("float32")
Network([8, 16, 16, 1], seed=0).fit(X, X[:, :1] ** 2, epochs=1, batch_size=16, seed=0)
"""
# a tiny net's unrolled epoch with Adam (its own optimizer dispatch), and a net with layer norm
# (its variant's extended steps, serial)
FIRST_FIT_TINY = FIRST_FIT.replace("Network([8, 16, 16, 1], seed=0)", "Network([8, 2, 1], seed=0)").replace(
    "seed=0)\n", "seed=0, optimizer='adam')\n")
FIRST_FIT_LAYER_NORM = FIRST_FIT.replace("seed=0)", "seed=0, norm='layer')", 1)
_COLD = ("import os, tempfile\n"
         "os.environ['NUMBA_CACHE_DIR'] = tempfile.mkdtemp(dir={root!r})\n"
         "os.environ.pop('FASTNN_KERNELS', None)\n")


class ImportAndFirstFit:
    """Seconds from ``import fastnn`` to the end of a first one-epoch fit, in a new process."""

    number = 1
    warmup_time = 0  # a warm-up would be one more full compile
    repeat = (1, 3, 120.0)
    timeout = 600

    def setup_cache(self):
        """Make sure Numba's default cache holds the first fit's kernels (a no-op when the
        suite's import already put them there), and return a scratch folder for the cold
        caches: asv runs this in a folder of its own and removes it after the run."""
        if common.Network is not None:
            env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "FASTNN_KERNELS")}
            subprocess.run([sys.executable, "-c", FIRST_FIT], env=env, check=True)
        return os.getcwd()

    def setup(self, root):
        common.require("fit")

    def timeraw_import_fit_cold_cache(self, root):
        # A new empty cache folder for every sample, made before the clock starts; the default
        # kernel mode (asv.conf.json sets FASTNN_KERNELS=generic for the other benchmarks).
        return FIRST_FIT, _COLD.format(root=root)

    def timeraw_import_fit_cold_cache_tiny_adam(self, root):
        return FIRST_FIT_TINY, _COLD.format(root=root)

    def timeraw_import_fit_cold_cache_layer_norm(self, root):
        return FIRST_FIT_LAYER_NORM, _COLD.format(root=root)

    def timeraw_import_fit_warm_cache(self, root):
        # Numba's default cache, filled by setup_cache (in the default kernel mode).
        return FIRST_FIT, "import os\nos.environ.pop('NUMBA_CACHE_DIR', None)\nos.environ.pop('FASTNN_KERNELS', None)\n"
