"""Entry point: ``bpviz [COMMAND] ...`` / ``python -m bpviz [COMMAND] ...`` / ``main.py``.

With a command (``train``, ``gradcheck``, ``download``, ``worked-example``) it runs that
headless tool; without one it opens the window (on a session FILE when one is given).
Commands are imported lazily so that the headless tools never load Qt. Usage lines name
the program as it was called (``bpviz train``, ``python3 -m bpviz train``, ``main.py``).
"""

from __future__ import annotations

import importlib
import sys

from bpviz.cli.common import COMMANDS, program_name, unknown_command


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Dispatch to a command module's ``main(argv, prog)``, or open the window."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = prog or program_name()
    if argv and argv[0] in COMMANDS:
        module = importlib.import_module(COMMANDS[argv[0]][0])
        views = {"draw": offscreen_views} if argv[0] == "train" else {}  # its bundles
        return module.main(argv[1:], prog=f"{prog} {argv[0]}", **views)
    if argv and not argv[0].startswith("-") and (message := unknown_command(argv[0])):
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    from bpviz.ui.app import main as gui_main

    return gui_main(argv, prog=prog)


def offscreen_views(out: str, data_source: str):
    """The window's views drawn offscreen, writing ``train --snapshot-every``'s bundles
    into ``out``: handed to the trainer from here, the one module above both, so that
    nothing headless imports ``bpviz.ui`` (Qt is loaded only now)."""
    from bpviz.ui.headless import OffscreenExporter

    return OffscreenExporter(out, data_source=data_source)


if __name__ == "__main__":
    sys.exit(main())
