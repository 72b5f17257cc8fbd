"""fastnn beside PyTorch: one training epoch on the same problem from the same weights."""
import importlib.util

from .common import LR, fresh_net, mlp_sizes, regression_data, require, warm_jit


def torch_epoch(sizes, X, Y, batch, lr):
    """One epoch of the textbook PyTorch loop (shuffle, forward, ½‖y − ŷ‖² mean, backward, SGD
    step) for a ReLU MLP that starts from fastnn's seeded weights. Raises NotImplementedError
    when torch is not installed."""
    if importlib.util.find_spec("torch") is None:
        raise NotImplementedError("torch is not installed")
    import torch

    torch.set_num_threads(1)  # as fastnn's BLAS: the suite runs single-threaded
    net, layers = fresh_net(sizes, str(X.dtype)), []
    for W, b in zip(net.weights, net.biases):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=getattr(torch, str(X.dtype)))
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    perm = torch.randperm(len(Xt), generator=torch.Generator().manual_seed(0))

    def epoch():
        for start in range(0, len(Xt), batch):
            rows = perm[start : start + batch]
            loss = 0.5 * ((model(Xt[rows]) - Yt[rows]) ** 2).sum(dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return epoch


class TrainEpochPeers:
    """One epoch, 1024 float32 rows, 4 hidden ReLU layers, batch 32; the torch line is skipped
    (n/a) where torch is not installed."""

    params = [["fastnn", "torch"], [16, 128, 512]]
    param_names = ["library", "width"]
    number = 1  # setup (which resets the weights) runs before every timed epoch

    def setup(self, library, width):
        require("fit")
        X, Y = regression_data(1024, "float32")
        sizes = mlp_sizes(4, width)
        if library == "torch":
            self.epoch = torch_epoch(sizes, X, Y, batch=32, lr=LR)
            return
        warm_jit("float32")
        net = fresh_net(sizes, "float32")
        self.epoch = lambda: net.fit(X, Y, epochs=1, batch_size=32, lr=LR, seed=0)

    def time_fit_epoch(self, library, width):
        self.epoch()
