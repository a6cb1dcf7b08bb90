"""What a results view shows about a trained model on a data set: predictions and per-sample losses,
confusion matrix, precision and recall, the worst samples, the fitted curve of a one-feature
model, and CSV exports of each. Headless; the app calls these off the GUI thread.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from netbuilder.analysis.shape_inference import infer_shapes
from netbuilder.build.compile import build_module
from netbuilder.data.dataset import DataError, Dataset
from netbuilder.files.project import Project
from netbuilder.files.weights import WeightsError, load_into, read_metadata
from netbuilder.model.fingerprint import graph_fingerprint
from netbuilder.training.checkpoint import CheckpointError

OutputKind = Literal["auto", "logits", "probabilities", "log_probabilities"]


def _mean_per_sample(fn: Callable[..., torch.Tensor]) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    def per_sample(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = fn(output.float(), target, reduction="none")
        # The training loss is the mean over every element, so a sample's share is its own mean.
        return loss.reshape(loss.shape[0], -1).mean(dim=1) if loss.dim() > 1 else loss
    return per_sample


# The losses of netbuilder.training.losses, one value a sample (reduction none).
PER_SAMPLE_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": _mean_per_sample(F.mse_loss),
    "l1": _mean_per_sample(F.l1_loss),
    "huber": _mean_per_sample(F.huber_loss),
    "bce": _mean_per_sample(F.binary_cross_entropy),
    "bce_with_logits": _mean_per_sample(F.binary_cross_entropy_with_logits),
    "cross_entropy": _mean_per_sample(F.cross_entropy),
    "cross_entropy_soft": _mean_per_sample(F.cross_entropy),
    "nll": _mean_per_sample(F.nll_loss),
}


@dataclass
class Predictions:
    """A model's answers on a data set, on the CPU, in data-set order.

    Attributes
    ----------
    outputs:
        What the model returned, float32 ``[N, ...]``.
    targets:
        The data set's targets, as stored.
    loss:
        ``[N]`` float32: each sample's value of the loss ``loss_name``.
    output_kind:
        How ``outputs`` were read: ``"logits"``, ``"probabilities"``, ``"log_probabilities"``
        (classification and binary) or ``"values"`` (regression).
    probs:
        Classification and binary: ``[N, C]`` class probabilities (binary: ``[1 - p, p]``);
        a multi-label binary model gives its ``[N, K]`` sigmoids. None for regression.
    predicted, labels:
        ``[N]`` int64 predicted and true class (binary: p > 0.5, target > 0.5); None for
        regression and multi-label models.
    """

    outputs: torch.Tensor
    targets: torch.Tensor
    loss: torch.Tensor
    loss_name: str
    task: str
    output_kind: str
    probs: torch.Tensor | None = None
    predicted: torch.Tensor | None = None
    labels: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.outputs)

    @property
    def num_classes(self) -> int | None:
        return None if self.probs is None or self.labels is None else int(self.probs.shape[1])


# ---- reading the model's last layer ---------------------------------------------------------

_PASS_THROUGH = (nn.Identity, nn.Dropout)
_FUNCTION_KINDS = {torch.softmax: "probabilities", F.softmax: "probabilities", torch.sigmoid: "probabilities",
                   F.sigmoid: "probabilities", torch.log_softmax: "log_probabilities",
                   F.log_softmax: "log_probabilities"}
_METHOD_KINDS = {"softmax": "probabilities", "sigmoid": "probabilities", "log_softmax": "log_probabilities"}


def _module_kind(layer: nn.Module) -> str | None:
    if isinstance(layer, nn.Softmax | nn.Sigmoid):
        return "probabilities"
    if isinstance(layer, nn.LogSoftmax):
        return "log_probabilities"
    return None


def detect_output_kind(module: nn.Module) -> str | None:
    """``"probabilities"`` when the model ends in Softmax or Sigmoid, ``"log_probabilities"`` after
    LogSoftmax, ``"logits"`` after any other layer; None when the last layer cannot be seen
    (a module that is neither a compiled graph nor a Sequential)."""
    if isinstance(module, fx.GraphModule):
        out = next(n for n in reversed(module.graph.nodes) if n.op == "output")
        node = out.args[0]
        while isinstance(node, fx.Node):
            if node.op == "call_module":
                layer = module.get_submodule(str(node.target))
                if isinstance(layer, _PASS_THROUGH):
                    node = node.args[0]
                    continue
                return _module_kind(layer) or "logits"
            if node.op == "call_function":
                return _FUNCTION_KINDS.get(node.target, "logits")  # type: ignore[call-overload]
            if node.op == "call_method":
                return _METHOD_KINDS.get(str(node.target), "logits")
            return "logits"
        return None  # several outputs
    if isinstance(module, nn.Sequential) and len(module):
        layers = [m for m in module if not isinstance(m, _PASS_THROUGH)]
        return (_module_kind(layers[-1]) or "logits") if layers else None
    return None


def _output_kind(module: nn.Module, outputs: OutputKind, loss: str | None) -> str:
    if outputs != "auto":
        return outputs
    return detect_output_kind(module) or {"bce": "probabilities", "nll": "log_probabilities"}.get(loss or "", "logits")


def _default_loss(task: str, kind: str, index_targets: bool) -> str:
    if task == "regression":
        return "mse"
    if task == "binary":
        return "bce" if kind == "probabilities" else "bce_with_logits"
    if kind == "log_probabilities":
        return "nll" if index_targets else "cross_entropy_soft"
    return "cross_entropy" if index_targets else "cross_entropy_soft"


# ---- predictions ------------------------------------------------------------------------------

@torch.no_grad()
def predict(module: nn.Module, dataset: Dataset, batch_size: int = 512, device: str | torch.device = "cpu",
            loss: str | None = None, outputs: OutputKind = "auto") -> Predictions:
    """Run ``module`` over ``dataset`` in eval mode, without gradients, ``batch_size`` samples at a time.

    ``loss`` is the training loss (the project's ``training.loss``); each sample's value of it is
    kept. Without it, the loss that suits the task and the output is used. ``outputs`` says how
    to read a classifier's outputs; ``"auto"`` looks at the model's last layer (Softmax or
    Sigmoid: probabilities; LogSoftmax: log-probabilities; else logits), then at the loss
    (``bce`` takes probabilities, ``nll`` log-probabilities). The module is put back in the mode
    it was in.
    """
    if loss is not None and loss not in PER_SAMPLE_LOSSES:
        raise DataError(f"unknown loss {loss!r}; known: {', '.join(PER_SAMPLE_LOSSES)}")
    dev = torch.device(device)
    was_training = module.training
    module.eval()
    chunks: list[torch.Tensor] = []
    try:
        for start in range(0, len(dataset), batch_size):
            out = module(dataset.x[start:start + batch_size].to(dev))
            if isinstance(out, tuple | list):
                raise DataError(f"the model has {len(out)} outputs; results are shown for a model with one Output")
            chunks.append(out.detach().float().cpu())
    finally:
        module.train(was_training)
    out = torch.cat(chunks)
    targets = dataset.y
    task = dataset.task
    kind = "values" if task == "regression" else _output_kind(module, outputs, loss)
    loss_name = loss or _default_loss(task, kind, targets.dtype == torch.int64)
    per_sample = _losses(out, targets, loss_name, kind, loss is None)
    pred = Predictions(out, targets, per_sample, loss_name, task, kind)
    if task == "classification":
        pred.probs = _class_probs(out, kind)
        pred.predicted = pred.probs.argmax(dim=1)
        pred.labels = targets if targets.dtype == torch.int64 else targets.argmax(dim=1)
    elif task == "binary":
        p = out if kind == "probabilities" else torch.sigmoid(out)
        if p[0].numel() == 1:
            p = p.reshape(-1)
            pred.probs = torch.stack([1 - p, p], dim=1)
            pred.predicted = (p > 0.5).long()
            pred.labels = (targets.reshape(-1) > 0.5).long()
        else:
            pred.probs = p.reshape(len(p), -1)
    return pred


def _class_probs(out: torch.Tensor, kind: str) -> torch.Tensor:
    if out.dim() != 2:
        raise DataError(f"a classifier's output should be [N, classes]; this one is {list(out.shape)}")
    if kind == "probabilities":
        return out
    if kind == "log_probabilities":
        return out.exp()
    return torch.softmax(out, dim=1)


def _losses(out: torch.Tensor, targets: torch.Tensor, name: str, kind: str, chosen_here: bool) -> torch.Tensor:
    if chosen_here and kind == "probabilities" and name.startswith("cross_entropy"):
        # Not the training loss (none was named): cross-entropy of the probabilities themselves.
        logp = out.clamp_min(torch.finfo(out.dtype).tiny).log()
        return PER_SAMPLE_LOSSES["nll" if targets.dtype == torch.int64 else "cross_entropy_soft"](logp, targets)
    try:
        return PER_SAMPLE_LOSSES[name](out, targets)
    except (RuntimeError, ValueError, IndexError) as exc:
        raise DataError(f"the loss '{name}' cannot compare the model's output {list(out.shape)} with the "
                        f"targets {list(targets.shape)}: {exc}") from None


# ---- confusion matrix and what is read from it -----------------------------------------------

def _classes(pred: Predictions) -> tuple[np.ndarray, np.ndarray]:
    if pred.labels is None or pred.predicted is None:
        raise DataError(f"a confusion matrix needs class predictions; this is a {pred.task} model"
                        + (" with several sigmoid outputs" if pred.task == "binary" else ""))
    return pred.labels.numpy(), pred.predicted.numpy()


def confusion_matrix(pred: Predictions, num_classes: int | None = None) -> np.ndarray:
    """Counts ``[true, predicted]`` as int64 ``[C, C]``; C defaults to the model's output width."""
    true, guess = _classes(pred)
    c = num_classes if num_classes is not None else (pred.num_classes or 0)
    top = int(max(true.max(initial=-1), guess.max(initial=-1)))
    if top >= c:
        raise DataError(f"class {top} occurs but the matrix has {c} classes: the model's last layer and the "
                        "data disagree on the number of classes (set out_features to the data's class count)")
    return np.bincount(true * c + guess, minlength=c * c).reshape(c, c).astype(np.int64)


def normalise_rows(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (the share of each true class predicted as each class);
    a class with no samples gives a row of nan."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return cm / cm.sum(axis=1, keepdims=True)


def precision_recall(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class: precision = right / predicted as it, recall = right / truly it; 0/0 is nan."""
    right = np.diag(cm).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return right / cm.sum(axis=0), right / cm.sum(axis=1)


def _names(class_names: list[str] | None, c: int) -> list[str]:
    return list(class_names) if class_names and len(class_names) == c else [str(i) for i in range(c)]


def most_confused(cm: np.ndarray, class_names: list[str] | None = None, k: int = 10) -> list[tuple[str, str, int]]:
    """The ``k`` largest off-diagonal cells as (true class, predicted class, count), largest first
    (ties in row, then column order); empty cells are left out."""
    names = _names(class_names, len(cm))
    off = cm.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None, kind="stable")[:k]
    cells = [divmod(int(i), len(cm)) for i in flat]
    return [(names[t], names[p], int(cm[t, p])) for t, p in cells if off[t, p] > 0]


def top_losses(pred: Predictions, k: int = 16) -> np.ndarray:
    """Indices of the ``k`` samples with the highest loss, highest first (a nan loss counts as highest)."""
    loss = pred.loss.double().numpy()
    key = np.where(np.isnan(loss), np.inf, loss)
    return np.argsort(-key, kind="stable")[:k]


def samples_in_cell(pred: Predictions, true: int, predicted: int) -> np.ndarray:
    """Indices of the samples of class ``true`` that the model predicted as ``predicted``."""
    labels, guess = _classes(pred)
    return np.flatnonzero((labels == true) & (guess == predicted))


# ---- the fitted curve of a one-feature model --------------------------------------------------

class FittedCurve(NamedTuple):
    """``ys[i]`` is the model's output at ``xs[i]`` (``[points]``, or ``[points, K]`` for K outputs);
    a binary model's is its probability, a classifier's its class probabilities."""

    xs: np.ndarray
    ys: np.ndarray


@torch.no_grad()
def fitted_curve(module: nn.Module, dataset: Dataset, points: int = 200, margin: float = 0.05,
                 loss: str | None = None, outputs: OutputKind = "auto") -> FittedCurve:
    """The model's output over the range of the data's single feature, widened by ``margin`` of the
    range each side: the line (or sigmoid) the app draws over a scatter of the data. ``loss`` and
    ``outputs`` say how to read a classifier's outputs, as for :func:`predict`."""
    if dataset.x.dim() > 2 or (dataset.x.dim() == 2 and dataset.x.shape[1] != 1):
        raise DataError(f"a fitted curve needs data with one input feature; '{dataset.name}' has samples of "
                        f"shape {list(dataset.x.shape[1:])}")
    x = dataset.x.double().reshape(-1)
    lo, hi = float(x.min()), float(x.max())
    pad = (hi - lo) * margin if hi > lo else max(abs(lo), 1.0) * 0.5
    xs = np.linspace(lo - pad, hi + pad, points)
    grid = torch.as_tensor(xs, dtype=torch.float32).reshape(-1, *([1] if dataset.x.dim() == 2 else []))
    was_training = module.training
    module.eval()
    try:
        param = next(module.parameters(), None)
        out = module(grid.to(param.device) if param is not None else grid).float().cpu()
    finally:
        module.train(was_training)
    kind = _output_kind(module, outputs, loss)
    if dataset.task == "binary" and kind != "probabilities":
        out = torch.sigmoid(out)
    elif dataset.task == "classification":
        out = _class_probs(out, kind)
    ys = out.reshape(points, -1).double().numpy()
    return FittedCurve(xs, ys[:, 0] if ys.shape[1] == 1 else ys)


# ---- CSV exports -------------------------------------------------------------------------------

def _columns(values: torch.Tensor, name: str) -> tuple[list[str], np.ndarray]:
    flat = values.reshape(len(values), -1).double().numpy()
    if flat.shape[1] == 1:
        return [name], flat
    return [f"{name}[{i}]" for i in range(flat.shape[1])], flat


def predictions_csv(pred: Predictions, class_names: list[str] | None = None) -> str:
    """One row a sample: index, then for a classifier true and predicted class (numbers, with
    their names), loss and each class's probability; otherwise the targets, outputs and loss.
    Floats are written in full (they read back bit for bit)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if pred.labels is not None and pred.predicted is not None and pred.probs is not None:
        names = _names(class_names, pred.probs.shape[1])
        writer.writerow(["index", "true", "predicted", "true_name", "predicted_name", "loss",
                         *(f"p({n})" for n in names)])
        probs = pred.probs.double().numpy()
        for i, (t, p, loss) in enumerate(zip(pred.labels.tolist(), pred.predicted.tolist(),
                                             pred.loss.double().tolist(), strict=True)):
            writer.writerow([i, t, p, _name(names, t), _name(names, p), repr(loss), *map(repr, probs[i].tolist())])
        return buf.getvalue()
    target_head, target = _columns(pred.targets, "target")
    out_head, out = _columns(pred.probs if pred.probs is not None else pred.outputs,
                             "probability" if pred.probs is not None else "output")
    writer.writerow(["index", *target_head, *out_head, "loss"])
    for i, loss in enumerate(pred.loss.double().tolist()):
        writer.writerow([i, *map(repr, target[i].tolist()), *map(repr, out[i].tolist()), repr(loss)])
    return buf.getvalue()


def _name(names: list[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else str(index)


def confusion_csv(cm: np.ndarray, class_names: list[str] | None = None) -> str:
    """The matrix with a header row of predicted classes and a first column of true classes."""
    names = _names(class_names, len(cm))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["true \\ predicted", *names])
    for name, row in zip(names, cm.tolist(), strict=True):
        writer.writerow([name, *row])
    return buf.getvalue()


# ---- a run's model -----------------------------------------------------------------------------

def load_run_module(project: Project, checkpoint_path: str | Path) -> nn.Module:
    """The project's model compiled with a run's checkpoint (or a weights file) loaded, in eval mode.

    Raises CheckpointError naming the file when it is missing, not a weights file, or does not
    fit the graph as it is now (with what to do about it); CompileError when the graph itself
    has problems.
    """
    path = Path(checkpoint_path)
    module = build_module(project.graph, infer_shapes(project.graph))
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint; pick another run, or train again")
    try:
        meta = read_metadata(path)
    except WeightsError as exc:
        raise CheckpointError(f"{exc}; pick a run's best.safetensors or last.safetensors") from None
    try:
        load_into(module, path)
    except WeightsError as exc:
        trained_on = meta.get("graph_hash")
        changed = (" The graph has been edited since this run was trained."
                   if trained_on and trained_on != graph_fingerprint(project.graph) else "")
        raise CheckpointError(f"{exc}.{changed} Undo the edits that changed those layers to see this run's "
                              "results, or train again to get a checkpoint of the model as it is now") from None
    module.eval()
    return module
