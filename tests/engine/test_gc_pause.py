"""Opening a large project runs no garbage collection while it builds, and leaves the collector as it found it."""

from __future__ import annotations

import gc

import pytest

from netbuilder.errors import ProjectError
from netbuilder.files.project import Project, loads_project
from netbuilder.gc_pause import gc_paused
from netbuilder.model.graph import Edge, Graph


def big_project_text(nodes: int = 3000) -> str:
    graph = Graph()
    prev = graph.add_node(graph.make_node("Input", params={"shape": [8]})).id
    for _ in range(nodes - 2):
        prev_node = graph.add_node(graph.make_node("ReLU"))
        graph.connect(Edge(prev, "out", prev_node.id, "in"))
        prev = prev_node.id
    out = graph.add_node(graph.make_node("Output"))
    graph.connect(Edge(prev, "out", out.id, "in"))
    project = Project(name="big")
    project.graph = graph
    return project.to_json()


def collections_during(fn) -> int:
    seen = []

    def watch(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(watch)
    try:
        fn()
    finally:
        gc.callbacks.remove(watch)
    return len(seen)


def test_loading_a_large_project_runs_one_collection_at_most_and_the_collector_runs_after():
    # Unpaused, this load ran 68 collections (270 for 10,000 nodes, two of them over the whole heap);
    # paused, the one that is due runs once, as the pause ends.
    text = big_project_text()
    gc.collect()
    assert collections_during(lambda: loads_project(text)) <= 1
    assert gc.isenabled()
    # and it does run again once the load is over: allocation goes on triggering it
    assert collections_during(lambda: [[] for _ in range(50_000)]) > 0


def test_a_load_that_fails_still_resumes_the_collector():
    with pytest.raises(ProjectError):
        loads_project(b'{"format": "netbuilder-project", "version": 1, "graph": 5}')
    assert gc.isenabled()


def test_nested_pauses_resume_only_at_the_outermost_and_a_disabled_collector_stays_disabled():
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
