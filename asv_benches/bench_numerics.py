"""Numerical results tracked per commit, so that a change in the maths shows as a step."""
from .common import fresh_net, regression_data, require, warm_jit


class FinalLoss:
    """Mean loss ½‖y − ŷ‖² after 100 epochs on the 1-D kinked problem (512 rows), fixed seeds."""

    params = [["float32", "float64"]]
    param_names = ["dtype"]

    def setup(self, dtype):
        require("fit", "loss")
        warm_jit(dtype)
        self.X, self.Y = regression_data(512, dtype, n_in=1, n_out=1)
        self.net = fresh_net([1, 32, 32, 1], dtype)

    def track_final_loss(self, dtype):
        self.net.fit(self.X, self.Y, epochs=100, batch_size=32, lr=0.05, seed=0)
        return self.net.loss(self.X, self.Y)

    track_final_loss.unit = "loss"
