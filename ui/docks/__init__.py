"""The dock widgets beside the canvas: palette, inspector, problems, undo history."""
