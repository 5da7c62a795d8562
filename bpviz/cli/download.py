"""``bpviz download [--dir DIR] [--mirror URL …] [--checksums FILE]``.

Fetches the full MNIST (60,000 / 10,000) into the user's data directory, where ``train``
and the app find it next time. Progress goes to stderr; exit status 0 on success, 1 on
failure (the message says what was tried and how to place the files by hand), 130 when
interrupted (run it again to resume: the ``.part`` files keep every byte received).

A mirror that sends no response headers within 30 s, or less than 1 KiB in any 30 s of
the body, is abandoned for the next one (:mod:`bpviz.data.http`). A ``--checksums``
file may only name plain file names; a path (``../x``, ``/etc/x``, ``a/b``) is refused
with its line number, before anything is fetched.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bpviz.cli.common import Parser
from bpviz.data import DataError, default_mnist_dir, load_idx_dir
from bpviz.data.download import (
    MIRRORS,
    MNIST_MD5,
    PART_SUFFIX,
    check_file_name,
    download_mnist,
)
from bpviz.data.mnist import has_idx_files


def read_checksums(path: Path) -> dict[str, str]:
    """``md5sum``-style lines (``<md5>  <file name>``) → {file name: md5}.

    A name that is not a plain file name (a path, ``..``, an absolute name: see
    :func:`bpviz.data.download.check_file_name`) is refused with its line number."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read the checksum file ({error})") from None
    checksums = {}
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or len(fields[0]) != 32:
            raise DataError(f"{path}:{number}: expected '<md5>  <file name>', got {line!r}")
        name = fields[1].removeprefix("*")  # md5sum's binary-mode marker
        problem = check_file_name(name)
        if problem is not None:
            raise DataError(f"{path}:{number}: {name!r} is {problem}")
        checksums[name] = fields[0].lower()
    if not checksums:
        raise DataError(f"{path}: no checksums in the file")
    return checksums


class _Reporter:
    """Progress on stderr: one updating line per file on a terminal, else one per file."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, name: str, done: int, total: int) -> None:
        finished = total and done >= total
        now = time.monotonic()
        if self.tty and not finished and now - self.last < 0.1:
            return
        self.last = now
        size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        if self.tty:
            end = "\n" if finished else ""
            print(f"\r{name}: {size}", end=end, file=self.stream, flush=True)
        elif finished:
            print(f"{name}: {size}", file=self.stream, flush=True)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = Parser(
        prog=prog or "bpviz download",
        description="Download the full MNIST (verified by MD5) for bpviz.",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"target folder (default: {default_mnist_dir()}, where bpviz looks)",
    )
    parser.add_argument(
        "--mirror",
        action="append",
        metavar="URL",
        help="base URL to try (repeatable; default: " + ", ".join(MIRRORS) + ")",
    )
    parser.add_argument(
        "--checksums",
        type=Path,
        metavar="FILE",
        help="md5sum-style list of the files to fetch and their MD5 "
        "(default: the four official MNIST files)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress output (default: progress on stderr)"
    )
    args = parser.parse_args(argv)
    dest = args.dir if args.dir is not None else default_mnist_dir()
    try:
        checksums = read_checksums(args.checksums) if args.checksums else dict(MNIST_MD5)
        download_mnist(
            dest,
            mirrors=args.mirror,
            progress=None if args.quiet else _Reporter(sys.stderr),
            checksums=checksums,
        )
        if has_idx_files(dest):  # check the set loads (and warm the decompressed cache)
            dataset = load_idx_dir(dest)
            print(f"ready: {dataset.source}", file=sys.stderr)
        else:
            print(f"downloaded {len(checksums)} files into {dest}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"\ninterrupted; {_kept(dest)}run the same command again to resume", file=sys.stderr)
        return 130
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _kept(dest: Path) -> str:
    """``"kept train-images-idx3-ubyte.gz.part (1.2 MB) in DIR; "`` (or "")."""
    try:
        parts = sorted(p for p in dest.glob(f"*{PART_SUFFIX}") if p.is_file())
        sizes = [f"{p.name} ({p.stat().st_size:,} bytes)" for p in parts]
    except OSError:
        return ""
    return f"kept {', '.join(sizes)} in {dest}; " if sizes else ""
