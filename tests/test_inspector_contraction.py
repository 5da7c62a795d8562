"""The tensor-contraction explainer: the stack ∂a^l/∂W^l contracted with ∂C/∂a^l."""

from __future__ import annotations

import numpy as np
import pytest
from test_inspector import CONFIGS, engine_snapshots

from bpviz.session.snapshot import Phase, PhaseKind


@pytest.fixture
def view(qtbot):
    from bpviz.ui.views.contraction import ContractionView

    widget = ContractionView()
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    return widget


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


def test_large_layer_falls_back_to_the_output_layer_and_waits_for_delta(view):
    snaps, _ = engine_snapshots(CONFIGS[0])
    view.set_selection(1, 0, 0)  # 30 × 784: too large to draw as a stack
    forward = next(s for s in snaps if s.phase == Phase(PhaseKind.FORWARD, 2))
    view.show_snapshot(forward)
    assert view.layer == 2 and view.result is None
    assert "too large" in view.caption.text() and "reached this layer" in view.caption.text()
    delta_2 = next(s for s in snaps if s.phase == Phase(PhaseKind.DELTA, 2))
    view.show_snapshot(delta_2)
    assert view.result is not None


def test_clicking_a_cell_of_the_result_selects_that_weight(view, qtbot):
    from PySide6.QtCore import QPointF, Qt

    qtbot.waitExposed(view)
    view.set_selection(2, 0, 0)
    view.show_snapshot(engine_snapshots(CONFIGS[0])[0][-1])
    image = view._result_image
    qtbot.wait(50)  # the view box applies its range on the next layout
    # the result is drawn at twice the slice size: cell (i, j) covers image pixel (i, j)
    scene_pos = image.mapToScene(QPointF(7.5, 4.5))
    widget_pos = view.canvas.mapFromScene(scene_pos)
    with qtbot.waitSignal(view.weight_clicked) as blocker:
        qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    assert blocker.args == [2, 4, 7]
