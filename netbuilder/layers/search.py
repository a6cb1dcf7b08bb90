"""Finding a layer kind by what a user types: the ranking the quick-add and the palette share.

People type the name they know: PyTorch's (``conv2d``), Keras's (``Dense``, ``MaxPooling2D``: the
teaching text uses Keras), a short hand (``fc``, ``bn``), or the start of a word (``pool``). A
query is ranked in tiers, best first:

0. a name match: the kind's name is the query, starts with it, or one of its words does
   (``relu`` finds ReLU and LeakyReLU, ``2d`` every 2-D layer);
1. the query inside the name (``relu`` in PReLU, ``pool`` in AdaptiveAvgPool2d);
2. an alias: another library's name or a short hand starts with the query (``dense``, ``fc``);
3. only when nothing above matches: a name one typo away (``lienar``), then a word of the
   layer's description (``probability``).

Typos and descriptions come last and only as a fallback, so that ``relu`` lists the ReLU family
and not ELU, GELU (one letter away) or Softplus ("a smooth ReLU").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from netbuilder.layers import CATALOG

# Other names people type for a kind: Keras's (the teaching text's), other libraries', short hands.
# Written in lower case without separators; a query is compared the same way.
ALIASES: dict[str, tuple[str, ...]] = {
    "Input": ("inputlayer", "placeholder"),
    "Output": ("return", "result"),
    "Linear": ("dense", "fc", "fullyconnected", "affine", "perceptron", "mlp", "gemm"),
    "Flatten": ("ravel",),
    "Reshape": ("view",),
    "Permute": ("transposedims",),
    "Pad": ("zeropadding2d", "zeropad2d", "constantpad2d", "reflectionpad2d", "replicationpad2d", "padding",
            "zeropadding1d", "constantpad1d", "reflectionpad1d", "replicationpad1d"),
    "Dropout": ("spatialdropout",),
    "Embedding": ("lookup", "wordembedding"),
    "Conv1d": ("conv1d", "convolution1d"),
    "Conv2d": ("conv2d", "convolution2d", "cnn"),
    "ConvTranspose2d": ("conv2dtranspose", "deconv", "deconvolution", "upconv"),
    "MaxPool1d": ("maxpooling1d", "maxpool1d"),
    "MaxPool2d": ("maxpooling2d", "maxpool2d"),
    "AvgPool1d": ("averagepooling1d", "avgpooling1d", "meanpool1d"),
    "AvgPool2d": ("averagepooling2d", "avgpooling2d", "meanpool2d"),
    "AdaptiveAvgPool1d": ("globalaveragepooling1d", "gap1d"),
    "AdaptiveAvgPool2d": ("globalaveragepooling2d", "gap", "globalpool"),
    "BatchNorm1d": ("bn", "batchnormalization", "batchnorm"),
    "BatchNorm2d": ("bn", "batchnormalization", "batchnorm"),
    "LayerNorm": ("ln", "layernormalization"),
    "LocalResponseNorm": ("lrn",),
    "RNN": ("simplernn", "elman", "recurrent"),
    "LSTM": ("longshorttermmemory", "recurrent"),
    "GRU": ("gatedrecurrentunit", "recurrent"),
    "MultiheadAttention": ("mha", "multiheadattention", "attention", "selfattention"),
    "TransformerEncoderLayer": ("transformer", "encoder"),
    "SiLU": ("swish",),
    "ReLU6": ("clip", "clamp"),
    "Hardtanh": ("clip", "clamp"),
    "Hardswish": ("hswish",),
    "Hardsigmoid": ("hsigmoid",),
    "Sigmoid": ("logistic",),
    "Add": ("residual", "skip", "sum", "plus"),
    "Multiply": ("mul", "product", "gate", "times"),
    "Concat": ("concatenate", "cat", "join", "stack"),
    # issue 12: torch's exported modules
    "Conv3d": ("conv3d", "convolution3d"),
    "MaxPool3d": ("maxpooling3d", "maxpool3d"),
    "AvgPool3d": ("averagepooling3d", "avgpooling3d", "meanpool3d"),
    "AdaptiveAvgPool3d": ("globalaveragepooling3d", "gap3d"),
    "BatchNorm3d": ("bn", "batchnormalization", "batchnorm"),
    "Split": ("chunk", "unbind", "slice"),
    "Math": ("exp", "log", "sqrt", "abs", "neg", "negate", "reciprocal", "power", "pow", "scale", "lambda"),
    "Subtract": ("sub", "minus", "difference"),
    "Divide": ("div", "ratio", "quotient"),
    "PixelShuffle": ("depthtospace", "subpixel"),
    "Upsample": ("upsampling2d", "upsampling1d", "upsampling3d", "interpolate", "resize", "upscale", "zoom",
                 "upsamplingbilinear2d", "upsamplingnearest2d"),
}

# Prefixes that say which library a name comes from: "nn.Conv2d", "tf.keras.layers.Dense".
_LIBRARY = re.compile(r"^(?:torch\.)?(?:nn\.)?(?:tf\.)?(?:keras\.)?(?:layers\.)?", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s_\-.()]+")
# The words of a CamelCase name: "LeakyReLU" -> Leaky, ReLU; "BatchNorm2d" -> Batch, Norm, 2d.
_WORDS = re.compile(r"ReLU|SiLU|GELU|SELU|ELU|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+[a-z]*")
_DOC_WORDS = re.compile(r"[a-z0-9]+")
NAME, INSIDE, ALIAS, FALLBACK = range(4)


@dataclass(frozen=True)
class Match:
    """A kind found by :func:`search`: its tier (NAME, INSIDE, ALIAS or FALLBACK) and a rank for sorting."""

    kind: str
    tier: int
    rank: tuple[int, int, int]


def normalise(text: str) -> str:
    """``text`` as names are compared: lower case, no library prefix, no spaces or separators."""
    return _SEPARATORS.sub("", _LIBRARY.sub("", text.strip())).lower()


@cache
def _index() -> tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], frozenset[str]], ...]:
    """Per kind, in catalog order: kind, lower-case name, its words, aliases, description words."""
    return tuple((kind, kind.lower(), tuple(w.lower() for w in _WORDS.findall(kind)), ALIASES.get(kind, ()),
                  frozenset(_DOC_WORDS.findall(spec.doc.lower())))
                 for kind, spec in CATALOG.items())


def _typo_away(query: str, name: str) -> bool:
    """Whether ``name`` starts with ``query`` but for one letter changed, added, dropped or swapped."""
    if len(query) < 4:
        return False
    for candidate in {name[:len(query) - 1], name[:len(query)], name[:len(query) + 1]}:
        if _one_edit(query, candidate):
            return True
    return False


def _one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    k = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[k:] == long[k + 1:]


def search(text: str, kinds: set[str] | frozenset[str] | None = None) -> list[Match]:
    """The kinds matching ``text``, best first; every kind (catalog order) for an empty query.

    ``kinds`` limits the answer to those kinds (say, the ones that accept a wire's shape).
    Ties keep the catalog's order.
    """
    query = normalise(text)
    found: list[Match] = []
    for order, (kind, name, words, aliases, _doc) in enumerate(_index()):
        if kinds is not None and kind not in kinds:
            continue
        if not query:
            found.append(Match(kind, NAME, (NAME, 0, order)))
        elif name == query or name.startswith(query):
            found.append(Match(kind, NAME, (NAME, 0 if name == query else 1, order)))
        elif any(w.startswith(query) for w in words):
            found.append(Match(kind, NAME, (NAME, 2, order)))
        elif query in name:
            found.append(Match(kind, INSIDE, (INSIDE, name.index(query), order)))
        elif any(a.startswith(query) for a in aliases):
            exact = query in aliases
            found.append(Match(kind, ALIAS, (ALIAS, 0 if exact else 1, order)))
    if found or not query:
        return sorted(found, key=lambda m: m.rank)
    # Nothing as typed: a typo in the name or an alias, then the words of the description.
    for order, (kind, name, _words, aliases, doc) in enumerate(_index()):
        if kinds is not None and kind not in kinds:
            continue
        if _typo_away(query, name) or any(_typo_away(query, a) for a in aliases):
            found.append(Match(kind, FALLBACK, (FALLBACK, 0, order)))
        elif len(query) >= 3 and any(w.startswith(query) for w in doc):
            found.append(Match(kind, FALLBACK, (FALLBACK, 1, order)))
    return sorted(found, key=lambda m: m.rank)


def search_kinds(text: str, kinds: set[str] | frozenset[str] | None = None) -> list[str]:
    """The kinds :func:`search` finds, best first."""
    return [m.kind for m in search(text, kinds)]


__all__ = ["ALIASES", "FALLBACK", "INSIDE", "NAME", "Match", "normalise", "search", "search_kinds"]
