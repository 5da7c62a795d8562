"""The architecture's boundary: engine, data, session, runtime, files and cli load no Qt,
and none of them imports the window's package ``bpviz.ui``."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "package",
    ["bpviz.engine", "bpviz.data", "bpviz.session", "bpviz.runtime", "bpviz.files", "bpviz.cli"],
)
def test_headless_packages_load_no_qt(package: str) -> None:
    code = (
        f"import sys, importlib, pkgutil; import {package} as p\n"
        "for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "qt = ('PySide6', 'pyqtgraph', 'shiboken6')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in qt)\n"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{package} loaded {result.stdout.strip()}"


BPVIZ = Path(__file__).resolve().parent.parent / "bpviz"
BELOW_UI = ("engine", "data", "session", "runtime", "files", "cli")
IMPORTERS = ("import_module", "__import__")


def ui_imports(source: str) -> list[int]:
    """The lines of ``source`` that import ``bpviz.ui`` or a module of it: ``import``,
    ``from … import`` (at the top or inside a function), ``import_module("bpviz.ui…")``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = getattr(node.func, "attr", getattr(node.func, "id", ""))
            names = [str(node.args[0].value)] if called in IMPORTERS else []
        if any(name == "bpviz.ui" or name.startswith("bpviz.ui.") for name in names):
            lines.append(node.lineno)
    return lines


def test_nothing_below_the_window_imports_bpviz_ui():
    """The arrows run one way: engine, data, session, runtime, files, cli and the
    top-level modules below them (notation, logs) never import the window's package;
    only ``bpviz/__main__.py``, the entry above everything, may."""
    modules = [p for folder in BELOW_UI for p in sorted((BPVIZ / folder).rglob("*.py"))]
    modules += [p for p in sorted(BPVIZ.glob("*.py")) if p.name != "__main__.py"]
    assert len(modules) > 60 and BPVIZ / "notation.py" in modules
    found = [
        f"{path.relative_to(BPVIZ.parent)}:{line}"
        for path in modules
        for line in ui_imports(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"imports of bpviz.ui from below it: {found}"


@pytest.mark.parametrize(
    "source, imports_ui",
    [
        ("import bpviz.ui.app", True),
        ("from bpviz.ui import colors", True),
        ("from bpviz import ui", True),
        ("def f():\n    from bpviz.ui.headless import OffscreenExporter", True),
        ("importlib.import_module('bpviz.ui.headless')", True),
        ("from bpviz.uix import nothing", False),
        ("from bpviz.notation import unicode_math", False),
    ],
)
def test_the_import_check_sees_each_way_of_importing(source, imports_ui):
    assert bool(ui_imports(source)) == imports_ui


def test_the_trainer_gets_the_views_from_the_entry_above_both(tmp_path, capsys):
    """``train --snapshot-every`` draws the window's views, handed down by
    ``bpviz.__main__``; called without them, it says how to run it (exit 2, nothing
    trained, nothing written)."""
    from bpviz.cli import train

    argv = ["--data", "sample", "--epochs", "1", "--snapshot-every", "5", "--out", str(tmp_path)]
    assert train.main(argv) == 2
    err = capsys.readouterr().err
    assert "python -m bpviz train" in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # `python -m bpviz train`: test_checkpoint_cli.py
