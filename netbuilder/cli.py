"""The headless command line: ``netbuilder check|summary ...``. Never imports Qt.

Exit codes: 0 success, 1 the input has problems (reported), 2 usage error, 3 internal error
(a bug: "please report", with the traceback in a log file whose path is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUBCOMMANDS = ("check", "summary", "train", "export", "codegen", "import")
LOG_DIR_ENV = "NETBUILDER_LOG_DIR"  # where internal-error logs go, instead of the user log folder


def _device_name(text: str) -> str:
    """``--device``: one of the project format's devices, or one CUDA GPU by its number (``cuda:1``)."""
    from netbuilder.files.training_settings import CUDA_DEVICE, DEVICES

    if text in DEVICES or CUDA_DEVICE.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not a device: use auto, cpu, cuda, cuda:0, cuda:1, ... or mps")


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
    problems, inference = _problems(project)
    if project.data.get("dataset") and not any(p.code == "data-settings" for p in problems):
        from netbuilder.data.project_check import project_data_problems

        problems += project_data_problems(project, inference)  # as the app's Problems list says them
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
    from netbuilder.analysis.summary import DEAD_NOTE, summarize

    project = _load(args.file)
    problems, inference = _problems(project)
    summary = summarize(project.graph, inference)
    errors = [p for p in problems if p.severity == "error"]
    if args.json:
        doc = summary.to_dict()
        doc["problems"] = [p.to_dict(project.graph) for p in problems]
        print(json.dumps(doc, indent=1))
        return 1 if errors else 0
    if args.format != "table":  # the app's Summary dock copies the same text
        print(summary.to_markdown(project.name) if args.format == "markdown" else summary.to_csv(), end="")
        return 1 if errors else 0
    header = ("name", "kind", "output", "params", "MACs", "activations")
    rows = [(r.name, r.kind, r.output, f"{r.params:,}", f"{r.macs:,}", r.cells()[-1]) for r in summary.rows]
    if summary.dead_rows:  # layers reaching no Output are not compiled: marked, and not in the totals
        header += ("",)
        rows = [(*row, "" if r.compiled else DEAD_NOTE) for row, r in zip(rows, summary.rows, strict=True)]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:{'<' if k < 3 or k > 5 else '>'}{w}}}" for k, w in enumerate(widths))
    print(f"{project.name} ({args.file})")
    print(line.format(*header).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row).rstrip())
    print("  ".join("-" * w for w in widths))
    for total in summary.totals():
        print(total)
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

    from netbuilder.files.atomic import check_writable
    from netbuilder.training.console import EpochLines, JsonLog, ProgressDisplay, StdinControl
    from netbuilder.training.distributed import DistContext
    from netbuilder.training.run import runs_dir, train_project

    if args.nice and hasattr(os, "nice"):  # before torch starts its threads: they inherit the priority
        os.nice(args.nice)
    project = _load(args.file)
    out = Path(args.out) if args.out else None
    if out is None and not Path(args.file).exists():
        out = Path(f"{args.file}-runs")  # a built-in example: runs go to the current folder, not the package
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                   ("device", args.device), ("precision", args.precision)) if v is not None}
    dist = DistContext.from_environment(args.device or project.training.get("device", "auto"))
    if dist.is_main and (out is not None or project.path is not None):
        # Before any data is fetched or an epoch run: a folder that cannot hold the runs is
        # named now (a read-only one would otherwise fail inside SQLite, in its own words).
        folder = runs_dir(project, out)
        folder.mkdir(parents=True, exist_ok=True)  # like the default folder, made when missing
        check_writable(folder / "history.sqlite")
    show = None
    holder = {}

    def listener_gone() -> None:  # the app reading --json-log died: the run ends interrupted, saved
        _quiet_stdout()
        if "trainer" in holder:
            holder["trainer"].interrupt()

    if dist.is_main:
        show = (JsonLog(gone=listener_gone) if args.json_log else ProgressDisplay() if sys.stderr.isatty()
                else EpochLines())
    # Read from now on: a stop sent while the data loads takes effect when the Trainer exists.
    control = StdinControl().start() if args.control_stdin else None

    def on_sigint(signum, frame) -> None:  # Ctrl-C stops after the current batch; checkpoints stay
        if "trainer" in holder:
            holder["trainer"].cancel()

    def trainer_ready(trainer) -> None:
        holder["trainer"] = trainer
        if control is not None:
            control.attach(trainer)

    previous = signal.signal(signal.SIGINT, on_sigint)
    finished = False
    try:
        result, run_dir = train_project(project, overrides, show, out,
                                        Path(args.resume) if args.resume else None, dist,
                                        trainer_ready=trainer_ready,
                                        progress=_download_progress if dist.is_main else None)
        finished = True
    finally:
        signal.signal(signal.SIGINT, previous)
        if control is not None:
            control.detach()
        holder.clear()  # the trainer and its DDP model go before the process group they use
        if dist.world_size > 1:
            gc.collect()
        dist.close(finished)
        if control is not None:
            # A worker whose parent waits for it to exit: the collector's pass over torch's objects
            # at interpreter exit is a third of a second of a stop; the process ends next anyway.
            gc.freeze()
    if dist.is_main and not args.json_log:
        if run_dir is not None:
            print(f"run saved in {run_dir} (checkpoints best.safetensors, last.safetensors; "
                  f"history in {run_dir.parent / 'history.sqlite'})", file=sys.stderr)
    if result.status == "failed":
        return 1  # the display has printed the reason
    return 130 if result.status in ("stopped", "interrupted") else 0


def _quiet_stdout() -> None:
    """Point stdout at the null device once its reader is gone, so that nothing written later (the
    interpreter's last flush at exit included) fails on the broken pipe (as Python's docs advise)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no stdout to point anywhere
        pass


def _export(args: argparse.Namespace) -> int:
    from netbuilder.files.atomic import check_writable

    project = _load(args.file)
    check_writable(args.output)  # before the work: a missing folder is named, not blamed on the model
    if args.format == "onnx":
        from netbuilder.onnx.exporter import export_onnx

        report = export_onnx(project, args.output, args.weights, args.opset, args.static_batch,
                             fresh_weights=args.fresh_weights)
        if args.json:
            print(json.dumps({"path": str(report.path), "exporter": report.exporter, "opset": report.opset,
                              "seconds": report.seconds, "bytes": report.size_bytes,
                              "max_abs_error": report.max_abs_error, **_weights_json(report.weights)}, indent=1))
        else:
            print(report.summary())
            print(_weights_line(report.weights), file=sys.stderr)
        return 0
    from netbuilder.build.compile import build_module
    from netbuilder.files.weights import load_project_weights, save_weights
    from netbuilder.model.fingerprint import graph_fingerprint

    module = build_module(project.graph)
    used = load_project_weights(module, project.path, args.weights, args.fresh_weights)
    path = save_weights(module, args.output, {"project": project.name, "graph_hash": graph_fingerprint(project.graph)})
    if args.json:
        print(json.dumps({"path": str(path), "tensors": len(module.state_dict()), **_weights_json(used)}, indent=1))
    else:
        print(f"wrote {path} ({len(module.state_dict())} tensors)")
        print(_weights_line(used), file=sys.stderr)
    return 0


def _weights_line(used) -> str:
    line = f"with {used.describe()}"
    if used.file is None and used.reason != "as asked":
        line += "; pass --weights FILE for trained ones, or --fresh-weights to say fresh is meant"
    return line


def _weights_json(used) -> dict[str, Any]:
    return {"weights": str(used.file) if used.file else None, "fresh_tensors": list(used.fresh),
            "weights_note": used.describe()}


def _codegen(args: argparse.Namespace) -> int:
    from netbuilder.build.codegen import generate_source
    from netbuilder.files.atomic import check_writable, write_atomic

    project = _load(args.file)
    to_stdout = args.output in (None, "-")
    if args.with_training and to_stdout:
        print("error: --with-training needs -o FILE.py (the data is written beside it)", file=sys.stderr)
        return 2
    if not to_stdout:
        check_writable(args.output)
    training = arrays = data_path = None
    if args.with_training:
        from netbuilder.training.training_script import training_source

        data_path = Path(args.output).with_name(Path(args.output).stem + "_data.npz")
        training, arrays = training_source(project, data_path.name)
    source = generate_source(project, args.file, training=training)  # refused graphs write nothing
    if to_stdout:
        sys.stdout.write(source)
        return 0
    if data_path is not None:
        from netbuilder.training.training_script import write_training_data

        write_training_data(data_path, arrays)
    write_atomic(Path(args.output), source.encode("utf-8"))
    print(f"wrote {args.output}" + (f" and its data {data_path}" if data_path else ""), file=sys.stderr)
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
        description="Design neural networks by drawing them. These are the headless commands; the "
                    "'netbuilder' command without one opens the app (python -m netbuilder never opens a window), and "
                    "'netbuilder --self-test' checks an installation end to end (window, examples, training, ONNX).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, func, text in (
        ("check", _check, "report every problem in a project (exit 1 if there are errors)"),
        ("summary", _summary, "a table of nodes, shapes, parameters, multiply-adds and activation memory"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("file", help="a .nbproj project file, or the name of a built-in example")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func)
    sub.choices["summary"].add_argument(
        "--format", choices=("table", "markdown", "csv"), default="table",
        help="a Markdown table with the totals, or CSV with plain numbers (as the app's Summary dock copies)")
    t = sub.add_parser("train", help="train a project headless (also under torchrun)",
                       description="Train a project with its saved settings; options override them.")
    t.add_argument("file", help="a .nbproj project file, or the name of a built-in example")
    t.add_argument("--epochs", type=int, help="number of epochs")
    t.add_argument("--batch-size", type=int, help="samples per batch (the global batch under torchrun)")
    t.add_argument("--device", type=_device_name, metavar="{auto,cpu,cuda,cuda:N,mps}", help="where to train")
    t.add_argument("--precision", choices=("fp32", "bf16", "fp16"), help="mixed precision on a CUDA GPU")
    t.add_argument("--out", help="folder for checkpoints and history (default: beside the project)")
    t.add_argument("--resume", help="a last.safetensors checkpoint to continue from")
    t.add_argument("--json-log", action="store_true", help="one JSON object per event on stdout")
    t.add_argument("--nice", type=int, default=0, metavar="N",
                   help="lower this process's scheduling priority by N (POSIX; the app's worker uses it so "
                        "the window stays responsive)")
    t.add_argument("--control-stdin", action="store_true",
                   help="read pause, resume and stop from stdin, one a line; the end of stdin means stop")
    t.set_defaults(func=_train, json=False)
    e = sub.add_parser("export", help="export to ONNX (verified with ONNX Runtime) or weights as safetensors")
    e.add_argument("file", help="a .nbproj project file, or the name of a built-in example")
    e.add_argument("--format", choices=("onnx", "safetensors"), default="onnx")
    e.add_argument("-o", "--output", required=True, help="the file to write")
    w = e.add_mutually_exclusive_group()
    w.add_argument("--weights", help="trained weights: a checkpoint (best/last.safetensors) or weights file "
                   "(default: the project's own PROJECT.safetensors beside it, where it fits)")
    w.add_argument("--fresh-weights", action="store_true",
                   help="freshly initialised weights, even where the project has its own")
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
            _json_failed(args, str(exc), "setup")
        return 1
    except BrokenPipeError:  # `netbuilder summary x | head`
        return 0
    except OSError as exc:  # the disk or the file system, not netbuilder: say which file and why
        if exc.filename is None:
            return _internal_error(args)
        print(f"error: {_os_problem(exc)}", file=sys.stderr)
        _json_failed(args, _os_problem(exc), "setup")
        return 1
    except Exception:
        return _internal_error(args)


def _json_failed(args: argparse.Namespace, message: str, kind: str) -> None:
    """With --json-log, a run that could not start (or broke) says why on stdout too, as a
    ``failed`` event: a GUI reading only stdout hears the reason."""
    if not getattr(args, "json_log", False):
        return
    from netbuilder.training.console import JsonLog
    from netbuilder.training.events import Failed

    try:
        JsonLog()(Failed(message, 0, kind))
    except (OSError, ValueError):  # stdout is gone as well: stderr has said it
        pass


def _os_problem(exc: OSError) -> str:
    from netbuilder.errors import os_problem

    return f"{exc.filename}: {os_problem(exc)}"


def _internal_error(args: argparse.Namespace) -> int:
    """A bug: keep the traceback in a log file, name it, and exit 3 (1 means the input has problems)."""
    text = traceback.format_exc()
    name = f"netbuilder-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    log = None
    for folder in _log_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            log = folder / name
            log.write_text(f"netbuilder {_version()} {' '.join(sys.argv)}\ncommand: {args.command}\n\n{text}",
                           encoding="utf-8")
            break
        except OSError:
            log = None
    last = text.rstrip().splitlines()[-1]
    where = f"the traceback is in {log}" if log else f"no log file could be written, so here it is:\n{text}"
    print(f"internal error, please report it (with the log): {last}\n{where}", file=sys.stderr)
    _json_failed(args, f"internal error, please report it (with the log): {last}; "
                 + (f"the traceback is in {log}" if log else "no log file could be written (see stderr)"),
                 "internal")
    return 3



def _log_folders() -> list[Path]:
    if os.environ.get(LOG_DIR_ENV):
        return [Path(os.environ[LOG_DIR_ENV])]
    from platformdirs import user_log_dir

    return [Path(user_log_dir("netbuilder")), Path(tempfile.gettempdir())]


def _version() -> str:
    from netbuilder import __version__

    return __version__
