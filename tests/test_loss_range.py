"""The loss plot's ranges follow the data from the first point on, and after Reset."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt


def _ranges(view):
    (x0, x1), (y0, y1) = view.plot.getViewBox().viewRange()
    return x0, x1, y0, y1


def _drawn(view):
    """(steps, mean C) the view drew (what the mean curve holds)."""
    x, y = view.mean.getData()
    return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))


def _visible(view, step: float, loss: float) -> bool:
    x0, x1, y0, y1 = _ranges(view)
    return x0 <= step <= x1 and y0 <= loss <= y1


def test_first_step_shows_its_point_inside_the_range(qtbot, window):
    view = window.views["loss"]
    qtbot.waitUntil(lambda: window.latest is not None)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Right)  # Step mini-batch, as a person would
    qtbot.waitUntil(lambda: _drawn(view)[0].size == 1, timeout=20_000)
    (step,), (loss,) = _drawn(view)
    assert step == 1 and np.isfinite(loss)
    x0, x1, y0, y1 = _ranges(view)
    assert _visible(view, step, loss), (x0, x1, y0, y1)
    assert x0 >= -0.5 and x0 < 1 < x1 <= 10, "the x axis starts at the first steps"
    assert y0 >= 0, "a cost is never negative"
    # the one point is drawn as a dot (a one-point line is invisible): a round-capped
    # segment far shorter than a pixel, on the point
    x, y = view.marks.getData()
    assert view.marks.isVisible() and len(x) == 2 and abs(x[1] - x[0]) < 1e-3
    assert x[0] == step and list(y) == [loss, loss]


def test_after_reset_the_range_returns_to_the_new_data(qtbot, window):
    view = window.views["loss"]
    qtbot.waitUntil(lambda: window.latest is not None)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Space)  # run
    qtbot.waitUntil(lambda: window.latest.step >= 300, timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # pause
    assert window.worker.wait_idle(timeout=10.0)
    qtbot.waitUntil(lambda: _drawn(view)[0].size > 0 and _ranges(view)[1] >= 300)

    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Reset
    qtbot.waitUntil(lambda: window.latest.step == 0 and _drawn(view)[0].size == 0, timeout=20_000)
    x0, x1, y0, y1 = _ranges(view)
    assert x0 >= 0 and x1 <= 10, f"stale x range {x0:.4g} … {x1:.4g} at step 0"
    assert 0 <= y0 < y1, f"y range {y0:.4g} … {y1:.4g} at step 0"

    qtbot.keyClick(window, Qt.Key.Key_Right)  # one mini-batch of the new network
    qtbot.waitUntil(lambda: _drawn(view)[0].size == 1, timeout=20_000)
    (step,), (loss,) = _drawn(view)
    x0, x1, y0, y1 = _ranges(view)
    assert _visible(view, step, loss) and x1 <= 10, (x0, x1, y0, y1)


def test_the_step_axis_writes_counts_with_thousands_separators(window):
    axis = window.views["loss"].plot.getAxis("bottom")
    assert axis.tickStrings([0.0, 20000.0, 40000.0], 1.0, 20000.0) == ["0", "20,000", "40,000"]
    assert axis.tickStrings([0.0, 0.5, 1.0], 1.0, 0.5)[1] == "0.5"  # fractions as before


def test_log_axis_range_follows_the_data_too(qtbot, window):
    view = window.views["loss"]
    qtbot.waitUntil(lambda: window.latest is not None)
    for _ in range(3):
        window.act.step_batch.trigger()
    qtbot.waitUntil(lambda: _drawn(view)[0].size == 3, timeout=20_000)
    qtbot.mouseClick(view.log_box, Qt.MouseButton.LeftButton)
    assert view.log_box.isChecked()
    low = np.log10(np.asarray(view._drawn.loss_min, dtype=float))
    high = np.log10(np.asarray(view._drawn.loss_max, dtype=float))
    _, _, y0, y1 = _ranges(view)
    assert y0 <= low.min() and high.max() <= y1 and y1 - y0 < 2, (y0, y1)


def test_log_cost_leaves_the_accuracy_axis_in_percent(qtbot, window):
    """log C makes the cost axis logarithmic, not the test accuracy's (0 … 100 %)."""
    view = window.views["loss"]
    qtbot.mouseClick(view.log_box, Qt.MouseButton.LeftButton)
    assert view.log_box.isChecked() and view.plot.getAxis("left").logMode
    right = view.plot.getAxis("right")
    assert not right.logMode
    assert right.tickStrings([0.0, 50.0, 100.0], 1.0, 50.0) == ["0", "50", "100"]
