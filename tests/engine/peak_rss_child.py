"""Import hostile ONNX files in child processes and measure each one's peak memory (RSS).

Run as ``python -m tests.engine.peak_rss_child FILE...``. It imports the importer (and torch) once,
then per file forks a child that imports the file; ``os.wait4`` gives that child's peak RSS
(``ru_maxrss``), from which the child's own peak when it began is taken (a forked child starts with
less than its parent: pages of mapped files come back as they are touched, and count as growth).
One JSON line per file: the error message (None when it imported), the growth in MiB, the seconds.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import torch

from netbuilder.onnx.importer import OnnxImportError, import_onnx

torch.set_num_threads(1)


def measure(path: str) -> dict[str, object]:
    read, write = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            import_onnx(path)
            result: dict[str, object] = {"message": None}
        except OnnxImportError as exc:
            result = {"message": str(exc)}
        except BaseException as exc:  # reported, not raised: the test names it
            result = {"message": None, "uncaught": f"{type(exc).__name__}: {exc}"[:500]}
        os.write(write, json.dumps({**result, "before": before}).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    _, status, usage = os.wait4(pid, 0)
    result = json.loads(data) if data else {"message": None, "before": 0,
                                            "uncaught": f"the child died (status {status})"}
    result.update(file=path, growth_mib=round((usage.ru_maxrss - result.pop("before")) / 1024, 1),
                  seconds=round(time.perf_counter() - start, 2))
    return result


if __name__ == "__main__":
    for file in sys.argv[1:]:
        print(json.dumps(measure(file)), flush=True)
