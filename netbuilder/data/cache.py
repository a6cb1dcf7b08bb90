"""Loaded data sets kept between edits, so the problems panel can check data against the graph on every
edit, and the Data dock can preview it, without reading the files again.

Keyed by what decides the loaded tensors: the data settings (as JSON), the project's folder, the seed,
the Input's shape (an image folder is resized to it), and the size and time of each file named. The
last two sets are kept (a training set and its validation set), within a byte limit; a set larger than
that is loaded when asked but not kept. Failures are kept too, so a bad file is read once per change.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from netbuilder.data.dataset import DataError, Dataset
from netbuilder.data.mnist import SOURCES, cache_dir
from netbuilder.data.sources import PATH_OPTIONS, load_dataset

CAPACITY = 2
MAX_BYTES = 768 * 2**20  # MNIST's 60,000 training images are 188 MiB as float32

Key = tuple[Any, ...]


class NotDownloaded(DataError):
    """A downloadable data set (MNIST) is not in the cache yet; training fetches it."""


class DataTooLarge(DataError):
    """The data set is larger than the cache keeps, so it is not checked on every edit."""


def dataset_bytes(dataset: Dataset) -> int:
    return sum(t.element_size() * t.nelement() for t in (dataset.x, dataset.y))


def _stamp(value: Any, base_dir: Path | None) -> tuple[str, int, int] | None:
    if not isinstance(value, str) or not value:
        return None
    path = Path(value).expanduser()
    if base_dir is not None:
        path = Path(base_dir) / path
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return (str(path), -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size)


def cache_key(data: dict[str, Any], base_dir: Path | None = None, seed: int = 0,
              input_shape: tuple[int, ...] | None = None) -> Key:
    """What decides the tensors ``load_dataset`` gives for these arguments (files by size and time)."""
    part = {"dataset": data.get("dataset") or "", "options": data.get("options") or {}}
    options = part["options"]
    stamps = tuple(_stamp(options.get(k), base_dir) for k in PATH_OPTIONS) if isinstance(options, dict) else ()
    shape = tuple(input_shape) if part["dataset"] == "image-folder" and input_shape else None
    return (json.dumps(part, sort_keys=True, default=str), str(base_dir) if base_dir else "", int(seed), shape,
            stamps)


class DataCache:
    """A least-recently-used cache of loaded data sets (thread-safe; loading happens outside the lock)."""

    def __init__(self, capacity: int = CAPACITY, max_bytes: int = MAX_BYTES) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Key, Dataset | DataError] = OrderedDict()
        self._too_large: dict[Key, int] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times a data set was actually read (tests and the benchmark count them)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._too_large.clear()

    def get(self, data: dict[str, Any], base_dir: Path | None = None, seed: int = 0,
            input_shape: tuple[int, ...] | None = None, *, download: bool = False,
            check_only: bool = False) -> Dataset:
        """The data set ``data`` names, loaded once per change of settings or files.

        Raises :class:`DataError` (kept, and raised again until something changes). Without
        ``download``, MNIST not yet in the user's cache raises :class:`NotDownloaded` instead of
        fetching it. With ``check_only``, a set known to be over the byte limit raises
        :class:`DataTooLarge` at once instead of being read again.
        """
        key = cache_key(data, base_dir, seed, input_shape)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                found = self._entries[key]
                if isinstance(found, DataError):
                    raise found
                return found
            if check_only and key in self._too_large:
                raise DataTooLarge(f"data set '{data.get('dataset')}' holds {self._too_large[key] / 2**20:.0f} MiB, "
                                   "more than is checked on every edit; training checks it")
        part = {"dataset": data.get("dataset") or "", "options": dict(data.get("options") or {})}
        try:
            if not download:
                _refuse_download(part)
            dataset = load_dataset(part, base_dir, seed, input_shape)
        except DataError as exc:
            self._keep(key, exc)
            raise
        except (OSError, ValueError, RuntimeError, TypeError, MemoryError) as exc:
            # A loader meeting a file it was not written for; said as a data problem, never a crash.
            error = DataError(f"data set '{part['dataset']}' could not be read ({type(exc).__name__}: {exc})")
            self._keep(key, error)
            raise error from None
        self.loads += 1
        size = dataset_bytes(dataset)
        if size > self.max_bytes:
            with self._lock:
                self._too_large[key] = size
            return dataset
        self._keep(key, dataset)
        return dataset

    def _keep(self, key: Key, value: Dataset | DataError) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity or self._bytes() > self.max_bytes:
                self._entries.popitem(last=False)

    def _bytes(self) -> int:
        return sum(dataset_bytes(v) for v in self._entries.values() if isinstance(v, Dataset))


def _refuse_download(data: dict[str, Any]) -> None:
    """Raise NotDownloaded where loading ``data`` would fetch files from the internet."""
    name = data["dataset"]
    options = data["options"]
    if name not in SOURCES or options.get("folder") or not options.get("download_missing", True):
        return
    folder = cache_dir() / name
    if not all((folder / f).exists() for f in SOURCES[name].files):
        raise NotDownloaded(f"{name} is not downloaded yet: training fetches it into {folder} (about 60 MB), "
                            "or set the data set's folder option to a folder holding its IDX files")
    data["options"] = {**options, "download_missing": False}  # present: read it, never re-check online


# One cache for the whole app: the problems panel and the Data dock ask for the same sets.
DATA_CACHE = DataCache()
