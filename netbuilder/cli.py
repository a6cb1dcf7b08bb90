"""The headless command line: ``netbuilder check|summary ...``. Never imports Qt.

Exit codes: 0 success, 1 the input has problems (reported), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUBCOMMANDS = ("check", "summary", "train", "export", "codegen", "import")


def _load(target: str):
    from netbuilder.examples import EXAMPLE_NAMES, example_path
    from netbuilder.files.project import load_project

    path = Path(target)
    if not path.exists() and target in EXAMPLE_NAMES:
        path = example_path(target)
    return load_project(path)


def _problems(project) -> list[Any]:
    from netbuilder.analysis.lint import lint_project
    from netbuilder.analysis.shape_inference import infer_shapes

    inference = infer_shapes(project.graph)
    return [*inference.problems, *lint_project(project)], inference


def _check(args: argparse.Namespace) -> int:
    project = _load(args.file)
    problems, _ = _problems(project)
    errors = [p for p in problems if p.severity == "error"]
    if args.json:
        print(json.dumps({"file": args.file, "ok": not errors,
                          "problems": [p.to_dict(project.graph) for p in problems]}, indent=1))
    else:
        for p in problems:
            print(f"{p.severity}: {p.message}")
        n = len(project.graph)
        if errors:
            print(f"{args.file}: {len(errors)} error(s), {len(problems) - len(errors)} warning(s) in {n} nodes")
        else:
            warned = f" ({len(problems)} warning(s))" if problems else ""
            print(f"{args.file}: OK, {n} nodes, no errors{warned}")
    return 1 if errors else 0


def _summary(args: argparse.Namespace) -> int:
    from netbuilder.analysis.summary import summarize

    project = _load(args.file)
    problems, inference = _problems(project)
    summary = summarize(project.graph, inference)
    errors = [p for p in problems if p.severity == "error"]
    if args.json:
        doc = summary.to_dict()
        doc["problems"] = [p.to_dict(project.graph) for p in problems]
        print(json.dumps(doc, indent=1))
        return 1 if errors else 0
    header = ("name", "kind", "output", "params", "MACs")
    rows = [(r.name, r.kind, r.output, f"{r.params:,}", f"{r.macs:,}") for r in summary.rows]
    if summary.dead_rows:  # layers reaching no Output are not compiled: marked, and not in the totals
        header += ("",)
        rows = [(*row, "" if r.compiled else "dead: not counted") for row, r in zip(rows, summary.rows, strict=True)]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:{'<' if k < 3 or k > 4 else '>'}{w}}}" for k, w in enumerate(widths))
    print(f"{project.name} ({args.file})")
    print(line.format(*header).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row).rstrip())
    print("  ".join("-" * w for w in widths))
    print(f"Total parameters: {summary.total_params:,} (trainable {summary.trainable_params:,})")
    print(f"Multiply-adds per sample: {summary.total_macs:,}")
    if dead := summary.dead_rows:
        print(f"Not counted: {summary.dead_params:,} parameters in {len(dead)} layer(s) that reach no Output")
    for p in problems:
        print(f"{p.severity}: {p.message}")
    return 1 if errors else 0


def _download_progress(name: str, done: int, total: int) -> None:
    """Data set downloads, on stderr: one line per file, rewritten in place."""
    size = f"{done / 2**20:.1f} of {total / 2**20:.1f} MiB" if total else f"{done / 2**20:.1f} MiB"
    end = "\n" if total and done >= total else ""
    print(f"\rdownloading {name}: {size}", end=end, file=sys.stderr, flush=True)


def _train(args: argparse.Namespace) -> int:
    import gc
    import signal

    from netbuilder.training.console import EpochLines, JsonLog, ProgressDisplay
    from netbuilder.training.distributed import DistContext
    from netbuilder.training.run import train_project

    project = _load(args.file)
    out = Path(args.out) if args.out else None
    if out is None and not Path(args.file).exists():
        out = Path(f"{args.file}-runs")  # a built-in example: runs go to the current folder, not the package
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                   ("device", args.device), ("precision", args.precision)) if v is not None}
    dist = DistContext.from_environment(args.device or project.training.get("device", "auto"))
    show = None
    if dist.is_main:
        show = JsonLog() if args.json_log else ProgressDisplay() if sys.stderr.isatty() else EpochLines()
    holder = {}

    def on_sigint(signum, frame) -> None:  # Ctrl-C stops after the current batch; checkpoints stay
        if "trainer" in holder:
            holder["trainer"].cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    finished = False
    try:
        result, run_dir = train_project(project, overrides, show, out,
                                        Path(args.resume) if args.resume else None, dist,
                                        trainer_ready=lambda t: holder.__setitem__("trainer", t),
                                        progress=_download_progress if dist.is_main else None)
        finished = True
    finally:
        signal.signal(signal.SIGINT, previous)
        holder.clear()  # the trainer and its DDP model go before the process group they use
        gc.collect()
        dist.close(finished)
    if dist.is_main and not args.json_log:
        if run_dir is not None:
            print(f"run saved in {run_dir} (checkpoints best.safetensors, last.safetensors; "
                  f"history in {run_dir.parent / 'history.sqlite'})", file=sys.stderr)
    if result.status == "failed":
        return 1  # the display has printed the reason
    return 130 if result.status == "cancelled" else 0


def _export(args: argparse.Namespace) -> int:
    project = _load(args.file)
    if args.format == "onnx":
        from netbuilder.onnx.exporter import export_onnx

        report = export_onnx(project, args.output, args.weights, args.opset, args.static_batch)
        if args.json:
            print(json.dumps({"path": str(report.path), "exporter": report.exporter, "opset": report.opset,
                              "seconds": report.seconds, "bytes": report.size_bytes,
                              "max_abs_error": report.max_abs_error}, indent=1))
        else:
            print(report.summary())
        return 0
    from netbuilder.build.compile import build_module
    from netbuilder.files.weights import load_into, save_weights
    from netbuilder.model.fingerprint import graph_fingerprint

    module = build_module(project.graph)
    if args.weights:
        load_into(module, args.weights)
    path = save_weights(module, args.output, {"project": project.name, "graph_hash": graph_fingerprint(project.graph)})
    print(f"wrote {path} ({len(module.state_dict())} tensors)")
    return 0


def _codegen(args: argparse.Namespace) -> int:
    from netbuilder.build.codegen import generate_source
    from netbuilder.files.project_json import write_atomic

    project = _load(args.file)
    training = None
    if args.with_training:
        from netbuilder.training.training_script import training_source, write_training_data

        if args.output in (None, "-"):
            print("error: --with-training needs -o FILE.py (the data is written beside it)", file=sys.stderr)
            return 2
        data_path = Path(args.output).with_name(Path(args.output).stem + "_data.npz")
        training, arrays = training_source(project, data_path.name)
        write_training_data(data_path, arrays)
    source = generate_source(project, args.file, training=training)
    if args.output in (None, "-"):
        sys.stdout.write(source)
    else:
        write_atomic(Path(args.output), source.encode("utf-8"))
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from netbuilder.onnx.importer import import_onnx_project

    out = Path(args.output)
    project, weights_path = import_onnx_project(args.file, out)
    print(f"wrote {out} ({len(project.graph)} nodes) and its weights {weights_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netbuilder",
        description="Design neural networks by drawing them. Without a subcommand, opens the app.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, func, text in (
        ("check", _check, "report every problem in a project (exit 1 if there are errors)"),
        ("summary", _summary, "a table of nodes, shapes, parameters and multiply-adds"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("file", help="a .nbproj project file, or the name of a built-in example")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func)
    t = sub.add_parser("train", help="train a project headless (also under torchrun)",
                       description="Train a project with its saved settings; options override them.")
    t.add_argument("file", help="a .nbproj project file, or the name of a built-in example")
    t.add_argument("--epochs", type=int, help="number of epochs")
    t.add_argument("--batch-size", type=int, help="samples per batch (the global batch under torchrun)")
    t.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where to train")
    t.add_argument("--precision", choices=("fp32", "bf16", "fp16"), help="mixed precision on a CUDA GPU")
    t.add_argument("--out", help="folder for checkpoints and history (default: beside the project)")
    t.add_argument("--resume", help="a last.safetensors checkpoint to continue from")
    t.add_argument("--json-log", action="store_true", help="one JSON object per event on stdout")
    t.set_defaults(func=_train, json=False)
    e = sub.add_parser("export", help="export to ONNX (verified with ONNX Runtime) or weights as safetensors")
    e.add_argument("file", help="a .nbproj project file, or the name of a built-in example")
    e.add_argument("--format", choices=("onnx", "safetensors"), default="onnx")
    e.add_argument("-o", "--output", required=True, help="the file to write")
    e.add_argument("--weights", help="trained weights: a checkpoint (best/last.safetensors) or weights file")
    e.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    e.add_argument("--static-batch", action="store_true", help="fix the batch size instead of a dynamic axis")
    e.add_argument("--json", action="store_true", help="machine-readable report")
    e.set_defaults(func=_export)
    c = sub.add_parser("codegen", help="write the model as a standalone PyTorch module")
    c.add_argument("file", help="a .nbproj project file, or the name of a built-in example")
    c.add_argument("-o", "--output", help="the .py file to write (default: standard output)")
    c.add_argument("--with-training", action="store_true",
                   help="add a training script with the project's settings; its data goes beside it as .npz")
    c.set_defaults(func=_codegen, json=False)
    i = sub.add_parser("import", help="turn an ONNX model into an editable project with its weights")
    i.add_argument("file", help="an .onnx file")
    i.add_argument("-o", "--output", required=True, help="the .nbproj to write (weights go beside it)")
    i.set_defaults(func=_import, json=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from netbuilder.errors import NetbuilderError, ProjectError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NetbuilderError as exc:
        if isinstance(exc, ProjectError) and getattr(args, "json", False):
            print(json.dumps({"file": args.file, "ok": False,
                              "error": {"message": exc.message, "path": exc.path}}, indent=1))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `netbuilder summary x | head`
        return 0
