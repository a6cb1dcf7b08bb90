"""Time from launch to the main window's first paint, against ``import torch; os._exit(0)``.

Target: ratio (first paint / import torch) <= 0.5. Both are whole processes started from here,
interleaved (app, reference, app, reference, ...), so interpreter start-up counts on both sides and
slow drift of the machine's load moves both. Both leave by ``os._exit(0)``, as the app's child does at
its first paint: the reference must not also pay for tearing down torch's modules at interpreter exit.
The app child is what ``netbuilder`` runs (ui.app.open_window on the digits CNN); it reports whether
torch had been imported by its first paint (it must not have been).

Printed: the median and range of each, and the ratio as the median (and range) of the per-pair
ratios. Exits 1 when the ratio misses the target or torch was imported before the first paint.

    python benchmarks/bench_first_paint.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_RATIO = 0.5
APP_CHILD = """
import os, sys
from ui.app import open_window
app, window, startup = open_window()
def painted():
    print("torch imported at first paint:", "torch" in sys.modules, flush=True)
    os._exit(0)
startup.painted.connect(painted)
app.exec()
"""
TORCH_CHILD = "import os, torch; os._exit(0)"


PRIVATE = tempfile.mkdtemp(prefix="bench-first-paint-")  # settings and data: a first start, not this user's


def _timed(code: str) -> tuple[float, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "XDG_CONFIG_HOME": os.path.join(PRIVATE, "config"), "NETBUILDER_DATA_DIR": os.path.join(PRIVATE, "data")}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, out.stdout.strip()


def spread(seconds: list[float]) -> str:
    return (f"median {statistics.median(seconds) * 1000:.0f} ms "
            f"(range {min(seconds) * 1000:.0f}-{max(seconds) * 1000:.0f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--target-scale", type=float, default=1.0,
                        help="multiplies the target (for checking the gate itself; 1 is the real target)")
    args = parser.parse_args()
    target = TARGET_RATIO * args.target_scale
    _timed(TORCH_CHILD), _timed(APP_CHILD)  # warm the file cache for both
    paint, torch_import, reports = [], [], set()
    for _ in range(args.repeats):
        seconds, report = _timed(APP_CHILD)
        paint.append(seconds)
        reports.add(report)
        torch_import.append(_timed(TORCH_CHILD)[0])
    ratios = [p / t for p, t in zip(paint, torch_import, strict=True)]
    ratio = statistics.median(ratios)
    print(f"first paint of the main window:             {spread(paint)} over {args.repeats} launches")
    print(f"python -c 'import torch; os._exit(0)':      {spread(torch_import)}")
    print(f"ratio first paint / import torch (per pair): median {ratio:.2f} "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}), target <= {target:g}")
    for report in sorted(reports):
        print(report)
    failed = False
    if any(r.endswith("True") for r in reports):
        print("FAIL: torch was imported before the first paint: something at start-up imports it eagerly "
              "(ui/startup.py defers it until after the paint)")
        failed = True
    if ratio > target:
        print(f"FAIL: first paint takes {ratio:.2f} x import torch, over the target {target:g}: "
              "find what start-up imports or builds before the window shows (python -X importtime)")
        failed = True
    if not failed:
        print("PASS: first paint within target")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
