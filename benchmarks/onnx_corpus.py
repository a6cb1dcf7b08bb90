"""Count which ONNX models nobody here wrote import, export again and reproduce their outputs.

The corpus is what onnx ships in its own test data (``onnx/backend/test/data``):

* ``light``: the model zoo's nine classic CNNs with their weights computed at load time
  (ConstantOfShape), as the zoo's "light" variants are;
* ``stored``: the same nine with those weights folded into ordinary initializers, the form the
  zoo's full files have;
* ``torch``: ``pytorch-converted``, 82 small ``torch.nn`` modules exported by torch, each with
  an input and the output torch computed;
* ``archs``: six common modern architectures (ResNet blocks, MobileNetV2, VGG with BatchNorm, an
  Embedding + LSTM text classifier, a Transformer encoder, a small U-Net; the modules of
  ``tests/engine/onnx_architectures.py``) exported here by each of torch's two exporters, as
  written: the dynamo exporter's keep their weights in an external ``.data`` file.

For each model: ``netbuilder import`` (the CLI's path: project and weights beside it), then
``netbuilder export`` to ONNX, then ONNX Runtime on the re-exported file against the original's
output (the stored output, or ONNX Runtime on the original) at rtol 1e-3, atol 1e-4, at the
original's batch and at another batch size where the model has a free batch.

    python benchmarks/onnx_corpus.py [light|stored|torch|archs ...] [--verbose]

Prints one line per model and the counts; exits non-zero when a set misses its target
(9 of 9, 9 of 9, 76 of 82, 12 of 12).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnx.version_converter
from onnx import numpy_helper

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
TARGETS = {"light": 9, "stored": 9, "torch": 76, "archs": 12}
RTOL, ATOL = 1e-3, 1e-4


def _session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def stored_form(light: Path, out: Path) -> Path:
    """The light model with every computed weight replaced by its value (ONNX Runtime's), as an
    ordinary initializer: the form the zoo's full files have."""
    model = onnx.load(str(light))
    g = model.graph
    const = {t.name for t in g.initializer}
    for n in g.node:  # the nodes are in order; a node of constants only is a constant
        if all(not i or i in const for i in n.input):
            const.update(n.output)
    live_inputs = [vi for vi in g.input if vi.name not in const]
    frontier = sorted({i for n in g.node if not set(n.output) <= const for i in n.input if i in const}
                      - {t.name for t in g.initializer})
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.output[:]
    probe.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in frontier)
    onnx.save(probe, str(out.with_suffix(".probe.onnx")))
    sess = _session(out.with_suffix(".probe.onnx"))
    feeds = {vi.name: np.zeros([d.dim_value or 1 for d in vi.type.tensor_type.shape.dim],
                               onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type))
             for vi in live_inputs}
    values = dict(zip(frontier, sess.run(frontier, feeds), strict=True))
    keep = [n for n in g.node if not set(n.output) <= const]
    del g.node[:]
    g.node.extend(keep)
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    stale = [t.name for t in g.initializer if t.name not in used]  # the shapes ConstantOfShape took
    kept = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)
    inputs = [vi for vi in g.input if vi.name not in stale]
    del g.input[:]
    g.input.extend(inputs)
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in values.items())
    if model.ir_version < 4:  # IR 3 lists every initializer as a graph input too, as the zoo's full files do
        g.input.extend(onnx.helper.make_tensor_value_info(k, onnx.helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                       for k, v in values.items())
    onnx.save(model, str(out))
    return out


def cases(which: str, work: Path) -> list[tuple[str, Path, list[np.ndarray], list[np.ndarray] | None]]:
    """(name, model file, inputs, expected outputs or None to compute with ONNX Runtime)."""
    out = []
    if which in ("light", "stored"):
        for f in sorted((DATA / "light").glob("light_*.onnx")):
            name = f.stem.removeprefix("light_")
            path = f if which == "light" else stored_form(f, work / f"{name}_stored.onnx")
            out.append((name, path, [], None))
    elif which == "archs":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.engine.onnx_architectures import ARCHITECTURES, EXPORTERS, export

        for name, make in ARCHITECTURES.items():
            for exporter in EXPORTERS:
                module, sample = make()
                path = export(module, sample, work / f"{name}_{exporter}.onnx", exporter)
                out.append((f"{name}_{exporter}", path, [], None))
    else:
        for d in sorted((DATA / "pytorch-converted").iterdir()):
            ds = d / "test_data_set_0"
            ins = [numpy_helper.to_array(onnx.load_tensor(str(p))) for p in sorted(ds.glob("input_*.pb"))]
            outs = [numpy_helper.to_array(onnx.load_tensor(str(p))) for p in sorted(ds.glob("output_*.pb"))]
            out.append((d.name.removeprefix("test_"), d / "model.onnx", ins, outs))
    return out


def _random(shape: list[int], dtype: np.dtype, rng: np.random.Generator) -> np.ndarray:
    """Standard normal floats, or ids 0..9 for an integer input (token ids: a valid row of any table)."""
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 10, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _inputs_for(path: Path, batch: int | None, seed: int = 0) -> dict[str, np.ndarray]:
    sess = _session(path)
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else (batch or 1) for d in i.shape]
        if batch is not None and shape:
            shape[0] = batch
        dtype = np.int64 if i.type == "tensor(int64)" else np.float32
        feeds[i.name] = _random(shape, np.dtype(dtype), rng)
    return feeds


def check(name: str, path: Path, ins: list[np.ndarray], outs: list[np.ndarray] | None, work: Path) -> str | None:
    """None when the round trip reproduces the original; else why not (one line)."""
    from netbuilder.files.project import load_project
    from netbuilder.onnx.exporter import export_onnx
    from netbuilder.onnx.importer import import_onnx_project

    project_path = work / f"{name}.nbproj"
    back = work / f"{name}_back.onnx"
    try:
        import_onnx_project(path, project_path)
    except Exception as exc:
        return f"import: {str(exc).splitlines()[-1][:300]}"
    try:
        export_onnx(load_project(project_path), back)
    except Exception as exc:
        return f"export: {str(exc).splitlines()[0][:300]}"
    try:
        new = _session(back)
    except Exception as exc:
        return f"load: ONNX Runtime refuses the re-export: {str(exc).splitlines()[0][:300]}"
    model = onnx.load(str(path), load_external_data=False)
    weights = {t.name for t in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name not in weights]
    orig = None  # ONNX Runtime on the original, made only when needed: it runs no opset below 7

    def original():
        nonlocal orig
        if orig is None:
            try:
                orig = _session(path)
            except Exception:  # an old opset ONNX Runtime no longer implements: the same model, lifted
                lifted = work / f"{name}_lifted.onnx"
                onnx.save(onnx.version_converter.convert_model(model, 13), str(lifted))
                orig = _session(lifted)
        return orig

    feeds = dict(zip([vi.name for vi in graph_inputs], ins, strict=True)) if ins else _inputs_for(path, None)
    batches = [None]
    first = graph_inputs[0].type.tensor_type.shape.dim if graph_inputs else []
    if first and not first[0].HasField("dim_value"):  # a free batch: try another size too
        batches.append(3)
    for batch in batches:
        if batch is not None:
            feeds = {k: np.concatenate([v] * 3)[:3] if v.shape[0] == 1 else
                     _random([3, *v.shape[1:]], v.dtype, np.random.default_rng(1)) for k, v in feeds.items()}
        expected = original().run(None, feeds) if outs is None or batch is not None else outs
        new_feeds = dict(zip([i.name for i in new.get_inputs()], feeds.values(), strict=False))
        try:
            got = new.run(None, new_feeds)
        except Exception as exc:
            return f"run: {str(exc).splitlines()[0][:300]}"
        if len(got) != len(expected):
            return f"{len(got)} outputs, expected {len(expected)}"
        for k, (e, g) in enumerate(zip(expected, got, strict=True)):
            if e.shape != g.shape:
                return f"output {k}: shape {list(g.shape)}, expected {list(e.shape)} (batch {batch})"
            if not np.allclose(g, e, rtol=RTOL, atol=ATOL):
                return f"output {k}: max abs error {float(np.max(np.abs(g - e))):.3g} (batch {batch})"
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Checked here, not with choices=: Python 3.11's argparse checks an empty '*' list against the choices as
    # one value, and refused the plain `python benchmarks/onnx_corpus.py`.
    p.add_argument("sets", nargs="*", help=f"the sets to run, of {', '.join(TARGETS)} (all when none is named)")
    p.add_argument("--verbose", action="store_true", help="print passing models too")
    args = p.parse_args(argv)
    if unknown := [s for s in args.sets if s not in TARGETS]:
        p.error(f"unknown set(s) {', '.join(unknown)}: choose from {', '.join(TARGETS)}")
    args.sets = args.sets or list(TARGETS)
    missed = False
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for which in args.sets:
            start = time.perf_counter()
            items = cases(which, work)
            passed = 0
            for name, path, ins, outs in items:
                try:
                    why = check(name, path, ins, outs, work)
                except Exception as exc:  # the checker itself failed: counted as a miss, never skipped
                    why = f"check failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                passed += why is None
                if why or args.verbose:
                    print(f"  {which:6} {name:42} {'ok' if why is None else why}", flush=True)
            ok = passed >= TARGETS[which]
            missed |= not ok
            print(f"{which}: {passed} of {len(items)} (target {TARGETS[which]}) "
                  f"{'PASS' if ok else 'MISS'} in {time.perf_counter() - start:.0f} s", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
