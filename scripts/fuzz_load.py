"""Coverage-guided fuzzing of ``Network.load`` with atheris (libFuzzer for Python).

atheris is a development tool, not a dependency of fastnn: ``pip install atheris``.

Each input is a whole model file's bytes. The corpus starts from valid files that ``save``
writes (formats 5, 4, 3, 2 and 1; float32 and float64; with and without an optimizer and its
state, a schedule and feature names; layer and batch norm with running statistics, dropout and
skips; class labels and an input transform; a compressed archive, big-endian parameters and
``.npy`` 2.0 headers), which libFuzzer mutates as bytes. A custom mutator then recomputes the
zip members' CRC-32s three times in four, so that mutations inside a member get past the CRC
check to the field checks, and libFuzzer gets a dictionary of the tokens model files are made
of (``dictionary()``, written to ``build/fuzz_load/load.dict`` and passed as ``-dict``).

Instrumented for coverage: ``fastnn.persist``, the parts of fastnn that ``load`` calls
(``network``, ``optimizers``, ``schedules``, ``activations``, ``losses``; not their
Numba-jitted functions), and the readers under them (``zipfile``, ``json``, ``ast`` and
NumPy's ``.npy`` header parser).

The contract checked on every input (anything else is a crash, saved by libFuzzer as
``crash-<sha1>`` in ``build/fuzz_load/``):

- ``load`` raises exactly ``ValueError`` with the file's path in the message (a missing file's
  ``FileNotFoundError`` cannot happen here: the file always exists), or
- it returns a network that ``save`` writes back and ``load`` reads again with the same
  sizes, activations, loss, dtype, norm, dropout, skips, feature names, dropout keys and
  bit-identical parameters and running statistics.

Slow inputs (``-timeout``, 10 s here) and memory blow-ups (``-rss_limit_mb``, 2048 MB) are
crashes too: load promises to refuse quickly and without allocating what a file claims.

Usage (libFuzzer's flags pass through; without a corpus folder, build/fuzz_load/corpus is used
and seeded)::

    python scripts/fuzz_load.py -max_total_time=240
    python scripts/fuzz_load.py build/fuzz_load/corpus -runs=100000
    python scripts/fuzz_load.py build/fuzz_load/crash-1234...   # replay one input
    python scripts/fuzz_load.py --seed-only                      # write the seed files, exit
    python scripts/fuzz_load.py --report [CORPUS_DIR ...]        # lines of persist.py it reaches
"""
from __future__ import annotations

import io
import os
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "build" / "fuzz_load"
V4_FIELDS = ("norm", "dropout", "residual", "running_stats", "epochs_trained", "dropout_seed")
V5_FIELDS = ("loss_param", "classes", "preprocess")


# ------------------------------------------------------------------------------ the seed corpus
def _fields(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _npz(fields, compressed=False, npy_version=None):
    """The bytes of an .npz of ``fields``; ``npy_version`` forces the members' .npy format."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED) as z:
        for name, value in fields.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(value), version=npy_version, allow_pickle=False)
            z.writestr(name + ".npy", member.getvalue())
    return buf.getvalue()


def seeds():
    """{name: bytes} of valid model files, small (a few KB) so that mutations stay cheap."""
    import pandas as pd

    from fastnn import SGD, Network, losses, schedules
    from fastnn.preprocess import Preprocess

    rng = np.random.default_rng(0)
    out = {}
    tmp = Path(tempfile.mkdtemp(prefix="fastnn-fuzz-seed-"))

    def saved(net, name):
        net.save(tmp / f"{name}.npz")
        out[name] = (tmp / f"{name}.npz").read_bytes()
        return _fields(tmp / f"{name}.npz")

    X = rng.normal(size=(24, 3))
    y = rng.integers(0, 3, size=24)
    net = Network([3, 4, 3], ["relu", "softmax"], loss="cross_entropy", dtype="float32", seed=1)
    net.fit(pd.DataFrame(X, columns=["a", "b", "c"]), y, epochs=2, batch_size=8, optimizer="adam")
    net.classes = np.array(["x", "y", "z"])
    v5 = saved(net, "v5-adam-names-classes-f32")

    net = Network([2, 3, 1], ["tanh", "identity"], dtype="float64", seed=2)
    net.preprocess = Preprocess(["p", "q"], mean=[0.0, 1.0], scale=[1.0, 2.0], targets=["t"])
    saved(net, "v5-untrained-f64")

    net = Network([2, 3, 3, 1], ["relu", "tanh", "identity"], norm=["batch", "layer"], dropout=0.2,
                  residual=True, dtype="float64", seed=5)
    net.fit(rng.normal(size=(16, 2)), rng.normal(size=(16, 1)), epochs=2, batch_size=8, optimizer="adam")
    saved(net, "v5-norm-dropout-skip-f64")

    net = Network([2, 3, 2], ["sigmoid", "identity"], dtype="float64", seed=3)
    opt = SGD(lr=0.05, momentum=0.9, nesterov=True, schedule=schedules.ReduceOnPlateau(patience=0))
    net.fit(rng.normal(size=(16, 2)), rng.normal(size=(16, 2)), epochs=2, batch_size=8, optimizer=opt)
    saved(net, "v5-momentum-plateau-f64")

    net = Network([2, 2, 1], ["relu", "sigmoid"], loss="binary_cross_entropy", seed=4)
    net.fit(rng.normal(size=(16, 2)), rng.integers(0, 2, size=(16, 1)), epochs=1, batch_size=8,
            optimizer="rmsprop")
    saved(net, "v5-rmsprop-bce")

    net = Network([2, 3, 1], ["tanh", "identity"], loss=losses.quantile(0.8), dtype="float64", seed=6)
    net.fit(rng.normal(size=(16, 2)), rng.normal(size=(16, 1)), epochs=1, batch_size=8, optimizer="adam")
    saved(net, "v5-quantile-f64")

    v4 = {k: v for k, v in v5.items() if k not in V5_FIELDS}
    out["v4-adam-names-f32"] = _npz(dict(v4, format_version=np.int64(4)))
    v3 = {k: v for k, v in v4.items() if k not in V4_FIELDS}
    out["v3-adam-names-f32"] = _npz(dict(v3, format_version=np.int64(3)))
    v2 = {k: v for k, v in v3.items() if k != "feature_names"}
    out["v2-adam-f32"] = _npz(dict(v2, format_version=np.int64(2)))
    v1 = {k: v3[k] for k in ("sizes", "activations", "dtype", "params")}
    v1["activations"] = np.asarray(["relu", "sigmoid"])  # format 1 knew only mse
    out["v1-f32"] = _npz(dict(v1, format_version=np.int64(1)))
    out["v5-compressed"] = _npz(v5, compressed=True)
    out["v5-big-endian"] = _npz(dict(v5, params=v5["params"].astype(">f4")))
    out["v5-npy-2.0"] = _npz(v5, npy_version=(2, 0))
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    return out


def write_seeds(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in seeds().items():
        (folder / f"seed-{name}.npz").write_bytes(raw)


def dictionary():
    """Tokens for libFuzzer's ``-dict``: what a model file's fields and .npy headers are made of
    (dtype codes, shapes, field and member names, JSON keys and values, and the strings the
    string fields hold, in the UTF-32 of a NumPy ``U`` array as well as in ASCII)."""
    from fastnn import activations, losses, optimizers

    words = ["relu", "tanh", "sigmoid", "identity", "softmax", "leaky_relu", "softplus", "float16",
             "float32", "float64", "int64", "mse", "cross_entropy", "binary_cross_entropy", "layer", "batch",
             *activations.ACTIVATIONS, *losses.LOSSES, *getattr(optimizers, "OPTIMIZERS", {})]
    tokens = [w.encode() for w in words] + [w.encode("utf-32-le") for w in words]
    tokens += [f"{f}.npy".encode() for f in ("format_version", "sizes", "activations", "loss", "dtype",
                                             "rng", "optimizer", "optimizer_state", "feature_names", "params",
                                             *V4_FIELDS, *V5_FIELDS)]
    tokens += [f"'descr': '{d}'".encode() for d in ("<f4", "<f8", ">f4", ">f8", "<f2", "<i8", "<u8", "|u1",
                                                    "|b1", "<c8", "|O", "<U8", "|S4", "<M8[s]", "|V8", "<f16")]
    tokens += [b"'fortran_order': True", b"'shape': ()", b"'shape': (0,)", b"'shape': (-1,)",
               b"'shape': (4611686018427387904,)", b"'shape': (3, 4)",
               b"'shape': (1,)", b"'shape': (2,)", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00"]
    json = [b'"name"', b'"config"', b'"schedule"', b'"state"', b'"t"', b'"epoch"', b'"lr"', b'"bit_generator"',
            b'"PCG64"', b'"inc"', b'null', b'true', b'NaN', b'Infinity', b'-Infinity', b'1e400', b'[[[[', b'{}',
            b'"0"', b'[]', b'-1']
    tokens += json + [t.decode().encode("utf-32-le") for t in json]  # the JSON fields are U arrays
    tokens += [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07",
               (2**31).to_bytes(4, "little"), (2**63 - 1).to_bytes(8, "little"), (2**32 - 1).to_bytes(4, "little")]
    return list(dict.fromkeys(tokens))


def write_dictionary(path):
    """``dictionary()`` in libFuzzer's format: one quoted token a line, other bytes as \\xNN."""
    def quoted(token):
        return '"' + "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else f"\\x{b:02x}"
                             for b in token) + '"\n'

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(quoted(t) for t in dictionary()))


# ------------------------------------------------------------------------------ the mutator
def fix_crcs(data):
    """``data`` with each zip member's CRC-32 (central directory and local header) recomputed
    from the member's bytes; unchanged if it does not parse as a zip. Without it nearly every
    byte mutation inside a member stops at the CRC check and never reaches the field checks."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            end = z.start_dir  # where the central directory begins
    except Exception:  # not a zip (any of zipfile's errors): leave it as it is
        return data
    buf = bytearray(data)
    central = end
    for info in infos:
        try:
            local = info.header_offset
            if buf[local:local + 4] != b"PK\x03\x04" or buf[central:central + 4] != b"PK\x01\x02":
                break
            name_len, extra_len = struct.unpack("<HH", buf[local + 26:local + 30])
            begin = local + 30 + name_len + extra_len
            raw = bytes(buf[begin:begin + info.compress_size])
            content = raw if info.compress_type == zipfile.ZIP_STORED else \
                zlib.decompressobj(-15).decompress(raw) if info.compress_type == zipfile.ZIP_DEFLATED else None
            if content is not None:
                crc = struct.pack("<I", zlib.crc32(content))
                buf[local + 14:local + 18] = crc
                buf[central + 16:central + 20] = crc
            c_name, c_extra, c_comment = struct.unpack("<HHH", buf[central + 28:central + 34])
            central += 46 + c_name + c_extra + c_comment
        except (struct.error, zlib.error, IndexError, ValueError):
            break
    return bytes(buf)


def mutator(atheris):
    """libFuzzer's byte mutations, then (3 times in 4) the zip's CRCs made to match again."""
    def mutate(data, max_size, seed):
        data = atheris.Mutate(data, max_size)
        return fix_crcs(data) if seed % 4 else data
    return mutate


# ------------------------------------------------------------------------------ the target
def _instrument(atheris, modules):
    """Add atheris's coverage to every function whose code lives in one of ``modules``' files
    (module-level functions, methods, nested functions), however they were imported."""
    import gc
    import types

    from numba.core.dispatcher import Dispatcher

    files = {os.path.realpath(m.__file__) for m in modules}
    objects = gc.get_objects()
    # Numba compiles a jitted function from its Python bytecode: leave those bytes alone.
    jitted = {id(obj.py_func) for obj in objects if isinstance(obj, Dispatcher)}
    done = 0
    for obj in objects:
        if (isinstance(obj, types.FunctionType) and id(obj) not in jitted
                and os.path.realpath(obj.__code__.co_filename) in files):
            try:
                atheris.instrument_func(obj)
                done += 1
            except Exception as e:  # report and go on: coverage, not correctness
                print(f"fuzz_load: cannot instrument {obj.__qualname__}: {e}", file=sys.stderr)
    return done


class Target:
    def __init__(self):
        from fastnn import Network

        self.Network = Network
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.dir = Path(tempfile.mkdtemp(prefix="fastnn-fuzz-", dir=folder))
        self.path = self.dir / "input.npz"
        self.back = self.dir / "back.npz"

    def __call__(self, data):
        self.outcome = "crashed"
        self.path.write_bytes(data)
        try:
            net = self.Network.load(self.path)
        except ValueError as e:
            if type(e) is not ValueError or str(self.path) not in str(e):
                raise AssertionError(f"load raised {type(e).__name__} without the path: {e}") from e
            self.outcome = "refused"
            return
        net.save(self.back)  # a loaded network is a whole one: save writes it, load reads it again
        again = self.Network.load(self.back)
        assert (again.sizes, again.activations, again.loss_name, again.loss_param, again.dtype) == \
            (net.sizes, net.activations, net.loss_name, net.loss_param, net.dtype)
        assert (again.norm, again.dropout, again.residual, again.epochs_trained, again.dropout_seed) == \
            (net.norm, net.dropout, net.residual, net.epochs_trained, net.dropout_seed)
        a, b = net.snapshot(), again.snapshot()  # θ and batch norm's running statistics
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
        assert np.isfinite(a).all()
        names = [None if n.feature_names_in_ is None else list(n.feature_names_in_) for n in (net, again)]
        assert names[0] == names[1], names
        net.summary()
        self.outcome = "loaded"


def _function_lines(code):
    """The lines of the functions defined in ``code`` (a module or class body), recursively,
    without each function's first line (its ``def`` or decorator: run at import, not per call)."""
    import inspect

    lines = set()
    if code.co_flags & inspect.CO_OPTIMIZED:  # a function, not a module or class body
        lines = {line for _, _, line in code.co_lines() if line is not None} - {code.co_firstlineno}
    for const in code.co_consts:
        if hasattr(const, "co_lines"):
            lines |= _function_lines(const)
    return lines


def report(folders):
    """Replay every file in ``folders`` through the target, tracing which lines of
    fastnn/persist.py run (no atheris, no coverage.py: sys.settrace); print the count, the
    lines never run, and the outcomes."""
    from collections import Counter

    from fastnn import persist

    source = os.path.realpath(persist.__file__)
    with open(source) as f:
        text = f.read()
    import ast

    defs = {n.lineno for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    body = _function_lines(compile(text, source, "exec")) - defs
    ran = set()

    def trace(frame, event, arg):
        if frame.f_code.co_filename != source:
            return None
        if event == "line":
            ran.add(frame.f_lineno)
        return trace

    target, outcomes = Target(), Counter()
    files = sorted(p for folder in folders for p in Path(folder).iterdir() if p.is_file())
    for path in files:
        sys.settrace(trace)
        try:
            target(path.read_bytes())
            outcomes[target.outcome] += 1
        except Exception as e:  # counted and reported: each one is a crash
            outcomes[f"CRASH {type(e).__name__}"] += 1
        finally:
            sys.settrace(None)
    missed = sorted(body - ran)
    print(f"{len(files)} inputs: {dict(outcomes)}")
    print(f"fastnn/persist.py: {len(body & ran)} of {len(body)} lines inside functions ran; "
          f"never ran: {missed}")


def main():
    if sys.argv[1:2] == ["--report"]:
        report(sys.argv[2:] or [OUT / "corpus"])
        return
    if "--seed-only" in sys.argv:
        write_seeds(OUT / "corpus")
        print(f"fuzz_load: seeds written to {OUT / 'corpus'}")
        return
    import atheris

    args = list(sys.argv)
    if not any(not a.startswith("-") for a in args[1:]):  # no corpus folder or input file given
        write_seeds(OUT / "corpus")
        args.append(str(OUT / "corpus"))
    else:  # seed an empty corpus folder given on the command line
        for a in args[1:]:
            if not a.startswith("-") and os.path.isdir(a) and not os.listdir(a):
                write_seeds(Path(a))
    OUT.mkdir(parents=True, exist_ok=True)
    write_dictionary(OUT / "load.dict")
    for flag, value in (("-artifact_prefix", f"{OUT}/"), ("-timeout", "10"), ("-rss_limit_mb", "2048"),
                        ("-dict", str(OUT / "load.dict"))):
        if not any(a.startswith(flag + "=") for a in args):
            args.append(f"{flag}={value}")

    import ast
    import json.decoder
    import json.scanner
    import zipfile as zf

    try:
        import numpy.lib._format_impl as npy_format  # NumPy 2
    except ImportError:
        import numpy.lib.format as npy_format

    from fastnn import activations, losses, network, optimizers, persist, schedules

    n = _instrument(atheris, [persist, network, optimizers, schedules, activations, losses,
                              zf, json, json.decoder, json.scanner, ast, npy_format])
    print(f"fuzz_load: instrumented {n} functions; libFuzzer args: {args[1:]}", file=sys.stderr)
    target = Target()
    atheris.Setup(args, target, custom_mutator=mutator(atheris))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
