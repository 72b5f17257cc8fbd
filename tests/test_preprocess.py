"""fastnn.preprocess.Preprocess against scikit-learn's StandardScaler and OneHotEncoder."""
import numpy as np
import pytest

pd = pytest.importorskip("pandas")
sklearn = pytest.importorskip("sklearn")
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from fastnn.preprocess import Preprocess  # noqa: E402


def table(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"size": rng.normal(5, 3, n), "color": rng.choice(["red", "blue", "green"], n),
                         "age": rng.integers(0, 90, n).astype(float), "shape": rng.choice(["o", "x"], n),
                         "flat": np.full(n, 2.5)})


def test_transform_is_scikit_learns_column_transformer():
    df = table()
    numeric, categorical = ["size", "age", "flat"], ["color", "shape"]
    ref = ColumnTransformer([("num", StandardScaler(), numeric),
                             ("cat", OneHotEncoder(sparse_output=False), categorical)]).fit(df)
    pre = Preprocess.fit(df)
    assert pre.numeric == numeric and list(pre.categories) == categorical
    new = table(10, seed=1)
    np.testing.assert_allclose(pre.transform(new), ref.transform(new), rtol=1e-12, atol=1e-12)
    assert pre.n_features_out == ref.transform(new).shape[1] == 3 + 3 + 2


def test_without_scaling_numbers_pass_and_arrays_are_taken_by_position():
    df = table()[["size", "age"]]
    pre = Preprocess.fit(df, scale=False)
    np.testing.assert_array_equal(pre.transform(df.to_numpy()), df.to_numpy())
    unnamed = Preprocess.fit(df.to_numpy())
    np.testing.assert_allclose(unnamed.transform(df.to_numpy()), StandardScaler().fit_transform(df), atol=1e-12)


def test_to_dict_round_trips():
    pre = Preprocess.fit(table(), targets=["y"])
    back = Preprocess.from_dict(pre.to_dict())
    assert back.to_dict() == pre.to_dict()
    np.testing.assert_array_equal(back.transform(table(5, 2)), pre.transform(table(5, 2)))


@pytest.mark.parametrize("change, words", [
    (lambda df: df[["color", "size", "age", "shape", "flat"]], "reordered"),
    (lambda df: df.drop(columns="age"), "missing ['age']"),
    (lambda df: df.assign(color="purple"), "'purple', a category not seen in training"),
    (lambda df: df.assign(size="big"), "column 'size' must hold numbers"),
    (lambda df: df.assign(age=np.nan), "column 'age' holds NaN"),
])
def test_bad_columns_are_named(change, words):
    pre = Preprocess.fit(table())
    with pytest.raises(ValueError, match=None) as info:
        pre.transform(change(table(4, 3)))
    assert words in str(info.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mean and scale together"):
        Preprocess(["a"], mean=[0.0])
    with pytest.raises(ValueError, match="not among columns"):
        Preprocess(["a"], categories={"b": ["x"]}, mean=[0.0], scale=[1.0])
    with pytest.raises(ValueError, match="scale finite and > 0"):
        Preprocess(["a"], mean=[0.0], scale=[0.0])
