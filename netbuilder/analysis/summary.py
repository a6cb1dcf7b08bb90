"""A per-node table like torchinfo's: output shape, parameters, multiply-adds, and totals.

The totals count what :func:`netbuilder.build_module` compiles, nothing else: a layer whose
result reaches no Output is left out of the module, so its row is marked dead (``compiled``
False) and its parameters are reported apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from netbuilder.analysis.shape_inference import Problem, ShapeInference, infer_shapes
from netbuilder.model.graph import Graph


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
    def total_macs(self) -> int:
        return sum(r.macs for r in self.compiled_rows)

    @property
    def dead_params(self) -> int:
        return sum(r.params for r in self.dead_rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [asdict(r) for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_macs": self.total_macs,
            "dead_params": self.dead_params,
        }


def node_row(graph: Graph, inference: ShapeInference, node_id: str, live: set[str] | None = None) -> SummaryRow:
    """One node's output shape, parameter counts and multiply-adds. Parameter counts come from
    torch modules built on the ``meta`` device (no memory), so they are exactly what training sees.
    ``live`` is :meth:`Graph.live_nodes`, when the caller has it already."""
    live = graph.live_nodes() if live is None else live
    node = graph.node(node_id)
    info = inference.info(node_id)
    spec = node.spec
    params = trainable = macs = 0
    if info.outputs is None:
        output = "?"
    else:
        output = ", ".join(str(t) for t in info.outputs.values()) or "—"
        if spec.build is not None:
            import torch  # here, not at import: the GUI shows its window before torch loads

            with torch.device("meta"):
                module = spec.build(node.params, info.inputs)
            params = sum(p.numel() for p in module.parameters())
            trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
        if spec.macs is not None:
            macs = int(spec.macs(node.params, info.inputs, info.outputs))
    return SummaryRow(node_id, node.name, node.kind, output, params, trainable, macs, node_id in live)


def summarize(graph: Graph, inference: ShapeInference | None = None) -> Summary:
    """Summarise every node, in graph order; the totals count the compiled ones."""
    inference = inference or infer_shapes(graph)
    live = graph.live_nodes()
    rows = [node_row(graph, inference, node_id, live) for node_id in graph.topological_order()]
    return Summary(rows, inference.problems)
