"""Entry point: ``bpviz [COMMAND] ...`` / ``python -m bpviz [COMMAND] ...``.

With a command (``train``, ``gradcheck``, ``download``) it runs that headless tool;
without one it opens the window. Commands are imported lazily so that the headless
tools never load Qt.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "train": "bpviz.cli.train",
    "gradcheck": "bpviz.cli.gradcheck",
    "download": "bpviz.cli.download",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a command module's ``main(argv)``, or open the window."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        module = importlib.import_module(COMMANDS[argv[0]])
        return module.main(argv[1:])
    from bpviz.ui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
