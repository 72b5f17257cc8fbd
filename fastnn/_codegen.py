"""Generated source, written to a cache folder as an ordinary module so Numba can cache it.

``_dispatch`` (the per-code branches over the activation, loss and optimizer tables) and
``_unrolled`` (straight-line epochs for tiny nets) both write Python source, then import it from
here. The module name carries a hash of the source, so a changed table or generator gets a new
module (and new compiled code), and an unchanged one is compiled once per machine.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile

_loaded = {}

# Numba checks a cached function only against its own file, not against the functions it calls
# from other files: after an edit to losses.py, _kernels would keep running the old loss. The
# fingerprint of every file with jitted code is therefore written into the generated sources
# (their module names change with it) and kept beside the cache, which is cleared when it changes.
_JITTED = ("_blas", "_codegen", "_dispatch", "_jit", "_kernels", "_layout", "_sync", "_unrolled",
           "activations", "losses", "optimizers")


def _fingerprint():
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha1()
    for name in _JITTED:
        with open(os.path.join(here, name + ".py"), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


FINGERPRINT = _fingerprint()


def drop_stale_cache(dispatcher):
    """Delete the cached kernels in ``dispatcher``'s cache folder if they were compiled from
    other sources than these (call before any kernel runs)."""
    try:
        folder = dispatcher._cache._cache_path
        stamp = os.path.join(folder, "fastnn-sources")
        with open(stamp) as f:
            if f.read() == FINGERPRINT:
                return
    except (AttributeError, OSError):
        pass
    try:
        for name in os.listdir(folder):
            if name.endswith((".nbi", ".nbc")) and name.split(".")[0] in _JITTED:
                os.remove(os.path.join(folder, name))
        with open(stamp, "w") as f:
            f.write(FINGERPRINT)
    except (NameError, OSError):  # no cache folder, or one we may not write: nothing cached
        pass


def _folder():
    base = os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") \
        or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "fastnn_generated")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        folder = os.path.join(tempfile.gettempdir(), "fastnn_generated")
        os.makedirs(folder, exist_ok=True)
    return folder


def load(prefix, src):
    """Import ``src`` as a module named ``prefix_<hash>`` (written once, atomically)."""
    src = f"# fastnn sources {FINGERPRINT}\n{src}"
    name = f"{prefix}_{hashlib.sha1(src.encode()).hexdigest()[:16]}"
    if name in _loaded:
        return _loaded[name]
    folder = _folder()
    path = os.path.join(folder, name + ".py")
    if not os.path.exists(path):  # concurrent processes may race here: each replaces whole files
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(src)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _loaded[name] = module
    return module
