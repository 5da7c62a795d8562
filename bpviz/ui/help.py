"""Help ▸ bpviz help: one page on the keys, the views and what their colours mean.

The keys table is generated from the window's own QActions and QShortcuts each time the
page opens, so it cannot drift from what the keys really do. The views' section follows
``docks.DOCKS`` (their titles as the window shows them).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from bpviz.ui import colors
from bpviz.ui.docks import DOCKS

if TYPE_CHECKING:
    from bpviz.ui.window_api import Window

NATIVE = QKeySequence.SequenceFormat.NativeText

# What each dock shows, in a sentence or two (keyed like docks.DOCKS).
VIEWS = {
    "network": "The layers left to right: the input digit x = a⁰, then one column of "
    "nodes per layer. Each phase plays along the edges: forward, a wave carries wᵢⱼaⱼ "
    "from layer l − 1 to layer l and the nodes fill in with aˡ (sequential map); "
    "backward, a wave carries wᵢⱼδᵢ back from layer l + 1 and the nodes show δˡ "
    "(diverging map, each layer scaled to its own largest |δˡ|); then ∂C/∂Wˡ on the edges "
    "of Wˡ, then ΔW. The layer being computed is outlined in yellow with its equation; "
    "the line under the header says it in words; the two legends say what nodes and "
    "edges show. Hover any neuron or edge for its numbers; click one to inspect it. On a "
    "network of at most 8 neurons a layer every number is written.",
    "io": "The mini-batch's digits (label, and red when predicted wrong), the selected "
    "example large, and its output aᴸ as bars against the one-hot target y (outline). "
    "Click a digit to select that example in every view.",
    "delta": "One row per layer, output on top: ∂C/∂aˡ, σ'(zˡ) and their product "
    "δˡ = ∂C/∂aˡ ⊙ σ'(zˡ), each over the neurons i of the layer, as bars. The row of the "
    "phase just computed is highlighted; ±m is the scale of each panel.",
    "gradients": "∂C/∂Wˡ (or Wˡ, or the update ΔWˡ = −η ∂C/∂Wˡ) of one layer as a "
    "heatmap: row i, column j is wᵢⱼˡ, from neuron j of layer l − 1 to neuron i of layer l. "
    "The W¹ tiles show row i of the first layer reshaped to 28×28: what neuron i "
    "responds to. Click a cell to inspect that weight.",
    "loss": "The cost C of every mini-batch: the band spans each bucket's min and max, "
    "the thin line its mean, the thick yellow one a moving average. Green dots: test "
    "accuracy after each epoch (right axis). Dashed lines: a new η applied from there.",
    "equations": "The paper's algorithm, typeset. The line the current phase computes is "
    "framed in yellow, and under it the same equation written out with the numbers the "
    "engine used, for the selected weight (or the neuron with the largest value).",
    "inspector": "One weight wᵢⱼˡ (or bias bᵢˡ): its value before and after the update, "
    "aⱼˡ⁻¹ and δᵢˡ, ∂C/∂wᵢⱼˡ, and each example's share δᵢ aⱼ. Check gradient compares "
    "backprop with a finite difference; Pin watches the weight over the steps.",
    "contraction": "∂aˡ/∂Wˡ for one example as a stack of matrices (slice i has only row i "
    "non-zero), contracted with ∂C/∂aˡ into ∂C/∂Wˡ: the tensor view of δˡ (aˡ⁻¹)ᵀ.",
    "evaluation": "The held-out set through the current network: accuracy, mean cost, the "
    "confusion matrix (rows = true class, columns = predicted) and per-class accuracy. "
    "Click a cell to list its digits, and a digit to show it in every view.",
    "drawpad": "Draw a digit with the mouse: the network's output aᴸ for it, live, and one "
    "backprop step on it alone (training is not changed).",
}


def _swatch(color: str) -> str:
    return f'<span style="background:{color}; color:{color}">&nbsp;&nbsp;&nbsp;&nbsp;</span>'


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _gradient(cmap, n: int = 9) -> str:
    """A row of swatches sampling ``cmap`` from 0 to 1 (the colour bar as text)."""
    return "".join(_swatch(_hex(tuple(cmap.map(k / (n - 1), mode="byte")[:3]))) for k in range(n))


COLOURS = (
    (
        lambda: _gradient(colors.DIVERGING),
        "Signed quantities (δˡ, ∂C/∂aˡ, ∂C/∂Wˡ, Wˡ, ΔWˡ, the inspector's δᵢ aⱼ), in "
        "every view: blue negative, black zero, red positive, symmetric about zero; the "
        "colour bar beside each says what it is and what ±m is. The δ view's bars are "
        "filled with it along their height (a bar's tip has its value's colour).",
    ),
    (
        lambda: _gradient(colors.SEQUENTIAL),
        "Unsigned quantities (the activations aˡ, σ'(zˡ) in the δ view — a gap is a "
        "saturated neuron, σ' ≈ 0 — the confusion matrix): black 0, through red, to "
        "yellow at the top of the legend's range.",
    ),
    (
        lambda: _gradient(colors.GREYS),
        "Greys: the digits' pixels, 0 black … 1 white (the input x, not a colour scale).",
    ),
    (
        lambda: _swatch(_hex(colors.HIGHLIGHT)),
        "Yellow: what the current phase computes (a layer, an equation) or what you "
        "selected (a weight, an example).",
    ),
    (
        lambda: _swatch(colors.MISSING),
        "Grey: not computed yet in this mini-batch (e.g. δ before the backward pass).",
    ),
)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcuts(window: QWidget) -> list[tuple[str, str, str]]:
    """(keys, command, what it does) of every enabled key binding in ``window``: its
    QActions and QShortcuts, in the order found; one row per distinct (keys, command)."""
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for action in window.findChildren(QAction):
        keys = ", ".join(k.toString(NATIVE) for k in action.shortcuts() if not k.isEmpty())
        if not keys:
            continue
        name = _plain(action.text()) or keys
        what = action.statusTip() or action.toolTip()
        if what == name or what == action.text():
            what = ""
        if (keys, name) not in seen:
            seen.add((keys, name))
            rows.append((keys, name, what))
    known = {keys for keys, _, _ in rows}
    for shortcut in window.findChildren(QShortcut):
        keys = shortcut.key().toString(NATIVE)
        if not keys or keys in known:  # the same key as an action's (a view's local copy)
            continue
        name = shortcut.whatsThis() or shortcut.objectName() or "(shortcut)"
        if (keys, name) not in seen:
            seen.add((keys, name))
            rows.append((keys, name, ""))
    return rows


def keys_html(window: QWidget) -> str:
    """The keys section: a table generated from ``window``'s actions and shortcuts."""
    rows = "".join(
        f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(name)}</td>"
        f"<td>{html.escape(what)}</td></tr>"
        for keys, name, what in shortcuts(window)
    )
    return (
        "<h2 id='keys'>Keys</h2>"
        "<p>These keys work anywhere in the window; after typing a value in the η or "
        "Batch field, press Enter to apply it.</p>"
        f"<table cellspacing=0 cellpadding=4 border=1>"
        "<tr><th align=left>Keys</th><th align=left>Command</th>"
        f"<th align=left>What it does</th></tr>{rows}</table>"
    )


def views_html(window: Window | None = None) -> str:
    """The views section: each dock's title and what it shows."""
    titles = {spec.key: spec.title for spec in DOCKS}
    if window is not None:
        titles.update({key: dock.windowTitle() for key, dock in window.docks.items()})
    parts = [
        f"<h3>{html.escape(title)}</h3><p>{html.escape(VIEWS.get(key, ''))}</p>"
        for key, title in titles.items()
    ]
    return (
        "<h2 id='views'>Views</h2><p>Every panel is a dock: drag its title to move it, "
        "View ▸ Restore default layout puts it back. Hover over anything for a note.</p>"
        + "".join(parts)
    )


def colours_html() -> str:
    """The colours section: swatches drawn from ``bpviz.ui.colors`` and their meaning."""
    rows = "".join(
        f"<tr><td>{swatches()}</td><td>{html.escape(text)}</td></tr>" for swatches, text in COLOURS
    )
    return f"<h2 id='colours'>Colours</h2><table cellspacing=0 cellpadding=4>{rows}</table>"


def page_html(window: Window) -> str:
    """The whole help page for ``window``."""
    return (
        "<h1>bpviz: backpropagation, live</h1>"
        "<p>A NumPy network learns MNIST digits. Each mini-batch goes through the phases "
        "forward (zˡ = Wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ)), cost C, the backward pass "
        "δᴸ … δ¹, the gradients ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ, and the update W ← W − η ∂C/∂W. "
        "Run trains continuously; Step phase shows one phase at a time.</p>"
        "<p><a href='#keys'>Keys</a> · <a href='#views'>Views</a> · "
        "<a href='#colours'>Colours</a></p>"
        + keys_html(window)
        + views_html(window)
        + colours_html()
    )


class HelpDialog(QDialog):
    """A non-modal window with the help page (rich text, scrollable, links inside)."""

    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.setObjectName("bpviz_help")
        self.setWindowTitle("bpviz help")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(page_html(window))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        screen = window.screen().availableGeometry()
        self.resize(min(820, screen.width() - 40), min(700, screen.height() - 60))


def show_help(window: Window, old: HelpDialog | None = None) -> HelpDialog:
    """Open the help page (``old``, the one open already, is closed: the new one is
    freshly generated)."""
    if old is not None:
        old.close()
        old.deleteLater()
    dialog = HelpDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    dialog.show()
    dialog.raise_()
    return dialog


def about_text() -> str:
    """The About box: version and the equations, in the window's notation."""
    from bpviz import __version__

    return (
        f"bpviz {__version__}: watch backpropagation train a NumPy network on MNIST.\n\n"
        "zˡ = Wˡ aˡ⁻¹ + bˡ,  aˡ = σ(zˡ)\n"
        "δᴸ = ∂C/∂aᴸ ⊙ σ'(zᴸ),  δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ'(zˡ)\n"
        "∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ,  ∂C/∂bˡ = δˡ,  W ← W − η ∂C/∂W\n\n"
        "Help ▸ bpviz help (F1) lists the keys and explains each view and colour."
    )
