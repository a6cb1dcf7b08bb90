"""The layer catalog: one :class:`LayerSpec` per layer kind."""

from __future__ import annotations

from netbuilder.layers import (
    activations,
    attention,
    conv,
    core,
    elementwise,
    merge,
    norm,
    pad,
    recurrent,
    scale,
    split,
    upsample,
)
from netbuilder.layers.spec import LayerSpec, ParamSpec, PortSpec, ShapeError, TensorType

CATALOG: dict[str, LayerSpec] = {
    spec.kind: spec
    for module in (core, pad, conv, upsample, norm, scale, recurrent, attention, activations, merge, elementwise,
                   split)
    for spec in module.SPECS
}

CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(spec.category for spec in CATALOG.values()))


def get_spec(kind: str) -> LayerSpec:
    """The spec of ``kind``; KeyError with the known kinds when there is none."""
    try:
        return CATALOG[kind]
    except KeyError:
        raise KeyError(f"unknown layer kind {kind!r}") from None


__all__ = ["CATALOG", "CATEGORIES", "LayerSpec", "ParamSpec", "PortSpec", "ShapeError", "TensorType", "get_spec"]
