"""A per-node table like torchinfo's: output shape, parameters (trainable / frozen), multiply-adds,
activation memory per sample; totals and the model's size at fp32 and fp16; as Markdown or CSV.

The totals count what :func:`netbuilder.build_module` compiles, nothing else: a layer whose
result reaches no Output is left out of the module, so its row is marked dead (``compiled``
False) and its parameters are reported apart. :mod:`netbuilder.analysis.costs` says how each
figure is counted.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from netbuilder.analysis.costs import (
    MIB,
    WeightCosts,
    activation_bytes,
    format_bytes,
    format_count,
    layer_weight_costs,
    mib,
    multiply_adds,
    weight_costs,
)
from netbuilder.analysis.shape_inference import Problem, ShapeInference, infer_shapes
from netbuilder.model.graph import Graph

COLUMNS = ("Layer", "Kind", "Output shape", "Parameters", "Trainable", "Frozen", "Multiply-adds", "Activations")
CSV_COLUMNS = ("layer", "kind", "output_shape", "parameters", "trainable", "frozen", "multiply_adds",
               "activation_bytes", "counted")
DEAD_NOTE = "dead: not counted"


@dataclass(frozen=True, slots=True)
class SummaryRow:
    node_id: str
    name: str
    kind: str
    output: str
    params: int
    trainable: int
    macs: int
    compiled: bool = True  # False: it reaches no Output, so the module leaves it out
    frozen: int = 0  # parameters with requires_grad False
    activation_bytes: int = 0  # its outputs, one sample
    size_fp32: int = 0  # bytes of its parameters and buffers at fp32
    size_fp16: int = 0  # ... and at fp16

    def cells(self) -> tuple[str, ...]:
        """The row as the table shows it, in :data:`COLUMNS` order."""
        memory = format_bytes(self.activation_bytes) if self.output not in ("—", "?") else "—"
        return (self.name, self.kind, self.output, f"{self.params:,}", f"{self.trainable:,}", f"{self.frozen:,}",
                f"{self.macs:,}", memory)


@dataclass
class Summary:
    rows: list[SummaryRow]
    problems: list[Problem] = field(default_factory=list)

    @property
    def compiled_rows(self) -> list[SummaryRow]:
        return [r for r in self.rows if r.compiled]

    @property
    def dead_rows(self) -> list[SummaryRow]:
        """Rows of layers that reach no Output: shown, but not in the totals."""
        return [r for r in self.rows if not r.compiled]

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.compiled_rows)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable for r in self.compiled_rows)

    @property
    def frozen_params(self) -> int:
        return sum(r.frozen for r in self.compiled_rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.compiled_rows)

    @property
    def activation_bytes(self) -> int:
        """Bytes of every compiled layer's outputs for one sample; the input itself is :attr:`input_bytes`."""
        return sum(r.activation_bytes for r in self.compiled_rows if r.kind != "Input")

    @property
    def input_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.compiled_rows if r.kind == "Input")

    @property
    def size_fp32(self) -> int:
        """Bytes of the compiled model's parameters and buffers at fp32, as a weights file holds them."""
        return sum(r.size_fp32 for r in self.compiled_rows)

    @property
    def size_fp16(self) -> int:
        return sum(r.size_fp16 for r in self.compiled_rows)

    @property
    def dead_params(self) -> int:
        return sum(r.params for r in self.dead_rows)

    def totals(self) -> list[str]:
        """The totals as lines a user reads under the table (the CLI prints the same)."""
        frozen = f", frozen {self.frozen_params:,}" if self.frozen_params else ""
        lines = [
            f"Total parameters: {self.total_params:,} (trainable {self.trainable_params:,}{frozen})",
            f"Multiply-adds per sample: {format_count(self.total_macs)}",
            f"Activations per sample: {format_bytes(self.activation_bytes)} (input {format_bytes(self.input_bytes)})",
            f"Model size: {_size(self.size_fp32)} at fp32, {_size(self.size_fp16)} at fp16",
        ]
        if dead := self.dead_rows:
            lines.append(f"Not counted: {self.dead_params:,} parameters in {len(dead)} layer(s) that reach no Output")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [asdict(r) for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "frozen_params": self.frozen_params,
            "total_macs": self.total_macs,
            "activation_bytes": self.activation_bytes,
            "input_bytes": self.input_bytes,
            "size_fp32_bytes": self.size_fp32,
            "size_fp16_bytes": self.size_fp16,
            "dead_params": self.dead_params,
        }

    def to_markdown(self, title: str = "") -> str:
        """A GitHub-flavoured Markdown table, dead rows marked, then the totals."""
        def line(cells) -> str:
            return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

        right = {3, 4, 5, 6, 7}
        out = [f"**{title}**", ""] if title else []
        out += [line(COLUMNS), "| " + " | ".join("---:" if k in right else "---" for k in range(len(COLUMNS))) + " |"]
        for r in self.rows:
            cells = list(r.cells())
            if not r.compiled:
                cells[0] = f"{cells[0]} ({DEAD_NOTE})"
            out.append(line(cells))
        out.append("")
        out += [f"- {t}" for t in self.totals()]
        return "\n".join(out) + "\n"

    def to_csv(self) -> str:
        """One line per layer with plain numbers (bytes, not KiB) for a spreadsheet; ``counted`` says
        whether the totals include it."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in self.rows:
            writer.writerow((r.name, r.kind, r.output, r.params, r.trainable, r.frozen, r.macs, r.activation_bytes,
                             "yes" if r.compiled else "no"))
        return buffer.getvalue()


def _size(n_bytes: int) -> str:
    """A model's size in MiB, or in bytes where MiB would read 0.00."""
    return f"{mib(n_bytes):.2f} MiB" if n_bytes >= 0.005 * MIB else format_bytes(n_bytes)


def node_row(graph: Graph, inference: ShapeInference, node_id: str, live: set[str] | None = None,
             module: Any = None) -> SummaryRow:
    """One node's output shape, parameters, multiply-adds and activation memory.

    Parameter counts come from torch modules built on the ``meta`` device (no memory), so they are
    exactly what training sees. With ``module`` (a compiled model, e.g. with weights loaded and
    some layers frozen) a compiled layer's parameters are read from its submodule instead, so
    ``requires_grad`` False shows as frozen. ``live`` is :meth:`Graph.live_nodes`, when the caller
    has it already."""
    live = graph.live_nodes() if live is None else live
    node = graph.node(node_id)
    info = inference.info(node_id)
    spec = node.spec
    weights, macs = WeightCosts(), 0
    if info.outputs is None:
        output = "?"
    else:
        output = ", ".join(str(t) for t in info.outputs.values()) or "—"
        if module is not None and node_id in live and node.name in getattr(module, "_modules", {}):
            weights = weight_costs(module.get_submodule(node.name))
        else:
            weights = layer_weight_costs(spec, node.params, info.inputs)
            if node.frozen:  # build_module turns requires_grad off for a frozen layer's weights
                weights = replace(weights, trainable=0)
        macs = multiply_adds(spec, node.params, info.inputs, info.outputs)
    return SummaryRow(node_id, node.name, node.kind, output, weights.params, weights.trainable, macs,
                      node_id in live, weights.frozen, activation_bytes(info.outputs),
                      weights.size_bytes(4), weights.size_bytes(2))


def summarize(graph: Graph, inference: ShapeInference | None = None, module: Any = None) -> Summary:
    """Summarise every node, in graph order, those that reach no Output last (a stray layer with nothing wired
    in sorted right after the Input); the totals count the compiled ones. ``module``: see :func:`node_row`."""
    inference = inference or infer_shapes(graph)
    live = graph.live_nodes()
    order = sorted(graph.topological_order(), key=lambda node_id: node_id not in live)  # stable: graph order kept
    rows = [node_row(graph, inference, node_id, live, module) for node_id in order]
    return Summary(rows, inference.problems)
