"""Export bundles from the real views (offscreen): every file, right-sized non-blank PNGs,
SVGs that parse and render, arrays equal to the snapshot's."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import qVersion
from PySide6.QtGui import QImage
from snapshots import snapshot_at

from bpviz.session.snapshot import PhaseKind
from bpviz.ui.export import ExportError, check_svg, export_bundle, image_array, is_blank, write_svg
from bpviz.ui.headless import OffscreenExporter, board_class


@pytest.fixture
def board(qtbot):
    widget = board_class()((1400, 900))
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_bundle_has_every_file_and_the_pictures_check_out(board, tmp_path):
    snap = snapshot_at(PhaseKind.DELTA, 1)
    board.show_snapshot(snap)
    report = export_bundle(tmp_path, snap, window=board, data_source="test snapshots")
    folder = report.folder
    assert folder.parent == tmp_path and folder.name.startswith("bpviz-")
    names = set(board.views)
    assert {"network", "delta", "gradient"} <= names
    expected = {"window.png", "state.npz", "metrics.csv", "snapshot.json"}
    expected |= {f"{n}.png" for n in names} | {f"{n}.svg" for n in names}
    present = {p.name for p in folder.iterdir()}
    assert expected <= present
    assert present == set(report.files)
    assert report.skipped == []

    window = QImage(str(folder / "window.png"))
    assert (window.width(), window.height()) == (board.width(), board.height())
    assert not is_blank(window)
    for name, view in board.views.items():
        image = QImage(str(folder / f"{name}.png"))
        assert (image.width(), image.height()) == (view.width(), view.height()), name
        assert not is_blank(image), name
    for svg in report.svgs:
        root = ET.parse(folder / svg).getroot()
        assert root.tag.endswith("svg")
        rendered = check_svg(folder / svg)
        pixels = image_array(rendered)
        # the dark background covers the whole picture, so the light text is legible
        assert pixels[-3, -3, :3].max() < 80 and pixels[2, rendered.width() // 2, :3].max() < 80

    meta = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    assert set(meta["files"]) == present
    assert meta["versions"]["qt"] == qVersion() and meta["data_source"] == "test snapshots"
    with np.load(folder / "state.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["delta1"], snap.delta[0])
        np.testing.assert_array_equal(npz["W2"], snap.weights[1])


def test_hidden_views_are_listed_not_drawn(board, tmp_path):
    snap = snapshot_at(PhaseKind.UPDATE)
    board.show_snapshot(snap)
    board.views["delta"].hide()
    report = export_bundle(tmp_path, snap, window=board, svg=False)
    assert report.skipped == ["delta"]
    assert "delta.png" not in report.pngs and report.svgs == []
    assert (report.folder / "network.png").is_file()


def test_the_headless_exporter_draws_each_snapshot(tmp_path):
    exporter = OffscreenExporter(tmp_path, data_source="sample", svg=False)
    try:
        first = exporter.export(snapshot_at(PhaseKind.FORWARD, 1))
        second = exporter.export(snapshot_at(PhaseKind.DELTA, 2))
    finally:
        exporter.close()
    assert first.folder != second.folder
    a = image_array(QImage(str(first.folder / "network.png")))
    b = image_array(QImage(str(second.folder / "network.png")))
    assert a.shape == b.shape and not np.array_equal(a, b)  # the view changed with the phase


def test_pyqtgraph_svg_export_of_closed_and_filled_paths_works_here(qtbot, tmp_path):
    """pyqtgraph 0.14's exporter breaks on the closed paths ('… Z') Qt >= 6.11 writes;
    we pin Qt below 6.11. Filled curves, bars and a legend are the cases that trip it."""
    major, minor = (int(v) for v in qVersion().split(".")[:2])
    assert (major, minor) < (6, 11), "PySide6 must stay < 6.11 for pyqtgraph 0.14 SVG export"
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.addLegend()
    x = np.linspace(0, 6, 50)
    widget.plot(x, np.sin(x), fillLevel=0, brush=(80, 120, 200, 150), name="sin")
    widget.addItem(pg.BarGraphItem(x=np.arange(5), height=np.arange(5) + 1, width=0.6))
    widget.resize(500, 300)
    widget.show()
    qtbot.waitExposed(widget)
    write_svg(widget, tmp_path / "p.svg")
    assert not is_blank(check_svg(tmp_path / "p.svg"))


def test_right_click_export_stays_available_on_every_canvas(board):
    from bpviz.ui.export import canvases

    found = [c for view in board.views.values() for c in canvases(view)]
    assert found
    for canvas in found:
        assert "Export..." in [a.text() for a in canvas.scene().contextMenu]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("<svg xmlns='http://www.w3.org/2000/svg'><rect", "not valid SVG"),
        ("<html/>", "not an SVG"),
        (
            "<svg xmlns='http://www.w3.org/2000/svg' width='50' height='50'>"
            "<path d='M0,0 L nan,5' stroke='red'/></svg>",
            "non-finite",
        ),
        (
            "<svg xmlns='http://www.w3.org/2000/svg' width='50' height='50'>"
            "<polyline points='0,0 1,Z' stroke='red'/></svg>",
            "non-numeric",
        ),
        ("<svg xmlns='http://www.w3.org/2000/svg' width='50' height='50'/>", "blank"),
    ],
)
def test_bad_svgs_are_caught(qapp, tmp_path, content, words):
    path = tmp_path / "bad.svg"
    path.write_text(content)
    with pytest.raises(ExportError, match=words):
        check_svg(path)


def test_a_canvas_pyqtgraph_cannot_export_is_named_not_fatal(qtbot, tmp_path):
    """An empty canvas draws a blank SVG: the bundle leaves it out and says so."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    holder = QWidget()
    qtbot.addWidget(holder)
    layout = QVBoxLayout(holder)
    plot = pg.PlotWidget()
    plot.plot([0, 1, 2], [1, 3, 2])
    empty = pg.GraphicsView()
    empty.setBackground("w")
    layout.addWidget(plot)
    layout.addWidget(empty)
    holder.resize(400, 400)
    holder.show()
    qtbot.waitExposed(holder)
    snap = snapshot_at(PhaseKind.UPDATE)
    report = export_bundle(tmp_path, snap, window=holder, views={"plots": holder})
    assert report.svgs == ["plots.svg"] and len(report.failed) == 1
    assert "blank" in report.failed[0]
    meta = json.loads((report.folder / "snapshot.json").read_text(encoding="utf-8"))
    assert meta["notes"] == report.failed
    assert not (report.folder / "plots-2.svg").exists()
