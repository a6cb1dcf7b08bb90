"""What a layer kind is: ports, typed parameters, a shape rule, a torch builder.

Every layer kind in the catalog is one :class:`LayerSpec`. Shape rules work on
:class:`TensorType` values whose shape leaves out the batch dimension (shown as ``N``),
so a rule never guesses at a batch size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Params = Mapping[str, Any]

# Anything larger than this is a typo, not a model (10^12 units would need terabytes).
MAX_SIZE = 1 << 24


@dataclass(frozen=True, slots=True)
class TensorType:
    """The type of a tensor on a wire: its shape without the batch dimension, and dtype."""

    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def rank(self) -> int:
        """Rank including the batch dimension, as torch counts it."""
        return len(self.shape) + 1

    def __str__(self) -> str:
        dims = ", ".join(["N", *map(str, self.shape)])
        return f"[{dims}]" if self.dtype == "float32" else f"[{dims}] {self.dtype}"


class ShapeError(Exception):
    """Raised by a shape rule: what the port expected, and the fix.

    The node's kind, name and the shape that arrived are added by shape inference.
    """

    def __init__(self, port: str, expected: str, fix: str = "") -> None:
        super().__init__(expected)
        self.port = port
        self.expected = expected
        self.fix = fix


@dataclass(frozen=True, slots=True)
class PortSpec:
    name: str
    optional: bool = False
    doc: str = ""


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One typed parameter.

    ``kind`` is one of ``int``, ``float``, ``bool``, ``choice``, ``ints`` (a list of
    ints), ``int2`` (an int or a pair of ints), ``int3`` (an int or three ints), ``optional_int``
    (an int or null).
    """

    name: str
    kind: str
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    min_len: int = 0
    max_len: int = 8

    def check(self, value: Any) -> str | None:
        """Return why ``value`` is not allowed, or None when it is."""
        kind = self.kind
        if kind.startswith("optional_"):
            if value is None:
                return None
            kind = kind.removeprefix("optional_")
        if kind == "int":
            return self._check_int(value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"must be a number, not {_describe(value)}"
            if (isinstance(value, int) and abs(value) > 1e308) or not math.isfinite(value):
                return f"must be a finite number no larger than 1e308, not {_describe(value)[:40]}"
            return self._check_range(value)
        if kind == "bool":
            return None if isinstance(value, bool) else f"must be true or false, not {_describe(value)}"
        if kind == "choice":
            if value in self.choices and type(value) is type(self.choices[0]):
                return None
            return f"must be one of {', '.join(map(repr, self.choices))}, not {value!r}"
        if kind in ("int2", "int3"):
            if isinstance(value, (list, tuple)):
                if len(value) != int(kind[3]):
                    what = "a pair of ints" if kind == "int2" else "three ints"
                    return f"must be an int or {what}, not a list of {len(value)}"
                return next((m for m in map(self._check_int, value) if m), None)
            return self._check_int(value)
        if kind == "ints":
            if not isinstance(value, (list, tuple)):
                return f"must be a list of ints, not {_describe(value)}"
            if not self.min_len <= len(value) <= self.max_len:
                return f"must have {self.min_len} to {self.max_len} entries, not {len(value)}"
            return next((m for m in map(self._check_int, value) if m), None)
        raise AssertionError(f"unknown parameter kind {kind!r}")

    def _check_int(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, not {_describe(value)}"
        return self._check_range(value)

    def _check_range(self, value: float) -> str | None:
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {_num(self.minimum)}, not {value}"
        if self.maximum is not None and value > self.maximum:
            return f"must be at most {_num(self.maximum)}, not {value}"
        return None


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


ShapeRule = Callable[[Params, Mapping[str, TensorType]], dict[str, TensorType]]
Builder = Callable[[Params, Mapping[str, TensorType]], Any]
MacsRule = Callable[[Params, Mapping[str, TensorType], Mapping[str, TensorType]], int]
PortsRule = Callable[[Params], tuple[PortSpec, ...]]
OutputsRule = Callable[[Params], tuple[str, ...]]
# emit(fx_graph, call_module, input_fx_nodes, params, input_types, output_types) -> fx node,
# where call_module(*args, **kwargs) adds a call of the node's own module.
Emitter = Callable[..., Any]


@dataclass(frozen=True)
class LayerSpec:
    """A layer kind.

    Parameters
    ----------
    kind:
        The name used in project files and the palette, e.g. ``"Conv2d"``.
    category:
        The palette group.
    doc:
        One line a user reads in the palette's tooltip.
    params:
        Typed parameters. Input sizes are not among them: they come from the wire.
    infer:
        The shape rule: ``infer(params, inputs) -> {output_port: TensorType}``; raises
        :class:`ShapeError` when an input does not fit.
    inputs:
        The input ports, or a function of the params for merges whose port count is a param.
    outputs:
        The output port names, or a function of the params for a layer whose output count is a
        param (Split). A layer of several outputs has an ``emit`` returning one fx node per port.
    build:
        ``build(params, inputs) -> torch.nn.Module``, or None for layers that compile to a
        tensor method or function (see :mod:`netbuilder.build.compile`).
    macs:
        Multiply-accumulates per sample, like torchinfo counts them.
    check:
        Cross-parameter checks a single ParamSpec cannot express.
    emit:
        How the node appears in the compiled ``forward`` when it is more than one call
        of its module (or has no module): adds fx nodes and returns the output node.
    """

    kind: str
    category: str
    doc: str
    params: tuple[ParamSpec, ...]
    infer: ShapeRule
    inputs: tuple[PortSpec, ...] | PortsRule = (PortSpec("in"),)
    outputs: tuple[str, ...] | OutputsRule = ("out",)
    build: Builder | None = None
    macs: MacsRule | None = None
    check: Callable[[Params], str | None] | None = None
    emit: Emitter | None = None
    name_base: str = ""
    _params_by_name: dict[str, ParamSpec] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._params_by_name.update({p.name: p for p in self.params})

    def param(self, name: str) -> ParamSpec | None:
        return self._params_by_name.get(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: _copy(p.default) for p in self.params}

    def input_ports(self, params: Params) -> tuple[PortSpec, ...]:
        return self.inputs(params) if callable(self.inputs) else self.inputs

    def output_ports(self, params: Params | None = None) -> tuple[str, ...]:
        """The output port names; a layer with an outputs rule gives those of ``params`` (its
        defaults' when None)."""
        if callable(self.outputs):
            return self.outputs(self.defaults() if params is None else params)
        return self.outputs

    def value_problem(self, params: Params) -> str | None:
        """Why one of these values is not allowed (missing, unknown, wrong type or range), or None.

        Cross-parameter checks are :attr:`check`'s, reported by shape inference instead, so an
        edit may pass through a combination that is only briefly inconsistent.
        """
        for spec in self.params:
            if spec.name not in params:
                return f"is missing parameter '{spec.name}'"
            message = spec.check(params[spec.name])
            if message:
                return f"{spec.name} {message}"
        unknown = sorted(set(params) - set(self._params_by_name))
        if unknown:
            known = ", ".join(self._params_by_name) or "none"
            return f"has no parameter '{unknown[0]}' (its parameters: {known})"
        return None


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def pair(value: int | Sequence[int]) -> tuple[int, int]:
    """An ``int2`` parameter as a (height, width) pair."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def ntuple(value: int | Sequence[int], n: int) -> tuple[int, ...]:
    """An ``int``, ``int2`` or ``int3`` parameter as ``n`` sizes, one per spatial axis."""
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value) if len(value) == n else (int(value[0]),) * n
    return (int(value),) * n


def torch_dim(dim: int, t: TensorType, port: str, what: str = "dim") -> int:
    """Map a torch dim (counting the batch as 0, negatives from the end) to our shape index.

    Raises ShapeError when it points at the batch dimension or past the end.
    """
    rank = t.rank
    full = dim + rank if dim < 0 else dim
    if not 0 <= full < rank:
        raise ShapeError(port, f"a tensor with a dimension {dim}", f"set {what} between {-rank} and {rank - 1}")
    if full == 0:
        raise ShapeError(port, f"{what} other than the batch dimension 0", f"set {what} to 1 or more")
    return full - 1


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)
