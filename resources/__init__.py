"""Bundled resources: example projects and small data sets (with their licences)."""
