"""The one entry to every benchmark: ``python3 benchmarks/run.py [--quick] [--json] [NAME …]``.

Every ``benchmarks/bench_*.py`` module exposes ``run(quick: bool) -> dict[str, float]``
whose keys are the figures its issue names. This script runs each module in a fresh
Python process, one after the other (so one module's threads, Qt or caches do not slow
another), and prints the union of their figures: with ``--json`` as one JSON object on
stdout. NAME selects modules (``engine`` for bench_engine.py). Progress and failures go
to stderr; the exit status is 1 if any module failed (its figures are then missing).

To add a benchmark, add a ``bench_<name>.py`` with that ``run`` function: nothing here
changes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import json, sys
sys.path[:0] = [{root!r}, {here!r}]
import {module} as bench
figures = bench.run(quick={quick})
with open({out!r}, "w") as f:
    json.dump({{k: float(v) for k, v in figures.items()}}, f)
"""


def modules(names: list[str]) -> list[str]:
    """bench_* module names, engine first (the most sensitive to a busy machine)."""
    found = sorted(p.stem for p in HERE.glob("bench_*.py"))
    found.sort(key=lambda m: m != "bench_engine")
    if names:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in names}
        unknown = wanted - set(found)
        if unknown:
            raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; have {found}")
        found = [m for m in found if m in wanted]
    return found


def run_module(module: str, quick: bool) -> dict[str, float]:
    """Run one module's ``run(quick)`` in a child process; its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        code = CHILD.format(
            root=str(HERE.parent), here=str(HERE), module=module, quick=quick, out=str(out)
        )
        result = subprocess.run([sys.executable, "-c", code], stdout=sys.stderr, cwd=HERE.parent)
        if result.returncode != 0 or not out.exists():
            raise RuntimeError(f"{module} failed (exit status {result.returncode})")
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every bpviz benchmark.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. engine)")
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    failed = []
    for module in modules(args.names):
        print(f"running {module} …", file=sys.stderr, flush=True)
        try:
            figures.update(run_module(module, args.quick))
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            failed.append(module)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:32} {value:g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
