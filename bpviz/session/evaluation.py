"""Held-out evaluation at the end of an epoch: accuracy, loss, per-class accuracy, confusion."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpviz.engine import evaluate
from bpviz.session.snapshot import EpochMetrics

if TYPE_CHECKING:
    from bpviz.session.session import Session


def epoch_metrics(session: Session) -> EpochMetrics:
    """Evaluate ``session.network`` on the held-out set of ``session.dataset`` (the engine's
    one vectorised pass) and the mean training loss of the epoch just ended."""
    data = session.dataset
    result = evaluate(session.network, data.test_images, data.test_labels)
    first_step = session.step - session.batches_per_epoch + 1
    return EpochMetrics(
        epoch=session.epoch,
        step=session.step,
        train_loss=session.history.epoch_mean_loss(first_step),
        test_loss=float(result.loss),
        test_accuracy=float(result.accuracy),
        per_class_accuracy=result.per_class_accuracy,
        confusion=result.confusion,
        seconds=session.epoch_seconds(),
    )
