"""Atomic file writes: readers see the old file or the new one, never half of one."""
import os
import tempfile


def atomic_write(path, write, mode="wb", **open_kw):
    """Call ``write(f)`` on a temporary file in ``path``'s folder, fsync it, then os.replace."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes it 0600; give it a normal file's mode
        with os.fdopen(fd, mode, **open_kw) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
