"""The panels driven by the real session, stepped phase by phase (no mocks)."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.data.dataset import Dataset
from bpviz.engine import Network, one_hot
from bpviz.notation import unicode_math
from bpviz.session.session import Session
from bpviz.session.snapshot import PhaseKind, SessionConfig, phases_for
from bpviz.ui.equation_text import active_keys, parse_numbers
from bpviz.ui.inspection import Selection, inspect, numeric_check


def dataset(n_inputs=16, n_classes=5, n=60, seed=1) -> Dataset:
    rng = np.random.default_rng(seed)
    return Dataset(
        rng.integers(0, 256, (n, n_inputs), dtype=np.uint8),
        rng.integers(0, n_classes, n).astype(np.uint8),
        rng.integers(0, 256, (20, n_inputs), dtype=np.uint8),
        rng.integers(0, n_classes, 20).astype(np.uint8),
        class_names=tuple("abcde"),
    )


CONFIG = SessionConfig(sizes=(16, 7, 6, 5), hidden="tanh", batch_size=6, eta=0.8)


def params(session: Session) -> np.ndarray:
    return np.concatenate([p.ravel() for p in session.network.weights + session.network.biases])


def test_panels_follow_the_session_phase_by_phase(qtbot):
    from bpviz.ui.views.equations import EquationView
    from bpviz.ui.views.inspector import InspectorView

    session = Session(dataset(), CONFIG)
    equations, inspector = EquationView(), InspectorView()
    for widget in (equations, inspector):
        qtbot.addWidget(widget)
        widget.show()
    sel = Selection(2, 4, 3)
    equations.set_selection(*sel.entry)
    inspector.set_selection(*sel.entry)
    L = CONFIG.n_layers
    for _ in range(2):  # two mini-batches, every phase
        for expected in phases_for(L):
            snap = session.step_phase()
            assert snap.phase == expected
            equations.show_snapshot(snap)
            inspector.show_snapshot(snap)
            lit = {row.key for row in equations._rows if row.active}
            assert lit == active_keys(expected, L) and lit
            assert unicode_math(expected.label) in equations.header.text()
            assert equations.substitutions, f"no numbers written out at {expected.label}"
            if expected.kind is PhaseKind.DELTA and expected.layer == sel.l:
                (line,) = equations.substitutions
                dca, sp, d = parse_numbers(line.latex)
                assert d == pytest.approx(float(snap.delta[1][0, sel.i]), rel=6e-4)
                assert dca == pytest.approx(float(snap.dC_da[1][0, sel.i]), rel=6e-4)
                assert sp == pytest.approx(float(snap.sigma_prime[1][0, sel.i]), rel=6e-4)
            shown, direct = inspector.inspection, inspect(snap, sel, 0)
            assert (shown.before, shown.grad, shown.delta_i) == (
                direct.before,
                direct.grad,
                direct.delta_i,
            )


def test_session_numbers_equal_a_twin_engine_and_the_check_leaves_training_alone():
    session = Session(dataset(), CONFIG)
    for _ in range(len(phases_for(CONFIG.n_layers)) - 1):  # stop before the update
        snap = session.step_phase()
    assert snap.phase.kind is PhaseKind.GRADIENT and snap.phase.layer == 1
    twin = Network(CONFIG.sizes, hidden="tanh", seed=CONFIG.seed)
    twin.set_parameters(snap.weights_before, snap.biases_before)
    fwd = twin.forward(snap.x)
    bwd = twin.backward(fwd, one_hot(snap.labels, 5))
    rng = np.random.default_rng(2)
    before = params(session)
    for l in (1, 2, 3):
        n_out, n_in = CONFIG.sizes[l], CONFIG.sizes[l - 1]
        i, j = int(rng.integers(n_out)), int(rng.integers(n_in))
        ins = inspect(snap, Selection(l, i, j), 1)
        assert ins.grad == float(bwd.grad_w[l - 1][i, j])
        assert ins.delta_i == float(bwd.delta[l - 1][1, i])
        np.testing.assert_allclose(  # float64 products of the same float32 factors
            ins.contributions, twin.weight_contributions(fwd, bwd, l, i, j), rtol=1e-6
        )
        check = numeric_check(snap, [(l, i, j), (l, i, None)])
        assert check.result.worst_relative_error < 1e-6
    np.testing.assert_array_equal(params(session), before)  # nothing moved
    after = session.step_phase()  # the update
    reference = Session(dataset(), CONFIG)
    for _ in phases_for(CONFIG.n_layers):
        ref = reference.step_phase()
    for mine, theirs in zip(after.weights, ref.weights, strict=True):
        np.testing.assert_array_equal(mine, theirs)
