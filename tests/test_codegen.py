"""Generated code: the committed dispatch is what the tables generate today, and the unrolled
epochs written at run time are readable, kept apart per fastnn checkout and cached by Numba."""
import json
import os
import subprocess
import sys
import textwrap
import traceback
import types

import pytest

from fastnn import _codegen

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGENERATE = "python scripts/gen_dispatch.py"


def test_the_committed_dispatch_is_what_the_tables_generate():
    with open(os.path.join(REPO, "fastnn", "_dispatch.py"), encoding="utf-8") as f:
        committed = f.read()
    assert committed == _codegen.dispatch_source(), \
        f"fastnn/_dispatch.py is stale: regenerate it with `{REGENERATE}` and commit it"


def test_the_generator_runs_without_the_package_init():
    """The regeneration command imports only the tables, so a stale _dispatch.py cannot stop it."""
    p = subprocess.run([sys.executable, "scripts/gen_dispatch.py", "--check"], capture_output=True,
                       text=True, cwd=REPO, timeout=300)
    assert p.returncode == 0 and "up to date" in p.stdout, p.stdout + p.stderr


def test_the_jitted_modules_are_found_by_their_imports(tmp_path):
    sources = {"a.py": "from ._jit import jit\n", "b.py": "from numba.extending import intrinsic\n",
               "c.py": "import numba\nf = numba.njit(lambda x: x)\n",
               "d.py": "import numba\nprint(numba.__version__)\n",  # imports Numba, compiles nothing
               "e.py": "def f():\n    from numba.core import entrypoints\n",
               "f.py": "S = 'from ._jit import jit'\n"}  # generates source: not compiled itself
    for name, src in sources.items():
        (tmp_path / name).write_text(src)
    assert _codegen.jitted_modules(str(tmp_path)) == ("_dispatch", "a", "b", "c")


def test_a_changed_source_clears_the_cached_kernels_of_every_jitted_module(tmp_path):
    from fastnn._dispatch import JITTED

    names = [f"{m}.f-1.py311.nbi" for m in JITTED] + ["_kernels.f-1.py311.1.nbc", "other.f-1.py311.nbi"]
    for name in names:
        (tmp_path / name).write_text("")
    stamp = tmp_path / "fastnn-sources"
    stamp.write_text("an older fingerprint")
    dispatcher = types.SimpleNamespace(stats=types.SimpleNamespace(cache_path=str(tmp_path)))
    _codegen.drop_stale_cache(dispatcher)
    assert sorted(os.listdir(tmp_path)) == ["fastnn-sources", "other.f-1.py311.nbi"]
    assert stamp.read_text() == _codegen.fingerprint()
    (tmp_path / "losses.g-2.py311.nbi").write_text("")
    _codegen.drop_stale_cache(dispatcher)  # same sources: nothing goes
    assert "losses.g-2.py311.nbi" in os.listdir(tmp_path)


def test_generated_modules_are_readable_and_kept_apart_per_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    src = "def boom():\n    raise RuntimeError('from generated code')\n"
    here = _codegen.load("test_boom", "tests", src)
    monkeypatch.setattr(_codegen, "PACKAGE", "/another/checkout/fastnn")
    there = _codegen.load("test_boom", "tests", src)
    assert here is not there and here.__name__ != there.__name__
    for module, package in ((here, os.path.dirname(_codegen.__file__)), (there, "/another/checkout/fastnn")):
        path = module.__file__
        assert os.path.dirname(path) == str(tmp_path / "fastnn_generated")
        assert os.path.basename(path).startswith("fastnn_test_boom_")
        with open(path, encoding="utf-8") as f:
            assert f.readline().strip() == (
                f"# Generated at run time by fastnn.tests for the fastnn package in {package}")
        with pytest.raises(RuntimeError) as info:
            module.boom()
        frame = traceback.extract_tb(info.value.__traceback__)[-1]
        assert (frame.filename, frame.line) == (path, "raise RuntimeError('from generated code')")


def test_an_unrolled_epoch_loads_from_numbas_cache_in_the_next_process():
    script = textwrap.dedent("""
        import json, sys
        import numpy as np
        import fastnn
        X = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
        net = fastnn.Network([3, 2, 1], ["tanh", "identity"], seed=0)
        net.fit(X, X[:, :1], epochs=2, batch_size=8)
        stats = {n: m.epoch.stats for n, m in sys.modules.items() if n.startswith("fastnn_unrolled_")}
        print("@@" + json.dumps({n: [s.cache_hits.total(), s.cache_misses.total()] for n, s in stats.items()}))
    """)
    runs = []
    for _ in range(2):
        p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                           timeout=600)
        assert p.returncode == 0, p.stderr
        runs.append(json.loads(p.stdout.split("@@")[1]))
    (name, (hits, misses)), = runs[1].items()
    assert name.startswith("fastnn_unrolled_3x2x1_mse_") and name in runs[0]
    assert hits >= 1 and misses == 0
