"""One forward or forward+backward pass over 256 rows, through the public calls."""
from .common import fresh_net, mlp_sizes, regression_data, require, warm_jit

ROWS = 256


class NetworkPasses:
    """``predict`` (the forward pass) and ``gradients`` (forward, then backward), as users call them."""

    params = [[1, 4, 16], [16, 128, 512], ["float32", "float64"]]
    param_names = ["depth", "width", "dtype"]

    def setup(self, depth, width, dtype):
        require("predict", "gradients")
        warm_jit(dtype)
        self.X, self.Y = regression_data(ROWS, dtype)
        self.net = fresh_net(mlp_sizes(depth, width), dtype)

    def time_predict(self, depth, width, dtype):
        self.net.predict(self.X)

    def time_gradients(self, depth, width, dtype):
        self.net.gradients(self.X, self.Y)


class LeanPasses:
    """The public calls with the least around the kernels: a ``predictor()`` (checks dtype,
    shape and contiguity only) and ``loss_and_gradient`` (the flat gradient, no per-layer
    arrays). Before the public parameter API this class timed the private kernels alone."""

    params = NetworkPasses.params
    param_names = NetworkPasses.param_names

    def setup(self, depth, width, dtype):
        require("predictor", "loss_and_gradient")
        warm_jit(dtype)
        self.X, self.Y = regression_data(ROWS, dtype)
        self.net = fresh_net(mlp_sizes(depth, width), dtype)
        self.forward = self.net.predictor()
        self.forward(self.X)

    def time_predictor(self, depth, width, dtype):
        self.forward(self.X)

    def time_loss_and_gradient(self, depth, width, dtype):
        self.net.loss_and_gradient(self.X, self.Y)
