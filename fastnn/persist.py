"""Saving and loading networks: the model file format, written atomically, read trusting nothing.

``save`` writes a zip of ``.npy`` members (``np.savez``) next to the target and renames it over
it. ``load`` checks a file in this order and
allocates nothing sized by the file until the checks before have passed:

1. every member's ``.npy`` header (shape and dtype, read without the data) against the member's
   size in the zip and the archive's size; object arrays are refused, never unpickled;
2. the small fields (format_version, sizes, activations, loss, dtype, feature_names, rng,
   optimizer), after checking they fit in memory;
3. the parameter count that ``sizes`` implies (in Python ints) against the ``params`` and
   ``optimizer_state`` headers, and θ plus the optimizer state against the memory available;
4. then the network is built without drawing random weights, and θ and the optimizer state
   are read into it in chunks, each checked finite.

Every problem, including a damaged zip, is a ``ValueError`` naming the file and the field.
"""
from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib

import numpy as np

from typing import TYPE_CHECKING, Any

from . import activations as _act
from . import losses as _losses
from . import optimizers as _opt
from . import schedules as _schedules
from ._io import atomic_write
from ._validate import DTYPES as _DTYPES

if TYPE_CHECKING:
    from .network import Network

# 2: loss, optimizer state and the shuffling generator's state; 3: feature names. 1, 2 still load.
FORMAT_VERSION = 3

_CHUNK = 1 << 22  # bytes of a big array read at a time
_LAYER_BYTES = 1024  # memory per layer besides θ: its layout row, W^[k] and b̄^[k] views (~370 measured)
# What reading a damaged or hostile zip can raise; each becomes a ValueError naming the field.
# RuntimeError covers encrypted members and RecursionError (deeply nested JSON).
_READ_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, EOFError, OSError,
                zipfile.BadZipFile, zlib.error, struct.error, RuntimeError, MemoryError, SyntaxError)
_BIG = ("params", "optimizer_state")  # read last, in chunks, straight into the network
_KINDS = {  # field: (dtype kinds, ndim); format_version (an integer scalar) is read first
    "sizes": ("iu", 1), "activations": ("U", 1), "loss": ("U", 0),
    "dtype": ("U", 0), "rng": ("U", 0), "optimizer": ("U", 0), "feature_names": ("U", 1),
    "params": ("f", 1), "optimizer_state": ("f", 1),
}
_SINCE = {"loss": 2, "rng": 2, "optimizer": 2, "optimizer_state": 2, "feature_names": 3}  # else 1


class _Refused(ValueError):
    """A check failed; the message already names the file and the field."""


def available_memory():
    """Bytes this process can still allocate, or None if unknown: the least of the system's
    MemAvailable (else its physical memory) and RLIMIT_AS less the address space in use."""
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
    return min(limits) if limits else None


def _quote(value, limit=80):
    """repr(value), shortened: a hostile file's strings end up in error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Member:
    """One ``.npy`` member: its zip entry and its header (shape, dtype), data not yet read."""

    def __init__(self, info, shape, dtype, fortran, offset):
        self.info, self.shape, self.dtype, self.fortran, self.offset = info, shape, dtype, fortran, offset
        self.size = 1
        for n in shape:
            self.size *= n
        self.nbytes = self.size * dtype.itemsize


class _ModelFile:
    def __init__(self, path):
        self.path = os.fspath(path)
        self.field = None  # what is being read, for the error message
        self.zip = None

    def refuse(self, why):
        """The error for ``why``, naming the file and the field being read."""
        where = f", field {self.field!r}" if self.field else ""
        return _Refused(f"fastnn model file {self.path!r}{where}: {why}")

    # ------------------------------------------------------------------ the zip and its headers
    def open(self):
        self.field = None
        try:
            self.archive_size = os.path.getsize(self.path)
            self.zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise self.refuse("no such file") from None
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
                what = {"iu": "integer", "U": "string", "f": "floating-point"}[kinds]
                raise self.refuse(f"expected a {ndim}-D {what} array, got {m.dtype.str} of shape {m.shape}")

    def _version(self, infos):
        self.field = "format_version"
        if "format_version" not in infos:
            raise self.refuse("missing; this is not a file written by Network.save")
        m = self._header(infos["format_version"])
        if m.dtype.kind not in "iu" or m.shape != ():
            raise self.refuse(f"expected an integer scalar, got {m.dtype.str} of shape {m.shape}")
        self.members = {"format_version": m}
        version = int(self._data(m)[()])
        if not 1 <= version <= FORMAT_VERSION:
            raise self.refuse(f"version {version} is not supported (expected 1 to {FORMAT_VERSION}); "
                              "a newer fastnn may read it")
        return version

    def _header(self, info):
        """The member's ``.npy`` header, checked against the member's size; no data read."""
        if info.flag_bits & 0x1:
            raise self.refuse("the zip member is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.refuse(f"zip compression method {info.compress_type} (np.savez writes 0 or 8)")
        if info.compress_size > self.archive_size or (
                info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size):
            raise self.refuse(f"the zip directory claims {info.compress_size:,} bytes of data but the "
                              f"file has {self.archive_size:,}; it is truncated or damaged")
        with self.zip.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version not in ((1, 0), (2, 0)):
                raise self.refuse(f".npy format version {version} (np.savez writes 1.0 or 2.0 here)")
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            try:
                shape, fortran, dtype = read(fp)
            except Exception as e:  # the header parser lets ast's and tokenize's errors through
                raise self.refuse(f"unreadable .npy header ({type(e).__name__}: {_quote(str(e), 200)})") from None
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
    def _data(self, m):
        """A small member's array (its size was checked against the memory available)."""
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

    def _string(self, field):
        self.field = field
        return str(self._data(self.members[field])[()])

    def _json(self, field):
        text = self._string(field)
        try:
            return json.loads(text) if text else None
        except (ValueError, RecursionError) as e:
            raise self.refuse(f"not valid JSON ({e})") from None

    def fill(self, field, out):
        """Read a big member into ``out`` (cast to its dtype) chunk by chunk; refuse non-finite values."""
        self.field = field
        m = self.members[field]
        step = max(1, _CHUNK // m.dtype.itemsize)
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
    def read(self):
        """The checked fields, as a dict; the big arrays stay unread (see ``fill``)."""
        small = sum(m.nbytes for f, m in self.members.items() if f not in _BIG)
        self.field = None
        self._fits(small, "the metadata fields")
        f = {}
        f["sizes"] = sizes = self._sizes()
        f["loss"] = loss = self._loss()
        f["activations"] = self._activations(len(sizes) - 1, loss)
        dtype = self._string("dtype")
        if dtype not in _DTYPES:
            raise self.refuse(f"{_quote(dtype)} is not one of {list(_DTYPES)}")
        f["dtype"] = np.dtype(dtype)
        f["feature_names"] = self._feature_names(sizes[0])
        f["rng"] = self._rng()
        f["optimizer"] = opt = self._optimizer()

        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        for field, want, why in (("params", [(n_params,)], f"sizes {_quote(sizes)} need"),
                                 ("optimizer_state", self._state_sizes(opt, n_params), "the optimizer needs")):
            m = self.members.get(field)
            if m is None:
                continue
            self.field = field
            if m.shape not in want:
                raise self.refuse(f"holds {m.size:,} values but {why} "
                                  f"{' or '.join(f'{s[0]:,}' for s in want)}")
            if not np.can_cast(m.dtype, f["dtype"], "same_kind") or m.dtype.itemsize > 8:
                raise self.refuse(f"{m.dtype.str} values cannot be cast to the model's {dtype}")
        state = self.members.get("optimizer_state")
        item = f["dtype"].itemsize
        need = n_params * item + (state.size * item if state is not None else 0) + len(sizes) * _LAYER_BYTES
        self.field = "sizes"
        self._fits(need, f"{n_params:,} {dtype} parameters" + (" and the optimizer state" if
                   state is not None and state.size else ""))
        f["has_state"] = state is not None and state.size > 0
        return f

    def _fits(self, need, what):
        free = available_memory()
        if free is not None and need > free:
            raise self.refuse(f"{what} need {need:,} bytes of memory but only {free:,} are available")

    def _sizes(self):
        self.field = "sizes"
        sizes = self._data(self.members["sizes"]).tolist()
        if len(sizes) < 2:
            raise self.refuse(f"needs at least two widths (n_0 inputs, n_K outputs), got {_quote(sizes)}")
        if min(sizes) <= 0:
            raise self.refuse(f"every width must be a positive integer, got {_quote(sizes)}")
        return [int(n) for n in sizes]

    def _loss(self):
        if self.version < 2:
            return _losses.LOSSES["mse"]
        name = self._string("loss")
        if name not in _losses.LOSSES:
            raise self.refuse(f"unknown loss {_quote(name)}; known: {sorted(_losses.LOSSES)}")
        return _losses.LOSSES[name]

    def _activations(self, K, loss):
        self.field = "activations"
        names = [str(a) for a in self._data(self.members["activations"])]
        if len(names) != K:
            raise self.refuse(f"{len(names)} names for the {K} layers that sizes describe")
        for k, name in enumerate(names, start=1):
            if k == K and loss.link:
                if name != loss.link:
                    raise self.refuse(f"psi^[{K}] is {_quote(name)} but loss {loss.name!r} needs {loss.link!r}")
            elif name not in _act.ACTIVATIONS:
                raise self.refuse(f"psi^[{k}] is {_quote(name)}, not one of {sorted(_act.ACTIVATIONS)}")
        return names

    def _feature_names(self, n_0):
        if self.version < 3:
            return None
        self.field = "feature_names"
        names = [str(n) for n in self._data(self.members["feature_names"])]
        if names and len(names) != n_0:
            raise self.refuse(f"{len(names)} names for n_0 = {n_0} inputs")
        return np.asarray(names, dtype=object) if names else None

    def _rng(self):
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
        return state

    def _optimizer(self):
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

    @staticmethod
    def _state_sizes(opt, n_params):
        """The optimizer_state shapes a file may hold: empty (never trained) or n_state · n_params."""
        return [(0,)] if opt is None else [(0,), (opt.n_state * n_params,)]


def _read_exact(fp, n):
    data = fp.read(n)
    if len(data) != n:
        raise EOFError(f"the data ends after {len(data):,} of {n:,} bytes")
    return data


def load(cls, path):
    """``cls.load(path)``: see the module docstring."""
    f = _ModelFile(path)
    try:
        f.open()
        fields = f.read()
        sizes = fields["sizes"]
        theta = np.empty(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])), fields["dtype"])
        f.fill("params", theta)
        rng = None
        if fields["rng"] is not None:
            rng = np.random.default_rng()
            rng.bit_generator.state = fields["rng"]
        net = cls(sizes, fields["activations"], loss=fields["loss"].name, dtype=fields["dtype"],
                  seed=rng, parameters=theta)
        net.feature_names_in_ = fields["feature_names"]
        opt = fields["optimizer"]
        if opt is not None and fields["has_state"]:
            f.fill("optimizer_state", opt.bind(net.n_params, net.dtype))
        net.optimizer = opt
        return net
    except _READ_ERRORS as e:
        if not isinstance(e, _Refused):
            e = f.refuse(f"unreadable ({type(e).__name__}: {_quote(str(e), 200)})")
        raise ValueError(str(e)) from None  # a plain ValueError, without the reading's traceback
    finally:
        if f.zip is not None:
            f.zip.close()


def save(net: Network, path: Any, theta: np.ndarray, rng: np.random.Generator) -> None:
    """``net.save(path)``: θ (read under the network's guard) and the shuffling generator are
    passed by the network; the rest is its public state."""
    opt, opt_state = net.optimizer, theta[:0]
    opt_meta = ""
    if opt is not None:
        opt_state = opt.state if opt.state is not None else opt_state
        opt_meta = json.dumps({
            "name": opt.name, "config": opt.config(), "t": opt.t, "epoch": opt.epoch,
            "schedule": {"name": opt.schedule.name, "state": opt.schedule.get_state()}})
    names = net.feature_names_in_
    atomic_write(path, lambda f: np.savez(
        f,
        format_version=np.int64(FORMAT_VERSION),
        sizes=np.asarray(net.sizes, dtype=np.int64),
        activations=np.asarray(net.activations, dtype="U32"),
        loss=np.asarray(net.loss_name),
        dtype=np.asarray(net.dtype.name),
        params=theta,
        rng=np.asarray(json.dumps(rng.bit_generator.state)),
        optimizer=np.asarray(opt_meta),
        optimizer_state=opt_state,
        feature_names=np.asarray([] if names is None else list(names), dtype="U"),
    ))


def restore_optimizer(meta: dict) -> _opt.Optimizer:
    """The optimizer ``save`` described in ``meta`` (hyperparameters, schedule, step and epoch
    counters), without its state buffers; KeyError, TypeError or ValueError if ``meta`` is not
    such a description."""
    schedule = meta["schedule"]
    opt = _opt.OPTIMIZERS[meta["name"]](
        **meta["config"], schedule=_schedules.from_state(schedule["name"], schedule["state"]))
    for counter in ("t", "epoch"):
        value = meta[counter]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{counter} must be a non-negative integer, got {value!r}")
        setattr(opt, counter, value)
    return opt
