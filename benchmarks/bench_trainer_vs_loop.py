"""Trainer throughput against an idiomatic hand-written PyTorch loop, measured in the same run.

The seed's MNIST CNN, Adam, one epoch over 6,000 synthetic 28×28 images. The reference is
what a tutorial writes: TensorDataset + DataLoader(shuffle=True) and ``loss.item()`` every
step. Each side runs in its own child process (so peak memory is its own), alternating
A B A B to cancel drift; the ratio of medians is printed.

    python benchmarks/bench_trainer_vs_loop.py [--batch 32 128] [--repeats 3] [--device cpu|cuda]
        [--precision fp32|bf16|fp16] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

N_SAMPLES = 6000


def _child(side: str, batch: int, device: str, precision: str) -> None:
    import torch

    from netbuilder import build_module, load_project
    from netbuilder.data.dataset import Dataset
    from netbuilder.examples import example_path
    from netbuilder.files.training_settings import TrainingSettings
    from netbuilder.training.trainer import Trainer

    torch.manual_seed(0)
    x = torch.rand(N_SAMPLES, 1, 28, 28)
    y = torch.randint(0, 10, (N_SAMPLES,))
    model = build_module(load_project(example_path("mnist_cnn")).graph)
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if side == "trainer":
        settings = TrainingSettings(loss="cross_entropy", optimizer="adam", batch_size=batch, epochs=2,
                                    validation_split=0.0, device=device, precision=precision, report_every=50)
        times = []
        trainer = Trainer(model, Dataset("synthetic", x, y, "classification", 10), settings,
                          on_event=lambda e: times.append(time.perf_counter())
                          if type(e).__name__ == "Epoch" else None)
        start = time.perf_counter()
        trainer.run()
        # Epoch 1 is the warm-up; time epoch 2 alone.
        seconds = times[1] - times[0] if len(times) > 1 else times[0] - start
    else:
        from torch.utils.data import DataLoader, TensorDataset

        model = model.to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True)
        amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
        for epoch in range(2):
            if epoch == 1:
                if cuda:
                    torch.cuda.synchronize()
                start = time.perf_counter()
            for xb, yb in loader:
                xb, yb = xb.to(dev), yb.to(dev)
                with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    loss = torch.nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                if scaler:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    loss.backward()
                    opt.step()
                loss.item()
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated() / 2**20 if cuda
            else (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) / 1024)
    print(json.dumps({"samples_per_s": N_SAMPLES / seconds, "peak_mib": peak}))


def _run(side: str, batch: int, device: str, precision: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", side, "--batch", str(batch), "--device", device,
                          "--precision", precision], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("trainer", "loop"))
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--quick", action="store_true", help="one repeat, batch 32 only")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.batch[0], args.device, args.precision)
        return 0
    if args.quick:
        args.repeats, args.batch = 1, [32]
    ok = True
    for batch in args.batch:
        runs: dict[str, list[dict[str, float]]] = {"trainer": [], "loop": []}
        for _ in range(args.repeats):
            for side in ("trainer", "loop"):
                runs[side].append(_run(side, batch, args.device, args.precision))
        rate = {s: statistics.median(r["samples_per_s"] for r in v) for s, v in runs.items()}
        peak = {s: statistics.median(r["peak_mib"] for r in v) for s, v in runs.items()}
        ratio = rate["trainer"] / rate["loop"]
        print(f"batch {batch} on {args.device} ({args.precision}): trainer {rate['trainer']:,.0f} samples/s, "
              f"hand-written loop {rate['loop']:,.0f} samples/s, ratio {ratio:.3f}; peak memory "
              f"trainer {peak['trainer']:.1f} MiB, loop {peak['loop']:.1f} MiB")
        if batch == 32:
            ok &= ratio >= 1.0
            print(f"{'PASS' if ratio >= 1.0 else 'FAIL'}: batch 32 throughput ratio {ratio:.3f} (target >= 1.0)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
