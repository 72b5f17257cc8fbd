"""Start-up (issue 13): a cached kernel loads without Numba's whole-registry set-up and without
running scipy.linalg's package (``_compat.load_lightly``), and that changes no result; on a Numba
version not checked, plain dispatchers load the same kernels."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FIT = textwrap.dedent("""
    import hashlib, json, sys
    import numpy as np
    {before}
    import fastnn
    X = np.random.default_rng(0).standard_normal((256, 8)).astype(np.float32)
    Y = X[:, :1] ** 2
    net = fastnn.Network([8, 32, 32, 1], seed=0)
    net.fit(X, Y, epochs=2, batch_size=32, shuffle=False)
    lazy = type(sys.modules.get("scipy.linalg")).__name__
    full_setup = "numba.np.npyimpl" in sys.modules  # loaded by Numba's target_context.refresh()
    import scipy.linalg, scipy.linalg.cython_blas as cb
    assert scipy.linalg.cython_blas is cb and scipy.linalg.blas is not None
    assert scipy.linalg.solve(np.eye(2), np.ones(2)).tolist() == [1.0, 1.0]
    net.fit(X, Y, epochs=1, batch_size=32, shuffle=False)
    theta = np.concatenate([a.ravel() for a in net.weights + net.biases])
    print("@@" + json.dumps(dict(loss=float(net.loss(X, Y)), lazy=lazy, full_setup=full_setup,
                                 theta=hashlib.sha1(theta.tobytes()).hexdigest())))
""")


def _run(before="", kernels="generic"):
    env = dict(os.environ, FASTNN_KERNELS=kernels)
    p = subprocess.run([sys.executable, "-c", FIT.format(before=before)], capture_output=True,
                       text=True, cwd=REPO, timeout=600, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.split("@@")[1])


@pytest.mark.parametrize("kernels", ["generic", "specialized"])
def test_cached_kernels_load_lightly_and_train_the_same(kernels):
    """Both kernel modes: the default's variants are generated modules in the cache folder."""
    _run(kernels=kernels)  # fills the cache if this session has not
    light = _run(kernels=kernels)
    assert light["lazy"] == "_LazyPackage"  # scipy/linalg/__init__.py has not run
    assert not light["full_setup"]
    usual = _run("import scipy.linalg", kernels)  # SciPy's package loaded the usual way first
    assert usual["lazy"] == "module"
    assert (light["loss"], light["theta"]) == (usual["loss"], usual["theta"])


def test_on_a_numba_version_not_checked_plain_dispatchers_train_the_same():
    """The fallback of ``_compat.load_lightly``, forced by the version check: Numba's own set-up
    and cache load, the same θ. (The check reads ``numba.version_info``; Numba's cache index
    reads ``numba.__version__``, so the cached kernels stay valid.)"""
    light = _run()
    plain = _run("import numba; numba.version_info = numba.version_info._replace(short=(0, 59))")
    assert plain["full_setup"] and plain["lazy"] == "module"
    assert (plain["loss"], plain["theta"]) == (light["loss"], light["theta"])
