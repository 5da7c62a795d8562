"""The menu bar, one small builder per menu.

To add a menu or an action: write ``build_x_menu(window)`` (get the menu with
``window.menu("&Title")``, which creates it on first use) and list it in
``MENU_BUILDERS`` — their order is the menu bar's order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QApplication

from bpviz.ui import controls_wiring as wiring
from bpviz.ui.actions import make_action
from bpviz.ui.dialogs import show_message
from bpviz.ui.session_menus import build_record_menu, build_session_actions

if TYPE_CHECKING:
    from bpviz.ui.main_window import MainWindow

HELP = "&Help"  # the last menu: MainWindow.menu() puts menus made later before it


def data_choices() -> tuple[tuple[str, str | None, str], ...]:
    """(menu text, ``resolve_source`` argument, tooltip) of each data source."""
    from bpviz.data import default_mnist_dir

    return (
        ("Best available", None, "The full MNIST if downloaded, else the embedded sample"),
        ("Embedded sample", "sample", "5,000 real MNIST digits shipped with bpviz (offline)"),
        (
            "Full MNIST",
            str(default_mnist_dir()),
            "60,000 training / 10,000 test digits, once downloaded (File ▸ Download)",
        ),
    )


def build_file_menu(w: MainWindow) -> None:
    """File: download the full MNIST, quit."""
    menu = w.menu("&File")
    menu.setToolTipsVisible(True)
    w.download_action = make_action(
        w,
        "Download full MNIST…",
        "Fetch the 60,000 + 10,000 MNIST digits into your data folder (about 11 MB)",
        lambda: wiring.download_mnist(w),
    )
    menu.addAction(w.download_action)
    menu.addSeparator()
    menu.addAction(make_action(w, "Quit", "Close bpviz", w.close, "Ctrl+Q"))


def build_run_menu(w: MainWindow) -> None:
    """Run: the toolbar's commands with their shortcuts."""
    menu = w.menu("&Run")
    menu.setToolTipsVisible(True)
    for act in (w.act.run, w.act.step_batch, w.act.step_phase, w.act.reset):
        menu.addAction(act)
    menu.addSeparator()
    menu.addAction(w.act.network)


def build_data_menu(w: MainWindow) -> None:
    """Data: which images to train on."""
    menu = w.menu("&Data")
    menu.setToolTipsVisible(True)
    group = QActionGroup(w)
    for text, choice, tip in data_choices():
        act = make_action(w, text, tip, lambda _=False, c=choice: wiring.set_data_source(w, c))
        act.setCheckable(True)
        act.setChecked(choice == w.data_choice)
        group.addAction(act)
        menu.addAction(act)
    menu.addSeparator()
    menu.addAction(
        make_action(
            w,
            "Folder…",
            "A folder with train-/t10k- images and labels in IDX format (.gz or not)",
            lambda: wiring.choose_folder(w),
        )
    )


def build_view_menu(w: MainWindow) -> None:
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


def build_help_menu(w: MainWindow) -> None:
    """Help (always the last menu): the help page on keys, views and colours; about."""
    from bpviz.ui.help import about_text, show_help

    menu = w.menu(HELP)
    menu.setToolTipsVisible(True)
    w.help_action = make_action(
        w, "bpviz help", "The keys, what each view shows and what its colours mean",
        lambda: show_help(w), "F1",
    )  # fmt: skip
    menu.addAction(w.help_action)
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
    build_session_actions,  # Export snapshot, Save/Open session, Open recent (File)
    build_run_menu,
    build_record_menu,
    build_data_menu,
    build_view_menu,
    build_help_menu,
)


def build_menus(w: MainWindow) -> None:
    """Build every menu in ``MENU_BUILDERS`` order."""
    for build in MENU_BUILDERS:
        build(w)
