"""The command line, end to end, in fresh processes."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastnn import Network
from helpers import assert_params_equal, params

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
    return lines[0]


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


def write_csv(path, columns, rows, sep=","):
    lines = [sep.join(columns)] + [sep.join(f"{v:.17g}" for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def named_data(tmp_path):
    """A CSV with a header and the target column y between the inputs a, b, c."""
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(40, 3))
    y = X[:, 0] - 0.5 * X[:, 1] + X[:, 2] ** 2
    write_csv(tmp_path / "named.csv", ["a", "y", "b", "c"], np.column_stack([X[:, 0], y, X[:, 1:]]))
    return X, y


def test_version(tmp_path):
    import fastnn

    proc = ok(run("--version", cwd=tmp_path))
    assert proc.stdout == f"fastnn {fastnn.__version__}\n"


def test_quick_start_is_unchanged(tmp_path):
    # `fastnn train` with no arguments: plain SGD at lr 0.05 on the kinked data, as before
    # --loss, --optimizer and --lr existed.
    from fastnn import datasets

    proc = ok(run("train", cwd=tmp_path))
    final_loss(proc.stdout)
    X, Y = datasets.kinked()
    ref = Network([1, 32, 32, 1], "relu", seed=0)
    ref.fit(X, Y, epochs=200, batch_size=32, lr=0.05, seed=0)
    net = Network.load(tmp_path / "model.npz")
    assert_params_equal(net, params(ref))
    assert net.optimizer.name == "sgd" and net.optimizer.lr == 0.05


def test_train_without_data(tmp_path):
    proc = ok(run("train", "--epochs", 3, "--out", "m.npz", cwd=tmp_path))
    final_loss(proc.stdout)
    assert "saved" in proc.stdout and "m.npz" in proc.stdout
    net = Network.load(tmp_path / "m.npz")
    assert net.sizes == [1, 32, 32, 1]  # default --hidden 32,32 on the 1-D kinked data
    assert net.activations == ["relu", "relu", "identity"]
    assert net.dtype == np.float32


def test_train_csv_then_predict_and_info(tmp_path, csv_data):
    path, X, _Y = csv_data
    ok(run("train", "--data", path, "--targets", 2, "--hidden", "8,6", "--activation", "tanh",
           "--epochs", 5, "--batch-size", 8, "--dtype", "float64", "--out", "m.npz", "--quiet",
           cwd=tmp_path))
    net = Network.load(tmp_path / "m.npz")
    assert net.sizes == [3, 8, 6, 2]
    assert net.activations == ["tanh", "tanh", "identity"]
    assert net.dtype == np.float64

    # a headerless CSV for a model without feature names: exactly n_0 columns
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    proc = ok(run("predict", "--model", "m.npz", "--data", "x.csv", cwd=tmp_path))
    rows = numeric_rows(proc.stdout)
    assert rows.shape == (len(X), 2)
    np.testing.assert_allclose(rows, net.predict(X), rtol=1e-5, atol=1e-6)
    assert "n_0 = 3" in assert_clean_error(run("predict", "--model", "m.npz", "--data", path, cwd=tmp_path))

    ok(run("predict", "--model", "m.npz", "--data", "x.csv", "--out", "p.csv", cwd=tmp_path))
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
    np.savetxt(tmp_path / "four.csv", np.full((3, 4), 0.5), delimiter=",")  # the model takes 3
    np.savez(tmp_path / "four.npz", X=np.zeros((3, 4)), Y=np.zeros((3, 1)))


BAD_COMMANDS = {
    "train-missing-data": ["train", "--data", "missing.csv", "--epochs", 1],
    "train-garbage-csv": ["train", "--data", "garbage.csv", "--epochs", 1],
    "train-ragged-csv": ["train", "--data", "ragged.csv", "--epochs", 1],
    "train-npz-without-X-Y": ["train", "--data", "nokeys.npz", "--epochs", 1],
    "train-corrupt-npz": ["train", "--data", "notnpz.npz", "--epochs", 1],
    "predict-missing-model": ["predict", "--model", "missing.npz", "--data", "ragged.csv"],
    "predict-missing-data": ["predict", "--model", "model.npz", "--data", "missing.csv"],
    "predict-garbage-data": ["predict", "--model", "model.npz", "--data", "garbage.csv"],
    "predict-csv-extra-column": ["predict", "--model", "model.npz", "--data", "four.csv"],
    "predict-npz-extra-column": ["predict", "--model", "model.npz", "--data", "four.npz"],
    "train-target-on-npz": ["train", "--data", "four.npz", "--target", "y"],
    "train-target-and-targets": ["train", "--data", "four.csv", "--target", "y", "--targets", 1],
    "train-target-without-header": ["train", "--data", "four.csv", "--target", "y"],
    "train-too-many-targets": ["train", "--data", "four.csv", "--targets", 4],
    "train-fractional-labels": ["train", "--data", "four.csv", "--loss", "cross_entropy"],
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


@pytest.mark.parametrize("sep", [";", "\t", "   "], ids=["semicolon", "tab", "blanks"])
def test_csv_delimiters_are_sniffed(tmp_path, sep):
    rng = np.random.default_rng(3)
    data = rng.uniform(-1, 1, size=(20, 3))
    write_csv(tmp_path / "d.csv", ["u", "v", "w"], data, sep=sep)
    ok(run("train", "--data", "d.csv", "--hidden", "4", "--epochs", 2, "--quiet", cwd=tmp_path))
    net = Network.load(tmp_path / "model.npz")
    assert net.sizes == [2, 4, 1]
    assert list(net.feature_names_in_) == ["u", "v"]


def test_target_by_name_then_predict_by_name(tmp_path, named_data):
    X, _y = named_data
    proc = ok(run("train", "--data", "named.csv", "--target", "y", "--hidden", "5", "--epochs", 3,
                  "--quiet", cwd=tmp_path))
    final_loss(proc.stdout)
    net = Network.load(tmp_path / "model.npz")
    assert net.sizes == [3, 5, 1]
    assert list(net.feature_names_in_) == ["a", "b", "c"]

    write_csv(tmp_path / "x.csv", ["a", "b", "c"], X)
    proc = ok(run("predict", "--model", "model.npz", "--data", "x.csv", cwd=tmp_path))
    np.testing.assert_array_equal(numeric_rows(proc.stdout).astype(np.float32), net.predict(X))

    # the training file still holds y: refused, not predicted from its first three columns
    line = assert_clean_error(run("predict", "--model", "model.npz", "--data", "named.csv", cwd=tmp_path))
    assert "extra ['y']" in line
    write_csv(tmp_path / "bac.csv", ["b", "a", "c"], X[:, [1, 0, 2]])
    line = assert_clean_error(run("predict", "--model", "model.npz", "--data", "bac.csv", cwd=tmp_path))
    assert "['b', 'a', 'c']" in line and "order" in line
    write_csv(tmp_path / "ab.csv", ["a", "b"], X[:, :2])
    line = assert_clean_error(run("predict", "--model", "model.npz", "--data", "ab.csv", cwd=tmp_path))
    assert "missing ['c']" in line
    np.savetxt(tmp_path / "nameless.csv", X, delimiter=",")
    line = assert_clean_error(run("predict", "--model", "model.npz", "--data", "nameless.csv", cwd=tmp_path))
    assert "no header" in line


def test_several_targets_by_name(tmp_path, named_data):
    for flags in (["--target", "y,c"], ["--target", "y", "--target", "c"]):
        ok(run("train", "--data", "named.csv", *flags, "--hidden", "4", "--epochs", 1, "--quiet",
               cwd=tmp_path))
        net = Network.load(tmp_path / "model.npz")
        assert net.sizes == [2, 4, 2]
        assert list(net.feature_names_in_) == ["a", "b"]


def test_unknown_target_lists_the_columns(tmp_path, named_data):
    line = assert_clean_error(run("train", "--data", "named.csv", "--target", "z", cwd=tmp_path))
    assert "'z'" in line and "['a', 'y', 'b', 'c']" in line


def test_missing_value_names_line_and_column(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n4,5,6\n7,,9\n")
    line = assert_clean_error(run("train", "--data", "d.csv", "--target", "y", cwd=tmp_path))
    assert "missing value" in line and "line 4" in line and "column 'b'" in line


def test_non_numeric_cell_names_line_column_and_text(tmp_path):
    (tmp_path / "d.csv").write_text("a;b;y\n1;2;3\n4;5;oops\n")
    line = assert_clean_error(run("train", "--data", "d.csv", cwd=tmp_path))
    assert "line 3" in line and "column 'y'" in line and "'oops'" in line


def test_without_pandas_csv_says_how_to_install(tmp_path, named_data):
    fake = tmp_path / "nopandas" / "pandas"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named pandas')\n")
    line = assert_clean_error(run("train", "--data", "named.csv", cwd=tmp_path,
                          PYTHONPATH=str(tmp_path / "nopandas")))
    assert 'pip install "fastnn[pandas]"' in line


def test_cross_entropy_on_class_labels(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(60, 2))
    label = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)  # classes 0, 1, 2
    write_csv(tmp_path / "d.csv", ["p", "q", "label"], np.column_stack([X, label]))
    ok(run("train", "--data", "d.csv", "--target", "label", "--loss", "cross_entropy",
           "--hidden", "6", "--epochs", 3, "--quiet", cwd=tmp_path))
    net = Network.load(tmp_path / "model.npz")
    assert net.sizes == [2, 6, 3] and net.loss_name == "cross_entropy"
    write_csv(tmp_path / "x.csv", ["p", "q"], X)
    P = numeric_rows(ok(run("predict", "--model", "model.npz", "--data", "x.csv", cwd=tmp_path)).stdout)
    assert P.shape == (60, 3) and (P >= 0).all()
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-5)


def test_adam_uses_its_own_learning_rate(tmp_path):
    from fastnn import Adam

    proc = ok(run("train", "--optimizer", "adam", "--hidden", "4", "--epochs", 2, "--quiet", cwd=tmp_path))
    final_loss(proc.stdout)
    opt = Network.load(tmp_path / "model.npz").optimizer
    assert opt.name == "adam" and opt.lr == Adam().lr


def test_validation_split_and_early_stopping(tmp_path):
    proc = ok(run("train", "--validation-split", 0.2, "--early-stopping", 3, "--optimizer", "rmsprop",
                  "--hidden", "4", "--epochs", 40, "--quiet", cwd=tmp_path))
    final_loss(proc.stdout)
    assert "validation loss:" in proc.stdout


def test_unwritable_out_is_one_clean_line(tmp_path):
    proc = run("train", "--epochs", 1, "--quiet", "--out", "missing/model.npz", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastnn: error:") and "missing/model.npz" in lines[0]


# ---------------------------------------------------------------- deep-net options (issue 19)
DEEP_ARGS = ("--hidden", "8,8", "--activation", "gelu", "--dropout", 0.1, "--residual", "--epochs", 3)


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_train_with_norm_dropout_and_residual_trains_that_network(tmp_path, norm):
    """The options reach the Network: the summary on stderr is that of Network(..., norm=,
    dropout=, residual=), and the final loss that of the same fit run in this process."""
    from fastnn import datasets

    proc = ok(run("train", *DEEP_ARGS, "--norm", norm, cwd=tmp_path))
    ref = Network([1, 8, 8, 1], "gelu", norm=norm, dropout=0.1, residual=True, seed=0)
    assert ref.summary() in proc.stderr  # with its norm, dropout and skip columns
    X, Y = datasets.kinked()
    ref.fit(X, Y, epochs=3, batch_size=32, lr=0.05, seed=0)
    assert final_loss(proc.stdout) == pytest.approx(ref.loss(X, Y), rel=1e-5)


def test_model_file_keeps_the_deep_net_options_and_info_shows_them(tmp_path):
    from fastnn import datasets

    ok(run("train", *DEEP_ARGS, "--norm", "batch", "--quiet", "--out", "m.npz", cwd=tmp_path))
    net = Network.load(tmp_path / "m.npz")
    assert (net.norm, net.dropout, net.residual) == (["batch"] * 2, [0.1] * 2, [False, True])
    assert net.activations == ["gelu", "gelu", "identity"]
    proc = ok(run("info", "--model", "m.npz", cwd=tmp_path))
    assert net.summary() in proc.stdout and "norm   dropout  skip" in proc.stdout
    X, _ = datasets.kinked()
    np.savez(tmp_path / "x.npz", X=X[:5])
    rows = numeric_rows(ok(run("predict", "--model", "m.npz", "--data", "x.npz", cwd=tmp_path)).stdout)
    np.testing.assert_allclose(rows, net.predict(X[:5]), rtol=1e-5, atol=1e-6)  # eval mode: running stats


@pytest.mark.parametrize("args, name", [
    (["--dropout", 1.5], "dropout"), (["--hidden", "8,4", "--residual"], "residual"),
    (["--norm", "batch", "--batch-size", 1], "batch_size")])
def test_bad_deep_net_options_are_one_clean_line_naming_them(tmp_path, args, name):
    assert name in assert_clean_error(run("train", *args, "--epochs", 1, "--quiet", cwd=tmp_path))
