"""The command line, end to end: ``fastnn.cli.main`` in this process, with its own working
directory, stdout and stderr, and a few runs of ``python -m fastnn`` in fresh processes (the
entry point, and what needs a process of its own: environment variables, the on-disk cache).
A fresh interpreter costs 1.4 s of start-up and imports, which 60 runs paid before."""
import contextlib
import io
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

import fastnn
from fastnn import Network
from helpers import assert_params_equal, params

REPO = Path(__file__).resolve().parents[1]


def run(*args, cwd, **env_overrides):
    """``fastnn ARGS`` in ``cwd``: its exit status, stdout and stderr, as a process would give
    them (an uncaught exception: status 1 and its traceback on stderr). Environment variables
    need a process of their own (``run_process``)."""
    if env_overrides:
        return run_process(*args, cwd=cwd, **env_overrides)
    from fastnn import cli

    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main([str(a) for a in args])
            except SystemExit as stop:  # as the interpreter turns it into an exit status
                status = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
                if not isinstance(stop.code, int | None):
                    print(stop.code, file=sys.stderr)
            except Exception:
                traceback.print_exc()
                status = 1
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(["fastnn", *map(str, args)], status, out.getvalue(), err.getvalue())


def run_process(*args, cwd, **env_overrides):
    """``python -m fastnn ARGS`` in a fresh process."""
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

    proc = ok(run_process("--version", cwd=tmp_path))  # the entry point, in a process of its own
    assert proc.stdout == f"fastnn {fastnn.__version__}\n"
    assert ok(run("--version", cwd=tmp_path)).stdout == proc.stdout


def test_quick_start_trains_adam_on_standardized_inputs(tmp_path):
    # `fastnn train` with no arguments: Adam at its own lr on the kinked data, inputs standardized
    from fastnn import datasets
    from fastnn.preprocess import Preprocess

    proc = ok(run("train", cwd=tmp_path))
    final_loss(proc.stdout)
    X, Y = datasets.kinked()
    ref = Network([1, 32, 32, 1], "relu", seed=0)
    ref.preprocess = Preprocess.fit(X)
    np.testing.assert_allclose(ref.preprocess.mean, X.astype(np.float64).mean(axis=0))
    ref.fit(X, Y, epochs=200, batch_size=32, seed=0, optimizer="adam")
    net = Network.load(tmp_path / "model.npz")
    assert_params_equal(net, params(ref))
    assert net.optimizer.name == "adam" and net.optimizer.lr == fastnn.Adam().lr
    assert "epochs: 200" in proc.stdout and "training R^2: 0.9" in proc.stdout


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
    # (a cache folder of its own when pytest-xdist's other worker may be writing to the shared one)
    shared = os.environ.get("NUMBA_CACHE_DIR") and not os.environ.get("PYTEST_XDIST_WORKER")
    cache = Path(os.environ["NUMBA_CACHE_DIR"]) if shared else tmp_path / "xdg"
    env = {} if shared else {"XDG_CACHE_HOME": str(cache)}
    if not shared and os.environ.get("NUMBA_CACHE_DIR"):
        env["NUMBA_CACHE_DIR"] = str(cache / "numba")
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
    assert net.preprocess.columns == ["u", "v"]


def test_target_by_name_then_predict_by_name(tmp_path, named_data):
    X, _y = named_data
    proc = ok(run("train", "--data", "named.csv", "--target", "y", "--hidden", "5", "--epochs", 3,
                  "--quiet", cwd=tmp_path))
    final_loss(proc.stdout)
    net = Network.load(tmp_path / "model.npz")
    assert net.sizes == [3, 5, 1]
    assert net.preprocess.columns == ["a", "b", "c"] and net.preprocess.targets == ["y"]

    write_csv(tmp_path / "x.csv", ["a", "b", "c"], X)
    proc = ok(run("predict", "--model", "model.npz", "--data", "x.csv", cwd=tmp_path))
    assert proc.stdout.startswith("y\n")  # the target's name
    np.testing.assert_array_equal(numeric_rows(proc.stdout).astype(np.float32), net.predict(X))

    # the training file still holds y: the model's target columns are left out by name (not
    # the first three columns taken), any other extra column is refused
    same = ok(run("predict", "--model", "model.npz", "--data", "named.csv", cwd=tmp_path))
    assert same.stdout == proc.stdout
    write_csv(tmp_path / "extra.csv", ["a", "b", "c", "z"], np.column_stack([X, X[:, 0]]))
    line = assert_clean_error(run("predict", "--model", "model.npz", "--data", "extra.csv", cwd=tmp_path))
    assert "extra ['z']" in line
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
        assert net.preprocess.columns == ["a", "b"] and net.preprocess.targets == ["y", "c"]


def test_unknown_target_lists_the_columns(tmp_path, named_data):
    line = assert_clean_error(run("train", "--data", "named.csv", "--target", "z", cwd=tmp_path))
    assert "'z'" in line and "['a', 'y', 'b', 'c']" in line


def test_missing_value_names_line_and_column(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n4,5,6\n7,,9\n")
    line = assert_clean_error(run("train", "--data", "d.csv", "--target", "y", cwd=tmp_path))
    assert "missing value" in line and "line 4" in line and "column 'b'" in line


def test_non_numeric_cell_names_line_column_and_text(tmp_path):
    # in training a text column is categorical; in predict a numeric column must stay numeric
    (tmp_path / "d.csv").write_text("a;b;y\n1;2;3\n4;5;6\n")
    ok(run("train", "--data", "d.csv", "--task", "regression", "--epochs", 1, "--quiet", cwd=tmp_path))
    (tmp_path / "x.csv").write_text("a;b\n1;2\n4;oops\n")
    line = assert_clean_error(run("predict", "--model", "model.npz", "--data", "x.csv", cwd=tmp_path))
    assert "line 3" in line and "column 'b'" in line and "'oops'" in line


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
    out = numeric_rows(ok(run("predict", "--model", "model.npz", "--data", "x.csv", cwd=tmp_path)).stdout)
    labels, P = out[:, 0], out[:, 1:]
    assert P.shape == (60, 3) and (P >= 0).all()
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(labels, P.argmax(axis=1))  # the classes are 0, 1, 2


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
    from fastnn.preprocess import Preprocess

    ref = Network([1, 8, 8, 1], "gelu", norm=norm, dropout=0.1, residual=True, seed=0)
    assert ref.summary() in proc.stderr  # with its norm, dropout and skip columns
    X, Y = datasets.kinked()
    ref.preprocess = Preprocess.fit(X)
    ref.fit(X, Y, epochs=3, batch_size=32, seed=0, optimizer="adam")
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


# ---------------------------------------------------------------- real tables (issue 20)
def class_table(n=90, seed=0, sort=True):
    """A table as CSV files come: string class names, a text column, unscaled numbers, rows
    sorted by class."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    kind = rng.choice(["benign", "malignant", "unknown"], n)
    code = np.searchsorted(["benign", "malignant", "unknown"], kind)
    df = pd.DataFrame({"area": 1000 * (code + rng.normal(0, 0.3, n)), "texture": rng.normal(0, 1, n),
                       "site": np.where(code == 2, "left", rng.choice(["left", "right"], n)), "kind": kind})
    return df.sort_values("kind", kind="stable").reset_index(drop=True) if sort else df


def cli(capsys, *args):
    from fastnn.cli import main

    assert main([str(a) for a in args]) == 0
    return capsys.readouterr().out


def test_string_labels_and_a_text_column_are_encoded_as_scikit_learn_encodes_them(tmp_path, capsys):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.metrics import accuracy_score
    from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

    df = class_table()
    df.to_csv(tmp_path / "t.csv", index=False)
    out = cli(capsys, "train", "--data", tmp_path / "t.csv", "--target", "kind", "--hidden", 8, "--epochs", 60,
              "--batch-size", 8, "--quiet", "--out", tmp_path / "m.npz")
    net = Network.load(tmp_path / "m.npz")
    X = df.drop(columns="kind")
    assert net.loss_name == "cross_entropy" and net.sizes == [4, 8, 3] and net.optimizer.name == "adam"
    assert net.classes.tolist() == LabelEncoder().fit(df["kind"]).classes_.tolist()
    ref = ColumnTransformer([("num", StandardScaler(), ["area", "texture"]),
                             ("cat", OneHotEncoder(sparse_output=False), ["site"])]).fit(X)
    np.testing.assert_allclose(net.preprocess.transform(X), ref.transform(X), rtol=1e-12, atol=1e-12)

    X.iloc[:7].to_csv(tmp_path / "new.csv", index=False)
    text = cli(capsys, "predict", "--model", tmp_path / "m.npz", "--data", tmp_path / "new.csv")
    table = pd.read_csv(io.StringIO(text))
    assert list(table.columns) == ["label", "p_benign", "p_malignant", "p_unknown"]
    P = net.predict(X.iloc[:7])
    np.testing.assert_allclose(table.iloc[:, 1:].to_numpy(), P, rtol=1e-6)
    assert table["label"].tolist() == net.classes[P.argmax(axis=1)].tolist()
    # the training accuracy printed is scikit-learn's on the labels predict prints
    accuracy = accuracy_score(df["kind"], net.classes[net.predict(X).argmax(axis=1)])
    assert f"training accuracy: {accuracy:.4f}" in out
    assert accuracy > 0.9  # unscaled area in the thousands: standardized, Adam learns it


def test_integer_labels_1_to_3_are_three_classes(tmp_path, capsys):
    df = class_table(seed=1).drop(columns="site")
    df["kind"] = np.searchsorted(["benign", "malignant", "unknown"], df["kind"]) + 1
    df.to_csv(tmp_path / "t.csv", index=False)
    cli(capsys, "train", "--data", tmp_path / "t.csv", "--target", "kind", "--hidden", 4, "--epochs", 2, "--quiet",
        "--out", tmp_path / "m.npz")
    net = Network.load(tmp_path / "m.npz")
    assert net.sizes[-1] == 3 and net.classes.tolist() == [1, 2, 3] and net.loss_name == "cross_entropy"
    df.drop(columns="kind").iloc[:2].to_csv(tmp_path / "new.csv", index=False)
    text = cli(capsys, "predict", "--model", tmp_path / "m.npz", "--data", tmp_path / "new.csv")
    assert text.splitlines()[0] == "label,p_1,p_2,p_3"


def test_two_classes_use_binary_cross_entropy_and_print_both_probabilities(tmp_path, capsys):
    df = class_table(seed=2)
    df = df[df["kind"] != "unknown"]
    df.to_csv(tmp_path / "t.csv", index=False)
    cli(capsys, "train", "--data", tmp_path / "t.csv", "--target", "kind", "--hidden", 4, "--epochs", 2, "--quiet",
        "--out", tmp_path / "m.npz")
    net = Network.load(tmp_path / "m.npz")
    assert net.loss_name == "binary_cross_entropy" and net.sizes[-1] == 1
    df.drop(columns="kind").iloc[:3].to_csv(tmp_path / "new.csv", index=False)
    lines = cli(capsys, "predict", "--model", tmp_path / "m.npz", "--data", tmp_path / "new.csv").splitlines()
    assert lines[0] == "label,p_benign,p_malignant"
    p = net.predict(df.drop(columns="kind").iloc[:3])[:, 0]
    for line, pk in zip(lines[1:], p):
        label, p0, p1 = line.split(",")
        assert label == ("malignant" if pk > 0.5 else "benign")
        np.testing.assert_allclose([float(p0), float(p1)], [1 - pk, pk], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("values, flags, task", [
    (np.arange(100) % 10, [], "classification"),            # whole numbers, 10 distinct
    (np.arange(100) % 11, [], "regression"),                # 11 distinct: a quantity
    (np.arange(100) % 3 + 0.5, [], "regression"),           # not whole
    (np.arange(100) % 10, ["--task", "regression"], "regression"),
    (np.arange(100) % 11, ["--task", "classification"], "classification"),
    (np.arange(100) % 3, ["--loss", "mse"], "regression"),
])
def test_task_rule(tmp_path, capsys, values, flags, task):
    rng = np.random.default_rng(0)
    write_csv(tmp_path / "t.csv", ["a", "y"], np.column_stack([rng.normal(size=100), values]))
    cli(capsys, "train", "--data", tmp_path / "t.csv", "--hidden", 2, "--epochs", 1, *flags, "--quiet",
        "--out", tmp_path / "m.npz")
    net = Network.load(tmp_path / "m.npz")
    assert (net.classes is not None) == (task == "classification")
    assert net.loss_name == ("mse" if task == "regression" else "cross_entropy")


@pytest.mark.parametrize("args, words", [
    (["--task", "regression"], "holds text"),
    (["--loss", "binary_cross_entropy"], "takes 2 classes"),
    (["--loss", "mse"], "drop --loss mse"),
    (["--validation-split", 1.5], "--validation-split must be a fraction"),
])
def test_bad_task_options_are_one_clean_line(tmp_path, args, words):
    class_table(30).to_csv(tmp_path / "t.csv", index=False)
    line = assert_clean_error(run("train", "--data", "t.csv", "--target", "kind", *args, "--epochs", 1,
                                  cwd=tmp_path))
    assert words in line


def test_validation_rows_are_shuffled_and_stratified():
    from sklearn.model_selection import train_test_split

    from fastnn.cli import validation_rows

    y = np.repeat([0, 1, 2], [50, 30, 20])  # sorted by class, as files come
    train, val = validation_rows(len(y), 0.2, y, seed=0)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))
    _, ref = train_test_split(np.arange(100), test_size=0.2, stratify=y, random_state=0)
    assert np.bincount(y[val]).tolist() == np.bincount(y[ref]).tolist() == [10, 6, 4]
    assert not np.array_equal(val, np.arange(80, 100))  # not the last rows
    assert not np.array_equal(validation_rows(len(y), 0.2, None, seed=1)[1], val)


def test_regression_prints_r2_of_training_and_validation_rows(tmp_path, capsys, named_data):
    import pandas as pd
    from sklearn.metrics import r2_score

    out = cli(capsys, "train", "--data", tmp_path / "named.csv", "--target", "y", "--hidden", 8, "--epochs", 20,
              "--validation-split", 0.25, "--quiet", "--out", tmp_path / "m.npz")
    net = Network.load(tmp_path / "m.npz")
    df = pd.read_csv(tmp_path / "named.csv")
    from fastnn.cli import validation_rows

    train, val = validation_rows(len(df), 0.25, None, seed=0)
    X = df.drop(columns="y")
    for part, rows in (("training", train), ("validation", val)):
        r2 = r2_score(df["y"].iloc[rows], net.predict(X.iloc[rows].reset_index(drop=True))[:, 0])
        assert f"{part} R^2: {r2:.4f}" in out
    assert "epochs: 20" in out


def test_no_scale_keeps_the_numbers(tmp_path, capsys, named_data):
    cli(capsys, "train", "--data", tmp_path / "named.csv", "--target", "y", "--no-scale", "--epochs", 1, "--quiet",
        "--out", tmp_path / "m.npz")
    net = Network.load(tmp_path / "m.npz")
    assert net.preprocess.columns == ["a", "b", "c"] and net.preprocess.mean is None


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
def test_an_estimators_saved_network_predicts_labels(tmp_path, capsys):
    import pandas as pd

    df = class_table(60, seed=3)
    X, y = df[["area", "texture"]].to_numpy() / 1000, df["kind"].to_numpy()
    clf = fastnn.MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, y)
    clf.network_.save(tmp_path / "clf.npz")
    np.savez(tmp_path / "x.npz", X=X[:5])
    text = cli(capsys, "predict", "--model", tmp_path / "clf.npz", "--data", tmp_path / "x.npz")
    table = pd.read_csv(io.StringIO(text))
    assert list(table.columns) == ["label", *(f"p_{c}" for c in clf.classes_)]
    assert table["label"].tolist() == clf.predict(X[:5]).tolist()
    np.testing.assert_allclose(table.iloc[:, 1:].to_numpy(), clf.predict_proba(X[:5]), rtol=1e-6)


def test_a_quantile_loss_with_its_parameter_trains_and_predicts_without_labels(tmp_path, named_data):
    """--loss quantile --quantile 0.9: the regression losses beyond mse take their parameter, the
    model file keeps it, and predict prints the target (no label column)."""
    out = ok(run("train", "--data", "named.csv", "--target", "y", "--loss", "quantile", "--quantile", "0.9",
                 "--epochs", "30", "--quiet", "--out", "q.npz", cwd=tmp_path)).stdout
    assert "training R^2" in out
    net = Network.load(tmp_path / "q.npz")
    assert (net.loss_name, net.loss_param) == ("quantile", 0.9)
    pred = ok(run("predict", "--model", "q.npz", "--data", "named.csv", cwd=tmp_path)).stdout.splitlines()
    assert pred[0] == "y" and len(pred) == 41
    line = assert_clean_error(run("train", "--data", "named.csv", "--target", "y", "--huber-epsilon", "0.5",
                                  "--quiet", cwd=tmp_path))
    assert "--huber-epsilon is a parameter of --loss huber; got --loss mse" in line
