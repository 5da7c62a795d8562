"""bpviz's log on stderr: one setup for every process (the command lines, the window,
and the window's training process, which gets the window's ``-v``/``--verbose``).

Loggers are named ``bpviz.<module>``; ``configure_logging`` puts one handler on the
``bpviz`` logger. No Qt, no other bpviz module: anything may import this.
"""

from __future__ import annotations

import logging
import sys

ROOT = "bpviz"


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is at the time (tests swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # logging.StreamHandler's attribute, read at each write
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(verbose: bool = False) -> None:
    """Log bpviz's messages on stderr: warnings and errors, concisely ("bpviz: …", the
    traceback after it); with ``verbose`` everything from DEBUG on, with the logger's name."""
    root = logging.getLogger(ROOT)
    handler = next((h for h in root.handlers if isinstance(h, _Stderr)), None)
    if handler is None:
        handler = _Stderr()
        root.addHandler(handler)
    if verbose:
        text = "%(levelname)s %(threadName)s %(name)s: %(message)s"
        handler.setFormatter(logging.Formatter(text))
    else:
        handler.setFormatter(logging.Formatter("bpviz: %(message)s"))
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


def is_verbose() -> bool:
    """True if bpviz logs from DEBUG on in this process (``configure_logging(True)``):
    what a process started from this one passes on."""
    return logging.getLogger(ROOT).isEnabledFor(logging.DEBUG)
