"""Training: settings, losses, metrics, the Trainer, checkpoints and run history. No Qt."""
