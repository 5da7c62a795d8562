"""The five views driven by the real Session: every phase of real mini-batches."""

from __future__ import annotations

import numpy as np
import pytest
from viewtools import shown

from bpviz.data import load_sample
from bpviz.session.session import Session
from bpviz.session.snapshot import PhaseKind, SessionConfig
from bpviz.ui.views import DeltaView, GradientView, InputOutputView, LossView, NetworkView

CONFIGS = [
    SessionConfig(),
    SessionConfig(sizes=(784, 64, 32, 10), output="softmax", cost="cross_entropy", eta=0.5),
]


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "softmax"])
def test_views_follow_a_real_session_phase_by_phase(qtbot, config):
    session = Session(load_sample(), config)
    views = [NetworkView(), DeltaView(), GradientView(), LossView(), InputOutputView()]
    for view in views:
        shown(qtbot, view, 700, 420)
    _, delta, gradient, loss, io = views
    for view in views:
        view.show_snapshot(session.snapshot())  # after reset: no mini-batch yet
    L = config.n_layers
    for _ in range(2 * (3 * L + 2)):  # two whole mini-batches, one phase at a time
        snapshot = session.step_phase()
        for view in views:
            view.show_snapshot(snapshot)
        qtbot.wait(1)
        kind = snapshot.phase.kind
        if kind is PhaseKind.GRADIENT and snapshot.phase.layer == 1:
            drawn = snapshot
            qtbot.waitUntil(lambda s=drawn: gradient._drawn is s)  # rate-limited (max_hz)
            np.testing.assert_array_equal(gradient.heatmap.image.image, snapshot.grad_w[0])
        if kind is PhaseKind.DELTA:
            l = snapshot.phase.layer
            np.testing.assert_array_equal(delta.cells(l)[2].values, snapshot.delta[l - 1][0])
        if kind is PhaseKind.FORWARD and snapshot.phase.layer == L:
            np.testing.assert_array_equal(io.output.opts["height"], snapshot.a[L][0])
    assert snapshot.step == 2
    qtbot.waitUntil(lambda: len(loss.mean.getData()[1]) == 2)  # rate-limited (MAX_HZ)
    np.testing.assert_array_equal(loss.mean.getData()[1], snapshot.history.loss_mean)
