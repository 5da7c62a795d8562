"""The tensor-contraction explainer: the stack ∂a^l/∂W^l contracted with ∂C/∂a^l."""

from __future__ import annotations

import numpy as np
import pytest
from test_inspector import CONFIGS, engine_snapshots
from viewtools import shown

from bpviz.session.snapshot import Phase, PhaseKind


@pytest.fixture
def view(qtbot):
    from bpviz.ui.views.contraction import ContractionView

    return shown(qtbot, ContractionView(), 800, 600)


def test_stack_is_row_sparse_and_contracts_to_the_engines_gradient(view):
    snaps, eng = engine_snapshots(CONFIGS[0])
    view.set_selection(2, 3, 5)
    view.set_example(4)
    view.show_snapshot(snaps[-1])
    fwd, bwd = eng["fwd"], eng["bwd"]
    assert view.layer == 2
    n_rows, n_cols = 10, 30
    assert view.slices.shape == (n_rows, n_rows, n_cols)
    a = fwd.a[1][4].astype(np.float64)
    for i in range(n_rows):
        others = np.delete(view.slices[i], i, axis=0)
        assert not others.any(), f"slice {i} has non-zero rows besides row {i}"
        np.testing.assert_allclose(view.slices[i][i], bwd.sigma_prime[1][4, i] * a, rtol=1e-6)
    np.testing.assert_allclose(view.weights, bwd.dC_da[1][4], rtol=1e-6)
    np.testing.assert_allclose(view.result, np.outer(bwd.delta[1][4], a), rtol=1e-5, atol=1e-9)
    # the batch mean of the per-example contractions is the engine's ∂C/∂W^2
    means = []
    for ex in range(CONFIGS[0].batch_size):
        view.set_example(ex)
        means.append(view.result)
    np.testing.assert_allclose(np.mean(means, axis=0), bwd.grad_w[1], rtol=1e-4, atol=1e-7)


def test_softmax_layer_uses_dz_dW_and_delta(view):
    config = CONFIGS[1]  # 12-7-5-4, softmax + cross-entropy
    snaps, eng = engine_snapshots(config)
    view.set_selection(3, 1, 2)
    view.show_snapshot(snaps[-1])
    assert view.layer == 3
    np.testing.assert_allclose(view.weights, eng["bwd"].delta[2][0], rtol=1e-6)
    assert view.slices[1][1] == pytest.approx(eng["fwd"].a[2][0].astype(np.float64))
    assert r"\delta" in view.formula.latex and r"\partial a" not in view.formula.latex


def test_a_wide_layer_shows_a_stated_block_of_rows_and_waits_for_delta(view):
    snaps, eng = engine_snapshots(CONFIGS[0])
    view.set_selection(1, 20, 5)  # 30 × 784: more rows than MAX_ROWS
    forward = next(s for s in snaps if s.phase == Phase(PhaseKind.FORWARD, 2))
    view.show_snapshot(forward)
    assert view.layer == 1 and view.result is None
    assert view.rows == range(14, 30)  # the last 16 rows, which hold i = 20
    assert "rows 14–29 of 30 shown" in view.caption.text()
    assert "reached δ¹" in view.caption.text()
    delta_1 = next(s for s in snaps if s.phase == Phase(PhaseKind.DELTA, 1))
    view.show_snapshot(delta_1)
    fwd, bwd = eng["fwd"], eng["bwd"]
    x = fwd.a[0][0].astype(np.float64)
    assert view.slices.shape == (16, 16, 784)
    # the sum over the slices shown is exactly those rows of ∂Cₓ/∂W¹
    expected = np.outer(bwd.delta[0][0, 14:30], x)
    np.testing.assert_allclose(view.result, expected, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(view.weights, bwd.dC_da[0][0, 14:30], rtol=1e-6)


def test_clicking_a_cell_of_the_result_selects_that_weight(view, qtbot):
    from PySide6.QtCore import Qt

    qtbot.waitExposed(view)
    view.set_selection(2, 0, 0)
    view.show_snapshot(engine_snapshots(CONFIGS[0])[0][-1])
    canvas = view.canvas
    qtbot.waitUntil(lambda: canvas.layout_for(canvas.width()) is not None)
    pos = canvas.cell_center(4, 7)
    view.scroll.ensureVisible(pos.x(), pos.y())  # scrolled to, as a user would
    qtbot.waitUntil(lambda: canvas.visibleRegion().contains(pos))
    with qtbot.waitSignal(view.weight_clicked) as blocker:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.cell_center(4, 7))
    assert blocker.args == [2, 4, 7]
