"""The Trainer trains a twin of the model with max-pools moved before their ReLUs: the same values,
the same gradients, the model's own graph untouched, and its weights the ones that are trained."""

from __future__ import annotations

import pytest
import torch

from netbuilder import Edge, Graph, build_module, load_project
from netbuilder.data.dataset import Dataset
from netbuilder.examples import example_path
from netbuilder.files.training_settings import TrainingSettings
from netbuilder.training import trainer as trainer_module
from netbuilder.training.pool_first import pool_first, same_parameters
from netbuilder.training.trainer import Trainer


def chain(*layers: tuple[str, dict]) -> Graph:
    g = Graph()
    prev = None
    for kind, params in layers:
        node = g.add_node(g.make_node(kind, params=params))
        if prev:
            g.connect(Edge(prev.id, "out", node.id, "in"))
        prev = node
    return g


def seed_cnn() -> torch.fx.GraphModule:
    torch.manual_seed(0)
    return build_module(load_project(example_path("mnist_cnn")).graph)


def order(module: torch.fx.GraphModule) -> list[str]:
    return [n.name for n in module.graph.nodes if n.op == "call_module"]


def grads(module: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    module.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    out = module(x)
    (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
    return out.detach(), {"input": x.grad, **{k: p.grad.clone() for k, p in module.named_parameters()}}


def test_the_seed_cnn_is_trained_with_its_pools_before_its_relus_and_keeps_its_own_graph() -> None:
    model = seed_cnn()
    before = model.code
    fast, moved = pool_first(model)
    assert moved == 2
    assert fast is not model and same_parameters(model, fast)
    names = order(fast)
    assert names.index("pool1") < names.index("relu1") and names.index("pool2") < names.index("relu2")
    names = order(model)
    assert names.index("relu1") < names.index("pool1"), "the user's model must keep the order they drew"
    assert model.code == before
    x = torch.randn(5, 1, 28, 28)
    out_model, g_model = grads(model, x)
    out_fast, g_fast = grads(fast, x)
    assert torch.equal(out_model, out_fast)
    for name, g in g_model.items():
        torch.testing.assert_close(g_fast[name], g, rtol=0, atol=1e-6, msg=name)


@pytest.mark.parametrize("clamp", [("ReLU", {}), ("ReLU6", {}), ("Hardtanh", {"min_val": -0.5, "max_val": 0.25})])
@pytest.mark.parametrize("pool", [("MaxPool2d", {"kernel_size": 2}),
                                  ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True})])
def test_ties_and_clamped_windows_give_the_same_values_and_gradients(clamp, pool) -> None:
    graph = chain(("Input", {"shape": [2, 6, 6]}), ("Conv2d", {"out_channels": 3, "kernel_size": 1}), clamp, pool,
                  ("Flatten", {}), ("Output", {}))
    torch.manual_seed(3)
    model = build_module(graph)
    assert pool_first(model)[1] == 1
    # Whole windows below the lower bound, above the upper one, exactly on a bound, and tied values.
    x = torch.tensor([-3.0, -1.0, 0.0, 0.25, 6.0, 7.0]).repeat(2 * 2 * 6 * 6 // 6 + 1)[:2 * 2 * 6 * 6]
    x = x.reshape(2, 2, 6, 6)
    x[0, :, :3, :3] = -2.0
    x[1, :, 3:, 3:] = 9.0
    for sample in (x, torch.randn(2, 2, 6, 6) * 4):
        out_model, g_model = grads(model, sample)
        fast, _ = pool_first(model)
        out_fast, g_fast = grads(fast, sample)
        assert torch.equal(out_model, out_fast)
        for name, g in g_model.items():
            torch.testing.assert_close(g_fast[name], g, rtol=0, atol=1e-6, msg=name)


@pytest.mark.parametrize("layers", [
    # strictly monotone: float rounding can tie two inputs, and the pooled gradient would move
    [("LeakyReLU", {}), ("MaxPool2d", {"kernel_size": 2})],
    [("Tanh", {}), ("MaxPool2d", {"kernel_size": 2})],
    # an average does not commute with a clamp
    [("ReLU", {}), ("AvgPool2d", {"kernel_size": 2})],
])
def test_what_does_not_commute_exactly_is_left_alone(layers) -> None:
    model = build_module(chain(("Input", {"shape": [2, 6, 6]}), *layers, ("Flatten", {}), ("Output", {})))
    fast, moved = pool_first(model)
    assert (fast, moved) == (model, 0)


def test_a_relu_read_by_another_layer_too_stays_where_it_is() -> None:
    g = chain(("Input", {"shape": [2, 6, 6]}), ("ReLU", {}), ("MaxPool2d", {"kernel_size": 2}), ("Flatten", {}),
              ("Output", {}))
    relu = next(n for n in g if n.kind == "ReLU")
    flat = g.add_node(g.make_node("Flatten"))
    out = g.add_node(g.make_node("Output"))
    g.connect(Edge(relu.id, "out", flat.id, "in"))
    g.connect(Edge(flat.id, "out", out.id, "in"))
    model = build_module(g)
    assert pool_first(model)[1] == 0


def images(n: int = 96) -> Dataset:
    gen = torch.Generator().manual_seed(1)
    return Dataset("images", torch.rand(n, 1, 28, 28, generator=gen) - 0.5,
                   torch.randint(0, 10, (n,), generator=gen), "classification", num_classes=10)


def trained(monkeypatch: pytest.MonkeyPatch, reorder: bool) -> tuple[dict[str, torch.Tensor], Trainer]:
    if not reorder:
        monkeypatch.setattr(trainer_module, "pool_first", lambda module: (module, 0))
    model = seed_cnn()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    s = TrainingSettings(loss="cross_entropy", optimizer="adam", batch_size=16, epochs=2, validation_split=0.0,
                         device="cpu", report_every=2, memory_format="contiguous")
    trainer = Trainer(model, images(), s, val=images(32))
    assert trainer.run().status == "completed"
    weights = model.state_dict()
    assert any(not torch.equal(weights[k], start[k]) for k in weights), "the model's own weights must be trained"
    monkeypatch.undo()
    return weights, trainer


def test_training_through_the_twin_trains_the_model_to_the_same_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    plain, plain_trainer = trained(monkeypatch, reorder=False)
    fast, fast_trainer = trained(monkeypatch, reorder=True)
    assert (plain_trainer.pools_moved, fast_trainer.pools_moved) == (0, 2)
    for name, value in plain.items():
        torch.testing.assert_close(fast[name], value, rtol=1e-5, atol=1e-6, msg=name)
    assert fast_trainer.evaluate(images(32))["loss"] == pytest.approx(plain_trainer.evaluate(images(32))["loss"],
                                                                       rel=1e-5)
