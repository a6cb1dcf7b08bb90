"""The open document's quick fixes: which problems offer one, and applying one as one undo step.

The fixes themselves are the engine's (:mod:`netbuilder.analysis.quick_fixes`); this adds what
only the open document knows: its current problems and, for the data checks' problems, the data
set (from the same cache the checks read, so no data is loaded twice).
"""

from __future__ import annotations

from netbuilder.analysis.quick_fixes import DataFacts, QuickFix, quick_fixes
from netbuilder.analysis.shape_inference import Problem
from ui.document import Document

FIX_PREFIX = "Apply Fix: "  # how a fix reads in a menu, the same in every menu that offers it


def fix_text(fix: QuickFix) -> str:
    """A fix as a menu entry ("Apply Fix: Insert Flatten before Linear 'fc1' …"); & shown as itself."""
    return FIX_PREFIX + fix.label.replace("&", "&&")


def _data_facts(document: Document) -> DataFacts | None:
    """The facts of the project's data set, or None while it cannot be read (not chosen, not loaded)."""
    from ui.startup import torch_loaded

    project = document.project
    if not project.data.get("dataset") or not torch_loaded():
        return None
    from netbuilder.data.cache import DATA_CACHE
    from netbuilder.data.facts import data_facts

    inputs = project.graph.of_kind("Input")
    shape = tuple(inputs[0].params["shape"]) if len(inputs) == 1 else None
    seed = project.training.get("seed", 0) if isinstance(project.training.get("seed", 0), int) else 0
    try:
        dataset = DATA_CACHE.get(project.data, project.path.parent if project.path else None, seed, shape,
                                 check_only=True)
    except Exception:  # not downloaded, too large, unreadable: the Problems dock says so already
        return None
    return data_facts(dataset, project.graph)


def _wants_data(problem: Problem) -> bool:
    """Whether ``problem``'s fixes read the data set: the data checks', and the missing Output's (it goes after
    the layer whose shape fits the targets)."""
    return problem.code.startswith("data-") or problem.code == "no-output"


def problem_fixes(document: Document, problem: Problem) -> list[QuickFix]:
    """The fixes ``problem`` offers in ``document`` now."""
    data = _data_facts(document) if _wants_data(problem) else None
    return quick_fixes(problem, document.project, document.inference, data)


def all_fixes(document: Document, problems: list[Problem] | None = None) -> list[tuple[Problem, list[QuickFix]]]:
    """Each of the document's problems (or of ``problems``) with its fixes, in the Problems dock's order (the
    document's own: once per change, however many views ask)."""
    if problems is None:
        return document.memo("fixes", lambda: _fixes_of(document, document.problems()))
    return _fixes_of(document, problems)


def _fixes_of(document: Document, found: list[Problem]) -> list[tuple[Problem, list[QuickFix]]]:
    data: list[DataFacts | None] = []  # read once, on the first data problem

    def facts() -> DataFacts | None:
        if not data:
            data.append(_data_facts(document))
        return data[0]

    return [(p, quick_fixes(p, document.project, document.inference, facts() if _wants_data(p) else None))
            for p in found]


def node_fixes(document: Document, node_id: str) -> list[QuickFix]:
    """Every fix for the problems of one node."""
    return [fix for problem, fixes in all_fixes(document) if problem.node == node_id for fix in fixes]


def apply_fix(document: Document, fix: QuickFix) -> bool:
    """Apply ``fix`` as one undo step; False when the edit was refused (the reason goes to ``refused``)."""
    return document.push(fix.edit)


__all__ = ["FIX_PREFIX", "all_fixes", "apply_fix", "fix_text", "node_fixes", "problem_fixes"]
