"""One forward or forward+backward pass over 256 rows: public API and private kernels."""
from .common import fresh_net, kernel_passes, mlp_sizes, regression_data, require, warm_jit

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


class KernelPasses:
    """The jitted forward and backward kernels alone, as ``backprop`` calls them, without input
    validation or result packing."""

    params = NetworkPasses.params
    param_names = NetworkPasses.param_names

    def setup(self, depth, width, dtype):
        require("backprop")
        warm_jit(dtype)
        X, Y = regression_data(ROWS, dtype)
        self.forward, self.backward = kernel_passes(fresh_net(mlp_sizes(depth, width), dtype), X, Y)

    def time_forward(self, depth, width, dtype):
        self.forward()

    def time_backward(self, depth, width, dtype):
        self.backward()
