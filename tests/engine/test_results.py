"""Results views' numbers, computed headless on the built-in examples after brief training."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from netbuilder import load_project
from netbuilder.data.dataset import DataError, Dataset
from netbuilder.examples import example_path
from netbuilder.files.training_settings import LOSSES
from netbuilder.training.checkpoint import CheckpointError
from netbuilder.training.losses import make_loss
from netbuilder.training.results import (
    PER_SAMPLE_LOSSES,
    Predictions,
    confusion_csv,
    confusion_matrix,
    detect_output_kind,
    fitted_curve,
    load_run_module,
    most_confused,
    normalise_rows,
    precision_recall,
    predict,
    predictions_csv,
    samples_in_cell,
    top_losses,
)
from netbuilder.training.run import PreparedRun, prepare, train_project
from netbuilder.training.trainer import Trainer


def trained(name: str, **overrides) -> tuple[PreparedRun, Trainer]:
    run = prepare(load_project(example_path(name)), {"device": "cpu", **overrides})
    trainer = Trainer(run.module, run.train, run.settings, run.val)
    assert trainer.run().status == "completed"
    return run, trainer


@pytest.fixture(scope="module")
def linear() -> tuple[PreparedRun, Trainer]:
    return trained("linear_regression")


@pytest.fixture(scope="module")
def logistic() -> tuple[PreparedRun, Trainer]:
    return trained("logistic_regression")


@pytest.fixture(scope="module")
def softmax() -> tuple[PreparedRun, Trainer]:
    return trained("softmax_regression", epochs=30)


@pytest.fixture(scope="module")
def digits() -> tuple[PreparedRun, Trainer, Predictions]:
    # The digits CNN on 600 of its training images for 2 epochs: a few seconds, and wrong often
    # enough that every off-diagonal helper has something to find.
    run = prepare(load_project(example_path("mnist_cnn")), {"device": "cpu", "epochs": 2})
    trainer = Trainer(run.module, run.train.subset(torch.arange(600)), run.settings, run.val)
    assert trainer.run().status == "completed"
    assert run.val is not None
    return run, trainer, predict(run.module, run.val, loss=run.settings.loss)


# ---- fitted curves of the one-feature examples ------------------------------------------------

def test_the_linear_example_fits_a_slope_of_two(linear) -> None:
    run, _ = linear
    xs, ys = fitted_curve(run.module, run.train)
    assert xs.shape == ys.shape == (200,)
    slope = np.polyfit(xs, ys, 1)[0]
    # seed_data.seed_linear draws y = 2x + 0.33 N(0, 1); on its 100 points least squares gives 1.951.
    assert slope == pytest.approx(2.0, abs=0.15)
    assert np.allclose(np.diff(ys) / np.diff(xs), slope, rtol=1e-3)  # a straight line, not just a trend


def test_the_curve_spans_the_data_with_a_margin(linear) -> None:
    run, _ = linear
    xs, _ = fitted_curve(run.module, run.train, points=50)
    assert len(xs) == 50
    assert xs[0] == pytest.approx(-1.1) and xs[-1] == pytest.approx(1.1)  # data on [-1, 1], 5% each side


def test_the_logistic_curve_is_a_probability_and_logits_give_the_same(logistic) -> None:
    run, _ = logistic
    xs, p = fitted_curve(run.module, run.train)
    assert ((p > 0) & (p < 1)).all() and (np.diff(p) > 0).all()
    assert abs(xs[np.argmin(np.abs(p - 0.5))]) < 0.15  # the classes meet at x = 0
    # The same line without its Sigmoid layer outputs logits; the curve is still the probability.
    logits = nn.Sequential(nn.Linear(1, 1))
    logits[0].load_state_dict(run.module.linear.state_dict())
    assert detect_output_kind(logits) == "logits"
    np.testing.assert_allclose(fitted_curve(logits, run.train).ys, p, rtol=1e-5)


def test_a_curve_needs_one_feature(softmax) -> None:
    run, _ = softmax
    with pytest.raises(DataError, match="one input feature"):
        fitted_curve(run.module, run.train)


# ---- predictions ----------------------------------------------------------------------------

def test_predictions_agree_with_the_trainers_metrics(softmax, linear) -> None:
    for run, trainer in (softmax, linear):
        pred = predict(run.module, run.train, loss=run.settings.loss)
        metrics = trainer.evaluate(run.train)
        assert pred.loss.shape == (len(run.train),)
        assert pred.loss.mean().item() == pytest.approx(metrics["loss"], rel=1e-5)
    pred = predict(softmax[0].module, softmax[0].train, loss="cross_entropy")
    assert pred.output_kind == "logits"
    torch.testing.assert_close(pred.probs, torch.softmax(pred.outputs, dim=1))
    torch.testing.assert_close(pred.probs.sum(dim=1), torch.ones(len(pred)))


def test_predict_is_batched_without_grad_in_eval_mode() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 3))
    data = Dataset("toy", torch.randn(50, 4), torch.randint(0, 3, (50,)), "classification", num_classes=3)
    model.train()
    one = predict(model, data, batch_size=7)
    assert model.training, "the module is put back in the mode it was in"
    all_at_once = predict(model, data, batch_size=512)
    torch.testing.assert_close(one.outputs, all_at_once.outputs)  # eval: dropout is off, so both agree
    assert not one.outputs.requires_grad and one.loss_name == "cross_entropy"


def test_a_softmax_last_layer_is_read_as_probabilities() -> None:
    torch.manual_seed(0)
    data = Dataset("toy", torch.randn(20, 4), torch.randint(0, 3, (20,)), "classification", num_classes=3)
    body = nn.Linear(4, 3)
    probs = predict(nn.Sequential(body, nn.Softmax(dim=1)), data)
    assert probs.output_kind == "probabilities"
    torch.testing.assert_close(probs.probs, probs.outputs)  # not softmaxed a second time
    logp = predict(nn.Sequential(body, nn.LogSoftmax(dim=1)), data)
    assert logp.output_kind == "log_probabilities" and logp.loss_name == "nll"
    logits = predict(nn.Sequential(body), data)
    torch.testing.assert_close(probs.probs, logits.probs)
    torch.testing.assert_close(logp.probs, logits.probs)
    torch.testing.assert_close(probs.loss, logits.loss)  # -log p of the true class, however it is given
    # A flag overrides what the layers say.
    assert predict(nn.Sequential(body), data, outputs="probabilities").output_kind == "probabilities"


def test_the_compiled_examples_last_layers_are_detected(logistic, softmax) -> None:
    assert detect_output_kind(logistic[0].module) == "probabilities"
    assert detect_output_kind(softmax[0].module) == "logits"
    assert detect_output_kind(nn.Linear(2, 2)) is None  # cannot see inside; predict falls back on the loss


def test_binary_predictions_are_two_classes(logistic) -> None:
    run, trainer = logistic
    pred = predict(run.module, run.train, loss="bce")
    assert pred.probs.shape == (len(run.train), 2)
    cm = confusion_matrix(pred)
    assert cm.shape == (2, 2) and cm.sum() == len(run.train)
    assert np.trace(cm) == round(trainer.evaluate(run.train)["accuracy"] * len(run.train))


def test_every_training_loss_has_a_per_sample_form_whose_mean_is_the_loss() -> None:
    assert set(PER_SAMPLE_LOSSES) == set(LOSSES)
    torch.manual_seed(0)
    logits = torch.randn(9, 4)
    cases = {
        "mse": (torch.randn(9, 3, 2), torch.randn(9, 3, 2)), "l1": (torch.randn(9, 3), torch.randn(9, 3)),
        "huber": (torch.randn(9, 2) * 3, torch.randn(9, 2)),
        "bce": (torch.rand(9, 1), torch.randint(0, 2, (9, 1)).float()),
        "bce_with_logits": (torch.randn(9, 2), torch.rand(9, 2)),
        "cross_entropy": (logits, torch.randint(0, 4, (9,))),
        "cross_entropy_soft": (logits, torch.softmax(torch.randn(9, 4), dim=1)),
        "nll": (torch.log_softmax(logits, dim=1), torch.randint(0, 4, (9,))),
    }
    for name, (out, target) in cases.items():
        per_sample = PER_SAMPLE_LOSSES[name](out, target)
        assert per_sample.shape == (9,), name
        assert per_sample.mean().item() == pytest.approx(make_loss(name)(out, target).item(), rel=1e-6), name


# ---- confusion matrix on the trained digits CNN -----------------------------------------------

def test_digits_confusion_matrix_counts_every_sample_and_its_diagonal_is_the_accuracy(digits) -> None:
    run, trainer, pred = digits
    cm = confusion_matrix(pred, 10)
    assert cm.shape == (10, 10) and cm.dtype == np.int64
    assert cm.sum() == len(run.val)
    metrics = trainer.evaluate(run.val)
    assert np.trace(cm) == round(metrics["accuracy"] * len(run.val))
    assert pred.loss.mean().item() == pytest.approx(metrics["loss"], rel=1e-4)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(run.val.y.numpy(), minlength=10))
    rows = normalise_rows(cm)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)


def test_digits_cells_worst_samples_and_most_confused(digits) -> None:
    run, _, pred = digits
    cm = confusion_matrix(pred)
    for t in range(10):
        for p in range(10):
            cell = samples_in_cell(pred, t, p)
            assert len(cell) == cm[t, p]
            assert (run.val.y[cell] == t).all() and (pred.predicted[cell] == p).all()
    worst = top_losses(pred, 25)
    assert len(worst) == 25
    losses = pred.loss.numpy()
    assert (np.diff(losses[worst]) <= 0).all()  # highest first
    assert losses[worst].min() >= np.delete(losses, worst).max()  # and no other sample is higher
    confused = most_confused(cm, run.val.class_names, k=5)
    assert confused and all(t != p for t, p, _ in confused)
    counts = [c for _, _, c in confused]
    assert counts == sorted(counts, reverse=True)
    off = cm - np.diag(np.diag(cm))
    assert counts[0] == off.max()
    t, p, c = confused[0]
    assert cm[int(t), int(p)] == c


def test_digits_csv_exports_read_back(digits) -> None:
    run, _, pred = digits
    rows = list(csv.DictReader(io.StringIO(predictions_csv(pred, run.val.class_names))))
    assert len(rows) == len(run.val)
    assert [int(r["true"]) for r in rows] == run.val.y.tolist()
    assert [int(r["predicted"]) for r in rows] == pred.predicted.tolist()
    assert [float(r["loss"]) for r in rows] == pred.loss.double().tolist()  # bit for bit
    probs = np.array([[float(r[f"p({c})"]) for c in run.val.class_names] for r in rows])
    np.testing.assert_array_equal(probs, pred.probs.double().numpy())
    cm = confusion_matrix(pred)
    table = list(csv.reader(io.StringIO(confusion_csv(cm, run.val.class_names))))
    assert table[0][1:] == run.val.class_names and [r[0] for r in table[1:]] == run.val.class_names
    np.testing.assert_array_equal(np.array([r[1:] for r in table[1:]], dtype=np.int64), cm)


def test_regression_predictions_csv_reads_back(linear) -> None:
    run, _ = linear
    pred = predict(run.module, run.train, loss="mse")
    rows = list(csv.DictReader(io.StringIO(predictions_csv(pred))))
    assert list(rows[0]) == ["index", "target", "output", "loss"]
    assert [float(r["output"]) for r in rows] == pred.outputs.double().reshape(-1).tolist()
    assert [float(r["target"]) for r in rows] == run.train.y.double().reshape(-1).tolist()
    with pytest.raises(DataError, match="class predictions"):
        confusion_matrix(pred)


# ---- the seed softmax example and small known cases ---------------------------------------------

def test_softmax_example_confusion_and_top_losses(softmax) -> None:
    run, trainer = softmax
    pred = predict(run.module, run.train, loss=run.settings.loss)
    cm = confusion_matrix(pred, 2)
    assert cm.sum() == 3
    assert np.trace(cm) == round(trainer.evaluate(run.train)["accuracy"] * 3)
    assert list(top_losses(pred, 3)) == list(np.argsort(-pred.loss.numpy()))
    assert top_losses(pred, 1)[0] == int(pred.loss.argmax())


def test_too_few_classes_for_the_labels_is_a_clear_error(softmax) -> None:
    pred = predict(softmax[0].module, softmax[0].train)
    with pytest.raises(DataError, match="number of classes"):
        confusion_matrix(pred, 1)


def known_predictions(true: list[int], guess: list[int], loss: list[float] | None = None) -> Predictions:
    n = len(true)
    return Predictions(torch.zeros(n, 3), torch.tensor(true), torch.tensor(loss or [0.0] * n), "cross_entropy",
                       "classification", "logits", probs=torch.full((n, 3), 1 / 3),
                       predicted=torch.tensor(guess), labels=torch.tensor(true))


def test_precision_and_recall_by_hand() -> None:
    # true:      0 0 0 1 1 2
    # predicted: 0 0 1 1 0 1      (class 2 is never predicted)
    pred = known_predictions([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 1])
    cm = confusion_matrix(pred)
    np.testing.assert_array_equal(cm, [[2, 1, 0], [1, 1, 0], [0, 1, 0]])
    precision, recall = precision_recall(cm)
    # Precision: of the 3 predicted 0, 2 were; of the 3 predicted 1, 1 was; nothing predicted 2: 0/0.
    np.testing.assert_allclose(precision[:2], [2 / 3, 1 / 3])
    assert math.isnan(precision[2])
    # Recall: of the 3 true 0, 2 found; of the 2 true 1, 1 found; the one true 2, not found.
    np.testing.assert_allclose(recall, [2 / 3, 1 / 2, 0.0])
    empty = np.array([[1, 0], [0, 0]])
    p, r = precision_recall(empty)
    assert p[0] == 1 and r[0] == 1 and math.isnan(p[1]) and math.isnan(r[1])
    rows = normalise_rows(empty)
    assert rows[0].tolist() == [1.0, 0.0] and np.isnan(rows[1]).all()


def test_most_confused_by_hand() -> None:
    cm = np.array([[9, 1, 4], [4, 7, 0], [0, 2, 8]])
    # Ties keep row-then-column order; the diagonal and empty cells are never listed.
    assert most_confused(cm, ["cat", "dog", "fox"], k=3) == [("cat", "fox", 4), ("dog", "cat", 4), ("fox", "dog", 2)]
    assert most_confused(cm, None, k=10) == [("0", "2", 4), ("1", "0", 4), ("2", "1", 2), ("0", "1", 1)]


def test_top_losses_by_hand_with_a_nan_first() -> None:
    pred = known_predictions([0] * 5, [0] * 5, [0.5, float("nan"), 2.0, 0.1, 2.0])
    assert top_losses(pred, 3).tolist() == [1, 2, 4]
    assert samples_in_cell(pred, 0, 0).tolist() == [0, 1, 2, 3, 4]
    assert samples_in_cell(pred, 1, 0).tolist() == []


# ---- a run's checkpoint -----------------------------------------------------------------------

def test_load_run_module_gives_the_trained_model_and_names_a_misfit(tmp_path: Path) -> None:
    project = load_project(example_path("softmax_regression"))
    project.save(tmp_path / "softmax.nbproj")
    _, run_dir = train_project(project, {"epochs": 20, "device": "cpu"})
    assert run_dir is not None
    last = run_dir / "last.safetensors"
    module = load_run_module(project, last)
    assert not module.training
    data = prepare(project, {"device": "cpu"}).train
    loaded = predict(module, data)
    assert loaded.loss.mean().item() < math.log(2)  # trained: better than a coin toss

    scores = project.graph.by_name("scores")
    assert scores is not None
    project.graph.set_params(scores.id, {"out_features": 3})
    with pytest.raises(CheckpointError) as err:
        load_run_module(project, last)
    message = str(err.value)
    assert str(last) in message and "scores.weight" in message
    assert "edited since this run" in message and "train again" in message
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_run_module(project, run_dir / "nothing.safetensors")
    (tmp_path / "junk.safetensors").write_text("not weights")
    with pytest.raises(CheckpointError, match=r"junk\.safetensors"):
        load_run_module(project, tmp_path / "junk.safetensors")
