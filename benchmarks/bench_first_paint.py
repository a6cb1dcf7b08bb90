"""Time from launch to the main window's first paint, against ``python -c "import torch"``.

Target: ratio (first paint / import torch) <= 0.5. Both are whole processes started from
here, interleaved, so interpreter start-up counts on both sides. The app child is what
``netbuilder`` runs (ui.app.open_window on the digits CNN); it exits from its first-paint
signal and reports whether torch had been imported by then (it must not have been).

    python benchmarks/bench_first_paint.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

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
TORCH_CHILD = "import torch"


def _timed(code: str) -> tuple[float, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    _timed(TORCH_CHILD), _timed(APP_CHILD)  # warm the file cache for both
    paint, torch_import, reports = [], [], set()
    for _ in range(args.repeats):
        seconds, report = _timed(APP_CHILD)
        paint.append(seconds)
        reports.add(report)
        torch_import.append(_timed(TORCH_CHILD)[0])
    p, t = statistics.median(paint), statistics.median(torch_import)
    print(f"first paint of the main window: median {p * 1000:.0f} ms over {args.repeats} launches")
    print(f"python -c 'import torch':       median {t * 1000:.0f} ms")
    print(f"ratio first paint / import torch: {p / t:.2f} (target <= 0.5)")
    for report in sorted(reports):
        print(report)
    if any(r.endswith("True") for r in reports):
        sys.exit("torch was imported before the first paint: something at start-up imports it eagerly")


if __name__ == "__main__":
    main()
