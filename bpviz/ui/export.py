"""Snapshot export bundles: pictures of the window and of each view, beside the data.

A bundle is one timestamped folder with ``window.png``, ``<view>.png`` for each view,
``<view>.svg`` (``<view>-2.svg`` …) for each pyqtgraph canvas in a view, and the data
files of ``bpviz.files.bundle`` (``state.npz``, ``metrics.csv``, ``snapshot.json``).
Every SVG is checked after writing: it must parse as XML and QtSvg must draw it into a
non-blank image (pyqtgraph 0.14's exporter mis-parses the closed paths Qt ≥ 6.11 writes,
which is why PySide6 is pinned below 6.11; ``check_svg`` would catch a regression).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSize, qVersion
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QWidget

from bpviz.files.bundle import new_bundle_folder, write_bundle_data
from bpviz.session.snapshot import Snapshot

MAX_SVG_RENDER = 2400  # longest side, in pixels, of the check rendering


class ExportError(RuntimeError):
    """A picture could not be written or does not check out; the message says which."""


@dataclass
class BundleReport:
    """What ``export_bundle`` wrote: the folder and every file name, per kind."""

    folder: Path
    pngs: list[str] = field(default_factory=list)
    svgs: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # views not visible: nothing to draw
    failed: list[str] = field(default_factory=list)  # SVGs that did not check out, and why

    @property
    def files(self) -> list[str]:
        return [*self.pngs, *self.svgs, *self.data]


def qt_versions() -> dict[str, str]:
    """Versions of Qt, PySide6 and pyqtgraph, for ``snapshot.json``."""
    return {"qt": qVersion(), "pyside6": pyside_version, "pyqtgraph": pg.__version__}


def image_array(image: QImage) -> np.ndarray:
    """The pixels of ``image`` as an ``(h, w, 4)`` uint8 RGBA copy."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = rgba.height(), rgba.width()
    raw = np.frombuffer(rgba.constBits(), np.uint8, count=rgba.sizeInBytes())
    return raw.reshape(h, rgba.bytesPerLine())[:, : 4 * w].reshape(h, w, 4).copy()


def is_blank(image: QImage, min_colours: int = 3) -> bool:
    """True when ``image`` is empty or (almost) a single flat colour."""
    if image.isNull() or image.width() == 0 or image.height() == 0:
        return True
    pixels = image_array(image).reshape(-1, 4).view(np.uint32).ravel()
    return np.unique(pixels[:: max(1, pixels.size // 200_000)]).size < min_colours


def grab_png(widget: QWidget, path: Path) -> QSize:
    """Save what ``widget`` shows (device pixels) as a PNG; its size in pixels."""
    pixmap: QPixmap = widget.grab()
    if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
        raise ExportError(f"could not write {path.name}")
    return pixmap.size()


def canvases(view: QWidget) -> list[pg.GraphicsView]:
    """The pyqtgraph canvases (PlotWidget, GraphicsLayoutWidget, …) inside ``view``."""
    found = [view] if isinstance(view, pg.GraphicsView) else []
    found += [c for c in view.findChildren(pg.GraphicsView) if c.isVisibleTo(view)]
    return found


_VIEWBOX = re.compile(r'viewBox\s*="0 0 ([0-9.]+) ([0-9.]+)"')
_BACKGROUND = '<rect width="100%" height="100%"'


def write_svg(canvas: pg.GraphicsView, path: Path) -> None:
    """Export the canvas's scene with pyqtgraph's SVG exporter, then check the result.

    pyqtgraph writes the background as a ``100%`` rectangle, which QtSvg (and some
    editors) draw 100 px wide; it is given the viewBox's size so the dark background
    the light text sits on covers the picture everywhere.
    """
    exporter = pg.exporters.SVGExporter(canvas.scene())
    exporter.export(fileName=str(path))
    text = path.read_text(encoding="utf-8")
    box = _VIEWBOX.search(text)
    if box and _BACKGROUND in text:
        w, h = box.groups()
        text = text.replace(_BACKGROUND, f'<rect x="0" y="0" width="{w}" height="{h}"', 1)
        path.write_text(text, encoding="utf-8")
    check_svg(path)


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def check_svg(path: Path) -> QImage:
    """Parse ``path`` as XML, check every path/polyline's coordinates are numbers, and draw
    it with QtSvg; the rendered image, or ExportError if any step fails or it is blank."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise ExportError(f"{path.name} is not valid SVG/XML: {e}") from e
    if not root.tag.endswith("svg"):
        raise ExportError(f"{path.name} is not an SVG document (root <{root.tag}>)")
    for element in root.iter():
        points = element.get("points")
        if points and _NUMBER.sub("", points).replace(",", "").strip():
            raise ExportError(f"{path.name} has a polyline with non-numeric points")
        if element.get("d") and re.search(r"nan|inf", element.get("d"), re.IGNORECASE):
            raise ExportError(f"{path.name} has a path with non-finite coordinates")
    renderer = QSvgRenderer(str(path))
    if not renderer.isValid():
        raise ExportError(f"QtSvg cannot draw {path.name}")
    size = renderer.defaultSize()
    if size.isEmpty():
        raise ExportError(f"{path.name} has no size")
    scale = min(1.0, MAX_SVG_RENDER / max(size.width(), size.height()))
    image = QImage(
        max(1, round(size.width() * scale)),
        max(1, round(size.height() * scale)),
        QImage.Format.Format_ARGB32,
    )
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    if is_blank(image):
        raise ExportError(f"{path.name} draws as a blank image")
    return image


def _unique(name: str, taken: set[str]) -> str:
    stem, k = name, 1
    while name in taken:
        k += 1
        name = f"{stem}-{k}"
    taken.add(name)
    return name


def export_bundle(
    out_dir: str | Path,
    snapshot: Snapshot,
    *,
    window: QWidget | None = None,
    views: Mapping[str, QWidget] | None = None,
    data_source: str = "",
    loss_per_step: np.ndarray | None = None,
    svg: bool = True,
) -> BundleReport:
    """Write one bundle for ``snapshot`` into a new timestamped folder under ``out_dir``.

    ``window`` (any widget) is saved as ``window.png``; ``views`` maps names to the view
    widgets (default: ``window.views``), each saved as ``<name>.png`` and its pyqtgraph
    canvases as SVG. Views that are not visible are listed in ``skipped``; an SVG that
    does not check out is left out and named in ``failed`` (and in ``snapshot.json``).
    The caller makes sure the views show ``snapshot``. Raises ExportError if a PNG fails.
    """
    app = QApplication.instance()
    if app is None:
        raise ExportError("export needs a running QApplication")
    if views is None:
        views = getattr(window, "views", {}) if window is not None else {}
    folder = new_bundle_folder(Path(out_dir), snapshot)
    report = BundleReport(folder)
    app.processEvents()  # let pending repaints land before grabbing
    taken: set[str] = {"state", "metrics", "snapshot"}
    if window is not None:
        grab_png(window, folder / "window.png")
        report.pngs.append("window.png")
        taken.add("window")
    for key, view in views.items():
        name = _unique(re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-") or "view", taken)
        if not view.isVisible():
            report.skipped.append(name)
            continue
        grab_png(view, folder / f"{name}.png")
        report.pngs.append(f"{name}.png")
        if not svg:
            continue
        for k, canvas in enumerate(canvases(view)):
            svg_name = f"{name}.svg" if k == 0 else f"{name}-{k + 1}.svg"
            try:
                write_svg(canvas, folder / svg_name)
            except ExportError as error:  # where pyqtgraph cannot: say so, keep the rest
                (folder / svg_name).unlink(missing_ok=True)
                report.failed.append(str(error))
                continue
            report.svgs.append(svg_name)
    written = write_bundle_data(
        folder,
        snapshot,
        data_source=data_source,
        loss_per_step=loss_per_step,
        extra_versions=qt_versions(),
        extra_files=[*report.pngs, *report.svgs],
        notes=[*(f"not visible, not drawn: {n}" for n in report.skipped), *report.failed],
    )
    report.data = [p.name for p in written]
    return report
