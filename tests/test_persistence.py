"""save and load against hostile files, failing disks and killed processes (issue 11).

Every malformed model file must become a ValueError naming the file and the field, quickly and
without allocating what the file claims; formats 1 to 4 written by save must still load exactly.
Hostile files are built by hand: np.savez with crafted arrays, zip surgery for .npy headers that
lie, truncation and random bytes. FASTNN_FUZZ_EXAMPLES raises the hypothesis example counts.
"""
import copy
import errno
import io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import fastnn
from fastnn import _io, persist
from fastnn.network import Network
from fastnn.persist import FORMAT_VERSION
from helpers import assert_resume_alike

REPO = Path(__file__).resolve().parents[1]
FUZZ = int(os.environ.get("FASTNN_FUZZ_EXAMPLES", "0"))  # 0: the default, quick counts
A = np.asarray


# --- helpers -------------------------------------------------------------------------------------

def trained(loss="cross_entropy", optimizer="adam", dtype="float32", names=True, epochs=2):
    """A small trained net with an optimizer state, a schedule and feature names."""
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 3)).astype(dtype)
    net = Network([3, 5, 4], loss=loss, dtype=dtype, seed=1)
    Y = rng.integers(0, 4, size=24) if loss == "cross_entropy" else rng.normal(size=(24, 4))
    net.fit(pd.DataFrame(X, columns=["a", "b", "c"]) if names else X, Y, epochs=epochs,
            batch_size=8, optimizer=optimizer)
    return net


def fields(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def npy(arr=None, header=None, data=None):
    """The bytes of an .npy member: ``arr``'s, or a hand-written header dict and data."""
    buf = io.BytesIO()
    if arr is not None:
        np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
        return buf.getvalue()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    """An .npz from {field: .npy bytes}."""
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, raw in members.items():
            z.writestr(name + ".npy", raw)
    return path


def same(a, b):
    """Every part of two networks that save writes, compared exactly (the shuffling generator
    by training copies of both on with their optimizers: the same shuffles give the same θ)."""
    assert (a.sizes, a.activations, a.loss_name, a.dtype) == (b.sizes, b.activations, b.loss_name, b.dtype)
    assert (a.norm, a.dropout, a.residual) == (b.norm, b.dropout, b.residual)
    assert (a.epochs_trained, a.dropout_seed) == (b.epochs_trained, b.dropout_seed)
    assert a.parameters.tobytes() == b.parameters.tobytes() and a.parameters.dtype == b.parameters.dtype
    assert a.snapshot().tobytes() == b.snapshot().tobytes()  # θ and batch norm's running statistics
    assert_resume_alike(a, b)
    if a.feature_names_in_ is None:
        assert b.feature_names_in_ is None
    else:
        assert list(a.feature_names_in_) == list(b.feature_names_in_)
    assert (a.classes is None) == (b.classes is None)
    if a.classes is not None:
        assert a.classes.tolist() == b.classes.tolist() and a.classes.dtype.kind == b.classes.dtype.kind
    assert (a.preprocess and a.preprocess.to_dict()) == (b.preprocess and b.preprocess.to_dict())
    if a.optimizer is None:
        assert b.optimizer is None
        return
    oa, ob = a.optimizer, b.optimizer
    assert type(oa) is type(ob) and oa.config() == ob.config() and (oa.t, oa.epoch) == (ob.t, ob.epoch)
    assert type(oa.schedule) is type(ob.schedule) and oa.schedule.get_state() == ob.schedule.get_state()
    if oa.state is None or not oa.state.size:
        assert ob.state is None or not ob.state.size
    else:
        assert oa.state.tobytes() == ob.state.tobytes()


def refused(path, field, match=None, seconds=2.0):
    """load(path) raises a ValueError naming path and field, within ``seconds``."""
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as info:
        Network.load(path)
    took = time.perf_counter() - t0
    msg = str(info.value)
    assert type(info.value) is ValueError, type(info.value)
    assert str(path) in msg, msg
    if field is not None:
        assert f"field {field!r}" in msg, msg
    if match is not None:
        assert match in msg, msg
    assert took < seconds, (took, msg)
    return msg


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """(path, net): a format-4 file of a trained net with Adam, a schedule and feature names."""
    net = trained()
    net.classes = np.array(["w", "x", "y", "z"])
    path = tmp_path_factory.mktemp("good") / "model.npz"
    net.save(path)
    return path, net


# --- round trips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop", "sgd", "momentum", None])
def test_round_trip_is_exact(tmp_path, dtype, optimizer):
    from fastnn import SGD, schedules

    if optimizer is None:
        net = Network([3, 5, 4], loss="cross_entropy", dtype=dtype, seed=1)
    else:
        opt = SGD(lr=0.05, momentum=0.9, nesterov=True, schedule=schedules.ReduceOnPlateau(patience=0)) \
            if optimizer == "momentum" else optimizer
        net = trained(dtype=dtype, optimizer=opt, loss="mse")
    net.save(tmp_path / "m.npz")
    back = Network.load(tmp_path / "m.npz")
    same(net, back)
    if optimizer == "momentum":  # the plateau schedule's state came back too
        assert back.optimizer.schedule.num_bad_epochs == net.optimizer.schedule.num_bad_epochs


V4_FIELDS = ("norm", "dropout", "residual", "running_stats", "epochs_trained", "dropout_seed")


def test_format_4_still_loads_without_classes_or_preprocess(tmp_path, good):
    path, net = good
    f = {k: v for k, v in fields(path).items() if k not in ("classes", "preprocess")}
    np.savez(tmp_path / "v4.npz", **dict(f, format_version=np.int64(4)))
    back = Network.load(tmp_path / "v4.npz")
    assert back.classes is None and back.preprocess is None
    back.classes = net.classes
    same(net, back)


@pytest.mark.parametrize("classes", [["malignant", "benign"], [1, 2, 3]])
def test_classes_and_preprocess_round_trip(tmp_path, classes):
    """Format 5: the labels keep their type (str or int), and the loaded net transforms raw
    columns as the saved one (the transform checked against scikit-learn's in test_preprocess)."""
    import pandas as pd

    from fastnn.preprocess import Preprocess

    df = pd.DataFrame({"size": [1.0, 2.0, 5.0, 4.0], "color": ["red", "blue", "red", "green"]})
    net = Network([4, 3, len(classes) if len(classes) > 2 else 1], seed=0,
                  loss="cross_entropy" if len(classes) > 2 else "binary_cross_entropy")
    net.preprocess = Preprocess.fit(df, targets=["kind"])
    net.classes = np.array(classes)
    net.save(tmp_path / "m.npz")
    back = Network.load(tmp_path / "m.npz")
    same(net, back)
    assert type(back.classes.tolist()[0]) is type(classes[0])
    np.testing.assert_array_equal(back.predict(df), net.predictor()(net.preprocess.transform(df).astype(np.float32)))
    matches_file(back, tmp_path / "m.npz")


def test_formats_3_2_and_1_still_load_exactly(tmp_path, good):
    """Files without format 4's fields load as nets without norm, dropout or skips, with
    epochs_trained and dropout_seed 0."""
    path, net = good
    net = copy.deepcopy(net)
    net.classes = None  # (format 5's)
    f = {k: v for k, v in fields(path).items() if k not in V4_FIELDS}
    np.savez(tmp_path / "v3.npz", **dict(f, format_version=np.int64(3)))
    back = Network.load(tmp_path / "v3.npz")
    assert (back.norm, back.dropout, back.residual, back.epochs_trained, back.dropout_seed) == \
        ([None], [0.0], [False], 0, 0)
    assert net.epochs_trained == 2
    net = copy.deepcopy(net)
    net.epochs_trained = 0  # (a net without dropout trains the same whatever its count)
    same(net, back)

    v2 = {k: v for k, v in f.items() if k != "feature_names"}
    np.savez(tmp_path / "v2.npz", **dict(v2, format_version=np.int64(2)))
    back = Network.load(tmp_path / "v2.npz")
    assert back.feature_names_in_ is None
    back.feature_names_in_ = net.feature_names_in_
    same(net, back)

    v1 = {k: f[k] for k in ("sizes", "activations", "dtype", "params")}
    mse = Network([3, 5, 4], ["tanh", "sigmoid"], dtype="float32", seed=3)
    v1.update(activations=np.array(mse.activations, dtype="U16"), params=mse.parameters)
    np.savez(tmp_path / "v1.npz", format_version=np.int64(1), **v1)
    back = Network.load(tmp_path / "v1.npz")
    assert back.loss_name == "mse" and back.optimizer is None and back.feature_names_in_ is None
    assert back.parameters.tobytes() == mse.parameters.tobytes()


def test_compressed_and_big_endian_files_load_exactly(tmp_path, good):
    path, net = good
    f = fields(path)
    np.savez_compressed(tmp_path / "z.npz", **f)
    same(net, Network.load(tmp_path / "z.npz"))
    np.savez(tmp_path / "be.npz", **dict(f, params=f["params"].astype(">f4"),
                                         optimizer_state=f["optimizer_state"].astype(">f4")))
    same(net, Network.load(tmp_path / "be.npz"))


def test_load_never_draws_random_weights(good, monkeypatch):
    """load builds the network from the file's θ (``parameters=``), so it never draws the
    random initial weights a network of that size would take."""
    init = Network.__init__

    def from_parameters(self, *args, **kwargs):
        assert kwargs.get("parameters") is not None, "load drew random initial weights"
        init(self, *args, **kwargs)

    monkeypatch.setattr(Network, "__init__", from_parameters)
    back = Network.load(good[0])
    monkeypatch.setattr(Network, "__init__", init)
    same(good[1], back)


# --- format 4: norm, dropout, skips, running statistics, the dropout keys -------------------------

DEEP = {  # the hidden layers' options of the format-4 round trips: id → (Network kwargs, dtype)
    "batch-dropout-skip": (dict(norm="batch", dropout=0.2, residual=True), "float64"),
    "layer": (dict(norm="layer"), "float32"),
    "mixed": (dict(norm=["batch", None, "layer"], dropout=[0.0, 0.3, 0.1], residual=[False, True, False]),
              "float64"),
}


def deep_net(case, seed=1):
    kwargs, dtype = DEEP[case]
    return Network([4, 6, 6, 5, 2], **kwargs, dtype=dtype, seed=seed)


def deep_data():
    rng = np.random.default_rng(3)
    return rng.normal(size=(40, 4)), rng.normal(size=(40, 2))


@pytest.fixture(scope="module")
def deep_good(tmp_path_factory):
    """(path, net): a format-4 file of a net with batch and layer norm, dropout and a skip,
    trained 2 epochs (running statistics away from 0 and 1, epochs_trained 2)."""
    net = deep_net("mixed")
    net.fit(*deep_data(), epochs=2, batch_size=8, optimizer="adam")
    path = tmp_path_factory.mktemp("deep") / "model.npz"
    net.save(path)
    return path, net


@pytest.mark.parametrize("case", ["batch-dropout-skip", "layer"])
def test_a_saved_and_loaded_net_trains_on_as_the_unsaved_one(tmp_path, case):
    """fit 2 epochs, save, load, fit 2 more == fit 4 epochs: θ and the running statistics bit
    for bit (the dropout masks are keyed by epochs_trained and dropout_seed, both in the file;
    the optimizer and the shuffling generator continue)."""
    X, Y = deep_data()
    whole = deep_net(case)
    whole.fit(X, Y, epochs=4, batch_size=8, optimizer="adam")
    half = deep_net(case)
    half.fit(X, Y, epochs=2, batch_size=8, optimizer="adam")
    half.save(tmp_path / "m.npz")
    back = Network.load(tmp_path / "m.npz")
    same(half, back)
    assert back.predict(X).tobytes() == half.predict(X).tobytes()
    back.fit(X, Y, epochs=2, batch_size=8)
    assert back.epochs_trained == whole.epochs_trained == 4
    assert back.snapshot().tobytes() == whole.snapshot().tobytes()
    # and the file's keys matter: other keys, other masks
    if any(whole.dropout):
        other = Network.load(tmp_path / "m.npz")
        other.dropout_seed += 1
        other.fit(X, Y, epochs=2, batch_size=8)
        assert other.parameters.tobytes() != whole.parameters.tobytes()


def test_format_4_fields_and_running_statistics_per_layer(tmp_path, deep_good):
    """The file holds each hidden layer's options and, per batch norm layer, its running mean
    then variance; distinct values come back to the right layer and unit."""
    path, net = deep_good
    f = fields(path)
    assert int(f["format_version"]) == FORMAT_VERSION
    assert f["norm"].tolist() == ["batch", "", "layer"]
    assert f["dropout"].tolist() == [0.0, 0.3, 0.1] and f["residual"].tolist() == [False, True, False]
    assert (int(f["epochs_trained"]), int(f["dropout_seed"])) == (2, net.dropout_seed) and net.dropout_seed > 0
    np.testing.assert_array_equal(f["running_stats"], np.concatenate([net.running_means[0], net.running_vars[0]]))
    same(net, Network.load(path))

    two = Network([3, 4, 4, 5, 1], norm=["batch", "layer", "batch"], dtype="float64", seed=0)
    means = [np.arange(4.0), None, 10 + np.arange(5.0)]
    variances = [1 + np.arange(4.0), None, 20 + np.arange(5.0)]
    two.set_running_stats(means, variances)
    two.save(tmp_path / "two.npz")
    back = Network.load(tmp_path / "two.npz")
    for got, want in zip(back.running_means + back.running_vars, means + variances):
        assert (got is None and want is None) or np.array_equal(got, want)


def test_pickle_keeps_running_statistics_and_the_dropout_keys():
    import pickle

    X, Y = deep_data()
    net = deep_net("batch-dropout-skip")
    net.fit(X, Y, epochs=2, batch_size=8, optimizer="adam")
    back = pickle.loads(pickle.dumps(net))
    same(net, back)
    assert back.predict(X).tobytes() == net.predict(X).tobytes()
    net.fit(X, Y, epochs=1, batch_size=8)
    back.fit(X, Y, epochs=1, batch_size=8)
    assert back.snapshot().tobytes() == net.snapshot().tobytes()


HOSTILE_DEEP = [  # on deep_good: sizes [4, 6, 6, 5, 2], norm [batch, -, layer]
    ("norm", None, "missing"),
    ("norm", A(["batch", ""]), "2 entries for the 3 hidden layers"),
    ("norm", A(["batch", "", "group"]), "layer 3's normalization is 'group'"),
    ("norm", A(["batch", "None", "layer"]), "'None'"),
    ("norm", A([1, 0, 1]), "string"),
    ("norm", A(["batch", "batch", "layer"]), "field 'params': holds 141 values but sizes [4, 6, 6, 5, 2] "
                                             "with norm ['batch', 'batch', 'layer'] need 153"),
    ("norm", A(["batch", "", "batch"]), "field 'running_stats': holds 12 values but the batch norm layers"),
    ("dropout", None, "missing"),
    ("dropout", A([0.0, 1.0, 0.1]), "layer 2's rate is 1.0"),
    ("dropout", A([0.0, -0.1, 0.1]), "[0, 1)"),
    ("dropout", A([0.0, np.nan, 0.1]), "nan"),
    ("dropout", A([0.1, 0.1]), "2 entries"),
    ("dropout", A([0, 0, 0]), "floating-point"),
    ("residual", None, "missing"),
    ("residual", A([True, True, False]), "layer 1 has a skip but maps 4 to 6 units"),
    ("residual", A([False, True, True]), "layer 3 has a skip but maps 6 to 5 units"),
    ("residual", A([0, 1, 0]), "boolean"),
    ("residual", A([False, True]), "2 entries"),
    ("running_stats", None, "missing"),
    ("running_stats", A([0.0] * 11), "holds 11 values"),
    ("running_stats", A([0.0] * 6 + [1.0] * 5 + [-1.0]), "entry 11 (layer 1's running variance of unit 6)"),
    ("running_stats", A([np.nan] * 12), "entry 0 is nan"),
    ("running_stats", A([0] * 12), "floating-point"),
    ("epochs_trained", None, "missing"),
    ("epochs_trained", A(-1), "-1 is not in [0, 2^63)"),
    ("epochs_trained", A(2**63, dtype=np.uint64), "not in"),
    ("epochs_trained", A(2.0), "integer"),
    ("epochs_trained", A([2]), "integer"),
    ("dropout_seed", None, "missing"),
    ("dropout_seed", A(-5), "not in"),
    ("dropout_seed", A("7"), "integer"),
    ("activations", A(["relu", "relu", "relu", "gelu"]), "hidden layers only"),
]


@pytest.mark.parametrize("field, value, words", HOSTILE_DEEP,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(HOSTILE_DEEP)])
def test_hostile_format_4_field_is_refused_naming_file_and_field(tmp_path, deep_good, field, value, words):
    f = fields(deep_good[0])
    if value is None:
        del f[field]
    else:
        f[field] = value
    path = tmp_path / "bad.npz"
    np.savez(path, **f)
    refused(path, None if "field '" in words else field, words)


def test_format_4_fields_in_an_older_format_are_ignored(tmp_path, deep_good):
    """A file that says format 3 is read as format 3, whatever else it holds: its θ has γ and
    β for the norm layers, which format 3 does not know, so it is refused by the size check."""
    f = dict(fields(deep_good[0]), format_version=np.int64(3))
    np.savez(tmp_path / "v3.npz", **f)
    refused(tmp_path / "v3.npz", "params", "holds 141 values but sizes [4, 6, 6, 5, 2] need 119")


# --- format 5: the loss's parameter --------------------------------------------------------------
@pytest.mark.parametrize("loss", [fastnn.losses.huber(0.7), fastnn.losses.quantile(0.3), "poisson"])
def test_format_5_keeps_the_loss_and_its_parameter(tmp_path, loss, rng):
    net = Network([3, 4, 1], loss=loss, dtype="float64", seed=0)
    X = rng.normal(size=(20, 3))
    net.fit(X, rng.poisson(2.0, size=20).astype(float), epochs=2, optimizer="adam")
    net.save(tmp_path / "m.npz")
    back = Network.load(tmp_path / "m.npz")
    assert (back.loss_name, back.loss_param, back.activations) == (net.loss_name, net.loss_param, net.activations)
    assert back.loss(X, np.ones(20)) == net.loss(X, np.ones(20))
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


def test_a_format_4_file_of_a_parameter_loss_takes_the_default(tmp_path, rng):
    """Format 4 had no loss_param (nor these losses): such a file reads as the default ε."""
    Network([3, 4, 1], loss=fastnn.losses.huber(0.7), seed=0).save(tmp_path / "m.npz")
    f = {k: v for k, v in fields(tmp_path / "m.npz").items() if k != "loss_param"}
    np.savez(tmp_path / "v4.npz", **dict(f, format_version=np.int64(4)))
    assert Network.load(tmp_path / "v4.npz").loss_param == fastnn.losses.LOSSES["huber"].param
    np.savez(tmp_path / "v5.npz", **dict(f, format_version=np.int64(5)))
    refused(tmp_path / "v5.npz", "loss_param", "missing")


@pytest.mark.parametrize("loss, value, words", [
    ("quantile", A(1.5), "the quantile q must be in (0, 1), got 1.5"),
    ("huber", A(-2.0), "Huber's threshold on the residual must be a finite number > 0"),
    ("huber", A("0.1"), "floating-point"),
    ("huber", A([0.1]), "floating-point"),
])
def test_hostile_loss_param_is_refused(tmp_path, loss, value, words):
    Network([3, 4, 1], loss=loss, seed=0).save(tmp_path / "m.npz")
    np.savez(tmp_path / "bad.npz", **dict(fields(tmp_path / "m.npz"), loss_param=value))
    refused(tmp_path / "bad.npz", "loss_param", words)


# --- hostile fields, one at a time ---------------------------------------------------------------

JSON_DEEP = "[" * 100_000 + "]" * 100_000
HOSTILE = [  # (field, value or None to delete it, words the message must hold)
    ("format_version", None, "missing"),
    ("format_version", A(0), "invalid"),
    ("format_version", A(FORMAT_VERSION + 1), "not supported"),
    ("format_version", A(3.0), "integer"),
    ("format_version", A("3"), "integer"),
    ("format_version", A([3]), "integer"),
    ("format_version", A(2**63 + 5, dtype=np.uint64), "not supported"),
    ("sizes", None, "missing"),
    ("sizes", A([], dtype=np.int64), "at least two"),
    ("sizes", A([3]), "at least two"),
    ("sizes", A([3, 0, 4]), "positive"),
    ("sizes", A([3, -5, 4]), "positive"),
    ("sizes", A([3.0, 5.0, 4.0]), "integer"),
    ("sizes", A([True, True]), "integer"),
    ("sizes", A(["3", "5", "4"]), "integer"),
    ("sizes", A([[3, 5, 4]]), "1-D"),
    # The file's 44 parameters no longer match: the refusal names params, and the sizes.
    ("sizes", A([3, 1_200_000_000, 4]), "field 'params': holds 44 values but sizes [3, 1200000000, 4] "
                                        "need 9,600,000,004"),  # a few KB claiming 38 GB
    ("sizes", A([3, 2**62, 4]), "field 'params'"),
    ("sizes", A([3, 2**64 - 1, 4], dtype=np.uint64), "field 'params'"),
    ("activations", A(["relu", "swish"]), "swish"),
    ("activations", A(["relu"]), "1 names for the 2 layers"),
    ("activations", A(["relu", "relu"]), "needs 'softmax'"),
    ("activations", A(["softmax", "softmax"]), "psi^[1]"),
    ("activations", A([1, 2]), "string"),
    ("activations", A(["relu", "softmax" * 10_000]), "psi^[2]"),
    ("loss", A("hinge"), "unknown loss"),
    ("loss", A(3), "string"),
    ("loss", None, "missing"),
    ("dtype", A("float16"), "float16"),
    ("dtype", A("object"), "object"),
    ("params", None, "missing"),
    ("params", A([np.nan] * 44, dtype=np.float32), "entry 0 is nan"),
    ("params", A([0.0] * 43 + [np.inf], dtype=np.float32), "entry 43 is inf"),
    ("params", A([1e300] * 44), "(as float32)"),
    ("params", A([0.0] * 45, dtype=np.float32), "holds 45 values but sizes [3, 5, 4] need 44"),
    ("params", A([0] * 44), "floating-point"),
    ("params", A([0j] * 44), "floating-point"),
    ("params", A(["0"] * 44), "floating-point"),
    ("params", A([[0.0] * 44], dtype=np.float32), "1-D"),
    ("params", A([0.0] * 44, dtype=np.longdouble), "cannot be cast"),
    ("params", np.array([0.0] * 44, dtype=object), "unpickling"),
    ("optimizer_state", A([0.0] * 87, dtype=np.float32), "88"),
    ("optimizer_state", A([np.nan] * 88, dtype=np.float32), "entry 0 is nan"),
    ("optimizer_state", np.array([None], dtype=object), "unpickling"),
    ("optimizer", A("{not json"), "JSON"),
    ("optimizer", A(JSON_DEEP), "JSON"),
    ("optimizer", A("[1, 2]"), "optimizer description"),
    ("optimizer", A('{"name": "lbfgs"}'), "optimizer description"),
    ("rng", A("{}"), "PCG64"),
    ("rng", A('{"bit_generator": "MT19937"}'), "PCG64"),
    ("rng", A("nope"), "JSON"),
    ("rng", A(7), "string"),
    ("feature_names", A(["a", "b"]), "2 names for n_0 = 3"),
    ("feature_names", A([1, 2, 3]), "string"),
    ("feature_names", np.frombuffer(b"\xff\xff\xff\xff" * 3, "<U1"), "invalid characters"),
    ("classes", A('["a", "b", "c"]'), "has 3 labels but the network's 4 output(s) need 4"),
    ("classes", A('["a", "a", "b", "c"]'), "distinct"),
    ("classes", A('[1, "a", 2, 3]'), "list of strings or of 64-bit integers"),
    ("classes", A('[true, false, 1, 2]'), "list of strings or of 64-bit integers"),
    ("classes", A('[1.5, 2, 3, 4]'), "list of strings or of 64-bit integers"),
    ("classes", A(JSON_DEEP), "JSON"),
    ("classes", A(3), "string"),
    ("preprocess", A('{"columns": null}'), "not a Preprocess description"),
    ("preprocess", A('{"columns": ["a", "b"], "categories": {}, "mean": [0, 0], "scale": [1, 1], '
                     '"targets": null}'), "into 2 columns but the network takes n_0 = 3"),
    ("preprocess", A('{"columns": ["a", "b", "c"], "categories": {}, "mean": [0, 0, 0], '
                     '"scale": [1, 0, 1], "targets": null}'), "scale finite and > 0"),
    ("preprocess", A('{"columns": ["a", "b"], "categories": {"b": ["x", "x"]}, "mean": [0], '
                     '"scale": [1], "targets": null}'), "distinct"),
]


@pytest.mark.parametrize("field, value, words", HOSTILE, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(HOSTILE)])
def test_hostile_field_is_refused_naming_file_and_field(tmp_path, good, field, value, words):
    f = fields(good[0])
    if value is None:
        del f[field]
    else:
        f[field] = value
    path = tmp_path / "bad.npz"
    np.savez(path, **f)  # np.savez pickles object arrays: load must refuse, not unpickle
    refused(path, None if "field '" in words else field, words)


@pytest.mark.parametrize("version", [0, -1, -(2**63), FORMAT_VERSION + 1, 2**63 + 5])
def test_unsupported_format_versions_say_whether_a_newer_fastnn_may_read_them(tmp_path, good, version):
    """A version below 1 was never written by any fastnn: no advice to upgrade. A version above
    FORMAT_VERSION may come from a newer fastnn, and the message says so."""
    f = fields(good[0])
    f["format_version"] = A(version, dtype=np.uint64 if version >= 2**63 else np.int64)
    np.savez(tmp_path / "v.npz", **f)
    msg = refused(tmp_path / "v.npz", "format_version", f"version {version} is ")
    if version < 1:
        assert "invalid" in msg and f"reads 1 to {FORMAT_VERSION}" in msg and "newer" not in msg, msg
    else:
        assert "not supported" in msg and "a newer fastnn may read it" in msg, msg


@pytest.mark.parametrize("kind", [str, Path])
def test_a_missing_file_is_file_not_found(tmp_path, kind):
    """As np.load and joblib.load: FileNotFoundError (errno ENOENT, the user's path as filename),
    also under a missing folder; other unreadable paths stay ValueError."""
    for path in (tmp_path / "missing.npz", tmp_path / "no" / "such" / "m.npz"):
        with pytest.raises(FileNotFoundError) as info:
            Network.load(kind(path))
        assert info.value.errno == errno.ENOENT and info.value.filename == str(path), info.value
        assert str(path) in str(info.value)
        with pytest.raises(FileNotFoundError) as numpy_says:
            np.load(kind(path))
        assert type(info.value) is type(numpy_says.value)
    (tmp_path / "folder.npz").mkdir()
    refused(tmp_path / "folder.npz", None)


def _optimizer_meta(good):
    return json.loads(str(fields(good[0])["optimizer"]))


@pytest.mark.parametrize("change, words", [
    (lambda m: m.update(name=["adam"]), "TypeError"),
    (lambda m: m["config"].update(lr=-1.0), "lr"),
    (lambda m: m["config"].update(lr="fast"), "lr"),
    (lambda m: m["config"].update(lr=10**400), "OverflowError"),
    (lambda m: m["config"].update(momentum=0.9), "momentum"),
    (lambda m: m["config"].update(schedule="cosine"), "schedule"),
    (lambda m: m.update(t=-1), "t must be"),
    (lambda m: m.update(t=True), "t must be"),
    (lambda m: m.update(epoch=1.5), "epoch must be"),
    (lambda m: m.pop("epoch"), "epoch"),
    (lambda m: m["schedule"].update(name="warp"), "warp"),
    (lambda m: m["schedule"].update(state="x"), "AttributeError"),
    (lambda m: m["schedule"].update(state={"best": "x"}), "dict of numbers"),
    (lambda m: m["schedule"].update(name="plateau", state={"factor": 0.5}), "lacks"),
    (lambda m: m.update(config=[]), "TypeError"),
])
def test_hostile_optimizer_description_is_refused(tmp_path, good, change, words):
    meta = _optimizer_meta(good)
    change(meta)
    f = dict(fields(good[0]), optimizer=A(json.dumps(meta)))
    np.savez(tmp_path / "bad.npz", **f)
    refused(tmp_path / "bad.npz", "optimizer", words)


@pytest.mark.parametrize("state", [
    {"bit_generator": "PCG64", "state": {"state": -1, "inc": 3}, "has_uint32": 0, "uinteger": 0},
    {"bit_generator": "PCG64", "state": {"state": 2**130, "inc": 3}, "has_uint32": 0, "uinteger": 0},
    {"bit_generator": "PCG64", "state": {"state": 1.5, "inc": 3}, "has_uint32": 0, "uinteger": 0},
    {"bit_generator": "PCG64", "state": {"state": 1, "inc": 3}, "has_uint32": "x", "uinteger": 0},
    {"bit_generator": "PCG64", "state": [], "has_uint32": 0, "uinteger": 0},
])
def test_hostile_generator_state_is_refused(tmp_path, good, state):
    np.savez(tmp_path / "bad.npz", **dict(fields(good[0]), rng=A(json.dumps(state))))
    refused(tmp_path / "bad.npz", "rng", "PCG64")


def test_optimizer_state_without_an_optimizer_is_refused(tmp_path, good):
    np.savez(tmp_path / "bad.npz", **dict(fields(good[0]), optimizer=A("")))
    refused(tmp_path / "bad.npz", "optimizer_state", "holds 88 values but the optimizer needs 0")


# --- headers that lie, and damaged archives ------------------------------------------------------

def _members(good, **replace):
    """The good file's members as .npy bytes, some replaced."""
    out = {k: npy(v) for k, v in fields(good[0]).items()}
    out.update(replace)
    return out


@pytest.mark.parametrize("field, header, words", [
    ("params", {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}, "4,000,000,000,000 bytes"),
    ("params", {"descr": "<f4", "fortran_order": False, "shape": (-1,)}, "negative"),
    ("params", {"descr": "<f4", "fortran_order": False, "shape": (44, -1)}, "negative"),
    ("optimizer_state", {"descr": "<f4", "fortran_order": False, "shape": (2**62,)}, "bytes"),
    ("sizes", {"descr": "<i8", "fortran_order": False, "shape": (10**15,)}, "bytes"),
    ("rng", {"descr": "<U100000000", "fortran_order": False, "shape": ()}, "bytes"),
    ("params", {"descr": "|O", "fortran_order": False, "shape": (44,)}, "unpickling"),
])
def test_npy_header_that_lies_is_refused_before_reading(tmp_path, good, field, header, words):
    data = npy(fields(good[0])[field])[128:]  # the real data, behind a header that lies about it
    path = write_zip(tmp_path / "lie.npz", _members(good, **{field: npy(header=header, data=data)}))
    refused(path, field, words)


@pytest.mark.parametrize("raw, words", [
    (b"\x93NUMPY\x01\x00\xff\xff{'descr'", "unreadable"),  # header length past the end
    (b"\x93NUMPY\x03\x00" + bytes(10), ".npy format version (3, 0)"),
    (b"\x93NUMPX\x01\x00" + bytes(10), "magic"),
    (b"", "unreadable"),
    (b"\x93NUMPY\x01\x00\x10\x00{'descr': 5}    \n", "unreadable"),
    (b"\x93NUMPY\x01\x00\x40\x00" + b"{'descr': ('<f4', 10**20), 'fortran_order': False, 'shape': (1,)}"[:64],
     "unreadable .npy header (TokenError"),  # numpy's header parser lets tokenize's error through
    (npy(header={"descr": [("a", "<f4", (10**10, 10**10))], "fortran_order": False, "shape": (1,)}, data=b""),
     "unreadable .npy header"),
])
def test_garbled_npy_header_is_refused(tmp_path, good, raw, words):
    path = write_zip(tmp_path / "bad.npz", _members(good, params=raw))
    refused(path, "params", words)


def test_sizes_claiming_gigabytes_with_consistent_headers_is_refused_by_the_zip_size(tmp_path, good):
    """sizes [60000, 60000, 1] and a params header of that many floats: only the zip directory
    could still say how big the member is, and the archive is far smaller than that."""
    n = 60000 * 60000 + 60000 + 60000 + 1
    header = {"descr": "<f4", "fortran_order": False, "shape": (n,)}
    members = _members(good, sizes=npy(A([60000, 60000, 1])), activations=npy(A(["relu", "identity"])),
                       loss=npy(A("mse")), optimizer=npy(A("")),
                       optimizer_state=npy(A([], dtype=np.float32)), feature_names=npy(A([], dtype="U1")),
                       params=npy(header=header, data=bytes(12)))
    path = write_zip(tmp_path / "lie.npz", members)
    # The zip directory's entry for params.npy now claims the whole 14.4 GB (its low 32 bits).
    claim = (len(npy(header=header, data=b"")) + 4 * n) & 0xFFFFFFFF
    raw = bytearray(path.read_bytes())
    start = raw.find(b"PK\x01\x02")
    while start >= 0:
        name_len = int.from_bytes(raw[start + 28:start + 30], "little")
        if raw[start + 46:start + 46 + name_len] == b"params.npy":
            raw[start + 20:start + 28] = claim.to_bytes(4, "little") * 2  # compressed, uncompressed
        start = raw.find(b"PK\x01\x02", start + 4)
    path.write_bytes(bytes(raw))
    refused(path, "params", "truncated or damaged")


def test_damaged_or_foreign_files_are_refused(tmp_path, good):
    raw = good[0].read_bytes()
    cases = {
        "empty.npz": b"",
        "random.npz": np.random.default_rng(0).bytes(4096),
        "text.npz": b"sizes = [3, 5, 4]\n",
        "npy.npz": npy(A([1.0, 2.0])),  # a bare .npy, not a zip
        "head.npz": raw[:len(raw) // 2],
        "tail.npz": raw[len(raw) // 2:],
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        refused(path, None)
    (tmp_path / "folder.npz").mkdir()
    refused(tmp_path / "folder.npz", None)
    write_zip(tmp_path / "nothing.npz", {})
    refused(tmp_path / "nothing.npz", "format_version", "missing")
    with zipfile.ZipFile(tmp_path / "bz2.npz", "w", zipfile.ZIP_BZIP2) as z:
        for k, v in _members(good).items():
            z.writestr(k + ".npy", v)
    refused(tmp_path / "bz2.npz", "format_version", "compression method 12")


def test_every_truncation_is_refused(tmp_path, good):
    raw = good[0].read_bytes()
    path = tmp_path / "cut.npz"
    for n in range(0, len(raw), max(1, len(raw) // 300)):
        path.write_bytes(raw[:n])
        refused(path, None)


def test_flipped_data_bytes_are_caught_by_the_crc(tmp_path, good):
    raw = bytearray(good[0].read_bytes())
    with zipfile.ZipFile(good[0]) as z:
        info = z.getinfo("params.npy")
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200  # inside the data
    raw[at] ^= 0x01
    (tmp_path / "flip.npz").write_bytes(bytes(raw))
    refused(tmp_path / "flip.npz", "params", "CRC")


# --- memory ---------------------------------------------------------------------------------------

def test_a_network_larger_than_the_memory_available_is_refused(tmp_path, good, monkeypatch):
    monkeypatch.setattr(persist, "available_memory", lambda: 1000)
    small = sum(a.nbytes for k, a in fields(good[0]).items() if k not in persist._BIG)
    assert 1000 < small < 3000
    refused(good[0], None, f"the metadata fields need {small:,} bytes of memory but only 1,000 are available")
    monkeypatch.setattr(persist, "available_memory", lambda: 3000)
    refused(good[0], "sizes", "44 float32 parameters and the optimizer state need 3,600 bytes of memory "
                              "but only 3,000 are available")


V2_MOUNT = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNT = "35 31 0:32 {root} /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
OTHER_MOUNTS = ("23 1 0:21 / /sys rw - sysfs sysfs rw\n"
                "33 31 0:30 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n")


def fake_root(tmp_path, files):
    """A file system root holding ``files`` ({path: text}) for cgroup_memory_free(root)."""
    for name, text in files.items():
        path = tmp_path / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


def test_cgroup_v2_limit_is_its_own_and_its_parents_least_room(tmp_path):
    """memory.max - (memory.current - inactive_file) at each level from the process's cgroup up
    to the mount point; a parent's limit binds the child, "max" is no limit."""
    slice_, scope = "/sys/fs/cgroup/app.slice", "/sys/fs/cgroup/app.slice/run.scope"
    files = {"/proc/self/cgroup": "0::/app.slice/run.scope\n",
             "/proc/self/mountinfo": OTHER_MOUNTS + V2_MOUNT,
             "/sys/fs/cgroup/memory.current": "5000000000\n",  # the root cgroup has no memory.max
             slice_ + "/memory.max": "1000000\n", slice_ + "/memory.current": "400000\n",
             slice_ + "/memory.stat": "anon 250000\nfile 150000\ninactive_file 100000\nactive_file 50000\n",
             scope + "/memory.max": "max\n", scope + "/memory.current": "300000\n"}
    root = fake_root(tmp_path / "a", files)
    assert persist.cgroup_memory_free(root) == 1_000_000 - (400_000 - 100_000)
    # a tighter limit on the process's own cgroup wins
    root = fake_root(tmp_path / "b", dict(files, **{scope + "/memory.max": "500000\n"}))
    assert persist.cgroup_memory_free(root) == 500_000 - 300_000
    # usage above the limit leaves nothing, never a negative room
    root = fake_root(tmp_path / "c", dict(files, **{scope + "/memory.max": "200000\n"}))
    assert persist.cgroup_memory_free(root) == 0
    # "max" everywhere: no limit
    root = fake_root(tmp_path / "d", dict(files, **{slice_ + "/memory.max": "max\n"}))
    assert persist.cgroup_memory_free(root) is None


def test_cgroup_v2_in_a_namespace_reads_the_mount_point(tmp_path):
    """Inside a cgroup namespace (a container) the process's cgroup is "/" and the limit sits on
    the mount point; a path outside the mount's root or with ".." never leaves the mount."""
    files = {"/proc/self/mountinfo": V2_MOUNT,
             "/sys/fs/cgroup/memory.max": "268435456\n", "/sys/fs/cgroup/memory.current": "68435456\n",
             "/sys/fs/cgroup/memory.stat": "inactive_file 0\n"}
    for line in ("0::/\n", "0::/../../..\n", "0::/../x\n"):
        root = fake_root(tmp_path / str(len(line)), dict(files, **{"/proc/self/cgroup": line}))
        assert persist.cgroup_memory_free(root) == 200_000_000, line


def test_cgroup_v1_memory_controller(tmp_path):
    """v1: memory.limit_in_bytes - (memory.usage_in_bytes - total_inactive_file); the process's
    cgroup is the ``memory`` line of /proc/self/cgroup, the folder found through the mount's root."""
    group = "/sys/fs/cgroup/memory/jobs/42"
    cgroup = "5:cpu,cpuacct:/jobs/42\n4:memory:/jobs/42\n1:name=systemd:/jobs/42\n0::/\n"
    files = {"/proc/self/cgroup": cgroup,
             "/proc/self/mountinfo": OTHER_MOUNTS + V1_MOUNT.format(root="/"),
             "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",  # v1's "no limit"
             "/sys/fs/cgroup/memory/memory.usage_in_bytes": "9000000000\n",
             group + "/memory.limit_in_bytes": "2000000\n", group + "/memory.usage_in_bytes": "700000\n",
             group + "/memory.stat": "cache 300000\ninactive_file 1\ntotal_inactive_file 200000\n"}
    root = fake_root(tmp_path / "a", files)
    assert persist.cgroup_memory_free(root) == 2_000_000 - (700_000 - 200_000)
    # without memory.stat, all the usage counts
    (tmp_path / "a" / group.lstrip("/") / "memory.stat").unlink()
    assert persist.cgroup_memory_free(root) == 2_000_000 - 700_000
    # unlimited everywhere
    root = fake_root(tmp_path / "b", dict(files, **{group + "/memory.limit_in_bytes": "9223372036854771712\n"}))
    assert persist.cgroup_memory_free(root) is None
    # a container's view: the mount's root is the process's cgroup, so the mount point holds its files
    root = fake_root(tmp_path / "c", {"/proc/self/cgroup": cgroup,
                                      "/proc/self/mountinfo": V1_MOUNT.format(root="/jobs/42"),
                                      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "3000000\n",
                                      "/sys/fs/cgroup/memory/memory.usage_in_bytes": "1000000\n"})
    assert persist.cgroup_memory_free(root) == 2_000_000


def test_cgroup_hybrid_takes_the_least_of_v1_and_v2(tmp_path):
    files = {"/proc/self/cgroup": "4:memory:/\n0::/\n",
             "/proc/self/mountinfo": V1_MOUNT.format(root="/") +
             V2_MOUNT.replace("/sys/fs/cgroup ", "/sys/fs/cgroup/unified "),
             "/sys/fs/cgroup/memory/memory.limit_in_bytes": "5000\n",
             "/sys/fs/cgroup/memory/memory.usage_in_bytes": "1000\n",
             "/sys/fs/cgroup/unified/memory.max": "3000\n", "/sys/fs/cgroup/unified/memory.current": "1000\n"}
    assert persist.cgroup_memory_free(fake_root(tmp_path, files)) == 2000


def test_cgroup_missing_or_unreadable_files(tmp_path):
    """No /proc/self/cgroup, no mount of that version, a limit without usage, garbage: no limit
    from that level; without mountinfo the usual mount points are read."""
    assert persist.cgroup_memory_free(str(tmp_path / "empty")) is None
    limit = {"/sys/fs/cgroup/memory.max": "4096\n", "/sys/fs/cgroup/memory.current": "1024\n"}
    # no mountinfo: /sys/fs/cgroup is where v2 usually is
    assert persist.cgroup_memory_free(fake_root(tmp_path / "a", dict(limit, **{"/proc/self/cgroup": "0::/\n"}))) == 3072
    # the process is in no v2 cgroup (only v1 lines) and no v1 memory files: nothing known
    assert persist.cgroup_memory_free(fake_root(tmp_path / "b", dict(limit, **{
        "/proc/self/cgroup": "4:memory:/\n", "/proc/self/mountinfo": V2_MOUNT}))) is None
    # a limit without a usage file, or unreadable numbers
    for name, files in {"no usage": {"/sys/fs/cgroup/memory.max": "4096\n"},
                        "garbage limit": dict(limit, **{"/sys/fs/cgroup/memory.max": "lots\n"}),
                        "garbage usage": dict(limit, **{"/sys/fs/cgroup/memory.current": "\x00\n"}),
                        "empty": dict(limit, **{"/sys/fs/cgroup/memory.max": ""})}.items():
        root = fake_root(tmp_path / name, dict(files, **{"/proc/self/cgroup": "0::/\n",
                                                          "/proc/self/mountinfo": V2_MOUNT}))
        assert persist.cgroup_memory_free(root) is None, name
    # a garbled memory.stat only loses the page-cache credit
    root = fake_root(tmp_path / "stat", dict(limit, **{"/proc/self/cgroup": "0::/\n", "/proc/self/mountinfo": V2_MOUNT,
                                                       "/sys/fs/cgroup/memory.stat": "inactive_file many\n"}))
    assert persist.cgroup_memory_free(root) == 3072


def test_mountinfo_paths_with_escaped_spaces(tmp_path):
    mount = "29 23 0:26 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n"
    root = fake_root(tmp_path, {"/proc/self/cgroup": "0::/\n", "/proc/self/mountinfo": mount,
                                "/mnt/my cgroups/memory.max": "100\n", "/mnt/my cgroups/memory.current": "40\n"})
    assert persist.cgroup_memory_free(root) == 60


def test_load_refuses_a_network_larger_than_the_cgroup_allows(good, monkeypatch):
    """available_memory is the least of MemAvailable, RLIMIT_AS and the cgroup's room."""
    monkeypatch.setattr(persist, "cgroup_memory_free", lambda: 3000)
    assert persist.available_memory() == 3000
    refused(good[0], "sizes", "need 3,600 bytes of memory but only 3,000 are available")
    monkeypatch.setattr(persist, "cgroup_memory_free", lambda: None)
    assert persist.available_memory() > 3000
    same(good[1], Network.load(good[0]))


def _limited(code, extra_mb):
    """Run code in a Python whose address space may grow by only extra_mb MB (RLIMIT_AS)."""
    prog = textwrap.dedent(f"""
        import resource, sys
        import numpy as np
        from fastnn import Network
        with open("/proc/self/status") as f:
            used = [int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:")][0]
        resource.setrlimit(resource.RLIMIT_AS, (used + {extra_mb:d} * 2**20, resource.RLIM_INFINITY))
    """) + textwrap.dedent(code)
    env = dict(os.environ, PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's")
def test_loads_within_a_small_address_space_refuse_cleanly(tmp_path, good):
    """Under RLIMIT_AS = now + 64 MB: the lies are refused without trying their allocations,
    and an honest 128 MB network is refused by the memory check, not by a MemoryError."""
    f = fields(good[0])
    np.savez(tmp_path / "lie.npz", **dict(f, sizes=A([3, 1_200_000_000, 4])))
    # The example: 1 KB saying sizes [60000, 60000, 1] with 3 parameters.
    np.savez(tmp_path / "issue.npz", format_version=np.int64(1), sizes=A([60000, 60000, 1]),
             activations=A(["relu", "identity"]), dtype=A("float64"), params=np.zeros(3))
    assert (tmp_path / "issue.npz").stat().st_size < 1500
    big = [4000, 4000, 4]  # 16,020,004 float64 parameters: 128 MB
    n = 4000 * 4000 + 4000 + 4000 * 4 + 4
    np.savez(tmp_path / "big.npz", format_version=np.int64(1), sizes=A(big),
             activations=A(["relu", "identity"]), dtype=A("float64"), params=np.zeros(n))
    code = f"""
        for name in ("lie.npz", "issue.npz", "big.npz"):
            try:
                Network.load({str(tmp_path)!r} + "/" + name)
            except ValueError as e:
                print(name, "ValueError", e)
        """
    p = _limited(code, 64)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 3, p.stdout
    assert lines[0].startswith("lie.npz ValueError") and "need 9,600,000,004" in lines[0]
    assert lines[1].startswith("issue.npz ValueError") and "holds 3 values" in lines[1] and "3,600,120,001" in lines[1]
    assert lines[2].startswith("big.npz ValueError") and "bytes of memory but only" in lines[2]


# --- save ----------------------------------------------------------------------------------------

def test_save_into_a_missing_folder_names_the_users_path(tmp_path, good):
    net = good[1]
    target = tmp_path / "no" / "such" / "model.npz"
    with pytest.raises(FileNotFoundError) as info:
        net.save(target)
    assert info.value.filename == str(target) and str(target) in str(info.value)
    assert ".tmp" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_save_onto_a_folder_names_the_users_path(tmp_path, good):
    (tmp_path / "m.npz").mkdir()
    with pytest.raises(OSError) as info:
        good[1].save(tmp_path / "m.npz")
    assert info.value.filename == str(tmp_path / "m.npz") and ".tmp" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


class _DiskFull:
    """A file whose writes fail with ENOSPC once ``room`` bytes are written."""

    def __init__(self, f, room):
        self.f, self.room = f, room

    def write(self, b):
        if len(b) > self.room:
            self.f.write(bytes(b)[:self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(b)
        return self.f.write(b)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.mark.parametrize("room", [0, 100, 1000, 3000])
def test_a_full_disk_leaves_the_previous_file_intact(tmp_path, good, monkeypatch, room):
    path = tmp_path / "m.npz"
    old = Network([3, 5, 4], loss="cross_entropy", seed=9)
    old.save(path)
    before = path.read_bytes()
    monkeypatch.setattr(_io, "open", lambda *a, **k: _DiskFull(open(*a, **k), room), raising=False)
    with pytest.raises(OSError) as info:
        good[1].save(path)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left behind
    same(old, Network.load(path))


def test_an_error_inside_write_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def write(f):
        f.write("half of the new")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _io.atomic_write(path, write, mode="w")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_writer_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old" * 1000)
    code = f"""
        import os, signal
        from fastnn._io import atomic_write
        def write(f):
            f.write(b"new" * 500)
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        atomic_write({str(path)!r}, write)
        """
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=dict(os.environ, PYTHONPATH=str(REPO)),
                       capture_output=True, timeout=60)
    assert p.returncode == -signal.SIGKILL
    assert path.read_bytes() == b"old" * 1000
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "f.bin"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".") and leftovers[0].endswith(".tmp")


def test_save_never_touches_the_umask_and_takes_the_usual_modes(tmp_path, good, monkeypatch):
    umask = os.umask(0o022)
    os.umask(umask)

    def no(*a):
        raise AssertionError("os.umask called")

    monkeypatch.setattr(os, "umask", no)
    good[1].save(tmp_path / "new.npz")
    assert stat.S_IMODE((tmp_path / "new.npz").stat().st_mode) == 0o666 & ~umask
    (tmp_path / "old.npz").write_bytes(b"x")
    os.chmod(tmp_path / "old.npz", 0o640)
    good[1].save(tmp_path / "old.npz")
    assert stat.S_IMODE((tmp_path / "old.npz").stat().st_mode) == 0o640
    same(good[1], Network.load(tmp_path / "old.npz"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks the kernel applies the umask")
def test_new_files_get_the_umask_of_the_process(tmp_path):
    code = f"""
        import os
        os.umask(0o077)
        from fastnn._io import atomic_write
        atomic_write({str(tmp_path / "f")!r}, lambda f: f.write(b"x"))
        print(oct(os.stat({str(tmp_path / "f")!r}).st_mode & 0o777))
        """
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=dict(os.environ, PYTHONPATH=str(REPO)),
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "0o600", p.stderr


# --- fuzzing -------------------------------------------------------------------------------------

def matches_file(net, path):
    """``net`` holds exactly what np.load reads from the file at ``path``."""
    f = fields(path)
    assert net.sizes == f["sizes"].tolist() and net.activations == f["activations"].tolist()
    assert (net.loss_name, net.dtype.name) == (str(f["loss"]), str(f["dtype"]))
    assert net.parameters.tobytes() == f["params"].astype(net.dtype).tobytes()
    running = [a for r in zip(net.running_means, net.running_vars) if r[0] is not None for a in r]
    if int(f["format_version"]) < 4:  # format 4's fields, if the file holds them, are ignored
        hidden = len(net.sizes) - 2
        assert (net.norm, net.dropout, net.residual) == ([None] * hidden, [0.0] * hidden, [False] * hidden)
        assert (net.epochs_trained, net.dropout_seed, running) == (0, 0, [])
    else:
        assert [n or "" for n in net.norm] == f["norm"].tolist()
        assert (net.dropout, net.residual) == (f["dropout"].tolist(), f["residual"].tolist())
        assert (net.epochs_trained, net.dropout_seed) == (int(f["epochs_trained"]), int(f["dropout_seed"]))
        assert np.concatenate([np.zeros(0, net.dtype), *running]).tobytes() == \
            f["running_stats"].astype(net.dtype).tobytes()
    # net shuffles as a generator in the file's state does, and draws the same dropout masks
    rng = np.random.default_rng()
    state = json.loads(str(f["rng"]))
    rng.bit_generator.state = state
    twin = Network(net.sizes, net.activations, loss=net.loss_name, norm=net.norm, dropout=net.dropout,
                   residual=net.residual, dtype=net.dtype, seed=rng, parameters=net.parameters)
    rng.bit_generator.state = state  # (a net with dropout drew its dropout_seed from it)
    twin.epochs_trained, twin.dropout_seed = int(f["epochs_trained"]), int(f["dropout_seed"])
    twin.set_running_stats(net.running_means, net.running_vars)
    assert_resume_alike(net, twin, optimizer=fastnn.SGD(lr=0.01))
    assert list(net.feature_names_in_ if net.feature_names_in_ is not None else []) == f["feature_names"].tolist()
    if int(f["format_version"]) < 5:  # format 5's fields, if the file holds them, are ignored
        assert net.classes is None and net.preprocess is None
    else:
        assert json.loads(str(f["classes"]) or "null") == (None if net.classes is None else net.classes.tolist())
        assert json.loads(str(f["preprocess"]) or "null") == (net.preprocess and net.preprocess.to_dict())
    meta, opt = json.loads(str(f["optimizer"]) or "null"), net.optimizer
    assert (opt is None) == (meta is None)
    if opt is not None:
        assert (opt.name, opt.config(), opt.t, opt.epoch) == (meta["name"], meta["config"], meta["t"], meta["epoch"])
        state = f["optimizer_state"].astype(net.dtype)
        assert (opt.state.tobytes() if state.size else b"") == state.tobytes()


def _load_or_refuse(path, net=None):
    """Load gives ``net`` back exactly (or, without ``net``, what the file holds), or raises a
    ValueError naming the file; nothing else."""
    try:
        back = Network.load(path)
    except ValueError as e:
        assert type(e) is ValueError and str(path) in str(e), e
        field = str(e).split("field ", 1)[1].split(":")[0] if "field " in str(e) else "(file)"
        event(f"refused, {field}")
        return
    event("loaded")
    if net is not None:
        same(net, back)
    else:
        matches_file(back, path)


@settings(max_examples=FUZZ or 300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_corrupted_bytes_load_exactly_or_raise_value_error(tmp_path_factory, good, data):
    """Random bytes changed, then maybe a truncation: in the file (the zip's CRCs catch changes
    to the data: a file that loads is the original), or in one member's .npy bytes with the zip
    rebuilt (valid CRCs: a file that loads gives what np.load reads)."""
    members = {k + ".npy": npy(v) for k, v in fields(good[0]).items()}
    in_member = data.draw(st.sampled_from([None, *sorted(members)]), label="member")
    raw = bytearray(good[0].read_bytes() if in_member is None else members[in_member])
    for _ in range(data.draw(st.integers(1, 8), label="bytes changed")):
        at = data.draw(st.integers(0, len(raw) - 1), label="offset")
        raw[at] = data.draw(st.integers(0, 255), label="value")
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[:data.draw(st.integers(0, len(raw)), label="length")]
    path = tmp_path_factory.mktemp("fuzz") / "m.npz"
    if in_member is None:
        path.write_bytes(bytes(raw))
    else:
        with zipfile.ZipFile(path, "w") as z:
            for name, content in members.items():
                z.writestr(name, bytes(raw) if name == in_member else content)
    _load_or_refuse(path, good[1] if in_member is None else None)


_NUMBERS = [0, 1, -1, 3, 4, 5, 2**31, 1e300, -0.0, np.nan, np.inf, 5e-324, 0.5]
_NUMERIC = [np.int64, np.uint8, np.float16, np.float32, np.float64, np.bool_, np.complex64]


@st.composite
def _arrays(draw):
    """Arrays a hostile file might hold in place of a field."""
    kind = draw(st.sampled_from(["numbers", "text", "names", "json"]))
    if kind == "text":
        return np.asarray(draw(st.text(max_size=40)))
    if kind == "names":
        words = st.text(max_size=10) | st.sampled_from(["", "layer", "batch"])
        return np.asarray(draw(st.lists(words, max_size=6)), dtype="U10")
    if kind == "json":
        return np.asarray(json.dumps(draw(st.sampled_from([{}, [], None, 1, "adam", {"name": "adam"}]))))
    values = draw(st.lists(st.sampled_from(_NUMBERS), max_size=100))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        a = np.asarray(values, dtype=np.float64).astype(draw(st.sampled_from(_NUMERIC)))
    shape = draw(st.sampled_from(["1-D", "2-D", "scalar"]))
    return a.reshape(-1, 1) if shape == "2-D" else a[:1].reshape(()) if shape == "scalar" and a.size else a


@settings(max_examples=FUZZ or 300, deadline=None, suppress_health_check=list(HealthCheck))
@given(field=st.sampled_from(["format_version", "sizes", "activations", "loss", "dtype", "params",
                              "rng", "optimizer", "optimizer_state", "feature_names", *V4_FIELDS,
                              "classes", "preprocess"]),
       value=_arrays(), data=st.data())
def test_fuzz_replaced_fields_load_exactly_or_raise_value_error(tmp_path_factory, good, deep_good, field,
                                                                value, data):
    f = fields(data.draw(st.sampled_from([good, deep_good]), label="file")[0])
    if data.draw(st.booleans(), label="keep the element count"):
        if value.size and f[field].size and value.ndim == 1:
            value = np.resize(value, f[field].shape)
    f[field] = value
    path = tmp_path_factory.mktemp("fuzz") / "m.npz"
    np.savez(path, **f)
    _load_or_refuse(path)


# --- scripts/fuzz_load.py (the atheris target) ----------------------------------------------------

def _fuzz_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("fuzz_load", REPO / "scripts" / "fuzz_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fuzz_script_seeds_are_valid_files_of_each_format_and_the_target_checks_them():
    """The atheris script without atheris: its seed corpus loads (formats 1 to 5), its
    target passes on seeds and on damaged files (ValueError), and its CRC repair makes a
    mutated member readable again, so that the mutation reaches load's field checks."""
    fuzz = _fuzz_script()
    seeds = fuzz.seeds()
    target = fuzz.Target()
    versions = set()
    for name, raw in seeds.items():
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            assert z.testzip() is None, name
            versions.add(int(np.load(io.BytesIO(z.read("format_version.npy")))))
        assert fuzz.fix_crcs(raw) == raw, name
        target(raw)
    assert versions == {1, 2, 3, 4, 5}
    raw = seeds["v5-untrained-f64"]
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        info = z.getinfo("params.npy")
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 140  # a parameter's bytes
    mutated = bytearray(raw)
    mutated[at] ^= 0x40
    with zipfile.ZipFile(io.BytesIO(bytes(mutated))) as z:
        assert z.testzip() == "params.npy"  # the CRC no longer matches
    repaired = fuzz.fix_crcs(bytes(mutated))
    with zipfile.ZipFile(io.BytesIO(repaired)) as z:
        assert z.testzip() is None
    target(bytes(mutated))
    target(repaired)
    target(b"")
    target(raw[:len(raw) // 2])
    # what the fuzzer counts as a crash: any other exception, or a ValueError that is a
    # subclass or does not name the file
    class Raises:
        def __init__(self, error):
            self.error = error

        def load(self, path):
            raise self.error

    for error, caught in ((TypeError("x"), TypeError), (MemoryError(), MemoryError),
                          (json.JSONDecodeError("x", "doc", 0), AssertionError),
                          (ValueError("no path"), AssertionError)):
        target.Network = Raises(error)
        with pytest.raises(caught):
            target(raw)
    target.Network = Raises(ValueError(f"fastnn model file {str(target.path)!r}: bad"))
    target(raw)
