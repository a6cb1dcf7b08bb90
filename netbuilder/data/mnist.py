"""MNIST and Fashion-MNIST: read from a folder of IDX files, or downloaded on request into the
user's cache with a progress report and checksum verification."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from netbuilder.data.dataset import DataError, Dataset
from netbuilder.data.idx import read_idx
from netbuilder.files.atomic import atomic_path

Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes total or 0)


@dataclass(frozen=True)
class Source:
    name: str
    mirrors: tuple[str, ...]
    files: dict[str, tuple[str, str]]  # file name -> (hash algorithm, digest)
    classes: tuple[str, ...]
    licence: str


MNIST = Source(
    "mnist",
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    {"train-images-idx3-ubyte.gz": ("md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
     "train-labels-idx1-ubyte.gz": ("md5", "d53e105ee54ea40749a09fcbcd1e9432"),
     "t10k-images-idx3-ubyte.gz": ("md5", "9fb629c4189551a2d022fa330f9573f3"),
     "t10k-labels-idx1-ubyte.gz": ("md5", "ec29112dd5afa0611ce80d1b7f02629c")},
    tuple(str(d) for d in range(10)),
    "MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0)",
)
FASHION_MNIST = Source(
    "fashion-mnist",
    ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    {"train-images-idx3-ubyte.gz": ("sha256", "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"),
     "train-labels-idx1-ubyte.gz": ("sha256", "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"),
     "t10k-images-idx3-ubyte.gz": ("sha256", "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"),
     "t10k-labels-idx1-ubyte.gz": ("sha256", "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf")},
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "Fashion-MNIST by Zalando Research (MIT licence)",
)
SOURCES = {s.name: s for s in (MNIST, FASHION_MNIST)}


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("NETBUILDER_CACHE") or user_cache_dir("netbuilder")) / "datasets"


def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, target: Path, algorithm: str, digest: str, progress: Progress | None = None,
             timeout: float = 30.0) -> Path:
    """Fetch ``url`` into ``target`` via a temporary file; keep it only if its checksum matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:  # a damaged or cut-off download is never kept
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while block := response.read(1 << 16):
                out.write(block)
                done += len(block)
                if progress:
                    progress(target.name, done, total)
        actual = file_digest(tmp, algorithm)
        if actual != digest:
            raise DataError(f"{url}: the download is damaged ({algorithm} {actual}, expected {digest}); "
                            "it was not kept. Try again, or put the files in a folder yourself")
    return target


def fetch(source: Source, folder: Path, progress: Progress | None = None,
          mirrors: tuple[str, ...] | None = None) -> None:
    """Make sure every file of ``source`` is in ``folder`` with the right checksum."""
    for name, (algorithm, digest) in source.files.items():
        path = folder / name
        if path.exists() and file_digest(path, algorithm) == digest:
            continue
        errors = []
        for mirror in mirrors or source.mirrors:
            try:
                download(mirror + name, path, algorithm, digest, progress)
                break
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                errors.append(f"{mirror}: {getattr(exc, 'reason', exc)}")
        else:
            raise DataError(f"could not download {source.name} ({'; '.join(errors)}). Without internet, put the "
                            f"four IDX files ({', '.join(source.files)}) in a folder and set the data set's "
                            "'folder' option to it")


def load_idx_pair(folder: Path, split: str, name: str, classes: tuple[str, ...]) -> Dataset:
    prefix = "train" if split == "train" else "t10k"
    paths = {}
    for part in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        candidates = [folder / f"{prefix}-{part}.gz", folder / f"{prefix}-{part}",
                      folder / f"{prefix}-{part.replace('-idx', '.idx')}"]
        found = next((p for p in candidates if p.exists()), None)
        if found is None:
            raise DataError(f"{folder}: no {prefix}-{part}[.gz] file; a folder of MNIST-style IDX files needs it")
        paths[part] = found
    images = read_idx(paths["images-idx3-ubyte"])
    labels = read_idx(paths["labels-idx1-ubyte"])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{folder}: images {list(images.shape)} and labels {list(labels.shape)} do not pair up "
                        "(expected [N, H, W] images and N labels)")
    if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise DataError(f"{paths['labels-idx1-ubyte']}: labels must be 0..{len(classes) - 1}")
    x = torch.from_numpy(images.astype("float32") / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype("int64"))
    return Dataset(name, x, y, "classification", len(classes), list(classes),
                   f"{len(x):,} {name} {split} images, {images.shape[1]}×{images.shape[2]} grey")


def load_mnist(name: str, folder: str | None = None, split: str = "train", download_missing: bool = True,
               progress: Progress | None = None, mirrors: tuple[str, ...] | None = None) -> Dataset:
    """MNIST-style data: from ``folder`` if given, else from the cache, downloading what is missing."""
    source = SOURCES[name]
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', not {split!r}")
    if folder:
        return load_idx_pair(Path(folder), split, name, source.classes)
    target = cache_dir() / name
    if download_missing:
        fetch(source, target, progress, mirrors)
    return load_idx_pair(target, split, name, source.classes)
