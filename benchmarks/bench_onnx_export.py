"""ONNX export of the seed CNN: netbuilder's verified export against torch's bare exporters.

Target: export + checker + ONNX Runtime verification at two batch sizes in under 1 s.
References measured in the same run: torch.onnx.export alone with the TorchScript
exporter (what netbuilder uses) and with the dynamo exporter (its fallback).

    python benchmarks/bench_onnx_export.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

from netbuilder import build_module, load_project
from netbuilder.examples import example_path
from netbuilder.onnx.exporter import export_onnx


def _bare(module: torch.nn.Module, path: Path, dynamo: bool) -> float:
    x = torch.randn(2, 1, 28, 28)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(module, (x,), dynamo=True, dynamic_shapes=({0: torch.export.Dim("N")},),
                              verbose=False).save(str(path))
        else:
            torch.onnx.export(module, (x,), str(path), dynamo=False, dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                              input_names=["x"], output_names=["y"])
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    project = load_project(example_path("mnist_cnn"))
    module = build_module(project.graph).eval()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        first = time.perf_counter()
        export_onnx(project, out / "first.onnx")
        first = time.perf_counter() - first
        ours = [export_onnx(project, out / f"n{k}.onnx").seconds for k in range(repeats)]
        script = [_bare(module, out / f"s{k}.onnx", dynamo=False) for k in range(repeats)]
        dynamo = [_bare(module, out / f"d{k}.onnx", dynamo=True) for k in range(max(1, repeats // 2))]
    ours_m, script_m, dynamo_m = map(statistics.median, (ours, script, dynamo))
    print(f"netbuilder export + checker + ORT verification: first call in this process {first:.3f} s, "
          f"median {ours_m:.3f} s")
    print(f"torch.onnx.export alone, TorchScript exporter: median {script_m:.3f} s")
    print(f"torch.onnx.export alone, dynamo exporter:      median {dynamo_m:.3f} s")
    print(f"RATIO netbuilder/torchscript-bare = {ours_m / script_m:.2f}; dynamo/torchscript-bare = "
          f"{dynamo_m / script_m:.1f}")
    ok = first < 1.0
    print(f"{'PASS' if ok else 'FAIL'}: first export and verification {first:.3f} s (target < 1 s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
