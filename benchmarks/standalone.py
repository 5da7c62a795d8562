"""Running one benchmark module alone: ``python3 benchmarks/bench_<name>.py [--quick] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable


def main(run: Callable[[bool], dict[str, float]], doc: str | None) -> None:
    """Parse ``--quick``/``--json``, call ``run(quick)`` and print its figures: one JSON
    object with ``--json``, else a line a figure."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = run(args.quick)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:32s} {value}")
    sys.exit(0)  # now: Qt objects left to the interpreter's teardown can crash it
