"""The values that flow between ONNX nodes while importing, and the mappers' two exceptions.

Most values are a :class:`Port` (a wire on the canvas) or a numpy array (a weight). The rest
stand for things netbuilder has no wire for but a pattern around them can still use: the
time-major view of a sequence that ONNX RNNs take, an RNN's raw outputs, and tensors computed
from shapes at run time (the zero initial state torch's exporter builds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class OpProblem(Exception):
    """One node cannot be mapped; the message says why (the node's name is added by the caller)."""


class Skip(Exception):
    """An input failed earlier; its node was reported already, so this one stays quiet."""


@dataclass(frozen=True)
class Port:
    """An output of a catalog node: a batch-first tensor on a wire (``port``: which output, for
    a node of several, like Split)."""

    node: str
    port: str = "out"


@dataclass(frozen=True)
class Fill:
    """A tensor of one repeated value whose shape is computed at run time (ConstantOfShape)."""

    value: float


@dataclass(frozen=True)
class Opaque:
    """A value computed from tensor shapes at run time; only Reshape's target may be one."""


@dataclass(frozen=True)
class Unknown:
    """The output of a node that could not be mapped."""


@dataclass(frozen=True)
class RnnOut:
    """A raw output of an RNN node: ``Y``, ``Y_h``, ``Y_c``, ``YT`` (Y with directions next to
    features) or ``seq`` (the batch-first sequence, a wire once something uses it)."""

    node: str
    which: str


@dataclass(frozen=True)
class TimeMajor:
    """The [T, N, F] view of a batch-first [N, T, F] value (a Port or an ``RnnOut('seq')``)."""

    inner: Any


@dataclass(frozen=True)
class RnnStates:
    """The final states of stacked one-layer RNNs concatenated along the layer axis (torch's
    ``h_n`` of a multi-layer RNN): ``RnnOut('Y_h')`` values, first layer first."""

    items: tuple[RnnOut, ...]


Value = Port | Fill | Opaque | Unknown | RnnOut | RnnStates | TimeMajor | np.ndarray


__all__ = ["Fill", "OpProblem", "Opaque", "Port", "RnnOut", "RnnStates", "Skip", "TimeMajor", "Unknown", "Value"]
