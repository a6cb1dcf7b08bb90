"""A benchmark's gate: it exits 1 when it misses a target and 0 when it meets them, so a script or CI
can act on it (the GUI benchmarks once printed 'over target' and exited 0).

Each runs small and short here; ``--target-scale`` moves every target out of reach (0) or within it (1000),
so the outcome depends on the gate, not on this machine's speed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RUNS = {
    "bench_first_paint.py": ["--repeats", "1"],
    "bench_canvas_scale.py": ["--nodes", "250", "--repeats", "3", "--opens", "1"],
    "bench_gui_training.py": ["--rounds", "1", "--epochs", "2", "--redraw-repeats", "2"],
    "bench_onnx_import.py": ["--model", "squeezenet", "--pairs", "1", "--memory-runs", "1"],
    "bench_trainer_vs_loop.py": ["--batch", "32", "--repeats", "1", "--samples", "256"],
}


def run_benchmark(name: str, target_scale: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(BENCHMARKS / name), *RUNS[name], "--target-scale", str(target_scale)],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_missed_target_exits_1_and_says_which(name):
    out = run_benchmark(name, target_scale=0)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAIL:" in out.stdout
    assert "PASS:" not in out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_met_targets_exit_0(name):
    out = run_benchmark(name, target_scale=1000)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS:" in out.stdout
    assert "FAIL:" not in out.stdout
    assert "ratio" in out.stdout and "range" in out.stdout  # each figure against its reference, with its spread
