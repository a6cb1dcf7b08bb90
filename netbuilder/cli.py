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

SUBCOMMANDS = ("check", "summary")


def _load(target: str):
    from netbuilder.examples import EXAMPLE_NAMES, example_path
    from netbuilder.project import load_project

    path = Path(target)
    if not path.exists() and target in EXAMPLE_NAMES:
        path = example_path(target)
    return load_project(path)


def _problems(project) -> list[Any]:
    from netbuilder.lint import lint_project
    from netbuilder.shape_inference import infer_shapes

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
    from netbuilder.summary import summarize

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
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:{'<' if k < 3 else '>'}{w}}}" for k, w in enumerate(widths))
    print(f"{project.name} ({args.file})")
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    print("  ".join("-" * w for w in widths))
    print(f"Total parameters: {summary.total_params:,} (trainable {summary.trainable_params:,})")
    print(f"Multiply-adds per sample: {summary.total_macs:,}")
    for p in problems:
        print(f"{p.severity}: {p.message}")
    return 1 if errors else 0


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from netbuilder.errors import ProjectError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProjectError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"file": args.file, "ok": False,
                              "error": {"message": exc.message, "path": exc.path}}, indent=1))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `netbuilder summary x | head`
        return 0
