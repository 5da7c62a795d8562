"""Data ▸ Toy 2-D: switching the window to a toy set (its own network and η, batch size
1) and back to MNIST, the "Toy data settings…" dialog, and File ▸ Export worked example.

The controller calls these (one line per request); the rules are elsewhere and asked
here: how a toy set may be generated in ``bpviz.data.toy.check_options``, which network
goes with the data in ``bpviz.session.toyconfig``, the worked example in
``bpviz.cli.worked_example``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QFileDialog, QLineEdit, QWidget

from bpviz.data.dataset import Dataset
from bpviz.data.toy import DEFAULTS, TOY_NAMES, check_options, make_toy
from bpviz.session.snapshot import SessionConfig
from bpviz.session.toyconfig import config_for_data, is_toy
from bpviz.ui import settings as store
from bpviz.ui.dialogs import SettingsForm, show_message

if TYPE_CHECKING:
    from bpviz.ui.model import WindowModel
    from bpviz.ui.window_api import Window


class Controller(Protocol):
    """What these functions use of ``bpviz.ui.controller.Controller`` (which calls them)."""

    window: Window
    model: WindowModel
    toy: ToyOptions | None
    mnist_config: SessionConfig | None

    def apply_config(self, config: SessionConfig) -> None: ...


# menu text of each toy set, in the menu's order
TOY_TITLES = {
    "xor": "XOR",
    "circles": "Circles",
    "moons": "Two moons",
    "spiral": "Spiral (two arms)",
    "blobs": "Blobs, 2 classes",
    "blobs3": "Blobs, 3 classes",
}
WORKED_FORMATS = {".md": "md", ".tex": "tex", ".json": "json"}


@dataclass(frozen=True)
class ToyOptions:
    """How the toy set in use was generated (``check_options``'s four values)."""

    name: str
    noise: float
    seed: int
    n_train: int
    n_test: int

    @classmethod
    def checked(cls, name: str, noise=None, seed=None, n_train=None, n_test=None) -> ToyOptions:
        """The options after ``check_options`` (None: the set's default); ValueError."""
        return cls(name, *check_options(name, noise, seed, n_train, n_test))

    @property
    def is_default(self) -> bool:
        return self == ToyOptions.checked(self.name)

    def make(self) -> Dataset:
        return make_toy(
            self.name, noise=self.noise, seed=self.seed, n_train=self.n_train, n_test=self.n_test
        )


def switch_data(
    c: Controller, dataset: Dataset, description: str, choice: str | None
) -> SessionConfig:
    """Train on ``dataset`` from fresh parameters with the network that goes with it
    (``config_for_data``); the MNIST configuration is kept while a toy set is used, to
    come back to. ValueError (nothing changed) when the worker refuses."""
    w, model = c.window, c.model
    old = model.config
    config = config_for_data(old, dataset, choice, c.mnist_config)
    try:
        w.worker.set_dataset(dataset)
    except ValueError:
        # the batch size in force does not fit the new data (e.g. 1,000 of 400 points):
        # start the old data over with m = 1, which fits any data, and switch again
        w.worker.reset(config=replace(old, batch_size=1))
        w.worker.set_dataset(dataset)
    w.worker.reset(config=config)
    model.set_probe(None)  # the session starts afresh on other data
    if not is_toy(old) and is_toy(config):
        c.mnist_config = old
    w.use_dataset(dataset, description)
    c.apply_config(config)
    model.set_data_choice(choice)
    return config


def use_toy(c: Controller, options: ToyOptions) -> bool:
    """Train on the toy set ``options`` describe, with its default network, η and m = 1."""
    w = c.window
    try:
        dataset = options.make()
        config = switch_data(c, dataset, f"{dataset.source}, chosen in the window", options.name)
    except ValueError as exc:
        show_message(w, "Toy 2-D data", f"Could not use {options.name}: {exc}")
        return False
    c.toy = options
    show_plane(c, True)
    store.save_data_choice(w.settings, options.name)  # reopened with its default settings
    sizes = "-".join(map(str, config.sizes))
    w.statusBar().showMessage(
        f"Data: {dataset.source} — network {sizes}, η = {config.eta:g}, batch size "
        f"{config.batch_size} (one example's arithmetic per step)",
        8000,
    )
    return True


def show_plane(c: Controller, toy: bool) -> None:
    """Bring the Input plane panel to the front for toy data (else Input and output)."""
    dock = c.window.docks.get("plane" if toy else "io")
    if dock is not None:
        dock.show()
        dock.raise_()


class ToyDialog(QDialog):
    """Toy data settings: the set, its noise, seed and train/test split. OK checks them
    with ``check_options`` and, when refused, says why here and stays open.
    ``chosen(ToyOptions)`` after a checked OK."""

    chosen = Signal(object)

    def __init__(self, current: ToyOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bpviz_toy_dialog")
        self.setWindowTitle("Toy data settings")
        form = SettingsForm(
            self,
            "Applying starts training again with the set's own network and η.",
            "Train on these",
        )
        self.data = form.field(
            "Data set", QComboBox(), "The toy set: two or three classes in the plane"
        )
        for name in TOY_NAMES:
            self.data.addItem(TOY_TITLES[name], name)
        self.data.setCurrentIndex(TOY_NAMES.index(current.name))
        self.data.currentIndexChanged.connect(self._set_changed)
        self.noise = form.field(
            "Noise",
            QLineEdit(f"{current.noise:g}"),
            "Standard deviation of the Gaussian noise on each coordinate",
        )
        self.seed = form.field(
            "Seed",
            QLineEdit(str(current.seed)),
            "Seed of the generator: the same seed gives the same points",
        )
        self.n_train = form.field(
            "Training points",
            QLineEdit(str(current.n_train)),
            "Points the network trains on (balanced over the classes)",
        )
        self.n_test = form.field(
            "Test points",
            QLineEdit(str(current.n_test)),
            "Held-out points, drawn independently, for the test accuracy",
        )
        self.error = form.error
        self.error.setObjectName("toy_error")

    def _set_changed(self) -> None:
        """Another set: its default noise and split (the seed stays)."""
        d = DEFAULTS[self.data.currentData()]
        self.noise.setText(f"{d.noise:g}")
        self.n_train.setText(str(d.n_train))
        self.n_test.setText(str(d.n_test))

    def options(self) -> ToyOptions:
        """The options typed, checked (ValueError with the rule's sentence)."""
        return ToyOptions.checked(
            self.data.currentData(),
            self.noise.text(),
            self.seed.text(),
            self.n_train.text(),
            self.n_test.text(),
        )

    def accept(self) -> None:
        try:
            options = self.options()
        except ValueError as exc:
            self.error.setText(f"Not applied: {exc}")
            return
        self.error.clear()
        super().accept()
        self.chosen.emit(options)


def export_worked_example(c: Controller, path: str | None = None) -> str | None:
    """File ▸ Export worked example…: one complete training step of the window's network
    (the first step from its seed, as ``python -m bpviz worked-example`` with the same
    flags writes it), as Markdown, LaTeX or JSON by ``path``'s suffix (asked when None).
    The path written, or None (the reason said in the window)."""
    from bpviz.cli import worked_example

    w = c.window
    config = c.model.config
    toy = c.toy
    if toy is None or not is_toy(config):
        show_message(
            w,
            "Export worked example",
            "A worked example prints every number of one step, which only a toy network "
            "can show: choose Data ▸ Toy 2-D first (784 inputs would make a book).",
        )
        return None
    if path is None:
        path, _ = QFileDialog.getSaveFileName(
            w, "Export worked example", f"worked-example-{toy.name}.md",
            "Markdown (*.md);;LaTeX (*.tex);;JSON (*.json)",
        )  # fmt: skip
        if not path:
            return None
    fmt = WORKED_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        show_message(
            w, "Export worked example",
            f"{Path(path).name}: the name must end in .md, .tex or .json (the format)",
        )  # fmt: skip
        return None
    try:
        args = worked_example.parse(worked_argv(config, toy.name, fmt))
        text = worked_example.document(args, data=None if toy.is_default else toy.make())
        Path(path).write_text(text, encoding="utf-8")
    except (ValueError, OSError, SystemExit) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        show_message(w, "Export worked example", f"Not written: {path}: {reason}")
        return None
    w.statusBar().showMessage(f"Worked example written: {path}", 8000)
    return path


def worked_argv(config: SessionConfig, name: str, fmt: str) -> list[str]:
    """The ``worked-example`` flags for ``config`` on toy set ``name``."""
    return [
        "--data", name, "--layers", ",".join(map(str, config.sizes)),
        "--hidden", config.hidden, "--output", config.output, "--cost", config.cost,
        "--init", config.init, "--seed", str(config.seed), "--eta", repr(config.eta),
        "--batch-size", str(config.batch_size), "--format", fmt,
    ]  # fmt: skip
