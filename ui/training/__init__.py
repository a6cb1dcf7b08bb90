"""The live training chart: per-step and per-epoch curves of the runs being trained or compared."""
