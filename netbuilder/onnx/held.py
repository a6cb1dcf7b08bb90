"""Large weights held apart from the ONNX message, so they are in memory once and no tool copies them.

onnx's checker, version converter and shape inference each serialize the whole model and parse it
back: with the weights inside, a 100 MB model costs a few copies of 100 MB and most of the import
time. Instead the file is read as a *skeleton*: a scan of protobuf's wire format finds every large
initializer's ``raw_data`` and leaves it out of the bytes that are parsed; each is then read from
the file straight into its own numpy array (a plain read, so the file's pages are not mapped into
the process). In the skeleton a held weight stands as a graph input of its type and shape, which
every tool accepts and reads for shapes; the folder gets the arrays back as initializers
(:func:`netbuilder.onnx.folding.fold`), and the importer takes them as the weights' values.

Only the three nestings that hold weights are scanned (ModelProto.graph -> GraphProto.initializer
-> TensorProto.raw_data); everything else is copied as it is and parsed by protobuf. A tensor's
declared size is checked against its bytes before the array is allocated.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import numpy as np
import onnx

HOLD_BYTES = 1 << 16  # raw data over this is held apart
_SIMPLE = frozenset({onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
                     onnx.TensorProto.INT64, onnx.TensorProto.INT32, onnx.TensorProto.INT16, onnx.TensorProto.INT8,
                     onnx.TensorProto.UINT8, onnx.TensorProto.BOOL})
_GRAPH, _INITIALIZER, _DATA_TYPE, _RAW_DATA = 7, 5, 2, 9


class WireError(ValueError):
    """The file's bytes are not a protobuf message where one should be."""


def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise WireError("a truncated or overlong number")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview, pos: int, end: int):
    """(field number, wire type, start of the field, start of its payload, end of the field) for each field."""
    while pos < end:
        start = pos
        tag, pos = _varint(buf, pos, end)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, nxt = _varint(buf, pos, end)
        elif wire == 1:
            nxt = pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            nxt = pos + length
        elif wire == 5:
            nxt = pos + 4
        else:
            raise WireError(f"wire type {wire}, which ONNX files do not use")
        if nxt > end:
            raise WireError("a field runs past the end of its message")
        yield field, wire, start, pos, nxt
        pos = nxt


def _header(field: int, length: int) -> bytes:
    out = bytearray()
    for value in ((field << 3) | 2, length):
        while value > 0x7F:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def read_skeleton(path: Path) -> tuple[bytes, dict[int, tuple[int, int]]]:
    """The model's bytes with each large simple initializer's raw data left out, and for each such
    initializer (by its position among the graph's initializers) the (offset, length) of its data."""
    import mmap

    held: dict[int, tuple[int, int]] = {}
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            return b"", held
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            buf = memoryview(mm)
            try:
                out = []
                index = 0
                for field, wire, start, body, end in _fields(buf, 0, len(buf)):
                    if field == _GRAPH and wire == 2:
                        graph, index = _graph(buf, body, end, index, held)
                        out += [_header(_GRAPH, len(graph)), graph]
                    else:
                        out.append(bytes(buf[start:end]))
                return b"".join(out), held
            finally:
                buf.release()


def _graph(buf: memoryview, pos: int, end: int, index: int, held: dict) -> tuple[bytes, int]:
    out = []
    for field, wire, start, body, stop in _fields(buf, pos, end):
        if field == _INITIALIZER and wire == 2:
            if stop - body > HOLD_BYTES:
                kept, raw = [], None
                dtype = 0
                for f2, w2, s2, b2, e2 in _fields(buf, body, stop):
                    if f2 == _RAW_DATA and w2 == 2:
                        raw = (b2, e2 - b2)  # the last one wins, as protobuf reads it
                        kept.append(None)
                        continue
                    if f2 == _DATA_TYPE and w2 == 0:
                        dtype = _varint(buf, b2, e2)[0]
                    kept.append(bytes(buf[s2:e2]))
                if raw is not None and raw[1] > HOLD_BYTES and dtype in _SIMPLE:
                    held[index] = raw
                    tensor = b"".join(k for k in kept if k is not None)
                    out += [_header(_INITIALIZER, len(tensor)), tensor]
                else:
                    out.append(bytes(buf[start:stop]))
            else:
                out.append(bytes(buf[start:stop]))
            index += 1
        else:
            out.append(bytes(buf[start:stop]))
    return b"".join(out), index


def declared_bytes(t: onnx.TensorProto) -> int:
    itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
    return math.prod(t.dims) * itemsize


def read_array(path: Path, t: onnx.TensorProto, offset: int, length: int) -> np.ndarray:
    """The tensor's values, read from ``length`` bytes at ``offset`` of ``path`` (sizes checked by the caller)."""
    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).newbyteorder("<")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb", buffering=0) as f:
        st = os.fstat(fd)  # what was opened, in case the file changed since it was checked
        if not stat.S_ISREG(st.st_mode) or st.st_size < offset + length:
            raise OSError(f"the file changed while reading: it has {st.st_size:,} bytes, not a plain file of "
                          f"at least {offset + length:,}")
        out = np.empty(length, np.uint8)
        f.seek(offset)
        view, got = memoryview(out), 0
        while got < length:
            n = f.readinto(view[got:])
            if not n:
                raise OSError(f"the file ended after {offset + got:,} bytes")
            got += n
    arr = out.view(dtype).reshape(tuple(t.dims))
    return arr if dtype.isnative else arr.astype(dtype.newbyteorder("="))


def as_input(t: onnx.TensorProto) -> onnx.ValueInfoProto:
    """The graph input a held tensor stands as in the skeleton: its name, type and shape."""
    return onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
