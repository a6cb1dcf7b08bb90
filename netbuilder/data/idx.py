"""IDX files (the MNIST format): a magic number, big-endian sizes, then raw values."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from netbuilder.data.dataset import DataError
from netbuilder.files.atomic import write_atomic

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
MAX_VALUES = 2_000_000_000


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file, gzipped or not. Raises DataError naming the file and the defect."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read it ({exc}); download it again") from None
    return parse_idx(raw, str(path))


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise DataError(f"{name}: not an IDX file (it should start with 0x00 0x00, a type byte and a rank)")
    dtype, rank = np.dtype(_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * rank
    if rank == 0 or len(raw) < header:
        raise DataError(f"{name}: the IDX header is cut short")
    dims = [int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(rank)]
    count = int(np.prod(dims, dtype=np.int64)) if dims else 0
    if count > MAX_VALUES:
        raise DataError(f"{name}: claims {count:,} values; that is not a real data file")
    expected = header + count * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"{name}: holds {len(raw) - header:,} bytes of data but its header promises "
                        f"{count * dtype.itemsize:,} ({' × '.join(map(str, dims))}); the file is "
                        + ("truncated" if len(raw) < expected else "damaged"))
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    """Write ``array`` as IDX (used by tests and by users converting their own data)."""
    code = {np.dtype(v).newbyteorder(">") if np.dtype(v).itemsize > 1 else np.dtype(v): k
            for k, v in _TYPES.items()}
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    header = bytes([0, 0, code[big.dtype], array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + big.tobytes()
    write_atomic(path, gzip.compress(data) if compress else data)
