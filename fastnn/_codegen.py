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
