"""What every command line of bpviz shares: the list of commands, the program name as
the user typed it, help that shows each flag's default, one-line errors naming the flag,
``-v``/``--verbose`` (``configure_logging``), and the check of a ``--data`` folder.

No Qt here: the window's parser (``bpviz/ui/app.py``) imports this module too.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import os
import re
import stat
import sys
from pathlib import Path
from typing import NoReturn

from bpviz.logs import configure_logging

# command → (module with ``main(argv, prog=…)``, one line for ``bpviz --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("bpviz.cli.train", "train the network headless, epoch by epoch"),
    "gradcheck": ("bpviz.cli.gradcheck", "compare backpropagation with finite differences"),
    "download": ("bpviz.cli.download", "fetch the full MNIST (60,000 / 10,000 digits)"),
    "worked-example": (
        "bpviz.cli.worked_example",
        "one training step of a tiny network with every number (md, tex, json)",
    ),
}
SAMPLE = "sample"  # --data sample: the embedded digits (as bpviz.data.sources.SAMPLE)
TOY_WORDS = ("xor", "circles", "moons", "spiral", "blobs", "blobs3")  # bpviz.data.toy.TOY_NAMES


def program_name(argv0: str | None = None) -> str:
    """How the user started bpviz, for usage lines: ``bpviz``, ``python3 -m bpviz`` or
    ``main.py``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    path = Path(argv0)
    if path.name == "__main__.py":  # python -m bpviz
        return f"{Path(sys.executable).name or 'python3'} -m bpviz"
    return path.name or "bpviz"


def commands_help() -> str:
    """The commands, one a line, for the window's ``--help``."""
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def unknown_command(word: str) -> str | None:
    """A message when ``word`` (the first positional argument) is neither a command nor
    a file, but a word such as a mistyped command (``trian``); None otherwise."""
    if word in COMMANDS or os.sep in word or "." in word:
        return None
    try:
        if os.path.lexists(word):
            return None
    except (OSError, ValueError):
        return None
    close = difflib.get_close_matches(word, COMMANDS, n=1)
    hint = f" — did you mean '{close[0]}'?" if close else ""
    return (
        f"'{word}' is not a command or an existing file{hint} "
        f"(commands: {', '.join(COMMANDS)}; no command opens the window)"
    )


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written, and each flag's default at the end of its help.

    A help text that already says "default" is left alone (for defaults that need a
    sentence); an absent option reads "(default: none)", a switch "(default: off)"."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or not action.option_strings or action.default is argparse.SUPPRESS:
            return text
        if action.default is None:
            shown = "none"
        elif action.default is False:
            shown = "off"
        else:
            shown = "%(default)s"
        return f"{text} (default: {shown})".lstrip()


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``PROG: error: MESSAGE``, exit 2,
    with ``-v``/``--verbose`` (debug logging with tracebacks on stderr), applied by
    ``parse_known_args`` (``configure_logging``)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="log what happens, with tracebacks, on stderr (default: warnings only)",
        )

    def parse_known_args(self, args=None, namespace=None):
        parsed, extra = super().parse_known_args(args, namespace)
        configure_logging(getattr(parsed, "verbose", False))
        return parsed, extra

    def error(self, message: str) -> NoReturn:
        # "argument --epochs: --epochs must be ≥ 0" → "--epochs must be ≥ 0"
        named = re.match(r"argument (\S+?)(?:/\S+)?: (.*)", message, re.DOTALL)
        if named and named.group(2).startswith(named.group(1)):
            message = named.group(2)
        self.exit(2, f"{self.prog}: error: {message}\n")


def shorten(text: str, limit: int = 160) -> str:
    """``text`` for a message: very long paths (a 300-character mistake) cut in the middle."""
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"


def data_argument(text: str) -> str:
    """``--data``: ``sample``, a toy set's name (``TOY_WORDS``: the word wins over a folder
    of that name) or a folder that exists and may be read; else
    ``argparse.ArgumentTypeError`` with one sentence (no traceback for a path that is
    missing, too long, not a folder, or not ours to read)."""
    if text == SAMPLE or text in TOY_WORDS:
        return text
    path = Path(text).expanduser()
    shown = shorten(text)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISDIR(mode):
            raise argparse.ArgumentTypeError(
                f"--data {shown}: not a folder (give the folder holding the four MNIST IDX files, "
                "or 'sample')"
            )
        os.stat(path / ".")  # search permission: the files inside can be opened
        os.listdir(path)  # read permission: the files inside can be found
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"--data {shown}: does not exist") from None
    except PermissionError:
        raise argparse.ArgumentTypeError(
            f"--data {shown}: permission denied (the folder cannot be searched or read)"
        ) from None
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            reason = f"the path is too long ({len(text):,} characters)"
        elif error.errno == errno.ENOTDIR:
            reason = "a part of the path is not a folder"
        else:
            reason = error.strerror or str(error)
        raise argparse.ArgumentTypeError(f"--data {shown}: {reason}") from None
    return text


def int_at_least(flag: str, low: int):
    """An argparse ``type`` for a whole number ≥ ``low``; the message names ``flag``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{flag} must be ≥ {low}, got {value}")
        return value

    parse.__name__ = flag  # argparse names the type in some messages
    return parse


def eta_argument(text: str) -> float:
    """``--eta``: the one η rule (``bpviz.session.limits.parse_eta``), its message kept."""
    from bpviz.session.limits import parse_eta

    try:
        return parse_eta(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--eta {shorten(text)}: {error}") from None
