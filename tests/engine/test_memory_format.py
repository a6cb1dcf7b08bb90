"""The Trainer's memory layout: chosen for conv graphs only, same results in both, files still written."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from netbuilder import Edge, Graph, build_module, load_project
from netbuilder.data.dataset import Dataset
from netbuilder.examples import example_path
from netbuilder.files.training_settings import SettingsError, TrainingSettings
from netbuilder.files.weights import save_weights
from netbuilder.onnx.exporter import export_onnx
from netbuilder.training import memory_format
from netbuilder.training.checkpoint import load_weights, save_checkpoint
from netbuilder.training.events import Steps
from netbuilder.training.memory_format import CHANNELS_LAST, CONTIGUOUS, choose_layout, decide
from netbuilder.training.trainer import Trainer


def seed_cnn() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_module(load_project(example_path("mnist_cnn")).graph)


def mlp() -> torch.nn.Module:
    g = Graph()
    prev = None
    for kind, params in (("Input", {"shape": [4]}), ("Linear", {"out_features": 8}), ("ReLU", {}),
                         ("Linear", {"out_features": 3}), ("Output", {})):
        node = g.add_node(g.make_node(kind, params=params))
        if prev:
            g.connect(Edge(prev.id, "out", node.id, "in"))
        prev = node
    return build_module(g)


def images(n: int = 192) -> Dataset:
    gen = torch.Generator().manual_seed(1)
    return Dataset("images", torch.rand(n, 1, 28, 28, generator=gen), torch.randint(0, 10, (n,), generator=gen),
                   "classification", num_classes=10)


def settings(layout: str, **kw: object) -> TrainingSettings:
    return TrainingSettings(**{"loss": "cross_entropy", "optimizer": "adam", "batch_size": 32, "epochs": 2,
                               "validation_split": 0.0, "device": "cpu", "report_every": 3,
                               "memory_format": layout, **kw})


def train(layout: str, **kw: object) -> tuple[torch.nn.Module, list[float], Trainer]:
    module = seed_cnn()
    losses: list[float] = []
    trainer = Trainer(module, images(), settings(layout, **kw),
                      on_event=lambda e: losses.extend(e.losses) if isinstance(e, Steps) else None)
    assert trainer.run().status == "completed"
    return module, losses, trainer


def fake_timings(contiguous_ms: float, channels_last_ms: float) -> dict[str, list[float]]:
    return {CONTIGUOUS: [contiguous_ms / 1e3 * f for f in (1.0, 0.9, 1.3)],
            CHANNELS_LAST: [channels_last_ms / 1e3 * f for f in (1.1, 1.0, 0.8)]}


def test_the_decision_keeps_channels_last_only_when_clearly_faster() -> None:
    assert decide(fake_timings(13.0, 10.0)) == CHANNELS_LAST
    assert decide(fake_timings(10.0, 13.0)) == CONTIGUOUS
    # Within the margin a shared machine's noise could flip: the default layout stays.
    assert decide(fake_timings(10.0, 9.9)) == CONTIGUOUS


def test_auto_times_a_conv_graph_and_never_an_mlp() -> None:
    calls: list[str] = []

    def measure() -> dict[str, list[float]]:
        calls.append("timed")
        return fake_timings(13.0, 10.0)

    chosen = choose_layout(seed_cnn(), "auto", measure)
    assert (chosen.name, calls) == (CHANNELS_LAST, ["timed"])
    assert "channels_last 10.00 ms/step" in chosen.reason
    calls.clear()
    assert choose_layout(mlp(), "auto", measure).name == CONTIGUOUS
    assert choose_layout(seed_cnn(), "contiguous", measure).name == CONTIGUOUS
    assert choose_layout(seed_cnn(), "channels_last", measure).name == CHANNELS_LAST
    assert calls == []  # an MLP, or a layout the settings force, is never timed


def test_the_trainer_trains_a_conv_graph_in_the_measured_layout_and_hands_it_back_contiguous(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_format, "time_training_steps", lambda *a, **kw: fake_timings(13.0, 10.0))
    seen: list[bool] = []
    module = seed_cnn()
    trainer = Trainer(module, images(), settings("auto"), checkpoint=lambda tag, t, state: seen.append(
        t.module.conv2.weight.is_contiguous(memory_format=torch.channels_last)))
    assert trainer.run().status == "completed"
    assert trainer.layout is not None and trainer.layout.name == CHANNELS_LAST
    assert seen and all(seen)  # during the run the conv weights were channels_last
    assert all(p.is_contiguous() for p in module.parameters())

    monkeypatch.setattr(memory_format, "time_training_steps", lambda *a, **kw: fake_timings(10.0, 13.0))
    trainer = Trainer(seed_cnn(), images(), settings("auto"))
    trainer.run()
    assert trainer.layout is not None and trainer.layout.name == CONTIGUOUS


def test_an_mlp_on_auto_is_never_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kw: object) -> dict[str, list[float]]:
        raise AssertionError("an MLP was timed")

    monkeypatch.setattr(memory_format, "time_training_steps", refuse)
    gen = torch.Generator().manual_seed(0)
    data = Dataset("blobs", torch.randn(64, 4, generator=gen), torch.randint(0, 3, (64,), generator=gen),
                   "classification", num_classes=3)
    trainer = Trainer(mlp(), data, settings("auto", batch_size=16, epochs=1))
    assert trainer.run().status == "completed"
    assert trainer.layout is not None and trainer.layout.name == CONTIGUOUS
    assert "no 4-D weights" in trainer.layout.reason


def test_the_same_seed_trains_to_the_same_weights_and_losses_in_both_layouts() -> None:
    plain, plain_losses, _ = train("contiguous")
    last, last_losses, trainer = train("channels_last")
    assert trainer.layout is not None and trainer.layout.name == CHANNELS_LAST
    assert len(plain_losses) == len(last_losses) == 12
    torch.testing.assert_close(torch.tensor(last_losses), torch.tensor(plain_losses), rtol=1e-4, atol=1e-5)
    # Adam moves a weight by about learning_rate (1e-3) per step whatever its gradient's size, so
    # rounding in a gradient near 0 can show at that scale: a tenth of one step is the tolerance.
    for (name, a), b in zip(plain.state_dict().items(), last.state_dict().values(), strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4, msg=lambda m, name=name: f"{name}: {m}")
    # Training really moved the weights, so equality above says something.
    assert not torch.allclose(plain.fc1.weight, seed_cnn().fc1.weight, atol=1e-4)


def test_auto_measures_on_copies_and_trains_exactly_as_the_layout_it_picked() -> None:
    auto, auto_losses, trainer = train("auto")
    assert trainer.layout is not None and trainer.layout.step_seconds  # the real probe ran
    forced, forced_losses, _ = train(trainer.layout.name)
    assert auto_losses == forced_losses
    for a, b in zip(auto.state_dict().values(), forced.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_checkpoints_weights_and_onnx_export_after_channels_last_training(tmp_path: Path) -> None:
    module = seed_cnn()

    def checkpoint(tag: str, trainer: Trainer, state: object) -> None:
        # Mid-run, the weights are channels_last (not contiguous): the files must still be written.
        assert not trainer.module.conv2.weight.is_contiguous()
        save_checkpoint(tmp_path / f"{tag}.safetensors", trainer, trainer.state)
        save_weights(trainer.module, tmp_path / "mid-run-weights.safetensors")

    trainer = Trainer(module, images(), settings("channels_last", epochs=1), checkpoint=checkpoint)
    assert trainer.run().status == "completed"
    reloaded = seed_cnn()
    load_weights(tmp_path / "last.safetensors", reloaded)
    for a, b in zip(module.state_dict().values(), reloaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(load_file(str(tmp_path / "mid-run-weights.safetensors"))["conv2.weight"],
                       module.conv2.weight.detach())

    save_weights(module, tmp_path / "trained.safetensors")
    report = export_onnx(load_project(example_path("mnist_cnn")), tmp_path / "cnn.onnx",
                         weights=tmp_path / "trained.safetensors")
    assert report.path.exists() and report.weights.file == tmp_path / "trained.safetensors"
    # ONNX Runtime matched the trained weights at batches 2 and 5 (export_onnx checks it).
    assert set(report.max_abs_error) == {2, 5}


def test_an_unknown_layout_is_refused_with_the_choices() -> None:
    with pytest.raises(SettingsError, match=r"memory_format.*auto, contiguous, channels_last"):
        TrainingSettings(memory_format="nhwc").validate()


@pytest.mark.slow
def test_torchrun_ranks_agree_on_the_layout_and_match_one_process(tmp_path: Path) -> None:
    # DDP refuses parameters whose strides differ between ranks; 'auto' lets each rank time the
    # layouts, so rank 0's choice must reach the other. Two processes on auto must train like one
    # process in the contiguous layout (same global batch; float rounding aside).
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    project = load_project(example_path("mnist_cnn"))
    project.training.update(epochs=1, batch_size=32, validation_split=0.8, optimizer="sgd", learning_rate=0.05)
    weights = {}
    for name, launcher, layout in (("one", [sys.executable], "contiguous"),
                                   ("two", [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                            "--nproc_per_node=2"], "auto")):
        project.training.update(memory_format=layout)
        path = project.save(tmp_path / f"{name}.nbproj")
        done = subprocess.run([*launcher, "-m", "netbuilder", "train", str(path), "--out", str(tmp_path / name),
                               "--device", "cpu", "--json-log"], cwd=root, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        assert any(json.loads(line)["event"] == "finished" for line in done.stdout.splitlines()
                   if line.startswith("{"))
        weights[name] = load_file(str(tmp_path / name / "run-0001" / "last.safetensors"))
    for key, value in weights["one"].items():
        if key.startswith("model."):
            torch.testing.assert_close(weights["two"][key], value, rtol=1e-4, atol=1e-4, msg=key)


def _agree(rank: int, init_file: str, results: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    mine = memory_format.LayoutChoice(CHANNELS_LAST if rank == 0 else CONTIGUOUS, f"rank {rank} timed it")
    agreed = memory_format.agree_across_ranks(mine, rank, 2)
    Path(results, f"{rank}.txt").write_text(f"{agreed.name}|{agreed.reason}")
    dist.destroy_process_group()


def test_every_rank_takes_rank_0s_layout(tmp_path: Path) -> None:
    torch.multiprocessing.spawn(_agree, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    assert (tmp_path / "0.txt").read_text() == "channels_last|rank 0 timed it"
    assert (tmp_path / "1.txt").read_text() == "channels_last|rank 0's choice (rank 0 timed it)"
