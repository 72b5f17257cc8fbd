"""The scikit-learn estimators as users call them: ``fastnn.MLPClassifier`` on digits and
``fastnn.MLPRegressor`` on make_friedman1, whole fits of a fixed number of epochs (tol=0, so
every commit does the same work), next to scikit-learn's own MLP on the same data."""
import warnings

from .common import fastnn

EPOCHS = 20


def _data(kind):
    from sklearn import datasets

    if kind == "classifier":
        return datasets.load_digits(return_X_y=True)
    return datasets.make_friedman1(n_samples=2000, noise=1.0, random_state=0)


class EstimatorFit:
    """``fit`` for EPOCHS epochs, default parameters otherwise (adam, (100,), batch 200,
    float64 as the data are), for fastnn and scikit-learn."""

    params = [["classifier", "regressor"], ["fastnn", "sklearn"]]
    param_names = ["estimator", "library"]
    number = 1
    repeat = (3, 10, 20.0)

    def setup(self, kind, lib):
        try:
            import sklearn.neural_network as sk
        except ImportError:
            raise NotImplementedError("scikit-learn is not installed") from None
        name = "MLPClassifier" if kind == "classifier" else "MLPRegressor"
        cls = getattr(fastnn if lib == "fastnn" else sk, name, None)
        if cls is None:
            raise NotImplementedError(f"no fastnn.{name} at this commit")
        self.X, self.y = _data(kind)
        self.make = lambda: cls(max_iter=EPOCHS, tol=0.0, random_state=0)
        warnings.simplefilter("ignore")
        self.make().fit(self.X[:64], self.y[:64])  # compile / load the kernels

    def time_fit(self, kind, lib):
        self.make().fit(self.X, self.y)
