"""Which layer kinds take a given tensor: the quick-add's list when a wire is dropped on the canvas.

Each kind is asked through its own shape rule (the one shape inference runs), with its default
parameters: the layer the user would get. A merge is given the tensor on every input, as a
wire and its copy. The answer depends only on the tensor type, so it is kept per type: the
second drop of a wire carrying ``[N, 64]`` costs a dictionary look-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from netbuilder.layers import CATALOG, ShapeError, TensorType


@dataclass(frozen=True)
class Fit:
    """What a kind makes of a tensor: its output, or why it does not take it."""

    kind: str
    output: TensorType | None
    reason: str | None


def fit(kind: str, tensor: TensorType) -> Fit:
    """Feed ``tensor`` to a default ``kind`` layer's first input (and every other required one)."""
    spec = CATALOG[kind]
    params = spec.defaults()
    ports = spec.input_ports(params)
    if not ports:
        return Fit(kind, None, f"{kind} has no input")
    if spec.check is not None and (message := spec.check(params)):
        return Fit(kind, None, f"{kind}: {message}")
    inputs = {p.name: tensor for p in ports if p is ports[0] or not p.optional}
    try:
        outputs = spec.infer(params, inputs)
    except ShapeError as err:
        reason = f"{kind} needs {err.expected}; the wire carries {tensor}"
        return Fit(kind, None, f"{reason}: {err.fix}" if err.fix else reason)
    except Exception as exc:  # a rule that does not expect this input says no, rather than crash the editor
        return Fit(kind, None, f"{kind} cannot take {tensor} ({type(exc).__name__}: {exc})")
    names = spec.output_ports(params)
    output = outputs.get(names[0]) if names else None
    return Fit(kind, output, None)


@lru_cache(maxsize=256)
def kinds_accepting(tensor: TensorType) -> frozenset[str]:
    """The kinds whose default layer takes ``tensor`` on its first input (cached per tensor type)."""
    return frozenset(kind for kind in CATALOG if fit(kind, tensor).reason is None)


def kinds_with_output() -> frozenset[str]:
    """The kinds that put something out (all but Output): what can feed an input."""
    return frozenset(kind for kind, spec in CATALOG.items() if spec.output_ports())


def kinds_for_wires() -> frozenset[str]:
    """The kinds that can go into a wire: one input (others optional) and one output (Input, Output, a merge or a
    Split cannot)."""
    return frozenset(kind for kind, spec in CATALOG.items() if len(spec.output_ports()) == 1
                     and len([p for p in spec.input_ports(spec.defaults()) if not p.optional]) == 1)


__all__ = ["Fit", "fit", "kinds_accepting", "kinds_for_wires", "kinds_with_output"]
