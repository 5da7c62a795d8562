"""Held-out evaluation at the end of an epoch: accuracy, loss, per-class accuracy, confusion.

``epoch_job`` captures what the evaluation needs (a copy of the parameters), so that the
worker can run it on its evaluation thread while training goes on; a headless session
runs it at once.

The evaluation runs with one BLAS thread: on this project's 2 shared cores (the GUI
thread beside the worker), a 2-thread OpenBLAS product of 1,000 test digits by W^1 took
22 ms instead of 2 ms, its threads spin-waiting for a core; at batch 10 the training
products are below OpenBLAS's threading threshold anyway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from threadpoolctl import ThreadpoolController

from bpviz.engine import evaluate
from bpviz.session.snapshot import EpochMetrics

if TYPE_CHECKING:
    from bpviz.session.session import Session

_controller: ThreadpoolController | None = None


def _one_blas_thread():
    global _controller
    if _controller is None:  # finds the BLAS NumPy loaded (once: it takes ~10 ms)
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def _blas_threads(one: bool):
    """One BLAS thread, or (``one`` False: a headless run with the machine to itself)
    BLAS's own choice."""
    return _one_blas_thread() if one else contextlib.nullcontext()


def epoch_job(session: Session) -> Callable[[], EpochMetrics]:
    """The epoch-end evaluation of ``session`` as it is now, to run now or on another
    thread: it holds a copy of the parameters and every number it reports besides."""
    parameters, data = session.network.parameters.copy(), session.dataset
    network = session.evaluation_network()  # one per run: the jobs run one after another
    first_step = session.step - session.batches_per_epoch + 1
    one_thread = session.evaluation_one_blas_thread
    fields = dict(
        epoch=session.epoch,
        step=session.step,
        train_loss=session.history.epoch_mean_loss(first_step),
        seconds=session.epoch_seconds(),
    )

    def job() -> EpochMetrics:
        network.parameters[...] = parameters
        with _blas_threads(one_thread):
            result = evaluate(network, data.test_images, data.test_labels)
        return EpochMetrics(
            test_loss=float(result.loss),
            test_accuracy=float(result.accuracy),
            per_class_accuracy=result.per_class_accuracy,
            confusion=result.confusion,
            **fields,
        )

    return job


def epoch_metrics(session: Session) -> EpochMetrics:
    """Evaluate ``session.network`` on the held-out set of ``session.dataset`` (the engine's
    one vectorised pass) and the mean training loss of the epoch just ended."""
    return epoch_job(session)()
