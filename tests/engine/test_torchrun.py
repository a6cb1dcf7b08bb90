"""`netbuilder train` under torchrun with 2 CPU processes (gloo) matches one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from netbuilder import load_project
from netbuilder.examples import example_path

ROOT = Path(__file__).resolve().parents[2]


def _train(path: Path, out: Path, processes: int) -> tuple[list[dict], dict[str, torch.Tensor]]:
    """Train ``path`` in 1 (plain) or more (torchrun) CPU processes: rank 0's events and last weights."""
    launcher = ([sys.executable] if processes == 1 else
                [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"])
    done = subprocess.run([*launcher, "-m", "netbuilder", "train", str(path), "--out", str(out), "--device", "cpu",
                           "--json-log"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return events, load_file(str(out / "run-0001" / "last.safetensors"))


def _losses(events: list[dict]) -> torch.Tensor:
    return torch.tensor([v for e in events if e["event"] == "steps" for v in e["losses"]])


def test_two_processes_match_one_process_of_the_same_global_batch(tmp_path) -> None:
    project = load_project(example_path("linear_regression"))
    project.training.update(epochs=20, batch_size=20, optimizer="sgd", learning_rate=0.1)
    path = project.save(tmp_path / "line.nbproj")
    single, one = _train(path, tmp_path / "one", 1)
    events, two = _train(path, tmp_path / "two", 2)
    # Only rank 0 reports and writes: one event stream, one run folder, one history.
    assert [e["event"] for e in events].count("started") == 1
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["history.sqlite", "run-0001"]
    # Each rank takes half of every global batch of 20; DDP averages the gradients, so the
    # update equals the single-process one up to float rounding (stated tolerance 1e-5).
    for key in ("model.linear.weight", "model.linear.bias"):
        torch.testing.assert_close(two[key], one[key], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(_losses(events), _losses(single), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("batch_size", [10, 7])
def test_uneven_and_empty_last_shards_match_one_process(tmp_path, batch_size: int) -> None:
    # 126 rows, 25 held out: 101 to train on. With batch 10 the last batch is one row, so rank 1
    # gets none of it; with batch 7 every batch splits 4 / 3 between the ranks.
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (126, 1)).astype(np.float32)
    np.savez(tmp_path / "line.npz", x=x, y=(2 * x + 0.3 * rng.standard_normal((126, 1))).astype(np.float32))
    project = load_project(example_path("linear_regression"))
    project.data = {"dataset": "numpy", "options": {"path": "line.npz"}}
    project.training.update(epochs=6, batch_size=batch_size, optimizer="sgd", learning_rate=0.1,
                            validation_split=0.2, report_every=3)
    path = project.save(tmp_path / "line.nbproj")
    single, one = _train(path, tmp_path / "one", 1)
    events, two = _train(path, tmp_path / "two", 2)
    started = next(e for e in events if e["event"] == "started")
    assert (started["train_samples"], started["steps_per_epoch"]) == (101, -(-101 // batch_size))
    assert len(_losses(events)) == 6 * started["steps_per_epoch"]
    torch.testing.assert_close(_losses(events), _losses(single), atol=1e-5, rtol=1e-5)
    for key in ("model.linear.weight", "model.linear.bias"):
        torch.testing.assert_close(two[key], one[key], atol=1e-5, rtol=1e-5)
    # Epoch metrics (train and validation) count every row once, whichever rank saw it.
    epochs = [e for e in events if e["event"] == "epoch"]
    expected = [e for e in single if e["event"] == "epoch"]
    for got, want in zip(epochs, expected, strict=True):
        for part in ("train", "val"):
            assert got[part].keys() == want[part].keys() == {"loss", "mae", "r2"}
            torch.testing.assert_close(torch.tensor(list(got[part].values())),
                                       torch.tensor(list(want[part].values())), atol=1e-5, rtol=1e-5)
