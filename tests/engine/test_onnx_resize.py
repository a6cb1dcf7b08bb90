"""The Upsample layer against torch's nn.Upsample / F.interpolate, and ONNX Resize imported to it: models
torch's two exporters write come back with the same outputs in ONNX Runtime, and what Upsample cannot
compute is refused naming the node, the attribute and the fix."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper

from netbuilder.layers import CATALOG
from netbuilder.layers.spec import TensorType
from netbuilder.onnx.importer import OnnxImportError, import_onnx
from tests.engine.onnx_architectures import EXPORTERS, export


def _corpus():
    """benchmarks/onnx_corpus.py, whose ``check`` is the corpus's own round trip: import, export, ONNX Runtime
    against the original, at the original's batch and at another."""
    spec = importlib.util.spec_from_file_location("onnx_corpus", Path(__file__).resolve().parents[2] / "benchmarks"
                                                  / "onnx_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _corpus().check


def infer(shape, **params):
    spec = CATALOG["Upsample"]
    full = {p.name: p.default for p in spec.params} | params
    return spec.infer(full, {"in": TensorType(tuple(shape), "float32")})["out"].shape


def test_the_shape_rule_multiplies_the_spatial_dims() -> None:
    assert infer([3, 5, 7]) == (3, 10, 14)
    assert infer([3, 5, 7], scale_factor=[2, 3]) == (3, 10, 21)
    assert infer([4, 9], scale_factor=[4], mode="linear") == (4, 36)
    assert infer([2, 2, 3, 4], scale_factor=[1, 2, 2], mode="linear") == (2, 2, 6, 8)


@pytest.mark.parametrize(("shape", "params", "fix"), [
    ([8], {}, "insert Reshape"),  # [N, 8]: no spatial dim
    ([3, 5, 7], {"scale_factor": [2, 2, 2]}, "one factor, or 2"),
    ([3, 9], {"mode": "cubic"}, "use mode 'linear' or 'nearest'"),
])
def test_a_shape_it_cannot_take_names_the_fix(shape, params, fix) -> None:
    from netbuilder.layers.spec import ShapeError

    with pytest.raises(ShapeError) as caught:
        infer(shape, **params)
    assert fix in caught.value.fix


class Up(nn.Module):
    def __init__(self, channels: int, dims: int, **kwargs) -> None:
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
        self.a, self.b = conv(channels, 4, 3, padding=1), conv(4, 2, 1)
        self.kwargs = kwargs

    def forward(self, x):
        return self.b(F.interpolate(torch.relu(self.a(x)), **self.kwargs))


CASES = {
    "nearest x2": (Up(3, 2, scale_factor=2, mode="nearest"), (2, 3, 6, 5)),
    "nearest x3 by 2": (Up(3, 2, scale_factor=(3, 2), mode="nearest"), (2, 3, 4, 5)),
    "bilinear": (Up(3, 2, scale_factor=2, mode="bilinear", align_corners=False), (2, 3, 6, 5)),
    "bilinear corners": (Up(3, 2, scale_factor=2, mode="bilinear", align_corners=True), (2, 3, 6, 5)),
    "bicubic": (Up(3, 2, scale_factor=2, mode="bicubic", align_corners=False), (2, 3, 6, 5)),
    "nearest 3-D": (Up(2, 3, scale_factor=2, mode="nearest"), (2, 2, 3, 4, 3)),
    "trilinear": (Up(2, 3, scale_factor=2, mode="trilinear", align_corners=False), (2, 2, 3, 4, 3)),
}


# torch's dynamo exporter writes 1-D linear interpolation as gathers and transposes, not as a Resize; the
# TorchScript one writes a Resize (docs/onnx-import.md lists the dynamo form as not imported).
ONE_D = {"linear 1-D": (Up(2, 1, scale_factor=4, mode="linear", align_corners=False), (2, 2, 9))}
RUNS = [(case, exporter) for case in CASES for exporter in EXPORTERS] + [("linear 1-D", "torchscript")]


@pytest.mark.parametrize(("case", "exporter"), RUNS)
def test_torch_exports_with_upsampling_come_back_with_the_same_outputs(tmp_path, case, exporter) -> None:
    module, shape = (CASES | ONE_D)[case]
    torch.manual_seed(0)
    module = module.eval()
    sample = torch.randn(*shape)
    path = export(module, sample, tmp_path / "up.onnx", exporter)
    with torch.no_grad():
        expected = module(sample).numpy()
    assert check("up", path, [sample.numpy()], [expected], tmp_path) is None
    project, _weights = import_onnx(path)
    ups = [n for n in project.graph if n.kind == "Upsample"]
    assert len(ups) == 1


def resize_model(tmp_path: Path, **attrs) -> Path:
    """A bare Resize of a [1, 2, 4, 4] input by ``scales`` (an attribute of this helper), ONNX opset 13."""
    scales = attrs.pop("scales", [1.0, 1.0, 2.0, 2.0])
    out = [int(d * k) for d, k in zip([1, 2, 4, 4], scales, strict=True)]
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="up1", **attrs)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, out)],
        [helper.make_tensor("scales", onnx.TensorProto.FLOAT, [4], scales)])
    path = tmp_path / "resize.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


@pytest.mark.parametrize(("attrs", "words"), [
    ({"scales": [1.0, 1.0, 1.5, 1.5]}, "are not whole factors"),
    ({"scales": [1.0, 2.0, 2.0, 2.0]}, "scales the batch or the channels"),
    ({"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize"}, "tf_crop_and_resize"),
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "round_prefer_floor"},
     "picks other pixels"),
    ({"mode": "cubic", "cubic_coeff_a": -0.5}, "cubic_coeff_a"),
])
def test_a_resize_upsample_cannot_compute_is_refused_naming_the_node_and_the_fix(tmp_path, attrs, words) -> None:
    with pytest.raises(OnnxImportError) as caught:
        import_onnx(resize_model(tmp_path, **attrs))
    message = str(caught.value)
    assert "Resize node 'up1'" in message and words in message


def test_a_resize_by_one_is_no_layer(tmp_path) -> None:
    project, _ = import_onnx(resize_model(tmp_path, scales=[1.0, 1.0, 1.0, 1.0]))
    assert not [n for n in project.graph if n.kind == "Upsample"]


def test_nearest_with_half_pixel_centres_imports_as_torchs_nearest(tmp_path) -> None:
    # Another exporter's spelling (half_pixel, round_prefer_floor, Resize's defaults) of the same pixels.
    path = resize_model(tmp_path, mode="nearest", scales=[1.0, 1.0, 3.0, 2.0])
    assert check("resize", path, [np.random.default_rng(0).standard_normal((1, 2, 4, 4), np.float32)], None,
                 tmp_path) is None
