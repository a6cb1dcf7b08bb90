"""The user's own tables: CSV (pick feature and target columns) and NumPy .npy / .npz."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import torch

from netbuilder.data.dataset import DataError, Dataset

MAX_CLASSES_GUESS = 20


def _open_text(path: Path) -> list[tuple[int, list[str]]]:
    """The file's rows, blank lines left out, each with the number of the line it starts on: the
    row number a text editor or a spreadsheet shows, so an error names the row the user can find."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; check the data set's 'path' option") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save the table as UTF-8 CSV") from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)  # quoted line breaks stay inside their field
    rows, line = [], 1
    try:
        for row in reader:
            if row:
                rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"{path}: row {line} cannot be read as CSV ({exc}); check its quotes") from None
    return rows


def preview_csv(path: Path, rows: int = 10) -> tuple[list[str], list[list[str]]]:
    """The header and the first ``rows`` rows, for a preview before choosing columns."""
    table = [row for _, row in _open_text(Path(path))]
    return table[0], table[1:rows + 1]


def _column(header: list[str], wanted: str | int, path: Path) -> int:
    if isinstance(wanted, int):
        if not -len(header) <= wanted < len(header):
            raise DataError(f"{path}: there is no column {wanted}; the table has {len(header)}")
        return wanted % len(header)
    if wanted not in header:
        raise DataError(f"{path}: there is no column '{wanted}'; the columns are {', '.join(header)}")
    return header.index(wanted)


def _number(value: str, row: int, column: str, path: Path) -> float:
    if value.strip() == "" or value.strip().lower() in ("na", "nan", "null", "none", "?"):
        raise DataError(f"{path}: row {row}, column '{column}' is missing a value; fill it or delete the row")
    try:
        number = float(value)
    except ValueError:
        raise DataError(f"{path}: row {row}, column '{column}' holds '{value}', which is not a number; "
                        "use only numeric feature columns (or make it the target for classes)") from None
    if not math.isfinite(number):
        raise DataError(f"{path}: row {row}, column '{column}' is {value}; use finite numbers")
    return number


TASKS = ("auto", "regression", "classification")


def _check_task(task: str, path: Path) -> None:
    if task not in TASKS:
        raise DataError(f"{path}: the task option is {task!r}; choose one of {', '.join(TASKS)}")


def load_csv(path: str | Path, features: list[str | int] | None = None, target: str | int = -1,
             task: str = "auto") -> Dataset:
    """Read a CSV with a header row. ``target`` names one column; ``features`` the inputs
    (default: every other column). A text target, or few whole numbers, makes classes
    (``task`` "regression" or "classification" decides instead)."""
    path = Path(path)
    _check_task(task, path)
    table = _open_text(path)
    header, body, lines = table[0][1], [row for _, row in table[1:]], [line for line, _ in table[1:]]
    if not body:
        raise DataError(f"{path}: only a header row; the table has no samples")
    for k, row in zip(lines, body, strict=True):
        if len(row) != len(header):
            raise DataError(f"{path}: row {k} has {len(row)} value{'s' * (len(row) != 1)} but the header has "
                            f"{len(header)} columns")
    t = _column(header, target, path)
    cols = [_column(header, f, path) for f in features] if features else [c for c in range(len(header)) if c != t]
    if t in cols:
        raise DataError(f"{path}: column '{header[t]}' cannot be both a feature and the target")
    x = np.array([[_number(row[c], k, header[c], path) for c in cols] for k, row in zip(lines, body, strict=True)],
                 dtype=np.float32)
    raw_target = [row[t].strip() for row in body]
    for k, value in zip(lines, raw_target, strict=True):
        if value == "" or value.lower() in ("na", "nan", "null", "none", "?"):
            raise DataError(f"{path}: row {k}, column '{header[t]}' (the target) is missing a value; fill it "
                            "or delete the row")
    numeric = all(_is_number(v) for v in raw_target)
    if task == "auto":
        whole = numeric and all(float(v).is_integer() for v in raw_target)
        task = "classification" if not numeric or (whole and len(set(raw_target)) <= MAX_CLASSES_GUESS) \
            else "regression"
    name = path.name
    feature_names = [header[c] for c in cols]
    if task == "classification":
        classes = sorted(set(raw_target), key=lambda v: (float(v), v) if numeric else (0, v))
        index = {c: k for k, c in enumerate(classes)}
        y = torch.tensor([index[v] for v in raw_target])
        return Dataset(name, torch.from_numpy(x), y, "classification", len(classes), classes,
                       f"{len(x)} rows, {len(cols)} features, {len(classes)} classes of '{header[t]}'", feature_names)
    y = np.array([_number(v, k, header[t], path) for k, v in zip(lines, raw_target, strict=True)], dtype=np.float32)
    return Dataset(name, torch.from_numpy(x), torch.from_numpy(y).unsqueeze(1), "regression",
                   description=f"{len(x)} rows, {len(cols)} features, target '{header[t]}'",
                   feature_names=feature_names)


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _array(path: Path, what: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except ValueError as exc:
        raise DataError(f"{path}: {what} holds Python objects (ragged rows?), which are not loaded for safety; "
                        f"save a regular numeric array ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: not a NumPy file ({exc})") from None
    return array


def load_numpy(path: str | Path, targets: str | Path | None = None, x_key: str = "x", y_key: str = "y",
               task: str = "auto") -> Dataset:
    """Samples and targets from an .npz (keys ``x`` and ``y``), or two .npy files."""
    path = Path(path)
    _check_task(task, path)
    if path.suffix == ".npz":
        archive = _array(path, "the archive")
        keys = list(archive.keys())
        missing = [k for k in (x_key, y_key) if k not in keys]
        if missing:
            raise DataError(f"{path}: no array named '{missing[0]}' (it has {', '.join(keys) or 'none'}); set the "
                            "x_key / y_key options")
        x, y = archive[x_key], archive[y_key]
    else:
        if targets is None:
            raise DataError(f"{path}: a .npy holds one array; give the targets file in the 'targets' option, "
                            "or save both in one .npz")
        x, y = _array(path, "the samples file"), _array(Path(targets), "the targets file")
    for what, a in (("samples", x), ("targets", y)):
        if a.dtype.kind not in "biuf":
            raise DataError(f"{path}: the {what} are {a.dtype}, not numbers")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = int(np.argwhere(~np.isfinite(x))[0][0])
        raise DataError(f"{path}: sample {bad} holds NaN or infinity; clean the data first")
    if len(x) != len(y):
        raise DataError(f"{path}: {len(x)} samples but {len(y)} targets")
    integer_labels = y.ndim == 1 and y.dtype.kind in "biu"
    if task == "classification" or (task == "auto" and integer_labels):
        labels = torch.from_numpy(y.astype(np.int64))
        if labels.min() < 0:
            raise DataError(f"{path}: class labels must be 0 or more, found {int(labels.min())}")
        classes = int(labels.max()) + 1
        sample = torch.from_numpy(x.astype(np.int64 if x.dtype.kind in "biu" and x.ndim == 2 else np.float32))
        return Dataset(path.name, sample, labels, "classification", classes,
                       description=f"{len(x)} samples, {classes} classes")
    yt = torch.from_numpy(y.astype(np.float32))
    return Dataset(path.name, torch.from_numpy(x.astype(np.float32)), yt.unsqueeze(1) if yt.dim() == 1 else yt,
                   "regression", description=f"{len(x)} samples")
