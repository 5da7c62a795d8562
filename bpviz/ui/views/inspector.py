"""The weight inspector: one w_ij^l (or b_i^l) in the current mini-batch, checked numerically.

Shows w_ij^l before and after the update, a_j^{l-1} and δ_i^l (selected example and batch
mean), ∂C/∂w_ij^l = mean over the batch of δ_i^l a_j^{l-1}, the update Δw = −η ∂C/∂w_ij^l,
each example's contribution δ_i a_j as bars, and — when the weight is pinned — w_ij and
∂C/∂w_ij over the steps with the η changes marked. "Check" compares backprop with a
central finite difference of C in float64 on a copy (bpviz/ui/inspection.py); "check
this layer" samples many entries on a background thread. The training run is never
touched: pinning only emits ``pin_requested`` for the window to pass on.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.runtime.threads import start_thread
from bpviz.session.snapshot import Snapshot, WatchView
from bpviz.ui import colors
from bpviz.ui.inspection import (
    Inspection,
    NumericCheck,
    Selection,
    inspect,
    numeric_check,
    sample_layer,
)
from bpviz.ui.views import _inspector_bars
from bpviz.ui.views._throttle import ThrottledView
from bpviz.ui.views.equations import dark_panel, html_indices

TOLERANCE = 1e-6  # float64 backprop and central differences agree to this relative error


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:+.5g}"


def _title(plot, text: str) -> None:
    """Set a plot's title only when it changes (a new title re-lays out the plot)."""
    if getattr(plot, "_bpviz_title", None) != text:
        plot._bpviz_title = text
        plot.setTitle(text)


def _name(sel: Selection) -> str:
    if sel.j is None:
        return f"b<sub>{sel.i}</sub><sup>{sel.l}</sup>"
    return f"w<sub>{sel.i},{sel.j}</sub><sup>{sel.l}</sup>"


class InspectorView(ThrottledView):
    """Inspect one parameter. ``set_selection(l, i, j)`` (j None or −1: the bias b_i^l).

    Signals: ``selection_changed(l, i, j)`` when the form changes it (j = −1 for a bias);
    ``pin_requested(l, i, j, pinned)``; ``check_done(object)`` with a NumericCheck (or an
    error message) after ``check_selected`` / ``check_layer``.
    """

    selection_changed = QtCore.Signal(int, int, int)
    pin_requested = QtCore.Signal(int, int, int, bool)
    check_done = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection = Selection(1, 0, 0)
        self.inspection: Inspection | None = None
        self.last_check: NumericCheck | None = None
        self._threads: list[threading.Thread] = []
        self._sizes: tuple[int, ...] = ()

        self.layer_spin, self.i_spin, self.j_spin = (QtWidgets.QSpinBox() for _ in range(3))
        self.layer_spin.setPrefix("l = ")
        self.i_spin.setPrefix("i = ")
        self.j_spin.setPrefix("j = ")
        self.layer_spin.setToolTip("The paper's layer l = 1 … L of Wˡ")
        self.i_spin.setToolTip("Row i of Wˡ: neuron i of layer l")
        self.j_spin.setToolTip("Column j of Wˡ: neuron j of layer l − 1")
        self.bias_box = QtWidgets.QCheckBox("bias b")
        self.bias_box.setToolTip("Inspect the bias bᵢˡ instead (∂C/∂bᵢˡ = δᵢˡ)")
        self.pin_button = QtWidgets.QPushButton("Pin")
        self.pin_button.setCheckable(True)
        self.pin_button.setToolTip("Add wᵢⱼˡ to the watch list: its value and gradient per step")
        form = QtWidgets.QHBoxLayout()
        for widget in (self.layer_spin, self.i_spin, self.j_spin, self.bias_box):
            form.addWidget(widget)
        form.addStretch(1)
        form.addWidget(self.pin_button)

        self.values = QtWidgets.QLabel()
        self.values.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.values.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)

        self.check_button = QtWidgets.QPushButton("Check gradient (g)")
        self.check_button.setToolTip(
            "Central finite difference (C(w+ε) − C(w−ε))/2ε of the mini-batch cost, in float64 "
            "on a copy of the network, against backprop's ∂C/∂w"
        )
        self.layer_button = QtWidgets.QPushButton("Check this layer")
        self.layer_button.setToolTip("The same for ~100 sampled weights and biases of Wˡ")
        self.check_label = QtWidgets.QLabel("Numeric check: press g.")
        self.check_label.setWordWrap(True)
        self.check_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        checks = QtWidgets.QHBoxLayout()
        checks.addWidget(self.check_button)
        checks.addWidget(self.layer_button)
        checks.addStretch(1)

        self.bars_plot = pg.PlotWidget(background=colors.BACKGROUND)
        self.bars_plot.setMenuEnabled(False)
        colors.style_plot(self.bars_plot.getPlotItem())
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.bars_plot.addItem(self.bars)
        self.mean_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(colors.HIGHLIGHT, width=2))
        self.bars_plot.addItem(self.mean_line)
        self.watch_plot = pg.GraphicsLayoutWidget()
        self.watch_plot.setBackground(colors.BACKGROUND)
        self.w_plot = self.watch_plot.addPlot(row=0, col=0)
        self.g_plot = self.watch_plot.addPlot(row=1, col=0)
        self.g_plot.setXLink(self.w_plot)
        self.w_curve = self.w_plot.plot(pen=pg.mkPen(colors.FOREGROUND, width=1.5))
        # a line over the steps (its sign is its height): not red, the colour of > 0
        self.g_curve = self.g_plot.plot(pen=pg.mkPen(colors.HIGHLIGHT, width=1.5))
        for plot in (self.w_plot, self.g_plot):
            colors.style_plot(plot)
            plot.setMenuEnabled(False)
        self._eta_lines: list[pg.InfiniteLine] = []
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(_inspector_bars.page(self), "per-example δᵢ aⱼ")
        self.tabs.addTab(self.watch_plot, "watch over steps")
        _inspector_bars.place_legend(self)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.values)
        layout.addLayout(checks)
        layout.addWidget(self.check_label)
        layout.addWidget(self.tabs, 1)
        dark_panel(self)

        for spin in (self.layer_spin, self.i_spin, self.j_spin):
            spin.valueChanged.connect(self._form_changed)
        self.bias_box.toggled.connect(self._form_changed)
        self.pin_button.clicked.connect(self._pin_clicked)
        self.check_button.clicked.connect(self.check_selected)
        # not connected directly: Qt would pass clicked's `checked` (False) as the count
        self.layer_button.clicked.connect(lambda: self.check_layer())
        self.check_done.connect(self._show_check)

        # g while the focus is in the panel; the main window replaces it by a window-wide
        # action (two shortcuts for one key would be ambiguous and neither would fire)
        self.check_shortcut = QtGui.QShortcut(QtGui.QKeySequence("G"), self)
        self.check_shortcut.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.check_shortcut.activated.connect(self.check_selected)

    # --- selection ---

    def set_selection(self, l: int, i: int, j: int | None = None) -> None:
        """Inspect w_ij^l (j None or −1: the bias b_i^l); ignored when out of range."""
        sel = Selection(l, i, None if j is None or j < 0 else j)
        if self._sizes:
            try:
                sel.check(self._sizes)
            except ValueError:
                return
        changed = sel != self.selection
        self.selection = sel
        self._sync_form()
        if changed:
            self._clear_check()
        self.redraw()

    def _sync_form(self) -> None:
        sel, sizes = self.selection, self._sizes
        widgets = (self.layer_spin, self.i_spin, self.j_spin, self.bias_box)
        for widget in widgets:
            widget.blockSignals(True)
        if sizes:
            self.layer_spin.setRange(1, len(sizes) - 1)
            self.i_spin.setRange(0, sizes[sel.l] - 1)
            self.j_spin.setRange(0, sizes[sel.l - 1] - 1)
        self.layer_spin.setValue(sel.l)
        self.i_spin.setValue(sel.i)
        self.j_spin.setValue(0 if sel.j is None else sel.j)
        self.bias_box.setChecked(sel.j is None)
        self.j_spin.setEnabled(sel.j is not None)
        for widget in widgets:
            widget.blockSignals(False)

    def _form_changed(self) -> None:
        if not self._sizes:
            return
        l = self.layer_spin.value()
        i = min(self.i_spin.value(), self._sizes[l] - 1)
        j = None if self.bias_box.isChecked() else min(self.j_spin.value(), self._sizes[l - 1] - 1)
        self.set_selection(l, i, j)
        self.selection_changed.emit(l, i, -1 if j is None else j)

    def _pin_clicked(self, checked: bool) -> None:
        sel = self.selection
        if sel.j is None:  # the history watches weights only
            self.pin_button.setChecked(False)
            return
        self.pin_requested.emit(sel.l, sel.i, sel.j, checked)

    # --- drawing ---

    def _render(self, snapshot: Snapshot) -> None:
        if snapshot.config.sizes != self._sizes:
            self._sizes = snapshot.config.sizes
            try:
                self.selection.check(self._sizes)
            except ValueError:
                self.selection = Selection(len(self._sizes) - 1, 0, 0)
                self._clear_check()
            self._sync_form()
        ins = self.inspection = inspect(snapshot, self.selection, self.example or 0)
        self.values.setText(self._table(ins, snapshot))
        self._draw_bars(ins)
        self._draw_watch(snapshot)
        self.bars_tip.refresh()

    def _table(self, ins: Inspection, snapshot: Snapshot) -> str:
        sel, name = ins.selection, _name(ins.selection)
        digit = "" if ins.label is None else f" (digit {ins.label})"
        rows = [(f"{name} before the update", _num(ins.before), "after", _num(ins.after))]
        if sel.j is not None:
            rows.append(
                (
                    f"a<sub>{sel.j}</sub><sup>{sel.l - 1}</sup>  example {ins.example}{digit}",
                    _num(ins.a_j),
                    "batch mean",
                    _num(ins.a_j_mean),
                )
            )
        rows.append(
            (
                f"δ<sub>{sel.i}</sub><sup>{sel.l}</sup>  example {ins.example}",
                _num(ins.delta_i),
                "batch mean",
                _num(ins.delta_i_mean),
            )
        )
        rows.append((f"∂C/∂{name} = mean δ·a", _num(ins.grad), "Δ = −η ∂C/∂·", _num(ins.update)))
        cells = "".join(
            f"<tr><td>{a}</td><td align=right><b>{b}</b></td><td>&nbsp;&nbsp;{c}&nbsp;</td>"
            f"<td align=right><b>{d}</b></td></tr>"
            for a, b, c, d in rows
        )
        phase = "reset" if snapshot.phase is None else snapshot.phase.label
        return (
            f"<b>{name}</b> — phase {html_indices(phase)}, step {snapshot.step:,}, η = {ins.eta:g}"
            f"<table cellspacing=2>{cells}</table>"
        )

    def _draw_bars(self, ins: Inspection) -> None:
        c = ins.contributions
        if c is None:
            self.bars.setOpts(x=[], height=[])
            self.mean_line.hide()
            _title(self.bars_plot, "δᵢ aⱼ per example: not computed yet in this mini-batch")
            return
        x = np.arange(c.size)
        brushes = _inspector_bars.brushes(self, ins)  # the diverging map, its legend
        self.bars.setOpts(x=x, height=c, brushes=brushes, width=0.7)
        self.mean_line.setValue(float(c.mean()))
        self.mean_line.show()
        lo, hi = min(0.0, float(c.min())), max(0.0, float(c.max()))
        pad = 0.08 * (hi - lo or 1.0)
        self.bars_plot.setRange(xRange=(-0.6, c.size - 0.4), yRange=(lo - pad, hi + pad), padding=0)
        if ins.labels is not None:
            ticks = [(k, str(int(d))) for k, d in enumerate(ins.labels)]
            self.bars_plot.getAxis("bottom").setTicks([ticks])
        what = "δᵢ" if ins.selection.j is None else "δᵢ aⱼ"
        _title(self.bars_plot, f"{what} per example (by digit) · line: mean = ∂C/∂θ")
        self.bars_plot.setToolTip(
            "Each example's share of the gradient, on the diverging map of the legend "
            "above. Red (positive) examples push the parameter down (Δ = −η ∂C/∂θ), "
            "blue ones push it up."
        )

    def _draw_watch(self, snapshot: Snapshot) -> None:
        sel = self.selection
        watch: WatchView | None = None
        if snapshot.history is not None and sel.j is not None:
            watch = next(
                (w for w in snapshot.history.watches if (w.l, w.i, w.j) == (sel.l, sel.i, sel.j)),
                None,
            )
        self.pin_button.blockSignals(True)
        self.pin_button.setChecked(watch is not None)
        self.pin_button.setEnabled(sel.j is not None)
        self.pin_button.blockSignals(False)
        for line in self._eta_lines:
            self.w_plot.removeItem(line)
        self._eta_lines = []
        if watch is None:
            self.w_curve.setData([], [])
            self.g_curve.setData([], [])
            _title(self.w_plot, "Pin the weight to follow it over the steps")
            return
        self.w_curve.setData(watch.w.step, watch.w.mean)
        self.g_curve.setData(watch.grad.step, watch.grad.mean)
        _title(self.w_plot, "w over steps; dashed: η changes")
        _title(self.g_plot, "∂C/∂w over steps")
        for step, eta in snapshot.history.eta_changes[1:]:
            pen = pg.mkPen(colors.HIGHLIGHT, style=QtCore.Qt.PenStyle.DashLine)
            line = pg.InfiniteLine(pos=step, angle=90, label=f"η={eta:g}", pen=pen)
            self.w_plot.addItem(line)
            self._eta_lines.append(line)

    # --- numeric gradient check ---

    def check_selected(self) -> NumericCheck | None:
        """Check the selected parameter now (two forward passes in float64: fast)."""
        return self._check([self.selection.entry], background=False)

    def check_layer(self, count: int = 96) -> None:
        """Check ~``count`` sampled entries of the selected layer on a background thread;
        the result arrives through ``check_done``."""
        if self._snapshot is None:
            return
        self._check(sample_layer(self._snapshot.config.sizes, self.selection.l, count), True)

    def _check(self, entries, background: bool) -> NumericCheck | None:
        snapshot = self._snapshot
        if snapshot is None or snapshot.x is None:
            self.check_label.setText("Numeric check: no mini-batch yet — step once first.")
            return None
        if not background:
            result = self._run(snapshot, entries)
            self._show_check(result)
            return result if isinstance(result, NumericCheck) else None
        self.check_label.setText(f"Checking {len(entries)} entries of layer {self.selection.l}…")
        self.layer_button.setEnabled(False)
        thread = start_thread(
            "bpviz-gradcheck", self._check_in_background, snapshot, entries, daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        return None

    def _check_in_background(self, snapshot: Snapshot, entries) -> None:
        outcome = self._run(snapshot, entries)
        with contextlib.suppress(RuntimeError):  # the panel was deleted meanwhile
            self.check_done.emit(outcome)

    @staticmethod
    def _run(snapshot: Snapshot, entries) -> NumericCheck | str:
        try:
            return numeric_check(snapshot, entries)
        except ValueError as error:
            return f"Numeric check impossible: {error}"

    def wait_for_checks(self, timeout: float = 30.0) -> None:
        """Join background checks (tests; closing the window)."""
        for thread in self._threads:
            thread.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]

    def _clear_check(self) -> None:
        """A new selection: the line no longer speaks of the previous parameter."""
        self.last_check = None
        self.check_label.setText(f"Numeric check of {_name(self.selection)}: press g.")

    def _show_check(self, outcome: NumericCheck | str) -> None:
        self.layer_button.setEnabled(True)
        if isinstance(outcome, str):
            self.check_label.setText(outcome)
            return
        self.last_check = outcome
        r = outcome.result
        ok = r.worst_relative_error < TOLERANCE
        verdict = (
            f"<span style='color:{'#3fb950' if ok else colors.POSITIVE}'>"
            f"{'agrees' if ok else 'DISAGREES'}</span>"
        )
        l, i, j = r.worst_entry
        where = Selection(l, i, j)
        live = "not computed yet in this phase" if outcome.live is None else f"{outcome.live:+.7g}"
        head = (
            f"{r.checked} entries of layer {l}; worst at {_name(where)}"
            if r.checked > 1
            else _name(where)
        )
        self.check_label.setText(
            f"<b>{head}</b>: finite difference (float64) {float(r.numerical):+.10g}, "
            f"backprop (float64) {r.backprop:+.10g}, live backprop {live}; "
            f"relative error {float(r.worst_relative_error):.2e} — {verdict} (tolerance 1e-6)"
        )

    def closeEvent(self, event) -> None:
        self.wait_for_checks()
        super().closeEvent(event)
