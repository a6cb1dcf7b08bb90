"""Generated PyTorch code, layer kind by layer kind: the model a user gets from ``codegen`` is the
app's model, with every setting (not the defaults) and, from the same seed, the same weights."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from netbuilder import Project, build_module, infer_shapes
from netbuilder.build.codegen import generate_source
from netbuilder.errors import NetbuilderError
from netbuilder.layers import CATALOG
from netbuilder.layers.spec import ParamSpec
from netbuilder.onnx.exporter import sample_inputs
from tests.engine.test_shape_inference import single

BUILT = [kind for kind, spec in CATALOG.items() if spec.build is not None]
# An input each kind takes, and the settings it needs (the rest are moved off their defaults).
SEQUENCE, IMAGE, SIGNAL = [7, 8], [4, 10, 10], [4, 20]
BASE: dict[str, tuple[list[int], dict[str, Any]]] = {
    "Linear": ([20], {"out_features": 7}), "Dropout": ([8], {}), "Embedding": ([6], {}),
    "Conv1d": (SIGNAL, {"out_channels": 6, "kernel_size": 3}), "Conv2d": (IMAGE, {"out_channels": 6, "kernel_size": 3}),
    "ConvTranspose2d": (IMAGE, {"out_channels": 6, "kernel_size": 3}),
    "MaxPool1d": (SIGNAL, {}), "MaxPool2d": (IMAGE, {}), "AvgPool1d": (SIGNAL, {}), "AvgPool2d": (IMAGE, {}),
    "AdaptiveAvgPool1d": (SIGNAL, {}), "AdaptiveAvgPool2d": (IMAGE, {}), "Pad": (IMAGE, {}), "Scale": (IMAGE, {}),
    "BatchNorm1d": ([4, 10], {}), "BatchNorm2d": (IMAGE, {}), "LayerNorm": (SEQUENCE, {}),
    "LocalResponseNorm": (IMAGE, {}), "RNN": (SEQUENCE, {}), "LSTM": (SEQUENCE, {}), "GRU": (SEQUENCE, {}),
    "MultiheadAttention": (SEQUENCE, {}), "TransformerEncoderLayer": (SEQUENCE, {}),
}
VOLUME = [3, 6, 6, 6]
BASE |= {  # issue 12's kinds for torch's exported modules
    "Conv3d": (VOLUME, {"out_channels": 4, "kernel_size": 3}), "MaxPool3d": (VOLUME, {}), "AvgPool3d": (VOLUME, {}),
    "AdaptiveAvgPool3d": (VOLUME, {}), "BatchNorm3d": (VOLUME, {}), "GLU": ([4, 6], {}),
    "PixelShuffle": ([8, 3, 3], {}), "Upsample": (IMAGE, {}),
}
ELEMENTWISE = ([4, 5], {})


def _other_value(p: ParamSpec) -> Any:
    """A valid value other than the default, or None for types not varied here."""
    d = p.default
    if p.kind == "bool":
        return not d
    if p.kind == "choice":
        return next(c for c in p.choices if c != d)
    if p.kind == "float":
        top = p.maximum if p.maximum is not None else d + 1.0
        bottom = p.minimum if p.minimum is not None else d - 1.0
        return (d + top) / 2 if top > d else (d + bottom) / 2
    if p.kind == "int":
        return d + 1 if p.maximum is None or d + 1 <= p.maximum else d - 1
    return None


def _graph_away_from_defaults(kind: str):
    """The shape-inference case for ``kind`` with every parameter it can take moved off its default."""
    spec = CATALOG[kind]
    shape, params = BASE.get(kind, ELEMENTWISE) if spec.category == "Activation" else BASE[kind]
    dtype = "int64" if kind == "Embedding" else "float32"
    params = dict(params)
    for p in spec.params:
        value = _other_value(p)
        if value is None or p.name in params:
            continue
        trial = {**params, p.name: value}
        try:
            _, inference, _ = single(kind, shape, dtype, **trial)
        except NetbuilderError:
            continue
        full = {**{q.name: q.default for q in spec.params}, **trial}
        if not inference.errors and not (spec.check and spec.check(full)):  # a warning is a setting to avoid
            params[p.name] = value
    graph, inference, _ = single(kind, shape, dtype, **params)
    assert not inference.errors, inference.errors
    return graph, params


def test_every_built_kind_has_an_input_here() -> None:
    assert [k for k in BUILT if k not in BASE and CATALOG[k].category != "Activation"] == []


@pytest.mark.parametrize("kind", BUILT)
def test_generated_module_is_the_apps_from_the_same_seed(kind: str) -> None:
    graph, params = _graph_away_from_defaults(kind)
    torch.manual_seed(0)
    app = build_module(graph, infer_shapes(graph))
    namespace: dict[str, Any] = {}
    exec(compile(generate_source(Project(graph, name=kind)), f"{kind}_generated.py", "exec"), namespace)
    torch.manual_seed(0)
    generated = namespace["Net"]()
    assert {k: v.shape for k, v in generated.named_parameters()} == {k: v.shape for k, v in app.named_parameters()}
    assert _same_state(generated, app), f"{kind} {params}: different initial weights from the same seed"
    x = sample_inputs(graph, 3, seed=1)
    for training in (False, True):  # training: dropout draws and running statistics must agree too
        app.train(training)
        generated.train(training)
        torch.manual_seed(2)
        want = app(*x)
        torch.manual_seed(2)
        got = generated(*x)
        assert torch.equal(got, want), f"{kind} {params}: different output (training={training})"
        assert _same_state(generated, app), f"{kind} {params}: different state after a forward pass"


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_prelu_keeps_its_initial_slope() -> None:
    graph, _, _ = single("PReLU", [4], init=0.6)
    source = generate_source(Project(graph))
    assert "nn.PReLU(init=0.6)" in source
