#!/usr/bin/env bash
# The GPU checks, as one script for a machine with a CUDA GPU (run from the repo root).
# It needs torch with CUDA, plus the engine's pure-Python dependencies; where the machine
# has no netbuilder install, it puts the repo (and resources/ as netbuilder_resources) on
# PYTHONPATH. Output goes to stdout and, when $OUT is set, to $OUT/gpu_checks.log.
set -uo pipefail
log=${OUT:-/tmp}/gpu_checks.log
exec > >(tee "$log") 2>&1
shim=$(mktemp -d)
ln -s "$PWD/resources" "$shim/netbuilder_resources"
export PYTHONPATH="$PWD:$shim${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"

echo "== Trainer vs hand-written loops on the GPU (seed CNN, 6,000 synthetic images, Adam)"
# fp32 in full (7 interleaved rounds, the batch-32 target, the layout the Trainer measured);
# mixed precision in 3 rounds at batch 128 to fit the device time: indicative, spread printed.
python3 benchmarks/bench_trainer_vs_loop.py --device cuda --precision fp32 --batch 32 128 --repeats 7
for precision in bf16 fp16; do
    python3 benchmarks/bench_trainer_vs_loop.py --device cuda --precision "$precision" --batch 128 --repeats 3
done

echo "== netbuilder train on CUDA, mixed precision, the CNN example on the bundled digits"
for precision in bf16 fp16; do
    python3 -m netbuilder train mnist_cnn --device cuda --precision "$precision" --epochs 5 \
        --out "$shim/runs-$precision" --json-log | python3 -c "
import json, sys
events = [json.loads(line) for line in sys.stdin]
last = events[-1]
print('$precision', last['event'], last.get('reason'), {k: round(v, 4) for k, v in last.get('final', {}).items()})"
done

echo "== the engine's tests with CUDA present (device=auto picks the GPU)"
python3 -m pytest -q -x -p no:cacheprovider tests/engine \
    --deselect tests/engine/test_cli_and_examples.py::test_netbuilder_script_hands_subcommands_to_the_cli
