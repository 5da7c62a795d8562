"""The evaluation panel on real digits: counts shown, cells clicked, examples chosen."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from pyqtgraph.Qt import QtCore
from test_evaluation_support import sample_dataset, trained

from bpviz.data.dataset import FASHION_NAMES, Dataset
from bpviz.engine.network import Network
from bpviz.runtime.worker import Worker
from bpviz.session import evaluation as session_evaluation
from bpviz.session.probe import evaluate
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig
from bpviz.ui.views.evaluation import EvaluationPanel


@pytest.fixture
def panel(qtbot):
    widget = EvaluationPanel()
    qtbot.addWidget(widget)
    widget.resize(640, 760)
    widget.set_dataset(sample_dataset())
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_snapshot(trained()[2])  # no epoch evaluated yet: the panel's own thread
    qtbot.waitUntil(lambda: widget.evaluation is not None, timeout=10_000)
    return widget


def click_cell(qtbot, panel: EvaluationPanel, true: int, predicted: int) -> None:
    """A real left click on the centre of cell (true, predicted) of the matrix image."""
    view = panel.graphics
    scene_pos = panel.image.mapToScene(QtCore.QPointF(predicted + 0.5, true + 0.5))
    pos = view.mapFromScene(scene_pos)
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)


def test_shown_counts_equal_a_confusion_matrix_counted_from_the_predictions(panel) -> None:
    net = trained()[0]
    data = sample_dataset()
    predictions = net.forward(Dataset.to_float(data.test_images)).a[-1].argmax(axis=1)
    counted = np.zeros((10, 10), dtype=np.int64)
    for true, predicted in zip(data.test_labels, predictions, strict=True):
        counted[true, predicted] += 1
    np.testing.assert_array_equal(panel.text_counts(), counted)
    np.testing.assert_array_equal(panel.evaluation.confusion, counted)
    # The image is the row-normalised matrix (square root), row = true class.
    np.testing.assert_allclose(panel.image.image, np.sqrt(counted / counted.sum(1, keepdims=True)))
    assert f"{100 * np.trace(counted) / 1000:.2f} %" in panel.header.text()


def test_clicking_a_cell_lists_exactly_its_examples(qtbot, panel) -> None:
    result = panel.evaluation
    off_diagonal = np.argwhere((result.confusion > 0) & ~np.eye(10, dtype=bool))
    true, predicted = (int(v) for v in off_diagonal[0])
    click_cell(qtbot, panel, true, predicted)
    assert panel.cell == (true, predicted)
    data = sample_dataset()
    expected = np.flatnonzero((data.test_labels == true) & (result.predictions == predicted))
    np.testing.assert_array_equal(panel.cell_indices, expected)
    listed = [
        panel.thumbnails.item(r).data(QtCore.Qt.ItemDataRole.UserRole)
        for r in range(panel.thumbnails.count())
    ]
    assert listed == expected.tolist()
    click_cell(qtbot, panel, 1, 1)  # a diagonal cell: the correctly classified ones
    assert panel.cell == (1, 1)
    assert panel.thumbnails.count() == result.confusion[1, 1]


def test_clicking_a_thumbnail_chooses_that_digit(qtbot, panel) -> None:
    click_cell(qtbot, panel, 2, 2)
    item = panel.thumbnails.item(3)
    index = item.data(QtCore.Qt.ItemDataRole.UserRole)
    rect = panel.thumbnails.visualItemRect(item)
    with qtbot.waitSignal(panel.example_chosen) as chosen:
        qtbot.mouseClick(
            panel.thumbnails.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center()
        )
    x, label, text = chosen.args
    data = sample_dataset()
    np.testing.assert_allclose(x, data.test_images[index] / 255.0)
    assert label == data.test_labels[index] == 2
    assert f"#{index}" in text


def test_mistake_gallery_shows_the_most_confident_wrong_answers(qtbot, panel) -> None:
    panel.tabs.setCurrentIndex(1)
    shown = panel.gallery.shown_indices()
    data = sample_dataset()
    probed = evaluate(trained()[2], data.test_images, data.test_labels)
    assert shown == probed.worst_mistakes(24).tolist() == panel.evaluation.mistakes.tolist()
    tile = panel.gallery.tiles[0]
    qtbot.waitExposed(tile)
    with qtbot.waitSignal(panel.example_chosen) as chosen:
        qtbot.mouseClick(tile, QtCore.Qt.MouseButton.LeftButton)
    assert chosen.args[1] == sample_dataset().test_labels[shown[0]]
    assert "predicted" in chosen.args[2]


def test_fashion_class_names_label_the_matrix(qtbot) -> None:
    digits = sample_dataset()
    fashion = Dataset(digits.train_images, digits.train_labels, digits.test_images,
                      digits.test_labels, class_names=FASHION_NAMES)  # fmt: skip
    widget = EvaluationPanel()
    qtbot.addWidget(widget)
    widget.set_dataset(fashion)
    widget.show()
    widget.show_snapshot(trained()[2])
    qtbot.waitUntil(lambda: widget.evaluation is not None, timeout=10_000)
    ticks = widget.matrix_plot.getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == [f"{c} {n}" for c, n in enumerate(FASHION_NAMES)]
    widget.select_cell(9, 7)
    assert widget.cell_label.text().startswith("true Ankle boot, predicted Sneaker")


def test_shows_the_sessions_epoch_evaluation_and_never_evaluates_on_the_gui_thread(
    qtbot, panel, monkeypatch
) -> None:
    """At an epoch's end the panel draws the session's own evaluation (computed on the
    worker's evaluation thread), its numbers those of the session; the GUI thread never
    runs the engine's evaluation or a forward pass meanwhile."""
    gui = threading.current_thread()
    calls: list[str] = []
    real_evaluate, real_forward = session_evaluation.evaluate, Network.forward

    def spy_evaluate(*args, **kwargs):
        calls.append(threading.current_thread().name)
        return real_evaluate(*args, **kwargs)

    def spy_forward(self, x):
        calls.append(threading.current_thread().name)
        return real_forward(self, x)

    monkeypatch.setattr(session_evaluation, "evaluate", spy_evaluate)
    monkeypatch.setattr(Network, "forward", spy_forward)
    data = sample_dataset()
    session = Session(data, SessionConfig(batch_size=40))
    worker = Worker(session)
    worker.start()
    try:
        worker.run()
        qtbot.waitUntil(lambda: worker.latest().last_eval is not None, timeout=20_000)
        worker.pause()
        assert worker.wait_idle(10)
        snapshot = worker.latest()
        before = list(calls)
        assert before and gui.name not in before  # the session evaluated, off this thread
        panel.show_snapshot(snapshot)
        qtbot.waitUntil(lambda: panel.evaluation is snapshot.last_eval, timeout=5000)
        assert calls == before  # drawing it evaluated nothing, on no thread
    finally:
        worker.stop()
    theirs = snapshot.last_eval
    np.testing.assert_array_equal(panel.text_counts(), theirs.confusion)
    assert f"{100 * theirs.test_accuracy:.2f} %" in panel.header.text()
    assert f"C = <b>{theirs.test_loss:.4f}</b>" in panel.header.text()
    assert panel.evaluated_step == theirs.step == snapshot.history.epochs.step[-1]
    assert panel.gallery.shown_indices() == theirs.mistakes.tolist()
    # a later snapshot of the same epoch: nothing new to draw
    panel.show_snapshot(dataclasses.replace(snapshot, step=snapshot.step + 1))
    assert panel.evaluation is theirs and calls == before


def test_evaluate_now_runs_on_the_panels_thread(qtbot, panel, monkeypatch) -> None:
    names: list[str] = []
    real = session_evaluation.evaluate

    def spy(*args, **kwargs):
        names.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(session_evaluation, "evaluate", spy)
    first = panel.evaluation
    qtbot.mouseClick(panel.evaluate_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.evaluation is not first, timeout=10_000)
    panel.wait_for_evaluation()
    assert names == ["bpviz-evaluate"]
    np.testing.assert_array_equal(panel.evaluation.confusion, first.confusion)


def test_hovering_a_cell_says_what_it_holds(qtbot, panel) -> None:
    view = panel.graphics
    scene_pos = panel.image.mapToScene(QtCore.QPointF(4.5, 9.5))  # true 9, predicted 4
    qtbot.mouseMove(view.viewport(), view.mapFromScene(scene_pos))
    count = panel.evaluation.confusion[9, 4]
    qtbot.waitUntil(lambda: f"true 9, predicted 4: {count:,}" in panel.matrix_plot.titleLabel.text)
