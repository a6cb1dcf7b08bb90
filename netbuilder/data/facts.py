"""What a data set tells the quick fixes: its classes, the shape of a target, the loss that fits it.

:mod:`netbuilder.analysis.quick_fixes` sits below the data sets and takes these as plain
:class:`~netbuilder.analysis.quick_fixes.DataFacts`; this is where they are read off a data set.
"""

from __future__ import annotations

from netbuilder.analysis.quick_fixes import DataFacts
from netbuilder.data.dataset import Dataset
from netbuilder.data.suggest import suggest_loss
from netbuilder.model.graph import Graph


def data_facts(dataset: Dataset, graph: Graph | None = None) -> DataFacts:
    """The facts of ``dataset`` (``graph``: the model, whose last layer can change which loss fits)."""
    loss, reason = suggest_loss(dataset, graph)
    indices = dataset.labels_are_indices
    classes = dataset.num_classes or (int(dataset.y.max()) + 1 if indices and len(dataset.y) else None)
    return DataFacts(num_classes=classes, target_shape=None if indices else tuple(dataset.y.shape[1:]),
                     loss=loss, loss_reason=reason, input_type=dataset.input_type)


__all__ = ["data_facts"]
