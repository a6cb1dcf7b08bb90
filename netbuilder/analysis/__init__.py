"""What the engine says about a graph: shapes, lint, parameter counts."""
