"""What a layer costs per sample: its weights (trainable or frozen, and their size at fp32 and
fp16), its multiply-adds, and the memory its outputs take.

Conventions, stated once so every figure in the summary means the same:

- **Multiply-adds** are the catalog's :attr:`LayerSpec.macs` rules, per sample, counting the
  multiply-accumulates of the matrix products and convolutions, as torch's own
  ``torch.utils.flop_counter.FlopCounterMode`` does (its FLOPs are twice these): Linear
  ``in × out`` per position, Conv ``output elements × in_channels / groups × kernel``,
  ConvTranspose ``input elements × out_channels × kernel``, RNN/LSTM/GRU ``gates × hidden ×
  (input + hidden)`` per step, layer and direction, attention its four projections plus
  ``QKᵀ`` and ``softmax·V``. Biases are not counted (torchinfo counts them; fvcore and torch's
  counter do not). BatchNorm and LayerNorm count 2 per element (a scale and a shift), average
  pooling one add per window element, adaptive average pooling one per input element,
  LocalResponseNorm ``size`` per element (its windowed sum of squares). Max pooling (only
  comparisons), activations, element-wise merges, reshapes, dropout and embedding lookups
  count 0: max pooling and Multiply by their rules, the others by :data:`NO_MULTIPLY_ADDS`, which
  names each kind without a rule and why, so a new kind without one is a test failure, not a
  silent zero.
- **Activations** are the bytes of a layer's outputs for one sample (elements × the bytes of
  their dtype), every layer's, the size torchinfo gives each layer's output. (torchinfo's
  "forward/backward pass size" total doubles the outputs of the layers with parameters only.)
  Training keeps about these for the backward pass, times the batch size.
- **Model size** is what a weights file holds: every parameter and buffer (BatchNorm's running
  statistics), floating-point ones at 4 bytes (fp32) or 2 (fp16), integer ones
  (``num_batches_tracked``) at their own size either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from netbuilder.layers.spec import LayerSpec, Params, TensorType, numel

MIB = 1 << 20
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int64": 8, "int32": 4, "bool": 1}

# The kinds whose multiply-adds are 0 by the convention above, each with the reason a user reads.
NO_MULTIPLY_ADDS: dict[str, str] = {
    **dict.fromkeys(("Input", "Output"), "no computation"),
    **dict.fromkeys(("Flatten", "Reshape", "Permute", "Transpose"), "moves values, computes none"),
    "Dropout": "a mask, no multiply-adds",
    "Embedding": "a table look-up",
    **dict.fromkeys(("ReLU", "LeakyReLU", "PReLU", "ELU", "SELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softplus",
                     "ReLU6", "Hardtanh", "Hardswish", "Hardsigmoid", "Mish", "Softmax", "LogSoftmax"),
                    "an element-wise function"),
    **dict.fromkeys(("Add", "Concat"), "element-wise, no weights"),
    # torch's exported modules (issue 12): element-wise, or moving values
    **dict.fromkeys(("Math", "Subtract", "Divide", "Softmin", "Softsign", "GLU"), "an element-wise function"),
    **dict.fromkeys(("Split", "PixelShuffle"), "moves values, computes none"),
}


def tensor_bytes(t: TensorType) -> int:
    """Bytes of one sample of ``t``."""
    return numel(t.shape) * DTYPE_BYTES.get(t.dtype, 4)


def activation_bytes(outputs: Mapping[str, TensorType] | None) -> int:
    """Bytes of a node's outputs for one sample (0 while they are unknown)."""
    return sum(tensor_bytes(t) for t in (outputs or {}).values())


@dataclass(frozen=True, slots=True)
class WeightCosts:
    """A module's parameters and their size, read from the module itself.

    ``float_values`` counts the floating-point parameters and buffers (they shrink at fp16);
    ``other_bytes`` is the integer buffers' bytes, which do not.
    """

    params: int = 0
    trainable: int = 0
    float_values: int = 0
    other_bytes: int = 0

    @property
    def frozen(self) -> int:
        return self.params - self.trainable

    def size_bytes(self, float_bytes: int) -> int:
        """The bytes a weights file holds for this module with floats of ``float_bytes`` bytes."""
        return self.float_values * float_bytes + self.other_bytes


def weight_costs(module: Any) -> WeightCosts:
    """Parameter counts (trainable: ``requires_grad``) and sizes of a torch module, any device,
    ``meta`` included. Tensors shared between two names count once, as a state_dict saves them once."""
    params = trainable = float_values = other_bytes = 0
    seen: set[int] = set()
    for p in module.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        params += p.numel()
        trainable += p.numel() if p.requires_grad else 0
        float_values += p.numel()
    for b in module.buffers():
        if id(b) in seen:
            continue
        seen.add(id(b))
        if b.is_floating_point():
            float_values += b.numel()
        else:
            other_bytes += b.numel() * b.element_size()
    return WeightCosts(params, trainable, float_values, other_bytes)


def layer_weight_costs(spec: LayerSpec, params: Params, inputs: Mapping[str, TensorType]) -> WeightCosts:
    """What a freshly built layer of ``spec`` holds: built on the ``meta`` device (no memory) by the
    catalog's own builder, so the counts are exactly what training sees. Remembered per kind,
    parameters and input types, so a summary recomputed after an edit builds only what changed."""
    if spec.build is None:
        return WeightCosts()
    key = json.dumps(params, sort_keys=True, default=str)
    return _built_costs(spec.kind, key, tuple(sorted(inputs.items())))


@lru_cache(maxsize=4096)
def _built_costs(kind: str, params_json: str, inputs: tuple[tuple[str, TensorType], ...]) -> WeightCosts:
    import torch  # here, not at import: the GUI shows its window before torch loads

    from netbuilder.layers import get_spec

    with torch.device("meta"):
        module = get_spec(kind).build(json.loads(params_json), dict(inputs))
    return weight_costs(module)


def multiply_adds(spec: LayerSpec, params: Params, inputs: Mapping[str, TensorType],
                  outputs: Mapping[str, TensorType]) -> int:
    """Multiply-adds per sample by the catalog's rule (0 for kinds in :data:`NO_MULTIPLY_ADDS`)."""
    return int(spec.macs(params, inputs, outputs)) if spec.macs is not None else 0


def mib(n_bytes: int) -> float:
    return n_bytes / MIB


def format_bytes(n_bytes: int) -> str:
    """``512 B``, ``3.1 KiB``, ``2.50 MiB``, ``1.20 GiB``: a short size for a table cell."""
    if n_bytes < 1024:
        return f"{n_bytes} B"
    for unit, scale in (("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)):
        if n_bytes < scale * 1024 or unit == "GiB":
            value = n_bytes / scale
            return f"{value:.1f} {unit}" if value >= 10 else f"{value:.2f} {unit}"
    raise AssertionError("unreachable")


def format_count(n: int) -> str:
    """``2,794,240 (2.79 M)``: the exact count, and millions or billions for large ones."""
    for unit, scale in (("G", 10**9), ("M", 10**6)):
        if n >= scale:
            return f"{n:,} ({n / scale:.2f} {unit})"
    return f"{n:,}"
