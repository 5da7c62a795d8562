"""The session-file modules, wherever this checkout keeps them.

They live in ``bpviz.session`` (checkpoint, container) before the split of ``session/``
by purpose and in ``bpviz.files`` after it; the hostile-file tests import them from here
so they run on either layout. The choice looks at the files of the ``bpviz`` package
imported (an import attempt alone could find another installed copy's module).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import bpviz

_HOME = (
    "files" if (Path(bpviz.__file__).parent / "files" / "checkpoint.py").is_file() else "session"
)
checkpoint = importlib.import_module(f"bpviz.{_HOME}.checkpoint")
container = importlib.import_module(f"bpviz.{_HOME}.container")
MODULE = container.__name__  # for code run in a child process

__all__ = ["MODULE", "checkpoint", "container"]
