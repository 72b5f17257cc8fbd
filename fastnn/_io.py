"""Atomic file writes: readers see the old file or the new one, never half of one."""
import errno
import os
import secrets


def atomic_write(path, write, mode="wb", **open_kw):
    """Call ``write(f)`` on a new temporary file in ``path``'s folder, fsync it, then rename it
    over ``path``. ``mode`` is a write mode ("wb", "w"); ``open_kw`` go to ``open``.

    If ``write`` raises, or the disk fills up, the temporary file is removed and ``path`` keeps
    its previous content; a killed process can leave a ``.<hex>.tmp`` file behind, never a
    half-written ``path``. The new file takes the old file's permission bits when ``path``
    exists, else 0o666 less the umask, applied by the kernel (the process umask is never read
    or changed). An ``OSError`` names ``path``, never the temporary file, and keeps its type:
    ``FileNotFoundError`` when the folder does not exist, ``PermissionError``, ``OSError``
    with errno ENOSPC for a full disk.
    """
    path = os.fspath(path)
    if "w" not in mode:
        raise ValueError(f"mode must be a write mode such as 'wb' or 'w', got {mode!r}")
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{secrets.token_hex(8)}.tmp")
    try:
        old_mode = os.stat(path).st_mode & 0o7777
    except OSError:
        old_mode = None
    try:  # "x": O_CREAT | O_EXCL with mode 0o666, which the kernel reduces by the umask
        f = open(tmp, mode.replace("w", "x"), **open_kw)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise OSError(e.errno, f"No such folder {folder!r} to write into", path) from None
        raise _naming(e, path) from None
    try:
        with f:
            if old_mode is not None:
                os.chmod(tmp, old_mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and e.errno is not None:
            raise _naming(e, path) from None
        raise


def _naming(e, path):
    """``e``'s error again, about ``path`` rather than the temporary file (OSError picks the
    subclass from the errno, as ``open`` does)."""
    return OSError(e.errno, e.strerror or os.strerror(e.errno), path)
