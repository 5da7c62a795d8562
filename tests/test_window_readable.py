"""Readable at 1366×768 (the screen conftest gives the offscreen platform) and on a larger
screen: no label cut off, status messages whole, the equations panel never scrolled
sideways, the evaluation tabs and titles whole, the window sized to its screen."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QMessageBox, QTabBar
from uitexts import caret_texts

from bpviz.ui.views.equations import MathLabel

ROOT = Path(__file__).resolve().parents[1]


def _step_into_backward_pass(qtbot, window, phases=7):
    qtbot.waitUntil(lambda: window.latest is not None)
    for _ in range(phases):
        window.act.step_phase.trigger()
    assert window.worker.wait_idle(timeout=30.0)
    qtbot.waitUntil(lambda: window.latest.phase == window.worker.latest().phase, timeout=10_000)
    window.controller.select(2, 3, 5)


def _raise(qtbot, window, key):
    window.docks[key].raise_()
    qtbot.waitUntil(lambda: not window.views[key].visibleRegion().isEmpty())
    qtbot.wait(1200)  # throttled views (equations: 1 s) catch up


def _cut_labels(root) -> list[str]:
    """Visible one-line labels whose text is wider than the label."""
    cut = []
    for label in root.findChildren(QLabel):
        if not label.isVisible() or label.visibleRegion().isEmpty() or not label.text():
            continue
        if label.wordWrap() or (label.pixmap() is not None and not label.pixmap().isNull()):
            continue
        need = label.sizeHint().width()  # rich text: the laid-out document's width
        margins = label.contentsMargins()
        have = label.width() + 1  # rounding
        if need > have and need - margins.left() - margins.right() > have:
            cut.append(f"{label.objectName() or type(label.parent()).__name__}: "
                       f"{label.text()[:80]!r} needs {need}px, has {label.width()}px")  # fmt: skip
    return cut


def test_screen_is_the_laptop_screen(window):
    area = window.screen().availableGeometry()
    assert (area.width(), area.height()) == (1366, 768)


@pytest.mark.parametrize("tab", ["io", "equations", "inspector", "evaluation"])
def test_every_visible_label_fits_at_1366x768(qtbot, window, tab):
    _step_into_backward_pass(qtbot, window)
    _raise(qtbot, window, tab)
    cut = _cut_labels(window)
    assert not cut, "\n".join(cut)


def test_a_status_message_is_never_cut_by_the_permanent_fields(qtbot, window):
    _step_into_backward_pass(qtbot, window)
    bar = window.statusBar()
    message = (
        "Batch size m = 10,000 refused: the embedded sample has 4,000 training digits; "
        "the batch size in force stays 10"
    )
    bar.showMessage(message, 60_000)
    qtbot.wait(50)
    fields = [label for label in window.status.labels.values() if label.isVisible()]
    room = min((label.x() for label in fields), default=bar.width()) - 6
    assert bar.fontMetrics().horizontalAdvance(message) <= room, (room, len(fields))
    assert window.status.labels["phase"].isVisible(), "the phase is the last field to go"
    bar.clearMessage()
    qtbot.waitUntil(lambda: all(label.isVisible() for label in window.status.labels.values()))


def test_equations_panel_never_scrolls_sideways(qtbot, window):
    _step_into_backward_pass(qtbot, window)  # ∂C/∂W²: long lines with numbers
    _raise(qtbot, window, "equations")
    view = window.views["equations"]
    viewport = view.scroll.viewport()
    assert view.scroll.horizontalScrollBar().maximum() == 0
    assert view.body.width() <= viewport.width()
    formulas = [m for m in view.body.findChildren(MathLabel) if m.isVisible()]
    assert len(formulas) >= 8 and view.substitutions
    for math in formulas:
        left = math.mapTo(view.body, math.rect().topLeft()).x()
        assert left >= 0 and left + math.width() <= viewport.width(), math.latex
    # formulas keep their typeset size when there is room (shrunk only to fit)
    assert max(m.scale for m in formulas) == 1.0


def test_evaluation_tabs_and_titles_are_whole(qtbot, window):
    _step_into_backward_pass(qtbot, window)
    _raise(qtbot, window, "evaluation")
    panel = window.views["evaluation"]
    qtbot.waitUntil(lambda: panel.evaluation is not None, timeout=20_000)
    bar: QTabBar = panel.tabs.tabBar()
    for k in range(bar.count()):
        need = bar.fontMetrics().horizontalAdvance(bar.tabText(k))
        assert bar.tabRect(k).width() >= need, bar.tabText(k)
        assert bar.tabRect(k).right() <= bar.width(), f"tab {bar.tabText(k)!r} scrolled away"
    for plot in (panel.matrix_plot, panel.class_plot):
        title = plot.titleLabel.item  # the QGraphicsTextItem of the title
        width = title.boundingRect().width()
        assert width <= plot.width(), (title.toPlainText(), width, plot.width())
    # the per-class percentages are legible: dark text only on a bar long enough to hold it
    for c, item in enumerate(panel._class_texts):
        dark = item.color.lightness() < 80
        assert not dark or panel.evaluation.per_class_accuracy[c] >= 0.3


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, *args) -> None:
        pass


def test_download_failure_message_wraps_its_sentences_naturally(qtbot, window, tmp_path):
    from functools import partial

    from bpviz.data import download_mnist

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        fetch = partial(download_mnist, dest=tmp_path / "mnist", mirrors=[url])
        dialog = window.controller.download_mnist(fetch)
        assert not caret_texts(dialog), caret_texts(dialog)

        def box():
            boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
            return next((b for b in boxes if b.windowTitle() == "Download full MNIST"), None)

        qtbot.waitUntil(lambda: box() is not None, timeout=30_000)
        text = box().text()
        assert not caret_texts(box()), caret_texts(box())
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
    assert "HTTP 404" in text
    # each sentence is one line: the message box wraps it to its width
    assert "any MNIST mirror (or copy them from a machine that has them):" in text, text
    for line in text.splitlines():
        assert not line.rstrip().endswith(("(or copy them", "mirror", " the")), line


def _open_on_screen(tmp_path: Path, width: int, height: int) -> QImage:
    """Run ``python3 main.py`` on an offscreen screen of that size with a fresh HOME and
    no settings (a first launch), and return its screenshot of the window."""
    screen = tmp_path / f"screen-{width}.json"
    screen.write_text(json.dumps({"screens": [
        {"name": "s", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96,
         "logicalBaseDpi": 96, "dpr": 1}]}))  # fmt: skip
    home = tmp_path / f"home-{width}"
    home.mkdir()
    shot = tmp_path / f"shot-{width}.png"
    env = dict(os.environ, HOME=str(home), QT_QPA_PLATFORM=f"offscreen:configfile={screen}")
    env.pop("BPVIZ_SETTINGS", None)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--data", "sample", "--screenshot", str(shot)],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert not image.isNull()
    return image


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_first_launch_fits_the_screen_it_opens_on(tmp_path, width, height):
    image = _open_on_screen(tmp_path, width, height)
    assert image.width() <= width and image.height() <= height - 40  # room for a title bar
    assert image.width() >= 0.95 * width and image.height() >= 0.88 * height, (
        f"{image.width()}×{image.height()} on a {width}×{height} screen"
    )


def test_the_network_view_gets_the_most_room(window):
    shown = {k: d for k, d in window.docks.items() if not d.visibleRegion().isEmpty()}
    area = {k: d.width() * d.height() for k, d in shown.items()}
    assert max(area, key=area.get) == "network", area
    assert window.docks["network"].width() > window.docks["io"].width()
    assert Qt.DockWidgetArea.LeftDockWidgetArea == window.dockWidgetArea(window.docks["network"])


def test_a_layout_saved_at_the_old_fixed_size_is_dropped_once(qtbot, settings_path):
    from PySide6.QtWidgets import QMainWindow

    from bpviz.ui import settings as store
    from bpviz.ui.app import build_window
    from bpviz.ui.main_window import FRAME_MARGIN

    old = QMainWindow()
    old.resize(1340, 700)  # what every window saved before it fitted its screen
    settings = store.open_settings(settings_path)
    settings.setValue("window/layout_version", 1)
    settings.setValue("window/geometry", old.saveGeometry())
    settings.sync()
    w = build_window("sample", store.open_settings(settings_path))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    area = w.screen().availableGeometry()
    assert w.width() == area.width() - FRAME_MARGIN[0], w.size()
    w.resize(1100, 650)  # the user's own size is kept from now on
    w.close()
    again = build_window("sample", store.open_settings(settings_path))
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert (again.width(), again.height()) == (1100, 650)
    again.close()
