"""The Trainer's optimizers take torch's fused kernels where torch has them, and update exactly as the plain ones."""

from __future__ import annotations

import copy

import pytest
import torch

from netbuilder.files.training_settings import TrainingSettings
from netbuilder.training.optim import make_optimizer


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_fused_on_the_cpu_and_the_same_weights_as_the_plain_update(name) -> None:
    settings = TrainingSettings(loss="mse", optimizer=name, learning_rate=0.01, weight_decay=1e-3,
                                momentum=0.9 if name == "sgd" else 0.0)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(16, 2))
    twin = copy.deepcopy(model)
    fused = make_optimizer(model.parameters(), settings)
    plain = make_optimizer(twin.parameters(), settings, fused=False)
    assert fused.defaults.get("fused") is True  # one kernel per tensor and step: half of Adam's step on a CPU
    assert not plain.defaults.get("fused")
    x, y = torch.rand(8, 1, 4, 4), torch.rand(8, 2)
    for net, opt in ((model, fused), (twin, plain)):
        for _ in range(20):
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(x), y).backward()
            opt.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_optimizers_without_a_fused_kernel_are_made_plainly() -> None:
    params = [torch.nn.Parameter(torch.rand(3))]
    for name in ("rmsprop", "adagrad"):
        assert not make_optimizer(params, TrainingSettings(loss="mse", optimizer=name)).defaults.get("fused")
