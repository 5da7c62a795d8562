"""What travels with every snapshot stays small: the held-out predictions are one byte
each (they go to the window with every frame), the same classes as the engine's."""

from __future__ import annotations

import numpy as np
from test_evaluation_support import sample_dataset
from threadpoolctl import threadpool_limits

from bpviz.engine import evaluate
from bpviz.session.evaluation import class_indices
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig


def test_the_epochs_predictions_travel_as_one_byte_each():
    data = sample_dataset()
    session = Session(data, SessionConfig(batch_size=100))
    session.run(session.batches_per_epoch)  # one epoch: evaluated at its end, at once
    predictions = session.snapshot().last_eval.predictions
    assert predictions.dtype == np.uint8 and not predictions.flags.writeable
    with threadpool_limits(limits=1, user_api="blas"):  # as the session evaluates
        expected = evaluate(session.network, data.test_images, data.test_labels).predictions
    np.testing.assert_array_equal(predictions, expected)  # the same classes, as uint8
    assert predictions.nbytes == data.test_labels.shape[0]


def test_more_classes_than_a_byte_holds_keep_every_index():
    values = np.arange(300)
    wide = class_indices(values, 300)
    assert wide.dtype == np.uint16 and not wide.flags.writeable
    np.testing.assert_array_equal(wide, values)
    assert class_indices(np.array([0, 1, 2]), 3).dtype == np.uint8
