"""tests/naive_optim.py against torch.optim: the references are right before anything is
compared with them. Skipped where torch is missing."""
import numpy as np
import pytest

from helpers import require
from naive_optim import STEPS, torch_optimizer

CONFIGS = {
    "sgd": [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True), dict(weight_decay=0.1),
            dict(momentum=0.5, nesterov=True, weight_decay=0.1)],
    "adam": [dict(), dict(beta1=0.5, beta2=0.9), dict(weight_decay=0.1), dict(eps=1e-3, weight_decay=0.3)],
    "adamw": [dict(), dict(weight_decay=0.5), dict(beta1=0.0, beta2=0.5, eps=1e-4, weight_decay=0.2)],
    "rmsprop": [dict(), dict(alpha=0.9), dict(weight_decay=0.1), dict(alpha=0.5, eps=1e-3, weight_decay=0.3)],
}
CASES = [(name, kw) for name, kws in CONFIGS.items() for kw in kws]
LR = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.01}
STEPS_RUN = 10


def test_every_reference_has_configs():
    assert set(CONFIGS) == set(STEPS)


def _compare(name, kw, masked, rng):
    """10 steps of a (4, 3) W and a (4,) b on random gradients: torch (biases in a second param
    group without weight decay when masked) and the reference on θ = [vec(W), b]."""
    torch = require("torch")
    W0, b0 = rng.normal(size=(4, 3)), rng.normal(size=4)
    grads = [(rng.normal(size=(4, 3)), rng.normal(size=4)) for _ in range(STEPS_RUN)]
    W, b = (torch.tensor(a, requires_grad=True) for a in (W0, b0))
    if masked:
        wd = kw.get("weight_decay", 1e-2 if name == "adamw" else 0.0)
        groups = [{"params": [W], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}]
    else:
        groups = [W, b]
    opt = torch_optimizer(name, groups, LR[name], **kw)
    theta, state = np.concatenate([W0.ravel(), b0]), {}
    mask = np.arange(16) < 12 if masked else None
    for gW, gb in grads:
        W.grad, b.grad = torch.tensor(gW), torch.tensor(gb)
        opt.step()
        theta = STEPS[name](theta, np.concatenate([gW.ravel(), gb]), state, LR[name], decay_mask=mask, **kw)
        got = np.concatenate([W.detach().numpy().ravel(), b.detach().numpy()])
        np.testing.assert_allclose(theta, got, rtol=1e-12, atol=1e-14)
    return theta


@pytest.mark.parametrize("name,kw", CASES)
def test_reference_matches_torch(name, kw, rng):
    _compare(name, kw, masked=False, rng=rng)


@pytest.mark.parametrize("name,kw", [(n, kw) for n, kw in CASES if kw.get("weight_decay") or n == "adamw"])
def test_masked_weight_decay_matches_torch_param_groups(name, kw, rng):
    masked = _compare(name, kw, masked=True, rng=rng)
    everywhere = _compare(name, kw, masked=False, rng=np.random.default_rng(12345))
    # same W: decay differs only on the biases (the last 4 entries)
    np.testing.assert_allclose(masked[:12], everywhere[:12], rtol=1e-12)
    assert np.all(masked[12:] != everywhere[12:])
