"""The command line, end to end, in fresh processes."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_params_equal, params

from fastnn import Network

REPO = Path(__file__).resolve().parents[1]


def run(*args, cwd, **env_overrides):
    env = dict(os.environ, **env_overrides)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "fastnn", *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def assert_clean_error(proc):
    assert proc.returncode == 2, f"exit {proc.returncode}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("fastnn: error:"), proc.stderr


def final_loss(stdout):
    m = re.search(r"final loss:\s*(\S+)", stdout)
    assert m, stdout
    value = float(m.group(1))
    assert np.isfinite(value) and value >= 0
    return value


def numeric_rows(text):
    rows = []
    for line in text.strip().splitlines():
        try:
            rows.append([float(v) for v in line.split(",")])
        except ValueError:
            assert not rows, f"non-numeric line after data: {line!r}"  # at most a header line
    return np.array(rows)


@pytest.fixture
def csv_data(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(25, 3))
    Y = np.column_stack([X[:, 0] - 0.5 * X[:, 1], X[:, 2] ** 2])
    path = tmp_path / "data.csv"
    np.savetxt(path, np.hstack([X, Y]), delimiter=",")
    return path, X, Y


def test_train_without_data(tmp_path):
    proc = ok(run("train", "--epochs", 3, "--out", "m.npz", cwd=tmp_path))
    final_loss(proc.stdout)
    assert "saved" in proc.stdout and "m.npz" in proc.stdout
    net = Network.load(tmp_path / "m.npz")
    assert net.sizes == [1, 32, 32, 1]  # default --hidden 32,32 on the 1-D kinked data
    assert net.activations == ["relu", "relu", "identity"]
    assert net.dtype == np.float32


def test_train_csv_then_predict_and_info(tmp_path, csv_data):
    path, X, Y = csv_data
    ok(run("train", "--data", path, "--targets", 2, "--hidden", "8,6", "--activation", "tanh",
           "--epochs", 5, "--batch-size", 8, "--dtype", "float64", "--out", "m.npz", "--quiet",
           cwd=tmp_path))
    net = Network.load(tmp_path / "m.npz")
    assert net.sizes == [3, 8, 6, 2]
    assert net.activations == ["tanh", "tanh", "identity"]
    assert net.dtype == np.float64

    # predict uses the first n_0 columns of the CSV (the target columns are ignored)
    proc = ok(run("predict", "--model", "m.npz", "--data", path, cwd=tmp_path))
    rows = numeric_rows(proc.stdout)
    assert rows.shape == (len(X), 2)
    np.testing.assert_allclose(rows, net.predict(X), rtol=1e-5, atol=1e-6)

    ok(run("predict", "--model", "m.npz", "--data", path, "--out", "p.csv", cwd=tmp_path))
    np.testing.assert_allclose(numeric_rows((tmp_path / "p.csv").read_text()), rows, rtol=1e-5, atol=1e-6)

    proc = ok(run("info", "--model", "m.npz", cwd=tmp_path))
    assert net.summary() in proc.stdout


def test_train_npz(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(30, 2))
    Y = (X[:, :1] * X[:, 1:]).astype(np.float64)
    np.savez(tmp_path / "d.npz", X=X, Y=Y)
    proc = ok(run("train", "--data", "d.npz", "--hidden", "5", "--epochs", 4, "--seed", 3,
                  "--out", "m.npz", cwd=tmp_path))
    final_loss(proc.stdout)
    net = Network.load(tmp_path / "m.npz")
    assert net.sizes == [2, 5, 1]
    proc = ok(run("predict", "--model", "m.npz", "--data", "d.npz", cwd=tmp_path))
    rows = numeric_rows(proc.stdout)
    assert rows.shape == (30, 1)
    np.testing.assert_allclose(rows, net.predict(X), rtol=1e-4, atol=1e-6)


def test_train_is_seeded(tmp_path):
    for name in ("a.npz", "b.npz"):
        ok(run("train", "--epochs", 2, "--seed", 5, "--hidden", "4", "--out", name, "--quiet", cwd=tmp_path))
    assert_params_equal(Network.load(tmp_path / "b.npz"), params(Network.load(tmp_path / "a.npz")))


def test_tiny_net_kernels_compile_once_per_machine(tmp_path):
    # Compiled kernels are cached on disk, so a second identical run (in a process with a
    # different string-hash seed) must find them all and write nothing new to the caches.
    cache = Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR") else tmp_path / "xdg"
    env = {} if os.environ.get("NUMBA_CACHE_DIR") else {"XDG_CACHE_HOME": str(cache)}
    args = ("train", "--hidden", "3", "--epochs", 1, "--quiet", "--out", "m.npz")
    ok(run(*args, cwd=tmp_path, PYTHONHASHSEED="1", **env))
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    ok(run(*args, cwd=tmp_path, PYTHONHASHSEED="2", **env))
    after = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    assert sorted(map(str, set(after) - set(before))) == []
    assert [str(p) for p in before if after[p] != before[p]] == []


def _write_bad(tmp_path):
    (tmp_path / "garbage.csv").write_text("a,b,c\nhello,world,!\n1,2\n")
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n6,7,8\n")
    np.savez(tmp_path / "nokeys.npz", A=np.zeros((3, 2)))
    (tmp_path / "notnpz.npz").write_text("this is not a zip file\n")
    np.savez(tmp_path / "notmodel.npz", X=np.zeros((3, 2)), Y=np.zeros((3, 1)))


BAD_COMMANDS = {
    "train-missing-data": ["train", "--data", "missing.csv", "--epochs", 1],
    "train-garbage-csv": ["train", "--data", "garbage.csv", "--epochs", 1],
    "train-ragged-csv": ["train", "--data", "ragged.csv", "--epochs", 1],
    "train-npz-without-X-Y": ["train", "--data", "nokeys.npz", "--epochs", 1],
    "train-corrupt-npz": ["train", "--data", "notnpz.npz", "--epochs", 1],
    "predict-missing-model": ["predict", "--model", "missing.npz", "--data", "ragged.csv"],
    "predict-missing-data": ["predict", "--model", "model.npz", "--data", "missing.csv"],
    "predict-garbage-data": ["predict", "--model", "model.npz", "--data", "garbage.csv"],
    "info-missing-model": ["info", "--model", "missing.npz"],
    "info-corrupt-model": ["info", "--model", "notnpz.npz"],
    "info-not-a-model": ["info", "--model", "notmodel.npz"],
}


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    _write_bad(d)
    Network([3, 2, 1], seed=0).save(d / "model.npz")
    return d


@pytest.mark.parametrize("label", list(BAD_COMMANDS))
def test_bad_files_give_one_line_error(bad_dir, label):
    assert_clean_error(run(*BAD_COMMANDS[label], cwd=bad_dir))
