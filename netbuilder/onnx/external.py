"""Reading the weights an ONNX file keeps in external data files (what torch's dynamo exporter writes).

Only files in the model's own folder are read. Every location is checked here, with a message naming
the tensor, the location and the fix, before a byte is read: no absolute paths, no ``..``, no
symbolic links (a link, or a folder on the way, that points anywhere: onnx's own loader refuses
links too), a regular file that exists, an offset and length inside it, and a length that matches
the tensor's declared shape. The total is counted against the reader's weight limit before
anything is allocated. The bytes are then read straight into the weight's own array
(:func:`netbuilder.onnx.held.read_array`), not into the message, so no tool copies them.

``onnx.external_data_helper.load_external_data_for_model`` was checked and is safe as far as it
goes (onnx 1.23's C++ side refuses ``..``, absolute paths, symlinks and missing files, and an offset
or length past the end), but it does not compare the length with the declared shape, its messages
do not say what to do, and it puts the bytes into ``raw_data``, where every onnx tool after it
copies them; so the rules are checked here and the bytes read into arrays.
"""

from __future__ import annotations

import math
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import onnx

KEYS = frozenset({"location", "offset", "length", "checksum", "basepath"})


class ExternalDataProblem(Exception):
    """One external tensor cannot be read; the message names it and says what to do."""


def external_tensors(model: onnx.ModelProto) -> list[onnx.TensorProto]:
    """The main graph's initializers kept in external files (a Constant's external value is refused later)."""
    return [t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]


def planned_bytes(t: onnx.TensorProto, folder: Path) -> tuple[Path, int, int]:
    """(file, offset, length) of one external tensor, every rule checked; reads nothing."""
    info = {e.key: e.value for e in t.external_data}
    loc = info.get("location", "")
    shown = loc if len(loc) <= 200 else loc[:200] + "..."  # a hostile name of megabytes is not repeated whole
    where = f"tensor '{t.name}' is stored in '{shown}'"
    fix = "keep the data file beside the .onnx file (as torch.onnx.export and onnx.save write it) and import again"
    if not loc:
        raise ExternalDataProblem(f"tensor '{t.name}' is marked as stored in an external file but names none; "
                                  "the file is damaged")
    if "\0" in loc:  # no file system takes it, and Python refuses such a name with a ValueError
        raise ExternalDataProblem(f"tensor '{t.name}' is stored in {shown!r}, a name with a NUL character, which no "
                                  "file has; the file is damaged")
    if unknown := set(info) - KEYS:
        raise ExternalDataProblem(f"{where} with unknown keys {sorted(unknown)}; the file is damaged")
    parts = PurePosixPath(loc.replace("\\", "/")).parts
    if PurePosixPath(loc).is_absolute() or PureWindowsPath(loc).is_absolute() or PureWindowsPath(loc).drive:
        raise ExternalDataProblem(f"{where}, an absolute path; netbuilder reads external data only from the model's "
                                  f"own folder: {fix}")
    if ".." in parts:
        raise ExternalDataProblem(f"{where}, which leaves the model's folder; netbuilder reads external data only "
                                  f"from the model's own folder: {fix}")
    if not parts or parts == (".",):
        raise ExternalDataProblem(f"{where}, which names no file: {fix}")
    root = folder.resolve()
    path = root.joinpath(*parts)
    probe = root
    for part in parts:  # no link on the way, so the file is where it looks
        probe = probe / part
        try:
            mode = probe.lstat().st_mode
        except FileNotFoundError:
            raise ExternalDataProblem(f"{where}, which does not exist in {root}: {fix}") from None
        except OSError as exc:
            raise ExternalDataProblem(f"{where}, which cannot be read ({exc.strerror or exc})") from None
        if stat.S_ISLNK(mode):
            raise ExternalDataProblem(f"{where}, and '{probe.relative_to(root)}' is a symbolic link; netbuilder reads "
                                      "only plain files in the model's folder: copy the data file itself beside the "
                                      ".onnx file and import again")
    if not stat.S_ISREG(mode):
        raise ExternalDataProblem(f"{where}, which is not a plain file: {fix}")
    try:
        offset, length = int(info.get("offset", 0)), (int(info["length"]) if "length" in info else None)
    except ValueError:
        raise ExternalDataProblem(f"{where} with offset '{info.get('offset')}' and length '{info.get('length')}', "
                                  "which are not whole numbers; the file is damaged") from None
    size = path.stat().st_size
    if offset < 0 or offset > size:
        raise ExternalDataProblem(f"{where} at offset {offset:,}, but that file has {size:,} bytes; the data file is "
                                  "truncated or belongs to another model: export the model again")
    if length is None:
        length = size - offset
    if length < 0 or offset + length > size:
        raise ExternalDataProblem(f"{where} at bytes {offset:,} to {offset + length:,}, past that file's end "
                                  f"({size:,} bytes); the data file is truncated or belongs to another model: "
                                  "export the model again")
    try:
        itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
    except Exception:
        raise ExternalDataProblem(f"{where} with data type {t.data_type}, which netbuilder cannot read") from None
    if any(d < 0 for d in t.dims):
        raise ExternalDataProblem(f"tensor '{t.name}' has a negative dimension {list(t.dims)}")
    declared = math.prod(t.dims) * itemsize
    if t.data_type == onnx.TensorProto.STRING or declared != length:
        raise ExternalDataProblem(f"{where} with {length:,} bytes, but its shape {list(t.dims)} needs "
                                  f"{declared:,}; the data file does not match the model: export it again")
    return path, offset, length
