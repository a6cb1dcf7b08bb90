"""The Trainer: exact arithmetic, seed examples learn, failures are contained, control works."""

from __future__ import annotations

import copy
import dataclasses
import threading

import pytest
import torch

from netbuilder import Edge, Graph, build_module, load_project
from netbuilder.data.dataset import Dataset
from netbuilder.examples import example_path
from netbuilder.files.training_settings import SettingsError, TrainingSettings
from netbuilder.training.events import Failed, Finished, Paused, Resumed, Started, Steps
from netbuilder.training.run import prepare
from netbuilder.training.trainer import Trainer


def mlp(features: int = 4, hidden: int = 16, out: int = 3, dropout: float = 0.0) -> torch.nn.Module:
    g = Graph()
    kinds = [("Input", {"shape": [features]}), ("Linear", {"out_features": hidden}), ("ReLU", {}),
             ("Dropout", {"p": dropout}), ("Linear", {"out_features": out}), ("Output", {})]
    prev = None
    for kind, params in kinds:
        node = g.add_node(g.make_node(kind, params=params))
        if prev:
            g.connect(Edge(prev.id, "out", node.id, "in"))
        prev = node
    return build_module(g)


def blobs(n: int = 300, seed: int = 0) -> Dataset:
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=gen)
    x = torch.randn(n, 4, generator=gen) + torch.nn.functional.one_hot(y, 4).float() * 3
    return Dataset("blobs", x, y, "classification", num_classes=3)


def test_first_50_steps_equal_a_hand_written_loop() -> None:
    torch.manual_seed(0)
    model = mlp()
    reference = copy.deepcopy(model)
    data = blobs()
    s = TrainingSettings(loss="cross_entropy", optimizer="sgd", learning_rate=0.05, momentum=0.9,
                         batch_size=16, epochs=3, validation_split=0.0, report_every=7, seed=5, device="cpu")
    losses: list[float] = []
    Trainer(model, data, s, on_event=lambda e: losses.extend(e.losses) if isinstance(e, Steps) else None).run()

    opt = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    expected = []
    for epoch in range(3):
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(5 * 100_003 + epoch))
        for b in range(0, len(data), 16):
            idx = order[b:b + 16]
            loss = torch.nn.functional.cross_entropy(reference(data.x[idx]), data.y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            expected.append(loss.item())
    assert len(losses) == len(expected) == 57
    torch.testing.assert_close(torch.tensor(losses[:50]), torch.tensor(expected[:50]), atol=1e-6, rtol=0)


def test_same_seed_same_run_with_dropout() -> None:
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = mlp(dropout=0.3)
        losses: list[float] = []
        s = TrainingSettings(loss="cross_entropy", batch_size=32, epochs=2, seed=3, device="cpu")
        Trainer(model, blobs(), s, on_event=lambda e, ls=losses: ls.extend(e.losses) if isinstance(e, Steps)
                else None).run()
        runs.append(losses)
    assert runs[0] == runs[1]


def _train_example(name: str, **overrides):
    project = load_project(example_path(name))
    run = prepare(project, overrides)
    events = []
    result = Trainer(run.module, run.train, run.settings, run.val, on_event=events.append).run()
    return run, result, events


def test_linear_example_finds_slope_2_and_intercept_0() -> None:
    run, result, _ = _train_example("linear_regression")
    assert result.status == "completed"
    fc = run.module.linear
    assert abs(fc.weight.item() - 2.0) <= 0.15
    assert abs(fc.bias.item()) <= 0.15


def test_logistic_example_clean_labels_accuracy() -> None:
    _, result, _ = _train_example("logistic_regression", metrics=["loss", "accuracy"])
    assert result.final["train_accuracy"] >= 0.95


def test_cnn_example_on_8x8_digits_held_out_accuracy() -> None:
    run, result, _ = _train_example("mnist_cnn", metrics=["loss", "accuracy"], validation_split=0.2)
    assert run.train.x.shape[1:] == (1, 28, 28) and run.train.name.startswith("digits")
    assert len(run.val) == 359
    assert result.final["val_accuracy"] >= 0.95


def test_lstm_example_loss_falls() -> None:
    _, result, events = _train_example("lstm_sequence", metrics=["loss", "accuracy"])
    losses = [v for e in events if isinstance(e, Steps) for v in e.losses]
    assert sum(losses[-10:]) / 10 < 0.1 * sum(losses[:10]) / 10
    assert result.final["train_accuracy"] == 1.0


def test_nan_loss_stops_with_the_step_and_keeps_last_good_weights() -> None:
    torch.manual_seed(0)
    model = mlp()
    data = blobs()
    data.x[250:] = float("nan")  # batches that reach these rows poison the weights
    s = TrainingSettings(loss="cross_entropy", batch_size=300, epochs=3, report_every=1, device="cpu",
                         validation_split=0.0)
    data.x[:] = torch.where(torch.arange(300).unsqueeze(1) < 250, data.x, float("nan"))
    events = []
    result = Trainer(model, data, s, on_event=events.append).run()
    failed = [e for e in events if isinstance(e, Failed)]
    assert result.status == "failed" and failed and failed[0].kind == "nan"
    assert "the loss became nan at step 0" in failed[0].message
    assert "lower learning_rate" in failed[0].message or "lower learning" in failed[0].message
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_exploding_learning_rate_names_the_step() -> None:
    torch.manual_seed(0)
    model = mlp()
    data = blobs()
    data.x *= 1e6
    s = TrainingSettings(loss="cross_entropy", optimizer="sgd", learning_rate=50.0, batch_size=10, epochs=5,
                         report_every=4, device="cpu", validation_split=0.0)
    events = []
    result = Trainer(model, data, s, on_event=events.append).run()
    assert result.status == "failed"
    message = events[-1].message
    assert "at step" in message and "put back to step" in message
    assert all(torch.isfinite(p).all() for p in model.parameters())


class Exploding(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls == 5:
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (something the user drew)")
        return self.fc(x)


def test_exception_in_forward_is_a_failed_event_not_a_crash() -> None:
    events = []
    s = TrainingSettings(loss="cross_entropy", batch_size=10, epochs=1, device="cpu", validation_split=0.0)
    result = Trainer(Exploding(), blobs(), s, on_event=events.append).run()
    assert result.status == "failed"
    assert isinstance(events[-1], Failed) and events[-1].kind == "error"
    assert "training stopped at step 4" in events[-1].message and "mat1 and mat2" in events[-1].message


def test_stop_from_another_thread_returns_within_one_batch_as_stopped() -> None:
    torch.manual_seed(0)
    s = TrainingSettings(loss="cross_entropy", batch_size=1, epochs=1000, report_every=1, device="cpu",
                         validation_split=0.0)
    seen = []
    trainer = Trainer(mlp(), blobs(), s)

    def on_event(e) -> None:
        seen.append(e)
        if isinstance(e, Steps) and e.step == 20:
            threading.Thread(target=trainer.cancel).start()

    trainer.on_event = on_event
    result = trainer.run()
    assert result.status == "stopped"
    assert isinstance(seen[-1], Finished) and seen[-1].reason == "stopped"
    assert 21 <= result.steps_done <= 23


def test_pause_holds_the_run_until_resume() -> None:
    s = TrainingSettings(loss="cross_entropy", batch_size=30, epochs=2, report_every=1, device="cpu",
                         validation_split=0.0)
    trainer = Trainer(mlp(), blobs(), s)
    trainer.pause()
    worker = threading.Thread(target=trainer.run)
    worker.start()
    worker.join(0.5)
    assert worker.is_alive() and trainer.state.step == 0
    trainer.resume()
    worker.join(30)
    assert not worker.is_alive() and trainer.state.step == 20


def test_early_stopping_and_settings_errors() -> None:
    s = TrainingSettings(loss="cross_entropy", batch_size=30, epochs=200, learning_rate=0.3, device="cpu",
                         early_stopping_patience=2, optimizer="sgd")
    data = blobs()
    train, val = data.split(0.3, 0)
    result = Trainer(mlp(), train, s, val).run()
    assert result.status == "early_stopped" and result.epochs_done < 200
    with pytest.raises(SettingsError, match="'learning_rate' is -1"):
        TrainingSettings.from_dict({"learning_rate": -1})
    with pytest.raises(SettingsError, match="unknown training setting 'lr'"):
        TrainingSettings.from_dict({"lr": 0.1})
    with pytest.raises(SettingsError, match="precision fp16 needs a CUDA GPU"):
        Trainer(mlp(), data, TrainingSettings(precision="fp16", device="cpu"))


# A sane learning rate for each: adaptive methods take smaller steps than plain SGD needs.
LEARNING_RATES = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.005, "adagrad": 0.1}


@pytest.mark.parametrize(("optimizer", "schedule"), [
    ("sgd", "none"), ("adam", "step"), ("adamw", "cosine"), ("rmsprop", "one_cycle"), ("adagrad", "plateau"),
    ("adagrad", "one_cycle"), ("sgd", "one_cycle")])
def test_every_optimizer_and_schedule_learns(optimizer: str, schedule: str) -> None:
    torch.manual_seed(0)
    s = TrainingSettings(loss="cross_entropy", optimizer=optimizer, schedule=schedule, batch_size=20, epochs=4,
                         learning_rate=LEARNING_RATES[optimizer], momentum=0.9 if optimizer == "sgd" else 0.0,
                         step_size=2, gamma=0.5, plateau_patience=0, device="cpu", metrics=("loss", "accuracy"),
                         grad_clip=1.0, l1=1e-5, weight_decay=1e-4)
    train, val = blobs().split(0.2, 0)
    trainer = Trainer(mlp(), train, s, val)
    before = trainer.evaluate(val)
    result = trainer.run()
    assert result.status == "completed"
    assert result.final["val_loss"] < 0.5 * before["loss"]
    assert result.final["val_accuracy"] >= 0.8  # chance is 1/3


def test_top5_on_5_classes_or_fewer_is_refused() -> None:
    # With 3 classes the true one is always among the top 5: the metric would read 1.0 for any model.
    s = TrainingSettings(loss="cross_entropy", metrics=("loss", "top5"), device="cpu")
    with pytest.raises(SettingsError, match=r"the top5 metric .* but 'blobs' has 3 classes, so it says nothing: "
                                            r"remove top5 from metrics"):
        Trainer(mlp(), blobs(), s)
    gen = torch.Generator().manual_seed(0)
    many = Dataset("ten", torch.randn(100, 4, generator=gen), torch.randint(0, 10, (100,), generator=gen),
                   "classification", num_classes=10)
    result = Trainer(mlp(out=10), many, dataclasses.replace(s, epochs=1)).run()
    assert 0 < result.final["train_top5"] <= 1


def test_regression_metrics() -> None:
    x = torch.linspace(-1, 1, 200).unsqueeze(1)
    data = Dataset("line", x, 3 * x + 1, "regression")
    g = Graph()
    i = g.add_node(g.make_node("Input", params={"shape": [1]}))
    fc = g.add_node(g.make_node("Linear", params={"out_features": 1}))
    o = g.add_node(g.make_node("Output"))
    g.connect(Edge(i.id, "out", fc.id, "in"))
    g.connect(Edge(fc.id, "out", o.id, "in"))
    s = TrainingSettings(loss="huber", optimizer="adam", learning_rate=0.05, batch_size=20, epochs=60,
                         metrics=("loss", "mae", "r2"), device="cpu")
    train, val = data.split(0.2, 0)
    result = Trainer(build_module(g), train, s, val).run()
    assert result.final["val_r2"] > 0.99 and result.final["val_mae"] < 0.1


def test_a_monitored_metric_that_is_not_computed_is_refused_before_training() -> None:
    with pytest.raises(SettingsError, match=r"'monitor' is 'accuracy', but 'metrics' \(loss\) does not compute it: "
                                            r"add 'accuracy' to metrics, or monitor 'loss'"):
        TrainingSettings.from_dict({"monitor": "accuracy", "metrics": ["loss"]})
    with pytest.raises(SettingsError, match="'monitor' is 'r2'"):
        Trainer(mlp(), blobs(), TrainingSettings(monitor="r2", device="cpu"))
    # Asked for, it is watched: the best checkpoint is the epoch of the highest accuracy.
    s = TrainingSettings(loss="cross_entropy", monitor="accuracy", metrics=("loss", "accuracy"), epochs=3,
                         batch_size=30, device="cpu")
    train, val = blobs().split(0.2, 0)
    events = []
    result = Trainer(mlp(), train, s, val, on_event=events.append).run()
    accuracies = [e.val["accuracy"] for e in events if type(e).__name__ == "Epoch"]
    assert result.status == "completed" and result.best["val_accuracy"] == max(accuracies)


def test_a_failure_after_an_epoch_names_that_epoch() -> None:
    def checkpoint(tag: str, trainer: Trainer, state) -> None:
        if state.epoch == 2:
            raise OSError("No space left on device")

    s = TrainingSettings(loss="cross_entropy", batch_size=100, epochs=3, device="cpu", validation_split=0.0)
    result = Trainer(mlp(), blobs(), s, checkpoint=checkpoint).run()
    assert result.status == "failed"
    assert "training stopped at step 6 (epoch 2): OSError: No space left on device" in result.message


def test_pause_and_resume_are_reported_when_they_take_effect_with_the_losses_up_to_there() -> None:
    s = TrainingSettings(loss="cross_entropy", batch_size=10, epochs=2, report_every=4, device="cpu",
                         validation_split=0.0)
    trainer = Trainer(mlp(), blobs(), s)
    seen = []
    held = threading.Event()

    def on_event(e) -> None:
        seen.append(e)
        if isinstance(e, Steps) and e.step == 7:
            trainer.pause()  # takes effect before the next batch, step 8
        if isinstance(e, Paused):
            held.set()

    trainer.on_event = on_event
    worker = threading.Thread(target=trainer.run)
    worker.start()
    assert held.wait(30)
    worker.join(0.3)
    assert worker.is_alive() and trainer.state.step == 8
    trainer.resume()
    worker.join(30)
    kinds = [type(e).__name__ for e in seen]
    assert kinds.count("Paused") == 1 and kinds.count("Resumed") == 1
    paused = kinds.index("Paused")
    assert seen[paused] == Paused(8) and seen[paused + 1] == Resumed(8)
    assert seen[paused - 1].step == 7  # every step before the pause is reported before it
    assert seen[-1] == Finished("completed", 2, 60, seen[-1].final, seen[-1].best)


def test_a_stop_while_paused_ends_the_run_stopped_without_resuming() -> None:
    s = TrainingSettings(loss="cross_entropy", batch_size=10, epochs=2, report_every=4, device="cpu",
                         validation_split=0.0)
    saved = []
    model = mlp()
    calls = []

    def pause_in_step_5(module, args) -> None:  # mid-interval: steps 4 and 5 are not reported yet
        calls.append(1)
        if len(calls) == 6:
            trainer.pause()

    model.register_forward_pre_hook(pause_in_step_5)
    trainer = Trainer(model, blobs(), s, checkpoint=lambda tag, t, state: saved.append((tag, state.step)))
    trainer.run_id, trainer.run_dir = 7, "/runs/run-0007"
    seen = []

    def on_event(e) -> None:
        seen.append(e)
        if isinstance(e, Paused):
            threading.Thread(target=trainer.cancel).start()

    trainer.on_event = on_event
    result = trainer.run()
    assert result.status == "stopped" and result.steps_done == 6
    assert isinstance(seen[0], Started) and (seen[0].run_id, seen[0].run_dir) == (7, "/runs/run-0007")
    assert not any(isinstance(e, Resumed) for e in seen)
    # Stopped mid-epoch: the last checkpoint is written with the step reached.
    assert saved == [("last", 6)]
    assert [e.step for e in seen if isinstance(e, Steps)] == [3, 5]
