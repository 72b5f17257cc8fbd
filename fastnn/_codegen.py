"""Generated source: the kernels' dispatch, written at development time, and the unrolled epochs
of tiny nets, written at run time.

* ``dispatch_source()`` writes ``_dispatch.py`` (committed) from the activation, loss and
  optimizer tables: ``python scripts/gen_dispatch.py`` regenerates it, and tests/test_codegen.py
  fails while the committed file is stale.
* ``load`` imports run-time source (``_unrolled``'s epoch for one architecture) from an ordinary
  module file in a cache folder, so Numba compiles it once per machine (``cache=True``) and a
  traceback shows its lines. The file is named after what it holds, and its header names the
  generator and the fastnn package it was written for; the name ends in a hash of its text, which
  includes that package's path, so checkouts side by side never share a generated module.
* ``drop_stale_cache``: Numba checks a cached function only against its own file, not against
  the functions it calls from other files: after an edit to losses.py, _kernels would keep running
  the old loss. So the cache folder keeps a fingerprint of every file with jitted code
  (``_dispatch.JITTED``, found by the generator) and is cleared when it changes; generated
  modules carry the fingerprint in their text (their names change with it).
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from types import ModuleType

PACKAGE = os.path.dirname(os.path.abspath(__file__))


# ------------------------------------------------------------------------------ run time
@functools.cache
def fingerprint():
    """A hash of every fastnn source file with code Numba compiles."""
    from ._dispatch import JITTED

    h = hashlib.sha1()
    for name in JITTED:
        with open(os.path.join(PACKAGE, name + ".py"), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def drop_stale_cache(dispatcher):
    """Delete the cached kernels in ``dispatcher``'s cache folder if they were compiled from
    other sources than these (call before any kernel runs)."""
    from ._dispatch import JITTED

    try:
        folder = dispatcher.stats.cache_path
        stamp = os.path.join(folder, "fastnn-sources")
        with open(stamp) as f:
            if f.read() == fingerprint():
                return
    except (AttributeError, TypeError, OSError):  # NUMBA_DISABLE_JIT: no cache; no stamp yet
        pass
    try:
        for name in os.listdir(folder):
            if name.endswith((".nbi", ".nbc")) and name.split(".")[0] in JITTED:
                os.remove(os.path.join(folder, name))
        with open(stamp, "w") as f:
            f.write(fingerprint())
    except (NameError, TypeError, OSError):  # no cache folder, or one we may not write: nothing cached
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


_loaded: dict[str, object] = {}


def load(name, generator, src):
    """Import ``src`` as the module ``fastnn_<name>_<hash>``, written once (atomically) to the
    cache folder; ``generator`` names the module that wrote ``src``, for the file's header."""
    src = (f"# Generated at run time by fastnn.{generator} for the fastnn package in {PACKAGE}\n"
           f"# (jitted sources {fingerprint()}). Do not edit: a missing file is written again.\n"
           f"{src}")
    name = f"fastnn_{name}_{hashlib.sha1(src.encode()).hexdigest()[:12]}"
    if name in _loaded:
        return _loaded[name]
    folder = _folder()
    path = os.path.join(folder, name + ".py")
    if not os.path.exists(path):  # concurrent processes may race here: each replaces whole files
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(src)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _loaded[name] = module
    return module


# ------------------------------------------------------------------------------ development time
# Names that make Numba compile the function they decorate or are called on.
_COMPILERS = {"jit", "njit", "intrinsic", "overload", "overload_method", "overload_attribute",
              "register_jitable", "generated_jit", "vectorize", "guvectorize", "cfunc", "stencil"}


def jitted_modules(folder=PACKAGE):
    """Names of the modules in ``folder`` whose text compiled code depends on: those importing a
    Numba compiler (``njit``, ``intrinsic``, ...) or fastnn's ``jit``, the generated
    ``_dispatch``, and every fastnn module these import from (Numba freezes the constants a
    kernel reads, e.g. ``_layout``'s column numbers, into its compiled code)."""
    found = {"_dispatch"}
    trees, uses = {}, {}
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".py"):
            continue
        with open(os.path.join(folder, file), encoding="utf-8") as f:
            trees[file[:-3]] = tree = ast.parse(f.read())
        uses[file[:-3]] = {n.module.split(".")[0] if n.module else a.name
                           for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1
                           for a in n.names}
    for name, tree in trees.items():
        if name == "_dispatch":
            continue
        for node in ast.walk(tree):
            jit_from = isinstance(node, ast.ImportFrom) and (
                (node.level == 0 and (node.module or "").split(".")[0] == "numba")
                or (node.level == 1 and node.module == "_jit") or node.module == "fastnn._jit")
            if (jit_from and any(a.name in _COMPILERS for a in node.names)) or (
                    isinstance(node, ast.Attribute) and node.attr in _COMPILERS
                    and isinstance(node.value, ast.Name) and node.value.id == "numba"):
                found.add(name)
                break
    todo = list(found)
    while todo:  # what they import from, transitively
        for dep in uses.get(todo.pop(), ()):
            if dep in trees and dep not in found:
                found.add(dep)
                todo.append(dep)
    return tuple(sorted(found))


def _ref(fn):
    """(module, name) of a jitted table function."""
    py = getattr(fn, "py_func", fn)
    return py.__module__, py.__name__


def _branches(entries, body, what, indent="    "):
    out = []
    for i, (code, line) in enumerate((e.code, body(e)) for e in entries):
        out.append(f"{indent}{'if' if i == 0 else 'elif'} code == {code}:")
        out += [f"{indent}    {s}" for s in line.splitlines()]
    out.append(f"{indent}else:")
    out.append(f"{indent}    raise ValueError('unknown {what} code')")
    return out


def _import(module, names):
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 99:
        return [line]
    return [f"from {module} import ("] + [f"    {n}," for n in names] + [")"]


def _imports(refs, package):
    """Import lines for the (module, name) pairs ``refs``, one line per module of ``package``."""
    return [line for m in sorted({m for m, _ in refs})
            for line in _import(package + m.rpartition(".")[2], sorted(n for mm, n in refs if mm == m))]


def dispatch_source():
    """The text of ``_dispatch.py``: one ``if code == …: … elif …`` function per concept,
    written from the activation, loss and optimizer tables."""
    head = ["# Generated by `python scripts/gen_dispatch.py` (fastnn._codegen.dispatch_source) from the",
            "# activation, loss and optimizer tables. Do not edit: change a table, then run that command;",
            "# tests/test_codegen.py fails while this file is stale.",
            '"""The kernels\' branches on activation, loss and optimizer codes, generated from the tables.',
            "",
            "Each table (``activations``, ``losses``, ``optimizers``) lists its entries' jitted functions;",
            "one ``if code == …: … elif …`` function per concept is written from them, so adding an entry",
            "needs no edit to the kernels, and an unknown code raises instead of silently running some",
            "other entry. The branch is taken once per layer (or row block), never per element.",
            '"""',
            "from ._jit import jit"]
    imports, body = _dispatch_parts(None, None, None, ".")
    return "\n".join(head + imports + [
        "", "# fastnn's modules with code Numba compiles (``_codegen.jitted_modules``): a change to any",
        "# of them clears the kernels' on-disk cache (``_codegen.drop_stale_cache``).",
        f"JITTED = {jitted_modules()!r}"] + body) + "\n"


def _dispatch_parts(acts, losses, opts, package):
    """(import lines, definitions) of the dispatch functions with the branches of these
    activation, loss and optimizer codes (None: every entry of the table); ``package``: "." or
    "fastnn." for the imports."""
    from . import activations as _A
    from . import losses as _L
    from . import optimizers as _O

    def pick(table, codes):
        return [e for e in table if codes is None or e.code in codes]

    A, Ls, Os = pick(_A.BY_CODE, acts), pick(_L.BY_CODE, losses), pick(_O.BY_CODE, opts)

    def is_identity(a):
        return a.psi is _A.identity

    def name(fn):
        return _ref(fn)[1]

    def fns_of(a):  # the scalars the loops below call: ψ; ψ' from x where it exists; ψ' from z
        return (a.psi, a.dpsi, a.dpsi_z) if a.from_output else (a.psi, a.dpsi_z)

    scalars = {_ref(f) for a in A if not is_identity(a) for f in fns_of(a)}
    fns = {_ref(f) for loss in Ls for f in (loss.delta, loss.link_rows)}
    fns |= {_ref(f) for o in Os for f in (o._prepare, o._step)}
    imports = _imports(fns | scalars, package)
    # The scalar ψ and ψ' go into the loops below inlined (Numba IR), each compiled once as part
    # of act / mul_dpsi / mul_dpsi_z instead of as functions of their own (cold compile, issue 13).
    L = [""] + [f"_{n} = jit(getattr({n}, 'py_func', {n}), inline=True)" for _, n in sorted(scalars)]
    L += ["", "", "@jit", "def act(buf, o, m, code):",
          '    """x̄ = ψ(z̄) in place on buf[o:o+m], ψ chosen by its activation code."""']
    L += _branches(A, lambda a: "pass" if is_identity(a) else
                   f"for i in range(o, o + m):\n    buf[i] = _{name(a.psi)}(buf[i])", "activation")
    L += ["", "", "@jit", "def mul_dpsi(p, x, o, m, code):",
          '    """φ ← φ ⊙ ψ\'(z̄) on m entries from o, ψ\' taken from the stored x̄ = ψ(z̄)."""']
    L += _branches(A, lambda a: "pass" if is_identity(a) else
                   f"for i in range(o, o + m):\n    p[i] *= _{name(a.dpsi)}(x[i])" if a.from_output else
                   f"raise ValueError('activation {a.name} (code {a.code}): its derivative needs z, not "
                   f"x = psi(z) (from_output is False): use mul_dpsi_z')", "activation")
    L += ["", "", "@jit", "def mul_dpsi_z(dst, src, zb, o, m, code):",
          '    """dst = src ⊙ ψ\'(z̄) on m entries from o, ψ\' taken from the stored z̄ (zb); dst may be',
          '    src or zb (each entry is read before it is written)."""']
    L += _branches(A, lambda a: "for i in range(o, o + m):\n    " + (
        "dst[i] = src[i]" if is_identity(a) else
        f"s, z = src[i], zb[i]\n    dst[i] = s * _{name(a.dpsi_z)}(z)"), "activation")
    L += ["", "", "@jit", "def output_delta(code, lp, act_code, abuf, pbuf, o, y, yo, rows, n):",
          '    """φ^[K] of whole output rows and their summed loss, for the loss with this code and',
          '    parameter lp."""']
    L += _branches(Ls, lambda loss: (
        f"return {name(loss.delta)}(abuf, pbuf, o, y, yo, rows, n, lp)" if loss.link else
        f"total = {name(loss.delta)}(abuf, pbuf, o, y, yo, rows, n, lp)\n"
        f"mul_dpsi(pbuf, abuf, o, rows * n, act_code)\nreturn total"), "loss")
    L += ["", "", "@jit", "def output_link(code, abuf, o, rows, n):",
          '    """z̄^[K] → x̄^[K] on whole rows for a loss that fixes the output activation."""']
    L += _branches(Ls, lambda loss: f"{name(loss.link_rows)}(abuf, o, rows, n)", "loss")
    return imports, L + _optimizer_defs(Os)


def _optimizer_defs(Os):
    """The definitions of ``opt_prepare`` and ``opt_step`` with the branches of the optimizers Os."""
    L = ["", "", "@jit", "def opt_prepare(code, h, t):",
         '    """The optimizer\'s per-step constants for step t (1-based)."""']
    if not Os:  # plain SGD's variant: its step is fused into the gradient GEMM (the kernels'
        # FUSED code), so neither function is ever called, and nothing of them is compiled
        L += ["    if code >= 0:", "        raise ValueError('unknown optimizer code')",
              "    return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)"]
    else:
        L += _branches(Os, lambda o: f"return {_ref(o._prepare)[1]}(h, t)", "optimizer")
    L += ["", "", "@jit", "def opt_step(code, theta, g, s, lo, hi, wd, c):",
          '    """The optimizer\'s elementwise step on θ[lo:hi]."""']
    if not Os:
        L += ["    raise ValueError('unknown optimizer code')"]
    else:
        L += _branches(Os, lambda o: f"{_ref(o._step)[1]}(theta, g, s, lo, hi, wd, c)", "optimizer")
    return L


def optimizer_dispatch(opts):
    """(import lines, definitions) of ``opt_prepare`` and ``opt_step`` alone, with the branches of
    the optimizer codes ``opts`` (a set of ints) only: the unrolled epochs' dispatch (``_unrolled``),
    as a kernel variant's (``kernels_source``)."""
    from . import optimizers as _O

    Os = [o for o in _O.BY_CODE if o.code in opts]
    return _imports({_ref(f) for o in Os for f in (o._prepare, o._step)}, "fastnn."), _optimizer_defs(Os)


# ------------------------------------------------------------------------------ kernel variants
_KERNELS = "_kernels"
_DISPATCH_NAMES = ("act", "mul_dpsi", "mul_dpsi_z", "opt_prepare", "opt_step", "output_delta", "output_link")


LAYER_OPTIONS = ("layer_norm", "batch_norm", "dropout", "skip")  # _kernels' WITH_* flags, in order
_FLAGS = "WITH_LAYER_NORM = WITH_BATCH_NORM = WITH_DROPOUT = WITH_SKIP = WITH_STEP = True"


def kernels_source(acts, losses, opts, layers=LAYER_OPTIONS):
    """The text of ``_kernels`` with its dispatch cut to these activation, loss and optimizer
    codes (sets of ints) and its layer options to ``layers`` (names from LAYER_OPTIONS): the
    kernels' own source, unchanged but for the line of their WITH_* flags, after the dispatch
    functions that ``_dispatch_parts`` writes for those codes alone. Numba compiles only the
    branches a net and its optimizer take, instead of every entry of every table and every
    layer option (cold start, issue 22)."""
    with open(os.path.join(PACKAGE, _KERNELS + ".py"), encoding="utf-8") as f:
        text = f.read()
    imports, body = _dispatch_parts(sorted(acts), sorted(losses), sorted(opts), "fastnn.")
    out, skip = [], False
    for line in text.splitlines():
        if skip:  # the rest of a parenthesised ``from ._dispatch import (`` line
            skip = not line.startswith(")")
            continue
        if line.startswith("from ._dispatch import"):
            skip = line.endswith("(")
            continue
        if line.startswith("_codegen.drop_stale_cache("):  # a generated module's name carries the sources
            continue
        if line == _FLAGS:
            line = " ".join([*(f"WITH_{o.upper()} = {o in layers};" for o in LAYER_OPTIONS),
                             f"WITH_STEP = {bool(opts)}"])
        if line.startswith("from . import "):
            line = "from fastnn import " + line[len("from . import "):]
        elif line.startswith("from ."):
            line = "from fastnn." + line[len("from ."):]
        out.append(line)
    assert _FLAGS in text.splitlines(), "_kernels' WITH_* line changed: update _codegen._FLAGS"
    tag = (f"# The dispatch for activation codes {sorted(acts)}, loss codes {sorted(losses)} and optimizer "
           f"codes {sorted(opts)}, then fastnn/{_KERNELS}.py as it is, with the layer options "
           f"{sorted(layers)}.")
    return "\n".join([tag, "from fastnn._jit import jit", *imports, *body, "", "",
                      "_act, _mul_dpsi, _mul_dpsi_z = act, mul_dpsi, mul_dpsi_z", "", "", *out]) + "\n"


def kernels(acts: Iterable[int], losses: Iterable[int], opts: Iterable[int],
            layers: Iterable[str] = LAYER_OPTIONS) -> ModuleType:
    """The ``_kernels`` module specialised to these codes and layer options (``kernels_source``),
    generated and imported on first use, each variant in a file of its own (``load``), so Numba
    caches each one on disk apart."""
    key = (frozenset(acts), frozenset(losses), frozenset(opts), frozenset(layers))
    module = _variants.get(key)
    if module is None:
        with _variants_lock:  # (two threads' first fits: one module, compiled once)
            module = _variants.get(key)
            if module is None:
                codes = ("-".join(map(str, sorted(c))) for c in key[:3])
                name = "kernels_a{}_l{}_o{}_".format(*codes) + "".join(o[0] for o in LAYER_OPTIONS if o in key[3])
                module = _variants[key] = load(name, "_codegen", kernels_source(*key))
    return module


_variants: dict[tuple[frozenset[int], frozenset[int], frozenset[int], frozenset[str]], ModuleType] = {}
_variants_lock = threading.Lock()
