"""The canvas: the scene that mirrors the graph, the view, its items, Tab quick add."""
