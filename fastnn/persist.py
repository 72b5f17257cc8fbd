"""Saving and loading networks: the model file format, written atomically, read trusting nothing.

``save`` writes a zip of ``.npy`` members (``np.savez``) next to the target and renames it over
it. ``load`` checks a file in this order and
allocates nothing sized by the file until the checks before have passed:

1. every member's ``.npy`` header (shape and dtype, read without the data) against the member's
   size in the zip and the archive's size; object arrays are refused, never unpickled;
2. the small fields (format_version, sizes, activations, loss, dtype, feature_names, rng,
   optimizer; from format 4 norm, dropout, residual, epochs_trained, dropout_seed; from format
   5 classes and preprocess), after checking they fit in memory;
3. the parameter count that ``sizes`` and ``norm`` imply (in Python ints) against the
   ``params``, ``optimizer_state`` and ``running_stats`` headers, and θ plus the optimizer
   state and the running statistics against the memory available;
4. then the network is built without drawing random weights, and θ, the running statistics
   and the optimizer state are read into it in chunks, each checked finite.

The hidden layers' options (format 4) are one entry per hidden layer k = 1..K−1: ``norm`` a
string array ("" for none, "layer", "batch"), ``dropout`` the rates (float64), ``residual``
booleans; ``running_stats`` holds, for each batch norm layer in order, its running mean then
its running variance (n_k each, in the network's dtype; empty without batch norm).

Format 5 adds ``classes`` (the outputs' class labels, a JSON list of strings or of integers; ""
for none) and ``preprocess`` (``Preprocess.to_dict()`` as JSON; "" for none).

A missing file is a ``FileNotFoundError`` (as ``np.load`` and ``joblib.load`` raise); every other
problem, including a damaged zip, is a ``ValueError`` naming the file and the field.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, TypedDict, TypeVar, cast

import numpy as np

from . import activations as _act
from . import losses as _losses
from . import optimizers as _opt
from . import schedules as _schedules
from ._io import atomic_write
from ._validate import DTYPES as _DTYPES
from .preprocess import Preprocess, check_classes

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._typing import FloatArray, NetworkLike, PathLike

N = TypeVar("N", bound="NetworkLike")  # the class load builds: Network, or a subclass

# 2: loss, optimizer state and the shuffling generator's state; 3: feature names; 4: the hidden
# layers' norm, dropout and residual, batch norm's running statistics, epochs_trained and
# dropout_seed (the dropout masks' keys); 5: the loss's parameter (Huber's ε, the quantile q),
# classes and preprocess. 1 to 4 still load (as nets without those options).
FORMAT_VERSION = 5

_CHUNK = 1 << 22  # bytes of a big array read at a time
_LAYER_BYTES = 1024  # memory per layer besides θ: its layout row, W^[k] and b̄^[k] views (~370 measured)
# What reading a damaged or hostile zip can raise; each becomes a ValueError naming the field.
# RuntimeError covers encrypted members and RecursionError (deeply nested JSON).
_READ_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, EOFError, OSError,
                zipfile.BadZipFile, zlib.error, struct.error, RuntimeError, MemoryError, SyntaxError)
_BIG = ("params", "optimizer_state", "running_stats")  # read last, in chunks, into the network
_KINDS = {  # field: (dtype kinds, ndim); format_version (an integer scalar) is read first
    "sizes": ("iu", 1), "activations": ("U", 1), "loss": ("U", 0), "loss_param": ("f", 0),
    "dtype": ("U", 0), "rng": ("U", 0), "optimizer": ("U", 0), "feature_names": ("U", 1),
    "norm": ("U", 1), "dropout": ("f", 1), "residual": ("b", 1),
    "epochs_trained": ("iu", 0), "dropout_seed": ("iu", 0), "classes": ("U", 0), "preprocess": ("U", 0),
    "params": ("f", 1), "optimizer_state": ("f", 1), "running_stats": ("f", 1),
}
_SINCE = {"loss": 2, "rng": 2, "optimizer": 2, "optimizer_state": 2, "feature_names": 3,  # else 1
          "norm": 4, "dropout": 4, "residual": 4, "epochs_trained": 4, "dropout_seed": 4, "running_stats": 4,
          "loss_param": 5, "classes": 5, "preprocess": 5}
_NORMS = {"": None, "layer": "layer", "batch": "batch"}  # the norm field's entries: Network's norm
_COUNT_LIMIT = 2**63  # epochs_trained and dropout_seed: the kernels hold them as int64


class _Refused(ValueError):
    """A check failed; the message already names the file and the field."""


def available_memory() -> int | None:
    """Bytes this process can still allocate: the least of the system's MemAvailable (else its
    physical memory), RLIMIT_AS less the address space in use, and the room left under the
    memory limits of this process's cgroup (``cgroup_memory_free``).

    Returns
    -------
    int or None
        The bytes, or None if none of those is known.
    """
    limits = []
    try:
        with open("/proc/meminfo") as f:
            limits += [int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:")]
    except (OSError, ValueError, IndexError):
        pass
    if not limits:
        try:
            limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, OSError, ValueError):
            pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/status") as f:
                used = [int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")]
            limits.append(soft - (used[0] if used else 0))
    except (ImportError, OSError, ValueError, IndexError):
        pass
    cgroup = cgroup_memory_free()
    if cgroup is not None:
        limits.append(cgroup)
    return min(limits) if limits else None


_NO_LIMIT = 1 << 62  # cgroup v1 writes "no limit" as LONG_MAX rounded down to a page (9223372036854771712)


def cgroup_memory_free(root: PathLike = "/") -> int | None:
    """Bytes left under the memory limits of this process's cgroup.

    The process's cgroup comes from ``/proc/self/cgroup`` (v2: the ``0::`` line; v1: the line
    whose controllers include ``memory``), its folder from the cgroup mounts in
    ``/proc/self/mountinfo`` (else the usual ``/sys/fs/cgroup``, ``/sys/fs/cgroup/unified`` and
    ``/sys/fs/cgroup/memory``). Every level from that folder up to the mount's root counts, since
    a parent's limit binds its children too. A level's room is its limit (v2 ``memory.max``,
    "max" meaning none; v1 ``memory.limit_in_bytes``) less its usage (``memory.current``;
    ``memory.usage_in_bytes``) plus the inactive page cache the kernel reclaims before it kills
    (``inactive_file``; v1 ``total_inactive_file``, from ``memory.stat``), the working set as the
    kubelet counts it. Missing or unreadable files leave that level out.

    Parameters
    ----------
    root : str or os.PathLike, default "/"
        The file system root all those paths are read under (tests point it at fake trees).

    Returns
    -------
    int or None
        The least room over the levels (0 if one is over its limit), or None if no limit
        applies (or there are no cgroups: not Linux, or nothing readable).
    """
    def rooted(path: str) -> str:
        return os.path.join(root, path.lstrip("/"))

    try:
        with open(rooted("/proc/self/cgroup")) as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    groups: dict[int, str] = {}  # version: the process's cgroup path
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            groups[2] = parts[2]
        elif "memory" in parts[1].split(","):
            groups[1] = parts[2]
    free: list[int] = []
    for version, mount, mount_root in _cgroup_mounts(rooted):
        if version not in groups:
            continue
        top = os.path.normpath(rooted(mount))
        # The process's folder below the mount point. A path outside the mount's root (another
        # cgroup namespace's view) or climbing out with ".." leaves only the mount point itself.
        below = os.path.relpath(os.path.normpath("/" + groups[version].lstrip("/")),
                                os.path.normpath("/" + mount_root.lstrip("/")))
        level = top if below in (".", "..") or below.startswith("../") else os.path.join(top, below)
        while True:
            room = _cgroup_room(level, version)
            if room is not None:
                free.append(room)
            if level == top:
                break
            level = os.path.dirname(level)
    return max(0, min(free)) if free else None


def _unescape(text: str) -> str:
    """A mountinfo path: space, tab, newline and backslash are written as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def _cgroup_mounts(rooted: Callable[[str], str]) -> list[tuple[int, str, str]]:
    """[(version, mount point, the mount's root cgroup)] for the cgroup2 mounts and the v1 memory
    mounts in mountinfo (fields: id, parent, dev, root, mount point, ..., "-", fstype, source,
    options); the usual places if mountinfo lists none."""
    mounts: list[tuple[int, str, str]] = []
    try:
        with open(rooted("/proc/self/mountinfo")) as f:
            for line in f:
                fields = line.split()
                if "-" not in fields[5:]:
                    continue
                sep = fields.index("-", 5)
                tail = [*fields[sep + 1:], "", "", ""]
                fstype, options = tail[0], tail[2].split(",")
                if fstype == "cgroup2" or (fstype == "cgroup" and "memory" in options):
                    mounts.append((2 if fstype == "cgroup2" else 1, _unescape(fields[4]),
                                   _unescape(fields[3])))
    except (OSError, UnicodeDecodeError):
        pass
    return mounts or [(2, "/sys/fs/cgroup", "/"), (2, "/sys/fs/cgroup/unified", "/"),
                      (1, "/sys/fs/cgroup/memory", "/")]


def _cgroup_room(folder: str, version: int) -> int | None:
    """One cgroup level's limit less its working set, or None if it has no limit or no files."""
    limit_file, usage_file, cache_key = (("memory.max", "memory.current", "inactive_file") if version == 2
                                         else ("memory.limit_in_bytes", "memory.usage_in_bytes",
                                               "total_inactive_file"))
    try:
        with open(os.path.join(folder, limit_file)) as f:
            text = f.read().strip()
        if text == "max":
            return None
        limit = int(text)
        if limit >= _NO_LIMIT:
            return None
        with open(os.path.join(folder, usage_file)) as f:
            usage = int(f.read().strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    cache = 0
    try:
        with open(os.path.join(folder, "memory.stat")) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == cache_key:
                    cache = int(value)
                    break
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    return limit - max(0, usage - cache)


def _quote(value: object, limit: int = 80) -> str:
    """repr(value), shortened: a hostile file's strings end up in error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Member:
    """One ``.npy`` member: its zip entry and its header (shape, dtype), data not yet read."""

    def __init__(self, info: zipfile.ZipInfo, shape: tuple[int, ...], dtype: np.dtype[Any], fortran: bool,
                 offset: int) -> None:
        self.info, self.shape, self.dtype, self.fortran, self.offset = info, shape, dtype, fortran, offset
        self.size = 1
        for n in shape:
            self.size *= n
        self.nbytes = self.size * dtype.itemsize


class _Fields(TypedDict):
    """What ``_ModelFile.read`` returns: the checked small fields; θ and the optimizer state are
    still unread."""

    sizes: list[int]
    loss: _losses.Loss
    activations: list[str]
    dtype: np.dtype[Any]
    feature_names: npt.NDArray[np.object_] | None
    rng: dict[str, Any] | None  # the shuffling generator's PCG64 state
    optimizer: _opt.Optimizer | None  # without its state buffers
    has_state: bool  # the file holds optimizer state to ``fill`` into it
    norm: list[str | None]  # per hidden layer k = 1..K−1, as Network's norm
    dropout: list[float]
    residual: list[bool]
    epochs_trained: int
    dropout_seed: int
    n_params: int  # θ's length: W^[k], b̄^[k] and, for layers with norm, γ^[k], β^[k]
    n_running: int  # running_stats' length: 2 n_k per batch norm layer
    classes: npt.NDArray[Any] | None
    preprocess: Preprocess | None


class _ModelFile:
    # Set by open().
    archive_size: int
    version: int
    members: dict[str, _Member]  # field: its checked header

    def __init__(self, path: PathLike) -> None:
        self.path = os.fspath(path)
        self.field: str | None = None  # what is being read, for the error message
        self.zip: zipfile.ZipFile | None = None

    def refuse(self, why: str) -> _Refused:
        """The error for ``why``, naming the file and the field being read."""
        where = f", field {self.field!r}" if self.field else ""
        return _Refused(f"fastnn model file {self.path!r}{where}: {why}")

    # ------------------------------------------------------------------ the zip and its headers
    def open(self) -> None:
        self.field = None
        try:
            self.archive_size = os.path.getsize(self.path)
            self.zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as e:
            raise self.refuse(f"not an .npz (zip) archive, or a damaged one ({e})") from None
        infos = {i.filename[:-4]: i for i in self.zip.infolist() if i.filename.endswith(".npy")}
        self.version = self._version(infos)
        for field, (kinds, ndim) in _KINDS.items():
            if self.version < _SINCE.get(field, 1):
                continue
            self.field = field
            if field not in infos:
                raise self.refuse(f"missing (a format-{self.version} file has {field}.npy)")
            self.members[field] = m = self._header(infos[field])
            if m.dtype.kind not in kinds or len(m.shape) != ndim:
                what = {"iu": "integer", "U": "string", "f": "floating-point", "b": "boolean"}[kinds]
                raise self.refuse(f"expected a {ndim}-D {what} array, got {m.dtype.str} of shape {m.shape}")

    def _version(self, infos: dict[str, zipfile.ZipInfo]) -> int:
        self.field = "format_version"
        if "format_version" not in infos:
            raise self.refuse("missing; this is not a file written by Network.save")
        m = self._header(infos["format_version"])
        if m.dtype.kind not in "iu" or m.shape != ():
            raise self.refuse(f"expected an integer scalar, got {m.dtype.str} of shape {m.shape}")
        self.members = {"format_version": m}
        version = int(self._data(m)[()])
        if version > FORMAT_VERSION:
            raise self.refuse(f"version {version} is not supported (expected 1 to {FORMAT_VERSION}); "
                              "a newer fastnn may read it")
        if version < 1:  # fastnn's first format was 1: no fastnn reads this, older or newer
            raise self.refuse(f"version {version} is invalid: fastnn's formats start at 1 and this one "
                              f"reads 1 to {FORMAT_VERSION}; the file is damaged or not written by "
                              "Network.save")
        return version

    def _header(self, info: zipfile.ZipInfo) -> _Member:
        """The member's ``.npy`` header, checked against the member's size; no data read."""
        if info.flag_bits & 0x1:
            raise self.refuse("the zip member is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.refuse(f"zip compression method {info.compress_type} (np.savez writes 0 or 8)")
        if info.compress_size > self.archive_size or (
                info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size):
            raise self.refuse(f"the zip directory claims {info.compress_size:,} bytes of data but the "
                              f"file has {self.archive_size:,}; it is truncated or damaged")
        assert self.zip is not None  # open() opened it
        with self.zip.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version not in ((1, 0), (2, 0)):
                raise self.refuse(f".npy format version {version} (np.savez writes 1.0 or 2.0 here)")
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            try:
                shape, fortran, dtype = read(fp)
            except Exception as e:  # the header parser lets ast's and tokenize's errors through
                raise self.refuse(f"unreadable .npy header ({type(e).__name__}: "
                                  f"{_quote(str(e), 200)})") from None
            offset = fp.tell()
        if dtype.hasobject:
            raise self.refuse("holds Python objects, which only unpickling could read; "
                              "model files never need it and load never unpickles")
        if any(n < 0 for n in shape):
            raise self.refuse(f"the .npy header has a negative shape {shape}")
        m = _Member(info, shape, dtype, fortran, offset)
        if offset + m.nbytes != info.file_size:
            raise self.refuse(f"the .npy header declares shape {_quote(shape)} of {dtype.str} "
                              f"({m.nbytes:,} bytes) but the member holds {info.file_size - offset:,}")
        return m

    # ------------------------------------------------------------------ reading data
    def _data(self, m: _Member) -> npt.NDArray[Any]:
        """A small member's array (its size was checked against the memory available)."""
        assert self.zip is not None  # open() opened it
        with self.zip.open(m.info) as fp:
            _read_exact(fp, m.offset)
            data = _read_exact(fp, m.nbytes)
            if fp.read(1):  # also makes zipfile check the CRC
                raise self.refuse("more data than its header declares")
        if m.dtype.kind == "U":  # code points past U+10FFFF crash str() (SystemError)
            points = np.frombuffer(data, m.dtype.byteorder + "u4")
            if points.size and points.max() > 0x10FFFF:
                raise self.refuse("holds invalid characters")
        return np.frombuffer(data, m.dtype).reshape(m.shape, order="F" if m.fortran else "C")

    def _string(self, field: str) -> str:
        self.field = field
        return str(self._data(self.members[field])[()])

    def _json(self, field: str) -> Any:
        text = self._string(field)
        try:
            return json.loads(text) if text else None
        except (ValueError, RecursionError) as e:
            raise self.refuse(f"not valid JSON ({e})") from None

    def fill(self, field: str, out: FloatArray) -> None:
        """Read a big member into ``out`` (cast to its dtype) chunk by chunk; refuse non-finite values."""
        self.field = field
        m = self.members[field]
        step = max(1, _CHUNK // m.dtype.itemsize)
        assert self.zip is not None  # open() opened it
        with self.zip.open(m.info) as fp:
            _read_exact(fp, m.offset)
            for i in range(0, m.size, step):
                chunk = np.frombuffer(_read_exact(fp, min(step, m.size - i) * m.dtype.itemsize), m.dtype)
                part = out[i:i + chunk.size]
                with np.errstate(over="ignore"):
                    part[:] = chunk
                finite = np.isfinite(part)
                if not finite.all():
                    j = int(np.argmin(finite))
                    cast = f" (as {out.dtype.name})" if np.isfinite(chunk[j]) else ""
                    raise self.refuse(f"entry {i + j} is {chunk[j]}{cast}; a model's values must be finite")
            if fp.read(1):
                raise self.refuse("more data than its header declares")

    # ------------------------------------------------------------------ the fields
    def read(self) -> _Fields:
        """The checked fields, as a dict; the big arrays stay unread (see ``fill``)."""
        small = sum(m.nbytes for f, m in self.members.items() if f not in _BIG)
        self.field = None
        self._fits(small, "the metadata fields")
        sizes = self._sizes()
        loss = self._loss()
        activations = self._activations(len(sizes) - 1, loss)
        dtype = self._string("dtype")
        if dtype not in _DTYPES:
            raise self.refuse(f"{_quote(dtype)} is not one of {list(_DTYPES)}")
        dt = np.dtype(dtype)
        feature_names = self._feature_names(sizes[0])
        rng = self._rng()
        opt = self._optimizer()
        norm, dropout, residual = self._hidden_layers(sizes)
        epochs_trained = self._count("epochs_trained")
        dropout_seed = self._count("dropout_seed")
        classes = self._classes(sizes[-1])
        preprocess = self._preprocess(sizes[0])

        hidden = list(zip(sizes[1:-1], norm))
        n_params = (sum(a * b + b for a, b in itertools.pairwise(sizes))
                    + sum(2 * n for n, kind in hidden if kind is not None))
        n_running = sum(2 * n for n, kind in hidden if kind == "batch")
        layers = f"sizes {_quote(sizes)}" + (f" with norm {_quote(norm)}" if any(norm) else "")
        for field, want, why in (("params", [(n_params,)], f"{layers} need"),
                                 ("optimizer_state", self._state_sizes(opt, n_params),
                                  "the optimizer needs"),
                                 ("running_stats", [(n_running,)], f"the batch norm layers of {layers} need")):
            m = self.members.get(field)
            if m is None:
                continue
            self.field = field
            if m.shape not in want:
                raise self.refuse(f"holds {m.size:,} values but {why} "
                                  f"{' or '.join(f'{s[0]:,}' for s in want)}")
            if not np.can_cast(m.dtype, dt, "same_kind") or m.dtype.itemsize > 8:
                raise self.refuse(f"{m.dtype.str} values cannot be cast to the model's {dtype}")
        state = self.members.get("optimizer_state")
        item = dt.itemsize
        need = ((n_params + n_running) * item + (state.size * item if state is not None else 0)
                + len(sizes) * _LAYER_BYTES)
        self.field = "sizes"
        self._fits(need, f"{n_params:,} {dtype} parameters" + (" and the optimizer state" if
                   state is not None and state.size else ""))
        return {"sizes": sizes, "loss": loss, "activations": activations, "dtype": dt,
                "feature_names": feature_names, "rng": rng, "optimizer": opt,
                "has_state": state is not None and state.size > 0, "norm": norm, "dropout": dropout,
                "residual": residual, "epochs_trained": epochs_trained, "dropout_seed": dropout_seed,
                "n_params": n_params, "n_running": n_running, "classes": classes, "preprocess": preprocess}

    def _fits(self, need: int, what: str) -> None:
        free = available_memory()
        if free is not None and need > free:
            raise self.refuse(f"{what} need {need:,} bytes of memory but only {free:,} are available")

    def _sizes(self) -> list[int]:
        self.field = "sizes"
        sizes = self._data(self.members["sizes"]).tolist()
        if len(sizes) < 2:
            raise self.refuse(f"needs at least two widths (n_0 inputs, n_K outputs), got {_quote(sizes)}")
        if min(sizes) <= 0:
            raise self.refuse(f"every width must be a positive integer, got {_quote(sizes)}")
        return [int(n) for n in sizes]

    def _loss(self) -> _losses.Loss:
        if self.version < 2:
            return _losses.LOSSES["mse"]
        name = self._string("loss")
        if name not in _losses.LOSSES:
            raise self.refuse(f"unknown loss {_quote(name)}; known: {sorted(_losses.LOSSES)}")
        entry = _losses.LOSSES[name]
        if self.version < 5 or entry.param_name is None:
            return entry
        self.field = "loss_param"
        value = float(self._data(self.members["loss_param"])[()])
        try:
            return entry.with_param(value)
        except ValueError as e:
            raise self.refuse(str(e)) from None

    def _activations(self, K: int, loss: _losses.Loss) -> list[str]:
        self.field = "activations"
        names = [str(a) for a in self._data(self.members["activations"])]
        if len(names) != K:
            raise self.refuse(f"{len(names)} names for the {K} layers that sizes describe")
        for k, name in enumerate(names, start=1):
            if k == K and loss.link:
                if name != loss.link:
                    raise self.refuse(f"psi^[{K}] is {_quote(name)} but loss {loss.name!r} "
                                      f"needs {loss.link!r}")
            elif name not in _act.ACTIVATIONS:
                raise self.refuse(f"psi^[{k}] is {_quote(name)}, not one of {sorted(_act.ACTIVATIONS)}")
            elif k == K and not _act.ACTIVATIONS[name].from_output:
                raise self.refuse(f"psi^[{K}] is {name!r}, which fastnn has on hidden layers only")
        return names

    def _feature_names(self, n_0: int) -> npt.NDArray[np.object_] | None:
        if self.version < 3:
            return None
        self.field = "feature_names"
        names = [str(n) for n in self._data(self.members["feature_names"])]
        if names and len(names) != n_0:
            raise self.refuse(f"{len(names)} names for n_0 = {n_0} inputs")
        return np.asarray(names, dtype=object) if names else None

    def _hidden_layers(self, sizes: list[int]) -> tuple[list[str | None], list[float], list[bool]]:
        """norm, dropout and residual, one entry per hidden layer (format 4; before, none of them)."""
        hidden = len(sizes) - 2
        if self.version < 4:
            return [None] * hidden, [0.0] * hidden, [False] * hidden

        def entries(field: str) -> list[Any]:
            self.field = field
            values: list[Any] = self._data(self.members[field]).tolist()
            if len(values) != hidden:
                raise self.refuse(f"{len(values)} entries for the {hidden} hidden layers that sizes describe")
            return values

        norm = []
        for k, name in enumerate(entries("norm"), start=1):
            if name not in _NORMS:
                raise self.refuse(f"layer {k}'s normalization is {_quote(name)}, not one of "
                                  f"{sorted(_NORMS)} ('' for none)")
            norm.append(_NORMS[name])
        dropout = [float(p) for p in entries("dropout")]
        for k, p in enumerate(dropout, start=1):
            if not 0 <= p < 1:  # (also refuses NaN)
                raise self.refuse(f"layer {k}'s rate is {p!r}; dropout rates are in [0, 1)")
        residual = [bool(r) for r in entries("residual")]
        for k, skip in enumerate(residual, start=1):
            if skip and sizes[k] != sizes[k - 1]:
                raise self.refuse(f"layer {k} has a skip but maps {sizes[k - 1]} to {sizes[k]} units "
                                  "(a skip x̄^[k] = x̄^[k-1] + d^[k] needs n_k = n_{k-1})")
        return norm, dropout, residual

    def _count(self, field: str) -> int:
        """epochs_trained or dropout_seed: an integer in [0, 2^63) (0 before format 4)."""
        if self.version < 4:
            return 0
        self.field = field
        value = int(self._data(self.members[field])[()])
        if not 0 <= value < _COUNT_LIMIT:
            raise self.refuse(f"{value} is not in [0, 2^63)")
        return value

    def _classes(self, n_K: int) -> npt.NDArray[Any] | None:
        """The outputs' labels (format 5): distinct strings or integers, one per output."""
        if self.version < 5:
            return None
        labels = self._json("classes")
        if labels is None:
            return None
        if not isinstance(labels, list) or not (all(isinstance(v, str) for v in labels) or all(
                isinstance(v, int) and not isinstance(v, bool) and -2**63 <= v < 2**63 for v in labels)):
            raise self.refuse(f"expected a list of strings or of 64-bit integers, got {_quote(labels)}")
        try:
            return check_classes(np.array(labels) if labels else np.array([], "U1"), n_K)
        except ValueError as e:
            raise self.refuse(str(e)) from None

    def _preprocess(self, n_0: int) -> Preprocess | None:
        """The input transform (format 5), whose output width must be n_0."""
        if self.version < 5:
            return None
        d = self._json("preprocess")
        if d is None:
            return None
        try:
            pre = Preprocess.from_dict(d)
        except (ValueError, TypeError) as e:
            raise self.refuse(_quote(str(e), 200)) from None
        if pre.n_features_out != n_0:
            raise self.refuse(f"transforms the inputs into {pre.n_features_out} columns but the "
                              f"network takes n_0 = {n_0}")
        return pre

    def _rng(self) -> dict[str, Any] | None:
        if self.version < 2:
            return None
        state = self._json("rng")
        probe = np.random.PCG64()  # the Network's generator, default_rng's bit generator
        try:
            probe.state = state
            ok = probe.state == state
        except (TypeError, ValueError, KeyError, OverflowError):
            ok = False
        if not ok:
            raise self.refuse(f"not a PCG64 generator state: {_quote(state)}")
        return cast("dict[str, Any]", state)  # equal to a PCG64 generator's state: a dict

    def _optimizer(self) -> _opt.Optimizer | None:
        """The optimizer the file describes, without its state buffers; None if there is none."""
        if self.version < 2:
            return None
        meta = self._json("optimizer")
        if meta is None:
            return None
        try:
            state = meta["schedule"]["state"]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in state.values()):
                raise ValueError(f"schedule state {_quote(state)} is not a dict of numbers")
            opt = restore_optimizer(meta)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
            raise self.refuse(f"not an optimizer description save writes ({type(e).__name__}: "
                              f"{_quote(str(e), 200)})") from None
        return opt

    def running_stats(self, running: FloatArray, sizes: list[int], norm: list[str | None]
                      ) -> tuple[list[FloatArray | None], list[FloatArray | None]]:
        """The running means and variances per hidden layer (None without batch norm), as
        views of ``running`` (read by ``fill``); refuses a negative variance."""
        self.field = "running_stats"
        means: list[FloatArray | None] = []
        variances: list[FloatArray | None] = []
        at = 0
        for k, (n, kind) in enumerate(zip(sizes[1:-1], norm), start=1):
            if kind != "batch":
                means.append(None)
                variances.append(None)
                continue
            mean, var = running[at:at + n], running[at + n:at + 2 * n]
            if (var < 0).any():
                j = int(np.argmax(var < 0))
                raise self.refuse(f"entry {at + n + j} (layer {k}'s running variance of unit {j + 1}) is "
                                  f"{var[j]}; a variance is >= 0")
            means.append(mean)
            variances.append(var)
            at += 2 * n
        return means, variances

    @staticmethod
    def _state_sizes(opt: _opt.Optimizer | None, n_params: int) -> list[tuple[int]]:
        """The optimizer_state shapes a file may hold: empty (never trained) or n_state · n_params."""
        return [(0,)] if opt is None else [(0,), (opt.n_state * n_params,)]


def _read_exact(fp: IO[bytes], n: int) -> bytes:
    data = fp.read(n)
    if len(data) != n:
        raise EOFError(f"the data ends after {len(data):,} of {n:,} bytes")
    return data


def load(cls: Callable[..., N], path: PathLike) -> N:
    """``cls.load(path)``: read a model file, trusting nothing in it (the module docstring
    lists the checks, in order).

    Parameters
    ----------
    cls : type
        ``Network`` or a subclass; called as ``cls(sizes, activations, loss=..., norm=...,
        dropout=..., residual=..., dtype=..., seed=..., parameters=...)``.
    path : str or os.PathLike
        The file ``save`` wrote (format 1 to 5).

    Returns
    -------
    cls
        The network, its optimizer (with its state), its shuffling generator, batch norm's
        running statistics, ``epochs_trained`` and ``dropout_seed`` restored.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        For any other problem: a damaged, hostile or foreign file, or one whose network needs
        more memory than is available. The message names the file and the field.
    """
    f = _ModelFile(path)
    try:
        f.open()
        fields = f.read()
        sizes = fields["sizes"]
        theta = np.empty(fields["n_params"], fields["dtype"])
        f.fill("params", theta)
        running = np.empty(fields["n_running"], fields["dtype"])
        if "running_stats" in f.members:
            f.fill("running_stats", running)
        means, variances = f.running_stats(running, sizes, fields["norm"])
        f.field = None
        rng, state = None, fields["rng"]
        if state is not None:
            rng = np.random.default_rng()
            rng.bit_generator.state = state
        net = cls(sizes, fields["activations"], loss=fields["loss"], norm=fields["norm"],
                  dropout=fields["dropout"], residual=fields["residual"], dtype=fields["dtype"],
                  seed=rng, parameters=theta)
        if rng is not None and state is not None:  # a net with dropout drew its dropout_seed from it
            rng.bit_generator.state = state
        net.epochs_trained = fields["epochs_trained"]
        net.dropout_seed = fields["dropout_seed"]
        if fields["n_running"]:
            net.set_running_stats(means, variances)
        net.feature_names_in_ = fields["feature_names"]
        net.classes, net.preprocess = fields["classes"], fields["preprocess"]
        opt = fields["optimizer"]
        if opt is not None and fields["has_state"]:
            f.fill("optimizer_state", opt.bind(net.n_params, net.dtype))
        net.optimizer = opt
        return net
    except _READ_ERRORS as e:
        if isinstance(e, FileNotFoundError) and f.zip is None:
            raise  # no file at path: FileNotFoundError, as np.load and joblib.load raise
        if not isinstance(e, _Refused):
            e = f.refuse(f"unreadable ({type(e).__name__}: {_quote(str(e), 200)})")
        raise ValueError(str(e)) from None  # a plain ValueError, without the reading's traceback
    finally:
        if f.zip is not None:
            f.zip.close()


def save(path: PathLike, *, sizes: list[int], activations: list[str], loss: str, dtype: np.dtype[Any],
         theta: FloatArray, rng: np.random.Generator, optimizer: _opt.Optimizer | None,
         feature_names: npt.NDArray[Any] | None, norm: Sequence[str | None] = (),
         dropout: Sequence[float] = (), residual: Sequence[bool] = (), running: FloatArray | None = None,
         epochs_trained: int = 0, dropout_seed: int = 0, loss_param: float | None = None,
         classes: npt.NDArray[Any] | None = None, preprocess: Preprocess | None = None) -> None:
    """Write a model file atomically (for ``Network.save``, which reads θ under its guard).

    Parameters
    ----------
    path : str or os.PathLike
        Where to write; the file is written next to it under a temporary name, then renamed
        over it.
    sizes : list of int
        n_0, ..., n_K.
    activations : list of str
        ψ^[1], ..., ψ^[K] by name.
    loss : str
        The loss's name.
    dtype : numpy.dtype
        θ's dtype, float32 or float64.
    theta : ndarray
        The flat θ: W^[1], b̄^[1] (then γ^[1], β^[1] with norm), ..., W^[K], b̄^[K].
    rng : numpy.random.Generator
        The shuffling generator, whose state is saved.
    optimizer : Optimizer or None
        Its hyperparameters, schedule, counters and state are saved.
    feature_names : ndarray or None
        The input columns' names, recorded by fit.
    norm, dropout, residual : sequence
        Per hidden layer k = 1..K−1, as ``Network``'s attributes (empty: a net of one layer,
        or none of them given: no norm, no dropout, no skips).
    running : ndarray, optional
        Batch norm's running statistics: for each batch norm layer in order, its mean then its
        variance (n_k each); None: none.
    epochs_trained, dropout_seed : int
        The keys of the dropout masks.
    loss_param : float or None
        The loss's parameter (Huber's ε, the quantile q); None: it has none.
    classes : ndarray, optional
        The outputs' class labels (integers or strings).
    preprocess : Preprocess, optional
        The input transform.

    Raises
    ------
    OSError
        If the file cannot be written (the message names ``path``).
    """
    opt_state = theta[:0]
    opt_meta = ""
    if optimizer is not None:
        opt_state = optimizer.state if optimizer.state is not None else opt_state
        opt_meta = json.dumps({
            "name": optimizer.name, "config": optimizer.config(), "t": optimizer.t, "epoch": optimizer.epoch,
            "schedule": {"name": optimizer.schedule.name, "state": optimizer.schedule.get_state()}})
    hidden = len(sizes) - 2
    norm, dropout, residual = (list(norm) or [None] * hidden, list(dropout) or [0.0] * hidden,
                               list(residual) or [False] * hidden)
    atomic_write(path, lambda f: np.savez(
        f,
        format_version=np.int64(FORMAT_VERSION),
        sizes=np.asarray(sizes, dtype=np.int64),
        activations=np.asarray(activations, dtype="U32"),
        loss=np.asarray(loss),
        loss_param=np.float64(0.0 if loss_param is None else loss_param),
        dtype=np.asarray(np.dtype(dtype).name),
        params=theta,
        rng=np.asarray(json.dumps(rng.bit_generator.state)),
        optimizer=np.asarray(opt_meta),
        optimizer_state=opt_state,
        feature_names=np.asarray([] if feature_names is None else list(feature_names), dtype="U"),
        norm=np.asarray(["" if n is None else n for n in norm], dtype="U5"),
        dropout=np.asarray(dropout, dtype=np.float64),
        residual=np.asarray(residual, dtype=bool),
        running_stats=theta[:0] if running is None else running,
        epochs_trained=np.int64(epochs_trained),
        dropout_seed=np.int64(dropout_seed),
        classes=np.asarray("" if classes is None else json.dumps(np.asarray(classes).tolist())),
        preprocess=np.asarray("" if preprocess is None else json.dumps(preprocess.to_dict())),
    ))


def restore_optimizer(meta: dict[str, Any]) -> _opt.Optimizer:
    """The optimizer ``save`` described in ``meta``, without its state buffers.

    Parameters
    ----------
    meta : dict
        The optimizer's JSON description in a model file: ``name``, ``config`` (its
        hyperparameters), ``schedule`` (``name`` and ``state``), and the step and epoch
        counters ``t`` and ``epoch``.

    Returns
    -------
    Optimizer
        The optimizer, its schedule and counters restored; ``bind`` allocates its state.

    Raises
    ------
    KeyError, TypeError or ValueError
        If ``meta`` is not such a description.
    """
    schedule = meta["schedule"]
    opt = _opt.OPTIMIZERS[meta["name"]](
        **meta["config"], schedule=_schedules.from_state(schedule["name"], schedule["state"]))
    for counter in ("t", "epoch"):
        value = meta[counter]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{counter} must be a non-negative integer, got {value!r}")
        setattr(opt, counter, value)
    return opt
