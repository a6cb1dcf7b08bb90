"""Export to ONNX, verified against ONNX Runtime before it is reported done.

Exporter choice: torch's TorchScript-based exporter (``dynamo=False``) first. For the
graphs netbuilder compiles — straight-line calls of standard modules — it gives the same
ONNX as the dynamo exporter about ten times faster (0.3 s against 2.5 s for the seed CNN
here), and the issue asks for under a second. The dynamo exporter (onnxscript) is the
fallback when the TorchScript one refuses a model. Nothing half-written is left: the file
is built beside the target (:mod:`netbuilder.files.atomic`) and renamed into place only once
it has passed the checks.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from netbuilder import __version__
from netbuilder.analysis.shape_inference import ShapeInference, infer_shapes
from netbuilder.build.compile import build_module
from netbuilder.errors import NetbuilderError
from netbuilder.files.atomic import atomic_path, check_writable
from netbuilder.files.project import Project
from netbuilder.files.weights import WeightsUsed, load_project_weights
from netbuilder.model.fingerprint import graph_fingerprint
from netbuilder.model.graph import Graph

DEFAULT_OPSET = 17
RTOL, ATOL = 1e-3, 1e-5


class ExportError(NetbuilderError):
    """An export failed; the message names the node or the numbers, and nothing was written."""


@dataclass
class ExportReport:
    path: Path
    exporter: str
    opset: int
    seconds: float
    size_bytes: int
    max_abs_error: dict[int, float] = field(default_factory=dict)  # batch size -> error
    weights: WeightsUsed = field(default_factory=lambda: WeightsUsed(None))

    def summary(self) -> str:
        errors = ", ".join(f"batch {b}: {e:.2e}" for b, e in self.max_abs_error.items())
        return (f"wrote {self.path} ({self.size_bytes / 1024:.1f} KiB, opset {self.opset}, {self.exporter} exporter) "
                f"in {self.seconds:.2f} s; ONNX Runtime matches torch (max abs error {errors})")


def sample_inputs(graph: Graph, batch: int, seed: int = 0) -> list[torch.Tensor]:
    """One random tensor per Input, in forward's argument order (ids 0 and 1 for int64 inputs)."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for node in graph:
        if node.kind == "Input":
            shape = (batch, *node.params["shape"])
            out.append(torch.randint(0, 2, shape, generator=gen) if node.params["dtype"] == "int64"
                       else torch.randn(shape, generator=gen))
    return out


def _names(graph: Graph, kind: str) -> list[str]:
    return [n.name for n in graph if n.kind == kind]


def _export(module: torch.nn.Module, args: tuple, path: Path, graph: Graph, opset: int, static: bool,
            dynamo: bool) -> None:
    inputs, outputs = _names(graph, "Input"), _names(graph, "Output")
    with _quiet():
        if dynamo:
            batch = torch.export.Dim("N", min=1)
            shapes = None if static else tuple({0: batch} for _ in args)
            program = torch.onnx.export(module, args, dynamo=True, input_names=inputs, output_names=outputs,
                                        dynamic_shapes=shapes, opset_version=max(opset, 18), verbose=False)
            program.save(str(path))
        else:
            axes = None if static else {name: {0: "N"} for name in [*inputs, *outputs]}
            torch.onnx.export(module, args, str(path), dynamo=False, input_names=inputs, output_names=outputs,
                              dynamic_axes=axes, opset_version=opset, do_constant_folding=True)


@contextlib.contextmanager
def _quiet():
    """Hold back the exporters' chatter (deprecation notices, IR dumps, registry logs): the
    exporter was chosen deliberately, and a failure is reported in our own words."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch._dynamo", "torch.export", "onnxscript")]
    levels = [lg.level for lg in loggers]
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}  # torch logs IR dumps from C++, past Python's streams
    sink = os.open(os.devnull, os.O_WRONLY)
    for fd in saved:
        os.dup2(sink, fd)
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(sink)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _failing_node(graph: Graph, inference: ShapeInference, module: torch.nn.Module, opset: int) -> str:
    """Export layer by layer to find the first node the exporter refuses, for the message."""
    for node_id in graph.topological_order():
        node = graph.node(node_id)
        if not hasattr(module, node.name):
            continue
        info = inference.info(node_id)
        sub = getattr(module, node.name).eval()
        args = tuple(torch.randn(2, *t.shape) if t.dtype == "float32" else torch.zeros(2, *t.shape, dtype=torch.int64)
                     for t in info.inputs.values())
        try:
            with _quiet():
                torch.onnx.export(sub, args, os.devnull if os.name != "nt" else "NUL", dynamo=False,
                                  opset_version=opset)
        except Exception as exc:
            return f"{node.kind} '{node.name}' cannot be exported to ONNX opset {opset} ({type(exc).__name__}: " \
                   f"{str(exc).splitlines()[0][:200]})"
    return ""


def _stamp(path: Path, project: Project, exporter: str, extra: dict[str, Any], batch: int | None) -> None:
    """Name the producer, write our metadata, and put back the Inputs the exporter pruned."""
    model = onnx.load(str(path))
    model.producer_name = "netbuilder"
    model.producer_version = __version__
    meta = {"netbuilder_version": __version__, "project": project.name, "graph_hash": graph_fingerprint(project.graph),
            "exporter": exporter, **{k: str(v) for k, v in extra.items() if v is not None}}
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    _keep_every_input(model, project.graph, batch)
    onnx.save(model, str(path))


def _keep_every_input(model: onnx.ModelProto, graph: Graph, batch: int | None) -> None:
    """Give the file one input per Input node, in the project's order.

    torch's exporter drops a forward argument that no output uses (an Input that reaches no
    Output, which the app only warns about), so the file would take fewer inputs than the model
    it came from, and a caller feeding every input would be refused. An unused graph input is
    valid ONNX, so it is put back with its declared shape; ``batch`` None means a dynamic batch.
    """
    present = {i.name: i for i in model.graph.input}
    wanted = []
    for node in graph:
        if node.kind != "Input":
            continue
        if node.name in present:
            wanted.append(present[node.name])
            continue
        elem = onnx.TensorProto.INT64 if node.params["dtype"] == "int64" else onnx.TensorProto.FLOAT
        dims = ["N" if batch is None else batch, *node.params["shape"]]
        wanted.append(onnx.helper.make_tensor_value_info(node.name, elem, dims))
    names = {i.name for i in wanted}
    rest = [i for i in model.graph.input if i.name not in names]  # initializers listed as inputs
    del model.graph.input[:]
    model.graph.input.extend([*wanted, *rest])


def verify(path: Path, module: torch.nn.Module, graph: Graph, batches: tuple[int, ...]) -> dict[int, float]:
    """Run the file in ONNX Runtime (CPU) against torch; ExportError with the numbers if they differ."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    errors = {}
    for batch in batches:
        args = sample_inputs(graph, batch, seed=batch)
        with torch.no_grad():
            expected = module(*args)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = session.run(None, {n: a.numpy() for n, a in zip(names, args, strict=True)})
        worst = 0.0
        for name, e, g in zip(_names(graph, "Output"), expected, got, strict=True):
            e = e.numpy()
            if e.shape != g.shape:
                raise ExportError(f"ONNX Runtime gives output '{name}' the shape {list(g.shape)} at batch {batch}, "
                                  f"torch {list(e.shape)}; the export is wrong and was not kept")
            # NaN where both give NaN (a log of a negative sample) agrees; NaN in one only does not.
            gap = np.abs(e - g)
            diff = float(np.nanmax(gap)) if e.size and not np.isnan(gap).all() else 0.0
            if not np.allclose(g, e, rtol=RTOL, atol=ATOL, equal_nan=True):
                raise ExportError(f"ONNX Runtime differs from torch on output '{name}' at batch {batch}: max abs "
                                  f"error {diff:.3g} (tolerance rtol {RTOL}, atol {ATOL}); the export was not kept")
            worst = max(worst, diff)
        errors[batch] = worst
    return errors


def export_onnx(project: Project, path: str | Path, weights: str | Path | None = None, opset: int = DEFAULT_OPSET,
                static_batch: bool = False, run_id: int | None = None, fresh_weights: bool = False) -> ExportReport:
    """Export ``project`` to ``path`` and prove the file computes what the model does.

    The weights are ``weights`` (a weights file or checkpoint that must fit), else the ones
    beside the project where they fit, else (or with ``fresh_weights``) fresh ones; the
    report's ``weights`` says which (:func:`netbuilder.files.weights.load_project_weights`).
    """
    start = time.perf_counter()
    path = Path(path)
    check_writable(path)  # a missing folder is named before the work, not blamed on the model
    graph = project.graph
    inference = infer_shapes(graph)
    if inference.errors:
        lines = "\n".join(f"  - {p.message}" for p in inference.errors)
        raise ExportError(f"the graph has problems to fix before it can be exported:\n{lines}")
    module = build_module(graph, inference).eval()
    used = load_project_weights(module, project.path, weights, fresh_weights)
    run_id = run_id if run_id is not None else used.metadata.get("run_id")
    args = tuple(sample_inputs(graph, 2))
    exporter = "torchscript"
    with atomic_path(path) as tmp:  # the file appears only once it has passed every check
        try:
            try:
                _export(module, args, tmp, graph, opset, static_batch, dynamo=False)
            except Exception as first:
                exporter = "dynamo"
                try:
                    _export(module, args, tmp, graph, opset, static_batch, dynamo=True)
                except Exception:
                    culprit = _failing_node(graph, inference, module, opset)
                    raise ExportError(culprit or f"the model cannot be exported to ONNX ({type(first).__name__}: "
                                      f"{str(first).splitlines()[0][:300]})") from None
            _stamp(tmp, project, exporter, {"run_id": run_id, "weights": used.file.name if used.file else None},
                   args[0].shape[0] if static_batch and args else None)
            try:
                onnx.checker.check_model(str(tmp), full_check=True)
            except onnx.checker.ValidationError as exc:
                raise ExportError(f"the exported file fails onnx.checker: {str(exc).splitlines()[0]}") from None
            errors = verify(tmp, module, graph, (args[0].shape[0],) if static_batch else (2, 5))
        finally:
            Path(str(tmp) + ".data").unlink(missing_ok=True)  # external weights the dynamo exporter may write
    opset_used = max(opset, 18) if exporter == "dynamo" else opset
    return ExportReport(path, exporter, opset_used, time.perf_counter() - start, path.stat().st_size, errors, used)
