"""The evaluation panel and the drawing pad in the real window, with a real worker thread.

Choosing an example (a thumbnail of a confusion-matrix cell, or your drawing with
"backprop this") pins one forward and backward pass on it in every view; the training
session's parameters stay exactly as they were, and "back to live" returns.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from viewtools import stroke

from bpviz.engine.network import Network
from bpviz.session.probe import after_update
from bpviz.ui import settings as store
from bpviz.ui.app import build_window

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def window(qtbot, tmp_path):
    w = build_window("sample", store.open_settings(tmp_path / "bpviz.ini"), in_process=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.act.step_batch.trigger()  # one update, so parameters differ from the initial ones
    assert w.worker.wait_idle(10)
    qtbot.waitUntil(lambda: w.latest is not None and w.latest.step == 1, timeout=10_000)
    yield w
    w.close()


def session_parameters(w) -> np.ndarray:
    assert w.worker.wait_idle(10)
    return w.worker.session.network.parameters.copy()


def engine_gradients(snapshot, x: np.ndarray, label: int):
    """∂C/∂W^l from a fresh engine Network with the snapshot's parameters."""
    c = snapshot.config
    net = Network(c.sizes, hidden=c.hidden, output=c.output, cost=c.cost,
                  dtype=snapshot.weights[0].dtype)  # fmt: skip
    net.set_parameters(snapshot.weights, snapshot.biases)
    return net.backward(net.forward(x[None, :]), np.array([label])).grad_w


def show_dock(qtbot, w, key: str):
    w.docks[key].show()
    w.docks[key].raise_()
    qtbot.waitExposed(w.views[key])
    return w.views[key]


def test_a_thumbnail_of_a_cell_is_shown_in_every_view_without_training(qtbot, window) -> None:
    live = window.latest
    before = session_parameters(window)
    panel = show_dock(qtbot, window, "evaluation")
    qtbot.waitUntil(lambda: panel.evaluation is not None, timeout=10_000)
    true, predicted = np.unravel_index(panel.evaluation.confusion.argmax(), (10, 10))
    panel.select_cell(int(true), int(predicted))
    item = panel.thumbnails.item(0)
    index = item.data(Qt.ItemDataRole.UserRole)
    rect = panel.thumbnails.visualItemRect(item)
    qtbot.mouseClick(panel.thumbnails.viewport(), LEFT, pos=rect.center())

    shown = window.latest
    assert window.pinned is shown and shown is not live
    digit = window.dataset.test_images[index] / 255.0
    np.testing.assert_allclose(shown.x[0], digit, rtol=1e-6)
    assert shown.labels.tolist() == [true] and shown.step == live.step
    for mine, engine in zip(shown.grad_w, engine_gradients(live, digit, true), strict=True):
        np.testing.assert_array_equal(mine, engine)
    for view in ("delta", "gradients", "io"):  # on screen beside the evaluation panel
        assert window.views[view].snapshot is shown, view
    network = show_dock(qtbot, window, "network")  # a view brought up later catches up
    qtbot.waitUntil(lambda: network.snapshot is shown)
    np.testing.assert_array_equal(session_parameters(window), before)
    assert window.worker.latest().step == live.step  # nothing was trained

    assert f"C = {shown.loss:.4g}" in panel.note.text() and panel.note.isVisible()
    explorer = window.explorer
    assert explorer.back.isVisible()
    qtbot.mouseClick(explorer.back, LEFT)
    assert window.pinned is None and window.latest is window.worker.latest()
    assert not explorer.back.isVisible()


def test_backprop_this_on_a_drawing_then_run_returns_to_live(qtbot, window) -> None:
    before = session_parameters(window)
    pad = show_dock(qtbot, window, "drawpad")
    stroke(qtbot, pad.canvas, (140, 40), (140, 140), (142, 240))
    qtbot.waitUntil(lambda: pad.backprop_button.isEnabled() and not pad.pending)
    pad.target.setCurrentIndex(1)
    with qtbot.waitSignal(pad.backprop_requested) as request:
        qtbot.mouseClick(pad.backprop_button, LEFT)
    x = request.args[0]
    np.testing.assert_array_equal(x, pad.x)

    shown = window.pinned
    assert shown is not None and window.latest is shown
    np.testing.assert_allclose(shown.x[0], x, rtol=1e-6)
    assert shown.labels.tolist() == [1]
    for mine, engine in zip(shown.grad_w, engine_gradients(shown, x, 1), strict=True):
        np.testing.assert_array_equal(mine, engine)
    np.testing.assert_array_equal(session_parameters(window), before)
    a_after, loss_after = after_update(shown)  # what the update would do, said on the pad
    assert f"C = {shown.loss:.4g}" in pad.note.text()
    assert f"C = {loss_after:.4g}, aᴸ of 1 = {a_after[0, 1]:.3f}" in pad.note.text()

    window.act.run.trigger()  # training again: back to live
    assert window.pinned is None
    qtbot.waitUntil(lambda: window.latest.step > shown.step, timeout=10_000)
    window.act.run.trigger()


def test_a_fresh_session_from_elsewhere_ends_the_probe(qtbot, window) -> None:
    panel = show_dock(qtbot, window, "evaluation")
    qtbot.waitUntil(lambda: panel.evaluation is not None, timeout=10_000)
    panel.choose(0)
    assert window.pinned is not None and window.explorer.back.isVisible()
    data = {a.text(): a for a in window.menu("&Data").actions()}
    data["Best available"].trigger()  # other data: the session starts afresh (a menu click)
    assert window.pinned is None and not window.explorer.back.isVisible()  # at once, no poll
    qtbot.waitUntil(lambda: window.latest is not None and window.latest.step == 0)
    panel.choose(0)
    assert window.pinned is not None
    hidden = (*window.config.sizes[:-1], 12, window.config.sizes[-1])
    window.controller.reset(replace(window.config, sizes=hidden))  # Network ▸ settings: OK
    assert window.pinned is None and not window.explorer.back.isVisible()
