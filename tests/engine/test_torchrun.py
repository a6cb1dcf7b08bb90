"""`netbuilder train` under torchrun with 2 CPU processes (gloo) matches one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from netbuilder import load_project
from netbuilder.examples import example_path

ROOT = Path(__file__).resolve().parents[2]


def test_two_processes_match_one_process_of_the_same_global_batch(tmp_path) -> None:
    project = load_project(example_path("linear_regression"))
    project.training.update(epochs=20, batch_size=20, optimizer="sgd", learning_rate=0.1)
    path = project.save(tmp_path / "line.nbproj")
    single = subprocess.run([sys.executable, "-m", "netbuilder", "train", str(path), "--out", str(tmp_path / "one"),
                             "--device", "cpu", "--json-log"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    multi = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                            "-m", "netbuilder", "train", str(path), "--out", str(tmp_path / "two"), "--device", "cpu",
                            "--json-log"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert multi.returncode == 0, multi.stderr[-3000:]
    # Only rank 0 reports and writes: one event stream, one run folder, one history.
    events = [json.loads(line) for line in multi.stdout.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events].count("started") == 1
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["history.sqlite", "run-0001"]
    one = load_file(str(tmp_path / "one" / "run-0001" / "last.safetensors"))
    two = load_file(str(tmp_path / "two" / "run-0001" / "last.safetensors"))
    # Each rank takes half of every global batch of 20; DDP averages the gradients, so the
    # update equals the single-process one up to float rounding (stated tolerance 1e-5).
    for key in ("model.linear.weight", "model.linear.bias"):
        torch.testing.assert_close(two[key], one[key], atol=1e-5, rtol=1e-5)
    single_losses = [v for e in map(json.loads, single.stdout.splitlines()) if e["event"] == "steps"
                     for v in e["losses"]]
    multi_losses = [v for e in events if e["event"] == "steps" for v in e["losses"]]
    torch.testing.assert_close(torch.tensor(multi_losses), torch.tensor(single_losses), atol=1e-5, rtol=1e-5)
