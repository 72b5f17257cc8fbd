"""scripts/sweep_depth.py end to end: a local sweep, the same sweep on a real Dask cluster
(a `dask scheduler` and two `dask worker` processes on 127.0.0.1), resuming, a diverged run,
and bad input; every test drives the script through its command line, never its internals.

The sweeps are tiny (width 8, 3 epochs) so the file stays well under a minute. The shared
small sweep uses the digits data: its nets all have more than 128 parameters, so fastnn runs
them with its generic kernels and never compiles code for one particular tiny architecture.
The kinds-of-net sweep (--norms, --residual, --dropouts) is as small, on the same data.
"""
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.distributed")
pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "sweep_depth.py"
TIMING = {"time_per_epoch_s", "samples_per_s", "train_time_s"}
DEPTHS, ACTS, SEEDS = [0, 1, 3], ["relu", "sigmoid"], [0, 1]
SMALL = ["--dataset", "digits", "--depths", "0,1,3", "--activations", "relu,sigmoid",
         "--seeds", "0,1", "--width", "8", "--epochs", "3", "--batch-size", "32", "--quiet"]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def sweep(*args, out, check=True, timeout=300):
    p = subprocess.run([sys.executable, str(SCRIPT), *args, "--out", str(out)],
                       capture_output=True, text=True, env=_env(), timeout=timeout)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def without_timing(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def snapshot(folder):
    """Bytes of every file under folder, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def warm_kernels():
    """Compile (or load) fastnn's generic kernels once here, so the sweeps' worker processes
    load them from Numba's disk cache instead of each compiling them at the same time."""
    from fastnn import Network

    rng = np.random.default_rng(0)
    X, Y = rng.random((8, 64), np.float32), rng.random((8, 10), np.float32)
    net = Network([64, 8, 8, 10], "sigmoid", seed=0)  # > 128 parameters: the generic kernels
    net.fit(X, Y, epochs=1, batch_size=4)
    net.gradients(X, Y)
    net.loss(X, Y)
    # The extended hidden layers (norm, dropout, skip) of the kinds-of-net sweep, and Adam.
    for act in ("relu", "tanh"):
        for norm in ("layer", "batch"):
            net = Network([64, 8, 8, 10], act, norm=norm, dropout=0.2, residual=True, seed=0)
            net.fit(X, Y, epochs=1, batch_size=4, optimizer="adam")
            net.gradients(X, Y)
            net.loss_and_gradient(X, Y, training=True)
            net.loss(X, Y)


@pytest.fixture(scope="module")
def local_out(tmp_path_factory, warm_kernels):
    out = tmp_path_factory.mktemp("local") / "sweep"
    p = sweep(*SMALL, "--workers", "2", out=out)
    assert "12 runs" in p.stdout
    return out


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory, warm_kernels):
    """`dask scheduler` and two `dask worker` CLI processes on 127.0.0.1; yields the address."""
    from dask.distributed import Client

    d = tmp_path_factory.mktemp("dask")
    sched_file = d / "scheduler.json"
    procs = []

    def start(name, *args):
        log = open(d / f"{name}.log", "w")
        procs.append(subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log,
                                      stderr=subprocess.STDOUT, cwd=str(d), env=_env(),
                                      start_new_session=True))
        log.close()

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(sched_file))
        deadline = time.time() + 60
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert procs[0].poll() is None, (d / "scheduler.log").read_text()
            assert time.time() < deadline, "the Dask scheduler did not start"
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        for i in (1, 2):
            start(f"worker{i}", "worker", address, "--nthreads", "1", "--no-dashboard",
                  "--name", f"w{i}", "--local-directory", str(d))
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):  # workers first, then the scheduler
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def test_local_sweep_end_to_end(local_out):
    rows = read_csv(local_out / "results.csv")
    assert [(int(r["depth"]), r["activation"], int(r["seed"])) for r in rows] == [
        (d, a, s) for d in DEPTHS for a in ACTS for s in SEEDS]
    for col in ("depth", "activation", "seed", "train_loss", "val_loss", "n_params",
                "time_per_epoch_s", "samples_per_s", "grad_norms_init", "grad_norms_end"):
        assert col in rows[0]
    for r in rows:
        d = int(r["depth"])
        assert r["status"] == "ok" and r["dataset"] == "digits"
        # sizes [64, 8 x d, 10]: 64*8+8, (8*8+8)*(d-1), 8*10+10; a linear model when d == 0
        assert int(r["n_params"]) == (650 if d == 0 else 520 + 72 * (d - 1) + 90)
        assert (int(r["n_train"]), int(r["n_val"])) == (1438, 359)
        assert np.isfinite(float(r["train_loss"])) and np.isfinite(float(r["val_loss"]))
        assert float(r["train_loss"]) < float(r["init_train_loss"])
        assert float(r["time_per_epoch_s"]) > 0 and float(r["samples_per_s"]) > 0
        for col in ("grad_norms_init", "grad_norms_end"):
            norms = [float(x) for x in r[col].split(";")]
            assert len(norms) == d + 1 and all(np.isfinite(norms))
        assert 0 <= float(r["train_acc"]) <= 1 and 0 <= float(r["val_acc"]) <= 1
    # Depth 0 has no hidden layer, so its "activation" changes nothing.
    by = {(int(r["depth"]), r["activation"], int(r["seed"])): r for r in rows}
    for s in SEEDS:
        assert without_timing([by[0, "relu", s]])[0] | {"activation": ""} == \
            without_timing([by[0, "sigmoid", s]])[0] | {"activation": ""}
        # The picture behind ReLU: through 3 sigmoid layers the gradient reaching W^[1] is far
        # smaller, relative to the output layer's, than through 3 ReLU layers.
        assert float(by[3, "sigmoid", s]["grad_ratio_init"]) < 0.1 * float(by[3, "relu", s]["grad_ratio_init"])

    meta = json.loads((local_out / "metadata.json").read_text())
    assert meta["status"] == "complete" and meta["n_finished"] == 12
    assert meta["arguments"]["depths"] == DEPTHS and meta["arguments"]["activations"] == ACTS
    assert meta["machine"]["cpu_count"] >= 1 and meta["versions"]["numba"]
    assert meta["versions"]["fastnn"] and meta["versions"]["numpy"]
    ex = meta["execution"]
    assert ex["mode"] == "local" and ex["workers"] == 2
    assert ex["thread_env"]["NUMBA_NUM_THREADS"] == str(ex["threads_per_worker"])
    assert len(list((local_out / "runs").glob("*.json"))) == 12
    for name in ("loss_vs_depth.png", "time_vs_depth.png", "grad_norms.png"):
        data = (local_out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    # Without --norms/--residual/--dropouts/--optimizer, the columns and files of before.
    assert not {"norm", "residual", "dropout", "optimizer"} & set(rows[0])
    assert meta["columns"] == list(rows[0]) and not (local_out / "grad_ratio.png").exists()


KINDS = ["--dataset", "digits", "--depths", "1,2", "--activations", "relu,tanh", "--seeds", "0",
         "--width", "8", "--epochs", "2", "--norms", "none,layer,batch", "--residual", "off,on",
         "--dropouts", "0,0.2", "--optimizer", "adam", "--lr", "0.01", "--quiet"]


@pytest.fixture(scope="module")
def kinds_out(tmp_path_factory, warm_kernels):
    out = tmp_path_factory.mktemp("kinds") / "sweep"
    p = sweep(*KINDS, "--workers", "2", out=out)
    assert "36 runs" in p.stdout
    # Layer 1 maps the 64 inputs to 8 units, so a depth-1 net has no layer to put a skip on.
    assert "residual nets left out at depth 1" in p.stderr
    return out


def test_kinds_of_net_are_axes(kinds_out):
    rows = read_csv(kinds_out / "results.csv")
    assert list(rows[0])[:6] == ["depth", "activation", "norm", "residual", "dropout", "seed"]
    kinds = [(n, r, p) for n in ("none", "layer", "batch") for r in ("False", "True")
             for p in ("0.0", "0.2")]
    assert [(int(r["depth"]), r["activation"], r["norm"], r["residual"], r["dropout"]) for r in rows] == [
        (d, a, *k) for d in (1, 2) for a in ("relu", "tanh") for k in kinds if d == 2 or k[1] == "False"]
    by = {(int(r["depth"]), r["activation"], r["norm"], r["residual"], r["dropout"]): r for r in rows}
    for (d, a, norm, res, rate), r in by.items():
        assert r["status"] == "ok" and r["optimizer"] == "adam", r
        assert float(r["train_loss"]) < float(r["init_train_loss"])
        for col in ("grad_norms_init", "grad_norms_end"):
            norms = [float(x) for x in r[col].split(";")]
            assert len(norms) == d + 1 and all(np.isfinite(norms))
        # sizes [64, 8 x d, 10]; a normalized hidden layer adds γ and β, 8 + 8 entries
        assert int(r["n_params"]) == 520 + 72 * (d - 1) + 90 + (16 * d if norm != "none" else 0)
        plain = by[d, a, "none", "False", "0.0"]
        if rate == "0.2":
            # Dropout acts in training only: the loss is that of the same net without it, while
            # the gradient norms (measured as fit's steps see them) are not.
            twin = by[d, a, norm, res, "0.0"]
            assert r["init_train_loss"] == twin["init_train_loss"]
            assert r["grad_norms_init"] != twin["grad_norms_init"]
        if norm == "batch" and res == "False":
            # Batch norm at init with running mean 0, variance 1 and γ = 1, β = 0 divides z̄ by
            # √(1 + 1e-5): in eval mode the net is the plain one (same seed, same W), while
            # in training mode (the gradient norms) it uses the batch's own statistics.
            assert float(r["init_train_loss"]) == pytest.approx(float(plain["init_train_loss"]), rel=1e-4)
            assert r["grad_norms_init"] != plain["grad_norms_init"]
        if (norm, res, rate) != ("none", "False", "0.0") and rate == "0.0" and norm != "batch":
            assert r["init_train_loss"] != plain["init_train_loss"]
    for f in (kinds_out / "runs").glob("*.json"):
        run = json.loads(f.read_text())
        d = run["spec"]["depth"]
        # residual=True: a skip on every hidden layer whose width equals its input's, 2..d
        assert run["extra"]["residual_layers"] == (list(range(2, d + 1)) if run["spec"]["residual"] else [])
    meta = json.loads((kinds_out / "metadata.json").read_text())
    assert meta["columns"] == list(rows[0]) and meta["status"] == "complete"
    assert meta["grid"]["norms"] == ["none", "layer", "batch"] and meta["grid"]["dropouts"] == [0.0, 0.2]
    assert meta["grid"]["residual_too_shallow"] == [1]
    for name in ("loss_vs_depth.png", "time_vs_depth.png", "grad_norms.png", "grad_ratio.png"):
        data = (kinds_out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_kinds_sweep_resumes_and_keeps_the_plain_keys(kinds_out, local_out, tmp_path):
    """A rerun with one more kind does only that kind's runs; a kinds sweep's files never
    count as runs of a sweep without the kinds (their rows have other columns)."""
    out = tmp_path / "sweep"
    shutil.copytree(kinds_out, out)
    more = [a.replace("0,0.2", "0,0.2,0.5") for a in KINDS]  # one more dropout rate
    p = sweep(*more, "--no-plots", "--workers", "1", out=out)
    assert "36 already in" in p.stderr and "18 to run" in p.stderr
    plain = {f.name for f in (local_out / "runs").glob("*.json")}
    assert not plain & {f.name for f in (out / "runs").glob("*.json")}


def test_dask_cluster_gives_the_local_results(local_out, dask_scheduler, tmp_path):
    out = tmp_path / "dask"
    p = sweep(*SMALL, "--no-plots", "--scheduler", dask_scheduler, out=out)
    assert "Dask cluster" in p.stderr
    assert without_timing(read_csv(out / "results.csv")) == \
        without_timing(read_csv(local_out / "results.csv"))
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["execution"]["mode"] == "dask" and len(meta["execution"]["workers"]) == 2
    worker_pids = {w["pid"] for w in meta["execution"]["workers"].values()}
    run_pids = {json.loads(f.read_text())["extra"]["pid"] for f in (out / "runs").glob("*.json")}
    assert run_pids == worker_pids  # both workers ran runs, and nothing ran locally


def test_rerun_does_only_the_missing_runs(local_out, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(local_out, out)
    runs = sorted((out / "runs").glob("*.json"))
    for f in runs[:3]:
        f.unlink()
    kept = {f.name: f.read_bytes() for f in runs[3:]}
    p = sweep(*SMALL, "--no-plots", "--workers", "1", out=out)
    assert "9 already in" in p.stderr and "3 to run" in p.stderr
    assert {f.name: f.read_bytes() for f in runs[3:]} == kept  # finished runs were not redone
    assert all(f.exists() for f in runs[:3])
    assert without_timing(read_csv(out / "results.csv")) == \
        without_timing(read_csv(local_out / "results.csv"))
    inv = json.loads((out / "metadata.json").read_text())["invocations"]
    assert (inv[-1]["skipped"], inv[-1]["ran"], inv[-1]["status"]) == (9, 3, "complete")


def test_interrupted_sweep_resumes(tmp_path, warm_kernels):
    out = tmp_path / "sweep"
    # 12 runs of about 0.1 s each, one at a time: Ctrl-C lands long before the last one.
    args = ["--depths", "8", "--activations", "relu,sigmoid", "--seeds", "0,1,2,3,4,5",
            "--width", "32", "--epochs", "60", "--n-samples", "1024", "--workers", "1",
            "--no-plots", "--quiet"]
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *args, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), cwd=str(tmp_path))
    try:
        deadline = time.time() + 120
        while not list(out.glob("runs/*.json")):
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)  # Ctrl-C after the first finished run
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    first = {f.name: f.read_bytes() for f in (out / "runs").glob("*.json")}
    rows = read_csv(out / "results.csv")
    assert 1 <= len(first) < 12 and len(rows) == len(first)
    assert all(all(v != "" for k, v in r.items() if k not in ("train_acc", "val_acc")) for r in rows)
    assert not list(out.rglob("*.tmp"))

    p = sweep(*args, out=out)
    assert f"{len(first)} already in" in p.stderr and f"{12 - len(first)} to run" in p.stderr
    assert {f.name: f.read_bytes() for f in (out / "runs").glob("*.json") if f.name in first} == first
    rows = read_csv(out / "results.csv")
    assert len(rows) == 12 and len({(r["depth"], r["activation"], r["seed"]) for r in rows}) == 12


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args, code, words", [
    (["--activations", "relu,swish"], 2, ["--activations", "swish"]),
    (["--depths", "2,-1"], 2, ["--depths", "-1"]),
    (["--scheduler", "tcp://127.0.0.1:{port}", "--connect-timeout", "1"], 1, ["scheduler", "127.0.0.1"]),
    (["--scheduler", "http//nowhere"], 2, ["--scheduler", "tcp://HOST:PORT"]),
    (["--norms", "none,group"], 2, ["--norms", "group"]),
    (["--residual", "yes"], 2, ["--residual", "yes"]),
    (["--dropouts", "0,1"], 2, ["--dropouts", "[0, 1)"]),
    (["--optimizer", "lion"], 2, ["--optimizer", "lion"]),
    (["--norms", "batch", "--batch-size", "1"], 2, ["--batch-size", "batch norm"]),
    (["--depths", "1", "--residual", "on"], 2, ["nothing to run", "depths"]),
])
def test_bad_input_one_line_error_and_results_kept(local_out, tmp_path, args, code, words):
    out = tmp_path / "sweep"
    shutil.copytree(local_out, out)
    before = snapshot(out)
    args = [a.format(port=_closed_port()) for a in args]
    # A new depth, so that there is something to run (and a scheduler is needed).
    p = sweep(*SMALL, "--depths", "5", *args, out=out, check=False)
    assert p.returncode == code, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sweep_depth: error: "), lines
    assert all(w in lines[0] for w in words)
    assert snapshot(out) == before  # what was written stays, untouched


def test_unwritable_out_exits_nonzero_with_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    p = sweep(*SMALL, out=blocker / "sweep", check=False)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sweep_depth: error: argument --out"), p.stderr
    assert blocker.read_text() == "not a folder"


def test_a_diverged_run_reports_its_epoch_and_keeps_the_weights_before_it(tmp_path, warm_kernels):
    """A run whose fit diverges in epoch E (fastnn's DivergedError.epoch) is reported as
    "diverged@E" with E - 1 epochs done, and everything it measured after training equals a
    fresh run of the same spec for E - 1 epochs: the weights were rolled back to that epoch.
    lr 10 on the kinked data makes this sigmoid net's loss overflow after a few epochs."""
    args = ["--depths", "1", "--activations", "sigmoid", "--seeds", "0", "--width", "8",
            "--n-samples", "256", "--lr", "10", "--workers", "1", "--no-plots", "--quiet"]
    sweep(*args, "--epochs", "8", out=tmp_path / "long")
    [diverged] = read_csv(tmp_path / "long" / "results.csv")
    assert diverged["status"].startswith("diverged@"), diverged["status"]
    bad = int(diverged["status"].removeprefix("diverged@"))
    assert 2 <= bad <= 8 and int(diverged["epochs_done"]) == bad - 1
    sweep(*args, "--epochs", str(bad - 1), out=tmp_path / "short")
    [fresh] = read_csv(tmp_path / "short" / "results.csv")
    assert (fresh["status"], int(fresh["epochs_done"])) == ("ok", bad - 1)
    same = set(diverged) - TIMING - {"status", "epochs", "epochs_done"}
    assert {k: diverged[k] for k in same} == {k: fresh[k] for k in same}
    assert np.isfinite(float(diverged["train_loss"]))
