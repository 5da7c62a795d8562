"""The menu bar, every menu built here, one small builder per menu; each action calls the
controller (``bpviz/ui/controller.py``).

To add a menu or an action: write ``build_x_menu(window, controller, actions)`` (get the
menu with ``window.menu("&Title")``, which creates it on first use) and list it in
``MENU_BUILDERS`` — their order is the menu bar's order. An action other code needs
(a test, the help page) goes into ``MenuActions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu

from bpviz.data import default_mnist_dir
from bpviz.data.toy import n_classes
from bpviz.ui import session_menus as files
from bpviz.ui.actions import make_action
from bpviz.ui.dialogs import show_message
from bpviz.ui.help import about_text
from bpviz.ui.toy_data import TOY_TITLES

if TYPE_CHECKING:
    from bpviz.ui.controller import Controller
    from bpviz.ui.window_api import Window

HELP = "&Help"  # the last menu: MainWindow.menu() puts menus made later before it


@dataclass
class MenuActions:
    """The menu actions other code reaches (all set by ``build_menus``)."""

    download_action: QAction | None = None
    export_action: QAction | None = None
    save_action: QAction | None = None
    open_action: QAction | None = None
    recent_menu: QMenu | None = None
    stop_record_action: QAction | None = None
    check_action: QAction | None = None
    check_layer_action: QAction | None = None
    help_action: QAction | None = None
    worked_action: QAction | None = None
    toy_menu: QMenu | None = None
    toy_actions: dict[str, QAction] | None = None  # Data ▸ Toy 2-D ▸ …, by set name
    toy_settings_action: QAction | None = None


def data_choices() -> tuple[tuple[str, str | None, str], ...]:
    """(menu text, ``resolve_source`` argument, tooltip) of each data source."""
    return (
        ("Best available", None, "The full MNIST if downloaded, else the embedded sample"),
        ("Embedded sample", "sample", "5,000 real MNIST digits shipped with bpviz (offline)"),
        (
            "Full MNIST",
            str(default_mnist_dir()),
            "60,000 training / 10,000 test digits, once downloaded (File ▸ Download)",
        ),
    )


def build_file_menu(w: Window, c: Controller, out: MenuActions) -> None:
    """File: download the full MNIST; export, save, open, open recent; quit."""
    menu = w.menu("&File")
    menu.setToolTipsVisible(True)
    out.download_action = make_action(
        w, "Download full MNIST…",
        "Fetch the 60,000 + 10,000 MNIST digits into your data folder (about 11 MB)",
        lambda: c.download_mnist(),
    )  # fmt: skip
    menu.addAction(out.download_action)
    menu.addSeparator()
    out.export_action = make_action(
        w, "Export snapshot…", "PNG of the window and of each view, SVG of each plot, the "
        "snapshot's arrays (state.npz), metrics.csv and snapshot.json",
        lambda: c.export_snapshot(), "Ctrl+E",
    )  # fmt: skip
    out.save_action = make_action(
        w, "Save session…", "Parameters, η, step, epoch, data order, history and watches in "
        "one file, to continue later exactly where you stopped",
        lambda: c.save_session(), "Ctrl+S",
    )  # fmt: skip
    out.open_action = make_action(
        w, "Open session…", "Continue a saved session (the data source must be the one it "
        "was saved with)", lambda: c.open_session(), "Ctrl+O",
    )  # fmt: skip
    out.worked_action = make_action(
        w, "Export worked example…", "One training step of the toy network with every "
        "number: each equation, the numbers substituted, its value (.md, .tex or .json)",
        lambda: c.export_worked_example(),
    )  # fmt: skip
    for act in (out.export_action, out.worked_action, out.save_action, out.open_action):
        menu.addAction(act)
    recent = out.recent_menu = QMenu("Open recent", w)
    recent.aboutToShow.connect(lambda: files.fill_recent(w, recent, c.open_session))
    menu.addMenu(recent)
    menu.addSeparator()
    menu.addAction(make_action(w, "Quit", "Close bpviz", w.close, "Ctrl+Q"))


def build_run_menu(w: Window, c: Controller, out: MenuActions) -> None:
    """Run: the toolbar's commands with their shortcuts."""
    menu = w.menu("&Run")
    menu.setToolTipsVisible(True)
    for act in (w.act.run, w.act.step_batch, w.act.step_phase, w.act.full_speed, w.act.reset):
        menu.addAction(act)
    menu.addSeparator()
    menu.addAction(w.act.network)


def build_record_menu(w: Window, c: Controller, out: MenuActions) -> None:
    """Record: the window or one view, as GIF, MP4 or numbered PNGs; Stop."""
    menu = w.menu("&Record")
    menu.setToolTipsVisible(True)
    stop = out.stop_record_action = make_action(
        w, "Stop recording", "Finish the file", c.stop_recording, "Ctrl+Shift+S"
    )
    stop.setEnabled(False)

    menu.addAction(make_action(w, "Record window…", "Capture the whole window, 10 frames a "
                               "second, into a GIF, an MP4 or numbered PNGs",
                               lambda: c.start_recording(), "Ctrl+Shift+R"))  # fmt: skip
    views = menu.addMenu("Record view")
    for key, dock in w.docks.items():
        views.addAction(dock.windowTitle(), lambda k=key: c.start_recording(k))
    menu.addAction(stop)
    w.recorder.started.connect(lambda path: stop.setEnabled(True))
    w.recorder.finished.connect(lambda path, n: stop.setEnabled(False))
    w.recorder.failed.connect(lambda message: stop.setEnabled(False))


def build_data_menu(w: Window, c: Controller, out: MenuActions) -> None:
    """Data: which images to train on (the checked one follows the model)."""
    menu = w.menu("&Data")
    menu.setToolTipsVisible(True)
    group = QActionGroup(w)
    checkable: dict[str | None, QAction] = {}
    for text, choice, tip in data_choices():
        act = make_action(w, text, tip, lambda _=False, c_=choice: c.set_data_source(c_))
        checkable[choice] = act
        menu.addAction(act)
    toy = out.toy_menu = QMenu("Toy 2-D", w)  # the window owns it (see MainWindow.menu)
    menu.addMenu(toy)
    toy.setToolTipsVisible(True)
    out.toy_actions = {}
    for name, text in TOY_TITLES.items():
        tip = f"Two coordinates in, {n_classes(name)} classes out: every number fits on screen"
        act = make_action(w, text, tip, lambda _=False, n=name: c.set_data_source(n))
        checkable[name] = out.toy_actions[name] = act
        toy.addAction(act)
    toy.addSeparator()
    out.toy_settings_action = make_action(
        w, "Toy data settings…", "Noise, seed and train/test split of a toy set",
        lambda: c.toy_settings(),
    )  # fmt: skip
    toy.addAction(out.toy_settings_action)
    for choice, act in checkable.items():
        act.setCheckable(True)
        act.setChecked(choice == w.model.data_choice)
        group.addAction(act)

    def follow(name: str, value) -> None:  # the check follows the data in use
        if name == "data_choice" and value in checkable:
            checkable[value].setChecked(True)

    w.model.events.connect(follow)
    menu.addSeparator()
    menu.addAction(
        make_action(
            w,
            "Folder…",
            "A folder with train-/t10k- images and labels in IDX format (.gz or not)",
            lambda: c.choose_folder(),
        )
    )


def build_inspect_menu(w: Window, c: Controller, out: MenuActions) -> None:
    """Inspect: the numeric gradient check of the selected weight (g) and of its layer."""
    check = out.check_action = QAction("Check the selected gradient numerically", w)
    check.setShortcut(QKeySequence("G"))
    check.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    check.setToolTip(
        "Central finite difference of C over the mini-batch in float64, against backprop (g)"
    )
    check.triggered.connect(lambda: c.check_gradient())
    layer = out.check_layer_action = QAction("Check this layer numerically", w)
    layer.setToolTip("Central differences for ~100 sampled weights and biases of the selected Wˡ")
    layer.triggered.connect(lambda: c.check_layer())  # not triggered's `checked`
    menu = w.menu("&Inspect")
    menu.addAction(check)
    menu.addAction(layer)
    w.addAction(check)


def build_view_menu(w: Window, c: Controller, out: MenuActions) -> None:
    """View: show/hide each panel, restore the default layout."""
    menu = w.menu("&View")
    for dock in w.docks.values():
        menu.addAction(dock.toggleViewAction())
    menu.addSeparator()
    menu.addAction(
        make_action(
            w,
            "Restore default layout",
            "Put every panel back where it started",
            lambda: w.restoreState(w.default_state),
        )
    )


def build_help_menu(w: Window, c: Controller, out: MenuActions) -> None:
    """Help (always the last menu): the help page on keys, views and colours; about."""
    menu = w.menu(HELP)
    menu.setToolTipsVisible(True)
    out.help_action = make_action(
        w, "bpviz help", "The keys, what each view shows and what its colours mean",
        lambda: c.show_help(), "F1",
    )  # fmt: skip
    menu.addAction(out.help_action)
    menu.addSeparator()
    menu.addAction(
        make_action(
            w, "About bpviz", "Version and the equations shown",
            lambda: show_message(w, "About bpviz", about_text(), error=False),
        )
    )  # fmt: skip
    menu.addAction(make_action(w, "About Qt", "Qt version", QApplication.aboutQt))


MENU_BUILDERS = (
    build_file_menu,
    build_run_menu,
    build_record_menu,
    build_data_menu,
    build_view_menu,
    build_inspect_menu,
    build_help_menu,
)


def build_menus(w: Window, c: Controller) -> MenuActions:
    """Build every menu in ``MENU_BUILDERS`` order; the actions others reach."""
    out = MenuActions()
    for build in MENU_BUILDERS:
        build(w, c, out)
    return out
