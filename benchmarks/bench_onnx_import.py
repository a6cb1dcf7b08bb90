"""ONNX import of ResNet-50 (~100 MB of stored weights): netbuilder's import against onnx.load + checker.

The model is the zoo's light ResNet-50 in its stored-weights form (``onnx_corpus.stored_form``: the
weights as ordinary initializers, as the zoo's full file has them). The reference, measured in the
same run and interleaved with ours, is ``onnx.load`` + ``onnx.checker.check_model`` of the same file:
the least any importer does.

Targets: import time (``import_onnx``: read, check, lift the opset, fold, infer shapes, map, verify)
at most 3x the reference's (medians of the pairs); peak memory at most 2x the file's weights. Peak
memory is measured in a fresh subprocess for each run, as the growth of the peak resident set over
the process's resident set just before the work (Linux: VmHWM reset through /proc/self/clear_refs;
elsewhere ru_maxrss), so what the interpreter, torch and onnx take on import is not counted.

    python benchmarks/bench_onnx_import.py [--model resnet50] [--pairs 5] [--memory-runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIME_RATIO, MEMORY_RATIO = 3.0, 2.0


def _ours(path: Path) -> None:
    from netbuilder.onnx.importer import import_onnx

    import_onnx(path)


def _reference(path: Path) -> None:
    import onnx

    onnx.checker.check_model(onnx.load(str(path)))


def _status(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _child(which: str, path: Path) -> None:
    """In a fresh process: the peak memory growth of one run, printed as JSON."""
    import onnx  # noqa: F401  everything either side imports, so the baseline is the same
    import torch  # noqa: F401

    import netbuilder.onnx.importer  # noqa: F401

    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident set to the current one
        base, peak_key = _status("VmRSS"), "VmHWM"
    except OSError:
        base, peak_key = None, None
    if base is None:
        scale = 1 if sys.platform == "darwin" else 1024
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    (_ours if which == "ours" else _reference)(path)
    if peak_key and (peak := _status(peak_key)) is not None:
        pass
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(json.dumps({"growth": peak - base}))


def _memory(which: str, path: Path) -> int:
    out = subprocess.run([sys.executable, __file__, "--child", which, str(path)], capture_output=True, text=True,
                         check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])["growth"]


def _weights_bytes(path: Path) -> int:
    import numpy as np
    import onnx

    model = onnx.load(str(path))
    return sum(int(np.prod(t.dims)) * np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
               for t in model.graph.initializer)


def _spread(xs: list[float], fmt: str = "{:.3f}") -> str:
    return f"median {fmt.format(statistics.median(xs))}, range {fmt.format(min(xs))}-{fmt.format(max(xs))}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet50", help="a light model of onnx's test data (resnet50, squeezenet...)")
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--memory-runs", type=int, default=3)
    p.add_argument("--target-scale", type=float, default=1.0, help="multiplies every target (for the gate test)")
    p.add_argument("--child", nargs=2, metavar=("WHICH", "PATH"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return 0
    sys.path.insert(0, str(HERE))
    from onnx_corpus import DATA, stored_form

    with tempfile.TemporaryDirectory() as tmp:
        path = stored_form(DATA / "light" / f"light_{args.model}.onnx", Path(tmp) / f"{args.model}.onnx")
        weights = _weights_bytes(path)
        print(f"{args.model} with stored weights: file {path.stat().st_size / 2**20:.1f} MiB, "
              f"weights {weights / 2**20:.1f} MiB")
        _reference(path)
        _ours(path)  # first calls: lazy imports and caches, not counted
        ours, ref = [], []
        for _ in range(args.pairs):  # interleaved, so a change in the machine's load hits both
            for run, times in ((_reference, ref), (_ours, ours)):
                start = time.perf_counter()
                run(path)
                times.append(time.perf_counter() - start)
        ratios = [o / r for o, r in zip(ours, ref, strict=True)]
        mem_ours, mem_ref = [], []
        for _ in range(args.memory_runs):
            mem_ref.append(_memory("ref", path))
            mem_ours.append(_memory("ours", path))
    time_ratio = statistics.median(ours) / statistics.median(ref)
    mem_ratio = statistics.median(mem_ours) / weights
    mib = [m / 2**20 for m in mem_ours]
    print(f"netbuilder import_onnx:          {_spread(ours)} s over {args.pairs} runs")
    print(f"onnx.load + checker.check_model: {_spread(ref)} s")
    print(f"time ratio netbuilder/reference = {time_ratio:.2f} (per pair: {_spread(ratios, '{:.2f}')})")
    print(f"peak memory growth, netbuilder:  {_spread(mib, '{:.0f}')} MiB over {args.memory_runs} fresh processes")
    print(f"peak memory growth, reference:   {_spread([m / 2**20 for m in mem_ref], '{:.0f}')} MiB")
    print(f"memory ratio netbuilder/weights = {mem_ratio:.2f} (range {min(mem_ours) / weights:.2f}-"
          f"{max(mem_ours) / weights:.2f}; reference/weights {statistics.median(mem_ref) / weights:.2f})")
    ok = True
    for what, got, target in (("import time ratio", time_ratio, TIME_RATIO * args.target_scale),
                              ("peak memory / weights", mem_ratio, MEMORY_RATIO * args.target_scale)):
        met = got <= target
        ok &= met
        print(f"{'PASS' if met else 'FAIL'}: {what} {got:.2f} (target <= {target:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
