"""The architecture's boundary: engine, data, session, runtime, files and cli load no Qt."""

import subprocess
import sys

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
