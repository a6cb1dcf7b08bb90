"""What is written to disk: project files, fragments, weights, atomic writes."""
