"""The ONNX model zoo's nine classic CNNs (onnx's own test data) in their stored-weights form import,
lay out without overlapping nodes, compute what ONNX Runtime computes on the original, and export
again to a file that does too: the round trip benchmarks/onnx_corpus.py counts, one model a test.

The stored form (every computed weight folded into an initializer by ONNX Runtime, as the zoo's full
files hold them) comes from the corpus's own ``stored_form``. Each model is imported once and that
import is shared by its two tests. The models are ImageNet-sized (224 x 224, up to 144 million
weights): the three with 60 million weights or more are marked slow (see HEAVY).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from netbuilder import build_module, load_project
from netbuilder.files.weights import load_project_weights
from netbuilder.model.layout import node_height
from netbuilder.model.rewiring import NODE_WIDTH
from netbuilder.onnx.exporter import export_onnx
from netbuilder.onnx.importer import import_onnx_project

CORPUS_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "onnx_corpus.py"
_spec = importlib.util.spec_from_file_location("onnx_corpus", CORPUS_FILE)
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

ZOO = sorted(f.stem.removeprefix("light_") for f in (corpus.DATA / "light").glob("light_*.onnx"))
# Over 20 s a test on two loaded cores, for the weights alone: 61 to 144 million of them (240 to 575 MB)
# folded, written beside the project, read back, exported and run. The other six take 2 to 15 s.
HEAVY = {"bvlc_alexnet": 61, "vgg19": 144, "zfnet512": 62}  # millions of weights


# DenseNet-121's 241 layers and 58 concatenations take torch's exporter about 20 s on its own.
SLOW_EXPORT = {*HEAVY, "densenet121"}


def _cases(slow: set[str] | dict[str, int] = HEAVY) -> list:
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in ZOO]
_IMPORTED: dict[str, tuple[Path, Path]] = {}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zoo")


def _imported(name: str, work: Path) -> tuple[Path, Path]:
    """The stored-weights file and its imported project (weights beside it), made once per model."""
    if name not in _IMPORTED:
        stored = corpus.stored_form(corpus.DATA / "light" / f"light_{name}.onnx", work / f"{name}_stored.onnx")
        project_path = work / f"{name}.nbproj"
        import_onnx_project(stored, project_path)
        _IMPORTED[name] = stored, project_path
    return _IMPORTED[name]


def _ort(path: Path, x: np.ndarray) -> list[np.ndarray]:
    session = corpus._session(path)
    return session.run(None, {session.get_inputs()[0].name: x})


def _input(path: Path) -> np.ndarray:
    return next(iter(corpus._inputs_for(path, None).values()))


def overlaps(project) -> list[tuple[str, str]]:
    """Pairs of nodes whose boxes on the canvas overlap."""
    boxes = sorted((n.position[0], n.position[1], n.position[1] + node_height(n), n.name) for n in project.graph)
    found = []
    for k, (x, top, bottom, name) in enumerate(boxes):
        for x2, top2, bottom2, name2 in boxes[k + 1:]:
            if x2 >= x + NODE_WIDTH:
                break
            if top2 < bottom and top < bottom2:
                found.append((name, name2))
    return found


def test_the_corpus_has_the_nine() -> None:
    assert ZOO == ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet",
                   "squeezenet", "vgg19", "zfnet512"]


@pytest.mark.parametrize("name", _cases())
def test_zoo_model_imports_laid_out_and_computes_what_ort_does(name: str, work: Path) -> None:
    stored, project_path = _imported(name, work)
    project = load_project(project_path)
    assert overlaps(project) == []
    # Left to right, in bands like lines of text: each wire goes right, or on to a later band (below).
    assert all(project.graph.node(e.src).position[0] < project.graph.node(e.dst).position[0]
               or project.graph.node(e.src).position[1] < project.graph.node(e.dst).position[1]
               for e in project.graph.edges)
    module = build_module(project.graph).eval()
    assert load_project_weights(module, project.path).file is not None  # the imported weights, not fresh ones
    x = _input(stored)
    with torch.no_grad():
        got = module(torch.from_numpy(x)).numpy()
    want = _ort(stored, x)[0]
    np.testing.assert_allclose(got, want, rtol=corpus.RTOL, atol=corpus.ATOL)


@pytest.mark.parametrize("name", _cases(SLOW_EXPORT))
def test_zoo_model_exports_again_to_what_the_original_computes(name: str, work: Path) -> None:
    stored, project_path = _imported(name, work)
    back = work / f"{name}_back.onnx"
    export_onnx(load_project(project_path), back)
    x = _input(stored)
    for got, want in zip(_ort(back, x), _ort(stored, x), strict=True):
        np.testing.assert_allclose(got, want, rtol=corpus.RTOL, atol=corpus.ATOL)
    first = ort.InferenceSession(str(stored), providers=["CPUExecutionProvider"]).get_inputs()[0].shape
    if not isinstance(first[0], int):  # a free batch: batch 3 too (the zoo's nine fix it at 1)
        x3 = np.random.default_rng(1).standard_normal((3, *x.shape[1:])).astype(np.float32)
        np.testing.assert_allclose(_ort(back, x3)[0], _ort(stored, x3)[0], rtol=corpus.RTOL, atol=corpus.ATOL)
