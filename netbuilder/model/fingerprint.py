"""A short hash of what a graph computes, recorded with runs, checkpoints and exports."""

from __future__ import annotations

import hashlib
import json

from netbuilder.model.graph import Graph


def graph_fingerprint(graph: Graph) -> str:
    """A hash of what the graph computes (kinds, params, wires; not names' positions)."""
    doc = {"nodes": [[n.id, n.kind, n.name, n.params] for n in graph], "edges": [list(e) for e in graph.edges]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
