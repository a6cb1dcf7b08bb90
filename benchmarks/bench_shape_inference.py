"""Shape inference on a 1,000-node DAG: full pass, one incremental edit, load + check.

The graph mixes residual conv blocks (Conv2d/BatchNorm2d/ReLU + Add), inception-like
branches merged by Concat, and residual MLP blocks (LayerNorm/Linear/GELU/Dropout + Add);
every node is valid. Targets: full inference <= 20 ms; one edit near the end <= 5 ms
(an edit near the start, the worst case, is reported too); load_project + full check of
the saved file <= 0.5 s. In-run reference: a torch 'meta' forward pass of
build_module(graph), which also yields every shape; its time / ours is printed.

Run: ``.venv/bin/python benchmarks/bench_shape_inference.py [--quick] [--profile]``
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from netbuilder.analysis.shape_inference import ShapeInference, infer_shapes
from netbuilder.build.compile import build_module
from netbuilder.files.project import Project, load_project
from netbuilder.model.graph import Edge, Graph

N_NODES = 1000
TARGET_FULL_S, TARGET_EDIT_S, TARGET_LOAD_S = 0.020, 0.005, 0.5


def make_graph(n_nodes: int = N_NODES) -> tuple[Graph, str, str]:
    """The DAG, the id of a node near the start and of one near the end (both safe to edit)."""
    g = Graph()

    def add(kind: str, *srcs: str, **params: object) -> str:
        node = g.add_node(g.make_node(kind, params=params))
        ports = ["in"] if len(srcs) == 1 else [f"in{k}" for k in range(1, len(srcs) + 1)]
        for src, port in zip(srcs, ports, strict=True):
            g.connect(Edge(src, "out", node.id, port))
        return node.id

    x = add("Input", shape=[4, 16, 16])
    x = add("Conv2d", x, out_channels=16, padding=1)
    first_bn = None
    for _ in range(20):  # residual conv blocks, 7 nodes each
        h = add("BatchNorm2d", add("Conv2d", x, out_channels=16, padding=1))
        first_bn = first_bn or h
        h = add("Conv2d", add("ReLU", h), out_channels=16, padding=1)
        x = add("ReLU", add("Add", x, add("BatchNorm2d", h)))
    for _ in range(10):  # inception-like branch blocks, 4 nodes each
        a = add("Conv2d", x, out_channels=8, kernel_size=1)
        c = add("ReLU", add("Conv2d", x, out_channels=8, padding=1))
        x = add("Concat", a, c, dim=1)
    x = add("MaxPool2d", x, kernel_size=2)
    x = add("Flatten", add("AdaptiveAvgPool2d", x, output_size=1))
    x = add("Linear", x, out_features=64)
    head = 5  # LayerNorm, Linear, ReLU, Linear, Output
    while len(g) + 6 + head <= n_nodes:  # residual MLP blocks, 6 nodes each
        h = add("Linear", add("LayerNorm", x), out_features=128)
        h = add("Linear", add("Dropout", add("GELU", h), p=0.1), out_features=64)
        x = add("Add", x, h)
    while len(g) + head < n_nodes:
        x = add("ReLU", x)
    x = add("LayerNorm", x)
    last_edit = add("Linear", x, out_features=32)
    add("Output", add("Linear", add("ReLU", last_edit), out_features=10))
    assert len(g) == n_nodes, len(g)
    return g, first_bn, last_edit


def median_time(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return statistics.median(times)


def full_inference(graph: Graph) -> None:
    inference = ShapeInference(graph)
    inference.update()
    inference.close()


def time_edits(inference: ShapeInference, node_id: str, param: str, values: tuple,
               repeats: int) -> tuple[float, int]:
    """Flip ``param`` of ``node_id`` (untimed), then time update(); returns (median, count)."""
    graph, times = inference.graph, []
    expected = len(graph.downstream([node_id]))
    gc.collect()
    gc.disable()
    try:
        for k in range(repeats + 2):  # the first two are warm-ups
            graph.set_params(node_id, {param: values[k % 2]})
            t0 = time.perf_counter()
            count = inference.update()
            times.append(time.perf_counter() - t0)
            assert count == expected == inference.last_inferred, (count, expected)
    finally:
        gc.enable()
    return statistics.median(times[2:]), expected


def profile(label: str, fn, n: int) -> None:
    prof = cProfile.Profile()
    prof.runcall(lambda: [fn() for _ in range(n)])
    print(f"--- cProfile: {label} x{n} (tottime) ---")
    pstats.Stats(prof).sort_stats("tottime").print_stats(12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    parser.add_argument("--profile", action="store_true", help="print cProfile tables")
    args = parser.parse_args()
    reps_full, reps_edit, reps_load = (10, 40, 3) if args.quick else (60, 300, 15)
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads or 1)

    graph, start_node, end_node = make_graph()
    check = infer_shapes(graph)
    assert not check.problems, [p.message for p in check.problems[:5]]
    check.close()
    merges = sum(len(graph.in_edges(n)) > 1 for n in graph.nodes)
    print(f"graph: {len(graph)} nodes, {len(graph.edges)} edges, {merges} merges; "
          "inference finds no problems")

    # (a) full inference, and the torch reference: a forward pass on the meta device.
    t_full = median_time(lambda: full_inference(graph), reps_full)
    module = build_module(graph).eval()
    x_cpu, x_meta = torch.randn(1, 4, 16, 16), torch.empty(1, 4, 16, 16, device="meta")
    with torch.no_grad():
        t_cpu = median_time(lambda: module(x_cpu), reps_full)  # second, informative reference
        module.to("meta")
        t_meta = median_time(lambda: module(x_meta), reps_full)

    # (b) incremental: edit near the end (typical) and near the start (worst case).
    inference = infer_shapes(graph)
    t_end, end_count = time_edits(inference, end_node, "out_features", (48, 32), reps_edit)
    t_start, start_count = time_edits(inference, start_node, "eps", (2e-5, 1e-5), reps_edit)
    assert not inference.problems

    # (c) save, then load_project + full check.
    with tempfile.TemporaryDirectory() as tmp:
        path = Project(graph, name="bench 1000 nodes").save(Path(tmp) / "big.nbproj")
        size_kib = path.stat().st_size / 1024

        def load_and_check() -> None:
            found = infer_shapes(load_project(path).graph).problems
            assert not found, found[:3]

        t_load = median_time(load_and_check, reps_load, warmup=1)
        if args.profile:
            profile("load_project + infer_shapes(...).problems", load_and_check, 3)
    inference.close()
    if args.profile:
        profile("full ShapeInference(graph).update()", lambda: full_inference(graph), 20)

    print(f"torch {torch.__version__}, threads {threads}; medians over "
          f"{reps_full} (full), {reps_edit} (edits), {reps_load} (load) repeats")
    print(f"(a) full inference            {t_full * 1e3:9.3f} ms   ({len(graph)} nodes)")
    print(f"    meta-device forward        {t_meta * 1e3:9.3f} ms   (torch reference)")
    print(f"    RATIO meta_forward/ours = {t_meta / t_full:.2f}")
    print(f"    (info: a real CPU forward of batch 1 takes {t_cpu * 1e3:.3f} ms, "
          f"RATIO cpu_forward/ours = {t_cpu / t_full:.2f})")
    print(f"(b) edit near the end          {t_end * 1e3:9.3f} ms   ({end_count} nodes re-inferred)")
    print(f"    edit near the start        {t_start * 1e3:9.3f} ms   "
          f"({start_count} nodes re-inferred)")
    print(f"(c) load_project + check       {t_load * 1e3:9.3f} ms   (file {size_kib:.0f} KiB)")

    failed = 0
    for label, measured, target in [("full inference", t_full, TARGET_FULL_S),
                                    ("edit near the end (typical)", t_end, TARGET_EDIT_S),
                                    ("load_project + full check", t_load, TARGET_LOAD_S)]:
        ok = measured <= target
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}: {label} {measured * 1e3:.3f} ms <= {target * 1e3:g} ms "
              f"(RATIO target/measured {target / measured:.2f})")
    print(f"info: edit near the start (worst case) {t_start * 1e3:.3f} ms, "
          f"RATIO {TARGET_EDIT_S * 1e3:g} ms/measured {TARGET_EDIT_S / t_start:.2f} (not a target)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
