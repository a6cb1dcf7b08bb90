"""The training half of ``netbuilder codegen --with-training``.

The script reproduces the project's training settings with plain PyTorch. Its data is
the project's data set exactly as netbuilder prepares it (split, resized), saved beside
the script as ``.npz``, so the script needs only torch and numpy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from netbuilder.files.atomic import atomic_file
from netbuilder.files.project import Project
from netbuilder.training.run import prepare

LOSSES = {"mse": "nn.MSELoss()", "l1": "nn.L1Loss()", "huber": "nn.HuberLoss()", "bce": "nn.BCELoss()",
          "bce_with_logits": "nn.BCEWithLogitsLoss()", "cross_entropy": "nn.CrossEntropyLoss()",
          "cross_entropy_soft": "nn.CrossEntropyLoss()", "nll": "nn.NLLLoss()"}


def _optimizer(s) -> str:
    common = f"model.parameters(), lr={s.learning_rate!r}, weight_decay={s.weight_decay!r}"
    if s.optimizer == "sgd":
        return f"torch.optim.SGD({common}, momentum={s.momentum!r}, nesterov={s.nesterov!r})"
    if s.optimizer == "rmsprop":
        return f"torch.optim.RMSprop({common}, momentum={s.momentum!r})"
    return {"adam": "torch.optim.Adam", "adamw": "torch.optim.AdamW", "adagrad": "torch.optim.Adagrad"}[
        s.optimizer] + f"({common})"


def _schedule(s) -> str:
    if s.schedule == "step":
        return f"torch.optim.lr_scheduler.StepLR(optimizer, {s.step_size}, gamma={s.gamma!r})"
    if s.schedule == "cosine":
        return "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps)"
    if s.schedule == "one_cycle":
        return f"torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr={s.learning_rate!r}, total_steps=epochs * steps)"
    if s.schedule == "plateau":
        return (f"torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor={s.gamma!r}, "
                f"patience={s.plateau_patience})")
    return "None"


def training_source(project: Project, data_file: str) -> tuple[str, dict[str, np.ndarray]]:
    """Source lines for ``load_data`` / ``train`` / ``__main__`` and the arrays for the .npz."""
    run = prepare(project)
    s = run.settings
    arrays = {"x_train": run.train.x.numpy(), "y_train": run.train.y.numpy()}
    if run.val is not None:
        arrays.update(x_val=run.val.x.numpy(), y_val=run.val.y.numpy())
    per_step = s.schedule in ("cosine", "one_cycle")
    clip = f"\n            nn.utils.clip_grad_norm_(model.parameters(), {s.grad_clip!r})" if s.grad_clip else ""
    l1 = f" + {s.l1!r} * sum(p.abs().sum() for p in model.parameters())" if s.l1 else ""
    step_schedule = "\n            scheduler.step()" if per_step else ""
    schedule = "" if s.schedule == "none" else (
        ("\n    steps = (len(x) + batch_size - 1) // batch_size" if per_step else "")
        + f"\n    scheduler = {_schedule(s)}")
    epoch_schedule = "" if per_step or s.schedule == "none" else (
        "\n        scheduler.step(val_loss if val_loss is not None else train_loss)" if s.schedule == "plateau"
        else "\n        scheduler.step()")
    source = f'''

DATA = Path(__file__).with_name({data_file!r})


def load_data(path: Path = DATA):
    """The data netbuilder prepared for this project ({run.train.name}), as tensors."""
    with np.load(path, allow_pickle=False) as d:
        arrays = {{k: torch.from_numpy(d[k]) for k in d.files}}
    return arrays["x_train"], arrays["y_train"], arrays.get("x_val"), arrays.get("y_val")


def train(model: nn.Module, epochs: int = {s.epochs}, batch_size: int = {s.batch_size}, seed: int = {s.seed}) -> None:
    """The project's training settings: {s.loss} loss, {s.optimizer} (learning rate {s.learning_rate:g})."""
    torch.manual_seed(seed)
    x, y, x_val, y_val = load_data()
    loss_fn = {LOSSES[s.loss]}
    optimizer = {_optimizer(s)}{schedule}
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            index = order[start:start + batch_size]
            loss = loss_fn(model(x[index]), y[index]){l1}
            optimizer.zero_grad()
            loss.backward(){clip}
            optimizer.step(){step_schedule}
            total += loss.item() * len(index)
        train_loss = total / len(x)
        val_loss = None
        if x_val is not None:
            model.eval()
            with torch.no_grad():
                val_loss = loss_fn(model(x_val), y_val).item()
        print(f"epoch {{epoch + 1}}: train loss {{train_loss:.4g}}"
              + (f", validation loss {{val_loss:.4g}}" if val_loss is not None else "")){epoch_schedule}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Train the model with the project's settings.")
    parser.add_argument("--epochs", type=int, default={s.epochs})
    args = parser.parse_args()
    model = Net()
    train(model, epochs=args.epochs)
'''
    return source, arrays


def write_training_data(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_file(path) as f:  # written whole or not at all, like every file netbuilder writes
        np.savez_compressed(f, **arrays)
