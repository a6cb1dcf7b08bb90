"""Training-step speed of the compiled MNIST CNN against the same network written by hand.

Loads ``resources/examples/mnist_cnn.nbproj``, compiles it with ``build_module``, copies
its weights into an idiomatic hand-written ``nn.Module`` (by parameter name), checks that
both give the same logits, then times full training steps (zero_grad, forward,
cross-entropy, backward, SGD step) on a batch of 32 1x28x28 images, interleaving the two
models so that drift of a shared, noisy machine hits both alike.

Reported: median step time of each, and the ratio handwritten / netbuilder (1.0: equal;
below 1: netbuilder is slower), as a ratio of the medians and as the median of the
per-round ratios of adjacent A/B blocks. The target, ratio >= 0.98, is checked on the
latter: it cancels slow drift that can move the two medians apart on a loaded machine.

Run: ``.venv/bin/python benchmarks/bench_compile_vs_handwritten.py [--quick]``
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from netbuilder.build.compile import build_module
from netbuilder.files.project import load_project

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "mnist_cnn.nbproj"
BATCH = 32
TARGET_RATIO = 0.98


class HandwrittenCNN(nn.Module):
    """The seed's digits CNN as one would type it: layers in __init__, functions in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.fc1 = nn.Linear(64 * 3 * 3, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.conv3(x))
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def time_block(step, n: int) -> float:
    """Seconds per step, averaged over a block of ``n`` back-to-back steps."""
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    args = parser.parse_args()
    rounds, block, warmup = (20, 4, 10) if args.quick else (100, 5, 20)

    threads = cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    compiled = build_module(load_project(EXAMPLE).graph)
    hand = HandwrittenCNN()
    ours, theirs = dict(compiled.state_dict()), dict(hand.state_dict())
    assert ours.keys() == theirs.keys(), f"names differ: {sorted(ours)} vs {sorted(theirs)}"
    for name, tensor in ours.items():
        assert tensor.shape == theirs[name].shape, f"{name}: {tensor.shape} vs {theirs[name].shape}"
    hand.load_state_dict(ours, strict=True)

    x = torch.randn(BATCH, 1, 28, 28)
    y = torch.randint(0, 10, (BATCH,))
    with torch.no_grad():
        out_nb, out_hand = compiled(x), hand(x)
    torch.testing.assert_close(out_hand, out_nb)
    exact = torch.equal(out_hand, out_nb)
    print(f"outputs equal on a batch of {BATCH}: yes (bit-identical: {exact}), "
          f"max |diff| {float((out_hand - out_nb).abs().max()):.3g}")

    compiled.train()
    hand.train()
    steps = {"netbuilder": make_step(compiled, x, y), "handwritten": make_step(hand, x, y)}
    for step in steps.values():
        time_block(step, warmup)

    times: dict[str, list[float]] = {name: [] for name in steps}
    pair_ratios: list[float] = []
    gc.collect()
    gc.disable()
    try:
        for r in range(rounds):
            # ABAB..., and swap who goes first every round so neither always runs warm.
            order = list(steps) if r % 2 == 0 else list(reversed(steps))
            got = {name: time_block(steps[name], block) for name in order}
            for name, t in got.items():
                times[name].append(t)
            pair_ratios.append(got["handwritten"] / got["netbuilder"])
    finally:
        gc.enable()

    med = {name: statistics.median(ts) for name, ts in times.items()}
    ratio = med["handwritten"] / med["netbuilder"]
    pair_ratio = statistics.median(pair_ratios)
    print(f"torch {torch.__version__}, threads {threads}, batch {BATCH}x1x28x28, SGD(momentum 0.9)")
    print(f"{rounds} interleaved rounds x {block} steps each, after {warmup} warm-up steps")
    for name in ("netbuilder", "handwritten"):
        ts = times[name]
        print(f"  {name:<12} step median {med[name] * 1e3:8.3f} ms  "
              f"(min {min(ts) * 1e3:.3f}, max {max(ts) * 1e3:.3f})")
    print(f"RATIO handwritten/netbuilder (medians)        = {ratio:.4f}")
    q1, _, q3 = statistics.quantiles(pair_ratios, n=4)
    print(f"RATIO handwritten/netbuilder (median of pairs) = {pair_ratio:.4f}  "
          f"(pairs' interquartile range {q1:.4f}..{q3:.4f}; gated on this one)")

    ok = pair_ratio >= TARGET_RATIO
    print(f"{'PASS' if ok else 'FAIL'}: step-time ratio handwritten/netbuilder {pair_ratio:.4f} "
          f">= {TARGET_RATIO} (measured/target {pair_ratio / TARGET_RATIO:.3f}; >= 1 passes)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
