"""Hover anything and read its value: the pointer is moved (a real mouse move, to a
position computed from the item's geometry) over a heatmap cell, a tile pixel, a δ / σ′ /
∂C/∂a bar, an input pixel, an output bar, a loss point, an inspector bar and a
contraction cell; the tooltip's numbers are the snapshot's (the arrays the view drew, to
the printed precision), and the tip follows a new snapshot while the pointer rests."""

from __future__ import annotations

import dataclasses
import html
import re
import types

import numpy as np
import pytest
from pyqtgraph.Qt import QtCore, QtWidgets
from PySide6.QtCore import Qt
from snapshots import fake_history, snapshot_at
from viewtools import hover as move_to
from viewtools import shown

from bpviz.session.snapshot import PhaseKind
from bpviz.ui.views import DeltaView, GradientView, InputOutputView, LossView
from bpviz.ui.views.contraction import ContractionView
from bpviz.ui.views.inspector import InspectorView
from bpviz.ui.views.network import NetworkView
from bpviz.ui.views.plane import PlaneView

NUMBER = re.compile(r"(?<![\w,])[−-]?\d+(?:\.\d+)?(?:e[−+-]?\d+)?")


def hover(gv, item, x: float, y: float) -> None:
    """Let pending re-layouts finish (a new legend, a new layer), then move the pointer to
    (x, y) in ``item``'s coordinates: a real mouse move."""
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
        QtCore.QThread.msleep(10)
    move_to(gv, item, x, y)


def settle(qtbot, view, snapshot) -> None:
    """Show ``snapshot`` and let the layout settle (a new legend level re-lays out the
    colour bars, which moves the plots a few pixels once)."""
    view.show_snapshot(snapshot)
    qtbot.waitUntil(lambda: view._drawn is snapshot)
    for _ in range(3):
        qtbot.wait(20)


def lines(tip_text: str | None) -> list[str]:
    """The tooltip's lines as plain text."""
    assert tip_text, "no tooltip shown"
    body = re.sub(r"<br>", "\n", tip_text)
    return [html.unescape(line) for line in re.sub(r"<[^>]+>", "", body).split("\n")]


def SUB(k: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(d)] for d in str(k))


def indices(line: str) -> tuple[int, ...]:
    """The subscript indices of the first name on a tip line: "∂C/∂w₂,₃₀₀¹" → (2, 300)."""
    found = re.search(r"[₀-₉]+(?:,[₀-₉]+)*", line)
    digits = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
    return tuple(int(part.translate(digits)) for part in found[0].split(","))


def numbers(line: str) -> list[float]:
    """The numbers written after the first "=" of a tip line."""
    tail = line.split("=", 1)[1] if "=" in line else line
    return [float(n.replace("−", "-")) for n in NUMBER.findall(tail)]


def close(shown_value: float, value: float) -> bool:
    """Equal to the 4 significant digits a tip prints."""
    return bool(np.isclose(shown_value, value, rtol=6e-4, atol=1e-12))


def test_heatmap_cell_gives_the_gradient_with_its_products(qtbot):
    view = shown(qtbot, GradientView(), width=1100, height=600)
    snapshot = snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10))
    settle(qtbot, view, snapshot)
    view.set_layer(2)
    i, j = 4, 17
    hover(view.canvas, view.heatmap.image, j + 0.5, i + 0.5)
    text = lines(view.tip.text)
    assert text[0] == "∂C/∂w₄,₁₇² = mean over the batch of δ₄² a₁₇¹"
    assert "mean of 10 products δ₄² × a₁₇¹" in text[1]
    d, a = snapshot.delta[1][0, i], snapshot.a[1][0, j]
    first, second, product = numbers("=" + text[2].split(":", 1)[1].replace("=", " "))
    assert close(first, d) and close(second, a) and close(product, d * a)
    assert close(numbers(text[-1])[0], snapshot.grad_w[1][i, j])

    view.set_quantity("update")  # the same cell, now ΔW²: the tip follows at once
    text = lines(view.tip.text)
    assert text[0] == "Δw₄,₁₇² = −η ∂C/∂w₄,₁₇²"
    eta, grad = numbers(text[1])
    assert eta == -snapshot.eta and close(grad, snapshot.grad_w[1][i, j])
    assert close(numbers(text[2])[0], -snapshot.eta * snapshot.grad_w[1][i, j])
    view.set_quantity("weights")
    text = lines(view.tip.text)
    assert text[0].startswith("w₄,₁₇² = ") and close(numbers(text[0])[0], snapshot.weights[1][i, j])


def test_a_tile_pixel_names_its_row_and_column(qtbot):
    view = shown(qtbot, GradientView(), width=1100, height=600)
    snapshot = snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10))
    settle(qtbot, view, snapshot)
    tile, r, c = 7, 3, 20
    row, col = view.sheet.pixel_of(tile, r * 28 + c)
    hover(view.canvas, view.tiles.image, col + 0.5, row + 0.5)
    text = lines(view.tip.text)
    j = r * 28 + c
    assert text[0].startswith(f"tile i = 7, pixel row 3, column 20: j = 3·28 + 20 = {j}")
    assert text[1].startswith(f"∂C/∂w₇,{SUB(j)}¹")
    assert close(numbers(text[-1])[0], snapshot.grad_w[0][tile, j])


def test_the_tip_follows_a_new_snapshot_while_the_pointer_rests(qtbot):
    view = shown(qtbot, GradientView(), width=1100, height=600)
    first, later = (snapshot_at(PhaseKind.UPDATE, step=s) for s in (0, 3))
    settle(qtbot, view, first)
    hover(view.canvas, view.heatmap.image, 400.5, 3.5)  # ∂C/∂w₃,₄₀₀¹ (± a pixel)
    i, j = indices(lines(view.tip.text)[0])
    assert i == 3 and abs(j - 400) <= 2
    assert close(numbers(lines(view.tip.text)[-1])[0], first.grad_w[0][i, j])
    view.show_snapshot(later)  # the pointer has not moved
    qtbot.waitUntil(lambda: view._drawn is later)
    assert close(numbers(lines(view.tip.text)[-1])[0], later.grad_w[0][i, j])
    assert first.grad_w[0][i, j] != later.grad_w[0][i, j]


def test_delta_bars_give_their_factors(qtbot):
    view = shown(qtbot, DeltaView(), height=700)
    snapshot = snapshot_at(PhaseKind.DELTA, 1, sizes=(784, 30, 10))
    settle(qtbot, view, snapshot)
    dC_da, sigma_prime, delta = view.cells(2)
    i = 3
    hover(view.canvas, delta.plot.getViewBox(), i, 0.0)
    text = lines(view.tip.text)
    assert text[0] == "δ₃² = ∂C/∂a₃² · σ′(z₃²)  (example 0)"
    f1, f2 = numbers(text[1])
    assert close(f1, snapshot.dC_da[1][0, i]) and close(f2, snapshot.sigma_prime[1][0, i])
    assert close(numbers(text[2])[0], snapshot.delta[1][0, i])

    hover(view.canvas, sigma_prime.plot.getViewBox(), i, 0.1)
    text = lines(view.tip.text)
    assert text[0].startswith("σ′(z₃²), σ = sigmoid")
    assert close(numbers(text[1])[-1], snapshot.z[1][0, i])  # "… at z₃² = z"
    a = snapshot.a[2][0, i]
    first, one, second = numbers(text[2])  # a (1 − a)
    assert close(first, a) and one == 1 and close(second, a)
    assert close(numbers(text[3])[0], snapshot.sigma_prime[1][0, i])

    hover(view.canvas, dC_da.plot.getViewBox(), i, 0.0)  # output, quadratic: a − y
    text = lines(view.tip.text)
    assert text[0].startswith("∂C/∂a₃² = a₃² − y₃  (quadratic cost")
    a_out, y_out = numbers(text[1].replace(" − ", " "))
    assert close(a_out, snapshot.a[2][0, i]) and y_out == snapshot.y[0, i]
    assert close(numbers(text[2])[0], snapshot.dC_da[1][0, i])

    hidden = view.cells(1)[0]  # ∂C/∂a¹ = (W²)ᵀ δ²
    hover(view.canvas, hidden.plot.getViewBox(), 5, 0.0)
    text = lines(view.tip.text)
    assert text[0].startswith("∂C/∂a₅¹ = ((W²)ᵀ δ²)₅ = Σₖ wₖ,₅² δₖ²")
    expected = snapshot.weights[1][:, 5] @ snapshot.delta[1][0]
    assert close(numbers(text[-1])[0], expected)
    assert close(expected, snapshot.dC_da[0][0, 5])

    view.set_example(None)  # the batch mean: the tip says so, with the mean drawn
    hover(view.canvas, delta.plot.getViewBox(), i, 0.0)
    text = lines(view.tip.text)
    assert "mean over the batch of 10" in text[0] and "mean of 10 products" in text[1]
    assert close(numbers(text[-1])[0], snapshot.delta[1][:, i].mean())


def test_input_pixel_and_output_bar(qtbot):
    view = shown(qtbot, InputOutputView())
    snapshot = snapshot_at(PhaseKind.COST)
    settle(qtbot, view, snapshot)
    view.set_example(2)
    r, c = 14, 12
    hover(view.canvas, view.digit, c + 0.5, r + 0.5)
    text = lines(view.tip.text)
    assert text[0].startswith(f"x₄₀₄ = a₄₀₄⁰: pixel row {r}, column {c}  (example 2)")
    assert close(numbers(text[-1])[0], snapshot.x[2, r * 28 + c])
    k = int(snapshot.labels[2])
    hover(view.canvas, view.out_plot.getViewBox(), k, 0.5)
    text = lines(view.tip.text)
    assert close(numbers(text[0])[0], snapshot.a[2][2, k]) and "(output for class" in text[0]
    assert numbers(text[1])[0] == 1.0  # y_k of the label


def test_loss_point_gives_step_cost_and_accuracy(qtbot):
    view = shown(qtbot, LossView())
    history = fake_history(800)
    view.show_snapshot(dataclasses.replace(snapshot_at(PhaseKind.COST), history=history))
    qtbot.waitUntil(lambda: view._drawn is history)
    k = 150
    step = float(history.loss_step[k])
    hover(view.canvas, view.plot.getViewBox(), step + 0.5, 0.3)
    text = lines(view.loss_tip.text)
    first = int(text[0].split()[1].replace(",", ""))
    b = int(np.searchsorted(history.loss_step, first))
    assert abs(b - k) <= 3  # within a few pixels of the pointer
    assert close(numbers(text[1])[-1], history.loss_mean[b])
    assert f"min {history.loss_min[b]:.4g}".replace("-", "−") in text[2]
    e = int(np.searchsorted(history.epochs.step, first, side="right")) - 1
    assert close(numbers(text[-1])[-1], 100 * history.epochs.test_accuracy.mean[e])


def test_inspector_bar(qtbot):
    snapshot = snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10))
    inspector = shown(qtbot, InspectorView(), width=700, height=600)
    settle(qtbot, inspector, snapshot)
    inspector.set_selection(2, 4, 17)
    qtbot.waitUntil(lambda: inspector.inspection is not None)
    plot = inspector.bars_plot
    hover(plot, plot.getPlotItem().getViewBox(), 6, 0.0)
    text = lines(inspector.bars_tip.text)
    assert text[0].startswith("example 6") and text[0].endswith("δ₄² × a₁₇¹")
    d, a = numbers(text[1])
    assert close(d, snapshot.delta[1][6, 4]) and close(a, snapshot.a[1][6, 17])
    assert close(numbers(text[-1])[-1], snapshot.grad_w[1][4, 17])


def test_contraction_cell(qtbot):
    snapshot = snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10))
    view = shown(qtbot, ContractionView(), width=700, height=600)
    view.show_snapshot(snapshot)
    view.set_selection(2, 4, 17)
    qtbot.waitUntil(lambda: view.result is not None)
    for _ in range(3):  # the panel lays its bands out to its final size first
        qtbot.wait(20)
    qtbot.mouseMove(view.canvas, view.canvas.cell_center(4, 6))
    qtbot.waitUntil(lambda: view.tip.text is not None)
    text = lines(view.tip.text)
    assert text[0].startswith("∂Cₓ/∂w₄,₆² = ∂C/∂a₄² · σ′(z₄²) a₆¹  (example 0)")
    f, s = numbers(text[1])
    assert close(f, snapshot.dC_da[1][0, 4])
    assert close(s, snapshot.sigma_prime[1][0, 4] * snapshot.a[1][0, 6])
    assert close(numbers(text[2])[0], snapshot.delta[1][0, 4] * snapshot.a[1][0, 6])


@pytest.mark.parametrize("phases", [7])
def test_in_the_real_window_the_heatmap_tip_carries_the_snapshot(qtbot, window, phases):
    """Step by key to ∂C/∂W¹, rest the pointer on a heatmap cell, then step on: the tip
    shows the drawn snapshot's ∂C/∂w and follows the next mini-batch's."""
    qtbot.waitUntil(lambda: window.latest is not None)
    window.activateWindow()
    for k in range(phases):
        qtbot.keyClick(window, Qt.Key.Key_Period)
        qtbot.waitUntil(lambda k=k: window.latest.phase_index == k, timeout=10_000)
    view = window.views["gradients"]
    shot = window.latest
    qtbot.waitUntil(lambda: view._drawn is shot, timeout=10_000)
    assert view.layer == 1
    # in a dock 784 columns share a few hundred pixels: the cell under the pointer is
    # the aimed one to within the columns a pixel holds
    per_pixel = view.heatmap.plot.getViewBox().viewPixelSize()[0]
    hover(view.canvas, view.heatmap.image, 300.5, 2.5)  # ∂C/∂w₂,₃₀₀¹
    text = lines(view.tip.text)
    i, j = indices(text[0])
    assert i == 2 and abs(j - 300) <= per_pixel + 1
    assert text[0].startswith(f"∂C/∂w₂,{SUB(j)}¹ = mean over the batch of δ₂¹ a{SUB(j)}⁰")
    assert close(numbers(text[-1])[0], shot.grad_w[0][i, j])
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Right)  # the rest of this mini-batch (its update)
    qtbot.waitUntil(lambda: window.latest.step == shot.step + 1, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Right)  # the next whole mini-batch: a new ∂C/∂W¹
    qtbot.waitUntil(lambda: window.latest.step == shot.step + 2, timeout=10_000)
    after = window.latest
    qtbot.waitUntil(lambda: view._drawn is after, timeout=10_000)
    QtWidgets.QApplication.processEvents()
    if view.tip.text is None:  # the key press moved nothing; keep the test honest
        pytest.fail("the tip went away while the pointer rested")
    assert indices(lines(view.tip.text)[0]) == (i, j)
    assert close(numbers(lines(view.tip.text)[-1])[0], after.grad_w[0][i, j])
    assert after.grad_w[0][i, j] != shot.grad_w[0][i, j]


def test_hover_outside_the_cells_shows_nothing(qtbot):
    view = shown(qtbot, GradientView(), width=1100, height=600)
    view.show_snapshot(snapshot_at(PhaseKind.FORWARD, 1))  # ∂C/∂W not computed yet
    hover(view.canvas, view.heatmap.plot.getViewBox(), 10, 5)
    assert view.tip.text is None


def holds(function, target, depth: int = 4) -> bool:
    """Whether ``function`` reaches ``target`` through its closure and bound ``self``
    (functions, cells, bound methods, lambdas), ``depth`` steps at most."""
    seen: set[int] = set()
    frontier = [function]
    for _ in range(depth):
        found = []
        for obj in frontier:
            if obj is target:
                return True
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, types.FunctionType):
                found += [cell.cell_contents for cell in obj.__closure__ or ()]
            elif isinstance(obj, types.MethodType):
                found += [obj.__self__, obj.__func__]
        frontier = found
    return any(obj is target for obj in frontier)


@pytest.mark.parametrize(
    ("view_class", "tip"),
    [
        (GradientView, "tip"),
        (DeltaView, "tip"),
        (InputOutputView, "tip"),
        (LossView, "loss_tip"),
        (ContractionView, "tip"),
        (InspectorView, "bars_tip"),
        (NetworkView, "tip"),
        (PlaneView, "tip"),
    ],
)
def test_a_tip_does_not_hold_its_view(qtbot, view_class, tip):
    """The view holds its tip; a tip whose text function held the view back would make
    a reference cycle, which Python's collector breaks in any order — clearing the tip
    while Qt, deleting the view's widgets, still sends it their Hide events (an error in
    the event filter, "'LiveTip' object has no attribute '_shown'")."""
    view = shown(qtbot, view_class())
    text_at = getattr(view, tip)._text_at
    assert not holds(text_at, view)
    assert getattr(view, tip).hover(QtCore.QPointF(1, 1)) is None  # nothing drawn: no tip


def test_one_example_batches_and_other_networks_write_their_own_equations():
    """The texts for a batch of one (δᵢ × aⱼ itself), a softmax output (δᴸ = aᴸ − y, no
    σ′), cross-entropy's ∂C/∂aᴸ and tanh's σ′, each with the snapshot's numbers."""
    from bpviz.ui.views import _value_text as vt

    one = snapshot_at(PhaseKind.UPDATE, sizes=(784, 16, 10), hidden="tanh", batch_size=1)
    g = vt.gradient_cell(one, 2, 3, 5, float(one.grad_w[1][3, 5]), None)
    assert g[1].startswith("= δ₃² × a₅¹ = ")
    d, a = numbers(g[1].split(" = ", 1)[1].replace("=", ""))
    assert close(d, one.delta[1][0, 3]) and close(a, one.a[1][0, 5])
    assert close(d * a, one.grad_w[1][3, 5])
    s = vt.sigma_prime_cell(one, 1, 2, float(one.sigma_prime[0][0, 2]), 0)
    assert s[1].startswith("= 1 − (a₂¹)² at z₂¹ = ")
    assert close(numbers(s[2].replace("1 −", ""))[0], one.a[1][0, 2])
    assert close(numbers(s[-1])[0], 1 - one.a[1][0, 2] ** 2)

    soft = snapshot_at(
        PhaseKind.DELTA, 2, sizes=(784, 16, 10), output="softmax", cost="cross_entropy"
    )
    k = int(soft.labels[0])
    t = vt.delta_cell(soft, 2, k, float(soft.delta[1][0, k]), 0)
    assert t[0].startswith(f"δ{SUB(k)}² = a{SUB(k)}² − y{SUB(k)}")
    a_k, y_k = numbers(t[1].replace(" − ", " "))
    assert close(a_k, soft.a[2][0, k]) and y_k == 1.0
    assert close(numbers(t[2])[0], soft.a[2][0, k] - 1.0)
    c = vt.dC_da_cell(soft, 2, k, float(soft.dC_da[1][0, k]), 0)
    assert "(cross-entropy" in c[0] and close(numbers(c[-1])[0], -1.0 / soft.a[2][0, k])
