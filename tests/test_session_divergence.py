"""Divergence: the session pauses with a clear message and the last finite parameters,
exactly those of the last good step; NumPy's overflow warnings never reach the user."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from test_session import config_for, make_dataset, params

from bpviz.session.session import CHECKPOINT_EVERY, Session

DIVERGING = dict(hidden="leaky_relu", output="softmax", cost="cross_entropy", eta=1e4)


@pytest.fixture(scope="module")
def data():
    return make_dataset(n_train=2000, n_test=100, n_inputs=784, n_classes=10)


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _assert_diverged_cleanly(session: Session, reference: Session) -> None:
    assert session.diverged
    assert "diverged" in session.message and "η = 10000" in session.message
    bad_step = int(re.search(r"diverged at step (\d+)", session.message).group(1))
    if "the loss became" in session.message:  # back to where the last finite loss came from
        assert session.step == bad_step - 2
    else:  # the update of bad_step overflowed: back to the parameters its loss came from
        assert "an update made a parameter infinite" in session.message
        assert session.step == bad_step - 1
    assert np.isfinite(params(session)).all()
    reference.run(session.step - reference.step)  # nothing lost: exactly the last good step
    assert not reference.diverged
    assert np.array_equal(params(session), params(reference))
    assert session.history.loss.n == session.step
    assert np.isfinite(session.history.loss.values).all()
    snap = session.snapshot()
    assert snap.message == session.message and snap.phase is None
    assert all(np.isfinite(w).all() for w in snap.weights)


RELU = dict(DIVERGING, hidden="relu", init="normal")


@pytest.mark.parametrize("how", ["fast", "batch", "phase"])
@pytest.mark.parametrize(
    "sizes, setting", [((784, 30, 10), DIVERGING), ((784, 30, 30, 10), RELU)], ids=["leaky", "relu"]
)
def test_a_diverging_eta_pauses_with_the_last_finite_parameters(data, how, sizes, setting, capfd):
    config = config_for(sizes, batch_size=10, **setting)
    session = Session(data, config)
    if how == "fast":
        done = session.run(500)
        assert session.step < done < 500  # the updates made, then back one
    else:
        step = session.step_batch if how == "batch" else session.step_phase
        for _ in range(500 * 11):
            step()
            if session.diverged:
                break
    _assert_diverged_cleanly(session, Session(data, config))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_fast_path_replays_from_its_checkpoint_to_the_last_good_step(data):
    config = config_for((784, 30, 10), batch_size=10, **{**DIVERGING, "eta": 0.01})
    session = Session(data, config)
    session.run(CHECKPOINT_EVERY + 40)  # a checkpoint at 256, 40 good steps since
    session.set_eta(1e4)
    session.run(500)
    assert CHECKPOINT_EVERY + 40 < session.step < CHECKPOINT_EVERY + 100
    reference = Session(data, config)
    reference.run(CHECKPOINT_EVERY + 40)
    reference.set_eta(1e4)
    _assert_diverged_cleanly(session, reference)
    assert session.history.eta_changes == [(1, 0.01), (CHECKPOINT_EVERY + 41, 1e4)]


def test_after_divergence_a_lower_eta_trains_on(data):
    session = Session(data, config_for((784, 30, 10), batch_size=10, **DIVERGING))
    session.run(500)
    stopped = session.step
    session.set_eta(0.05)
    assert session.run(50) == 50
    assert not session.diverged and session.message is None
    assert session.step == stopped + 50 and np.isfinite(params(session)).all()
