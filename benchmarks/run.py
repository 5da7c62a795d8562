"""The one entry to every benchmark: ``python3 benchmarks/run.py [--quick] [--json] [NAME …]``.

Every ``benchmarks/bench_*.py`` module exposes ``run(quick: bool) -> dict[str, float]``
whose keys are the figures its issue names. This script runs each module in a fresh
Python process, one after the other (so one module's threads, Qt or caches do not slow
another), and prints the union of their figures: with ``--json`` as one JSON object on
stdout. NAME selects modules (``engine`` for bench_engine.py). Progress and failures go
to stderr; the exit status is 1 if any module failed (its figures are then missing).

``--against REV`` measures a previous commit in the same run: REV is checked out into a
temporary git worktree, and each module runs there and here alternately (REV first,
``--rounds`` times each, the best of the rounds kept per figure — the machine is shared,
so rates are noisy); every figure then comes three times, ``NAME`` (here),
``NAME@before`` (REV) and ``NAME@ratio`` (here / REV), with the spread of the rounds:
``NAME@ratio_min`` and ``NAME@ratio_max``, the lowest and highest here / REV of one
round's pair, and ``NAME@better``: the ratio turned so that above 1 means this tree is
better (REV / here for times), whichever way the figure goes. The figures worse here
are listed on stderr at the end.

To add a benchmark, add a ``bench_<name>.py`` with that ``run`` function: nothing here
changes.
"""

from __future__ import annotations

import argparse
import contextlib
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


def run_module(module: str, quick: bool, root: Path = HERE.parent) -> dict[str, float]:
    """Run one module's ``run(quick)`` of the checkout ``root`` in a child process."""
    here = root / "benchmarks"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        code = CHILD.format(
            root=str(root), here=str(here), module=module, quick=quick, out=str(out)
        )
        result = subprocess.run([sys.executable, "-c", code], stdout=sys.stderr, cwd=root)
        if result.returncode != 0 or not out.exists():
            raise RuntimeError(f"{module} failed (exit status {result.returncode})")
        return json.loads(out.read_text())


@contextlib.contextmanager
def worktree(rev: str):
    """A temporary detached git worktree of ``rev``, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="bpviz-before-"))
    path = tmp / "tree"
    git = ["git", "-C", str(HERE.parent)]
    subprocess.run(
        [*git, "worktree", "add", "--detach", str(path), rev], check=True, stdout=sys.stderr
    )
    # A commit whose bpviz reads its sample only as the installed ``bpviz.resources``
    # (cb1258b and older) finds it in its own tree, not in whichever checkout is installed.
    link, resources = path / "bpviz" / "resources", path / "resources"
    if resources.is_dir() and not link.exists():
        link.symlink_to(resources, target_is_directory=True)
    try:
        yield path
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(path)], stdout=sys.stderr)
        tmp.rmdir()


LOWER_UNITS = ("_ms", "_us", "_s", "_seconds", "_mb")
LOWER_RATIOS = ("_vs_floor", "_vs_matmul_floor")  # a step's time over its floor's


def lower_is_better(key: str) -> bool:
    """Times, sizes and time ratios (``_ms``, ``_us``, ``_s``, ``_seconds``, ``_mb``, also
    inside a name as in ``gui_cpu_ms_per_frame``, and ``…_vs_floor``) are better lower;
    rates (``…_per_s``, ``…_fps``) and speed ratios higher."""
    parts = key.split("@")[0]
    if "_per_s" in parts:  # a rate: steps per second (gui_steps_per_s_headless too)
        return False
    return parts.endswith(LOWER_UNITS + LOWER_RATIOS) or any(
        f"{unit}_" in parts for unit in LOWER_UNITS
    )


def best(runs: list[dict[str, float]], key: str) -> float:
    """The best of a figure over rounds: the lowest where lower is better, else the
    highest."""
    values = [r[key] for r in runs if key in r]
    return min(values) if lower_is_better(key) else max(values)


def against(module: str, quick: bool, before: Path, rounds: int) -> dict[str, float]:
    """A module's figures here and at ``before``, measured alternately."""
    runs: dict[Path, list[dict[str, float]]] = {before: [], HERE.parent: []}
    for _ in range(rounds):
        for root in runs:
            runs[root].append(run_module(module, quick, root))
    return compare(runs[HERE.parent], runs[before])


def compare(here: list[dict[str, float]], before: list[dict[str, float]]) -> dict[str, float]:
    """Each figure of the rounds ``here`` against the rounds ``before`` (the same number,
    measured pairwise one after the other): see the module's doc for the keys."""
    figures: dict[str, float] = {}
    for key in here[0]:
        figures[key] = best(here, key)
        if all(key in r for r in before):
            figures[f"{key}@before"] = old = best(before, key)
            figures[f"{key}@ratio"] = ratio = figures[key] / old if old else float("nan")
            # the same ratio turned so that above 1 is better, below 1 worse
            figures[f"{key}@better"] = 1 / ratio if lower_is_better(key) and ratio else ratio
            # the spread: here / before of each round's pair (measured one after the other)
            pairs = [
                h[key] / b[key] for h, b in zip(here, before, strict=True) if key in h and b[key]
            ]
            if pairs:
                figures[f"{key}@ratio_min"], figures[f"{key}@ratio_max"] = min(pairs), max(pairs)
    return figures


def table(figures: dict[str, float]) -> str:
    """The figures measured against a previous commit as a Markdown table: here, before,
    here / before, that ratio's lowest … highest over the rounds, and whether this tree is
    better or worse (``…_cpu`` twins left out)."""
    rows = [
        "| figure | this tree | before | ratio | rounds | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for key, value in figures.items():
        if "@" in key or key.endswith("_cpu") or f"{key}@ratio" not in figures:
            continue
        spread = f"{figures[f'{key}@ratio_min']:.3f} … {figures[f'{key}@ratio_max']:.3f}"
        rows.append(
            f"| `{key}` | {value:.4g} | {figures[f'{key}@before']:.4g} "
            f"| {figures[f'{key}@ratio']:.3f} | {spread} | {verdict(figures, key)} |"
        )
    return "\n".join(rows)


def worse(figures: dict[str, float]) -> tuple[list[str], list[str]]:
    """The figures worse here than before: by the best of the rounds on each side, and
    the stricter list of those worse in every round pair (measured one after the other).
    Run a tree against itself (``--against HEAD``) to see how many of either list this
    machine's noise alone fills."""
    by_best = [k.split("@")[0] for k, v in figures.items() if k.endswith("@better") and v < 1]
    every = []
    for key in by_best:
        low, high = figures.get(f"{key}@ratio_min"), figures.get(f"{key}@ratio_max")
        if low is None or high is None:
            continue
        if (low > 1) if lower_is_better(key) else (high < 1):
            every.append(key)
    return by_best, every


def verdict(figures: dict[str, float], key: str) -> str:
    """ "better", "worse" or "same", by the best of the rounds on each side."""
    better = figures[f"{key}@better"]
    word = "same" if better == 1 else ("better" if better > 1 else "worse")
    return f"{word} ({better:.2f}×)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every bpviz benchmark.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--against", metavar="REV", help="also measure commit REV, alternately")
    parser.add_argument("--rounds", type=int, default=2, help="with --against: runs of each side")
    parser.add_argument("--table", action="store_true", help="a Markdown table (with --against)")
    parser.add_argument(
        "--from",
        dest="saved",
        metavar="FILE",
        help="measure nothing: print the figures of an earlier --json run saved in FILE",
    )
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. engine)")
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    failed = []
    if args.saved:  # e.g. the table of benchmarks/README.md, regenerated from a saved run
        figures = json.loads(Path(args.saved).read_text())
    with contextlib.ExitStack() as stack:
        measure = not args.saved
        before = stack.enter_context(worktree(args.against)) if args.against and measure else None
        for module in modules(args.names) if measure else []:
            print(f"running {module} …", file=sys.stderr, flush=True)
            try:
                if before is None:
                    figures.update(run_module(module, args.quick))
                else:
                    figures.update(against(module, args.quick, before, args.rounds))
            except RuntimeError as error:
                print(f"error: {error}", file=sys.stderr)
                failed.append(module)
    if any(k.endswith("@better") for k in figures):
        by_best, every = worse(figures)
        print(f"worse than before: {', '.join(by_best) or 'none'}", file=sys.stderr)
        print(f"worse in every round pair: {', '.join(every) or 'none'}", file=sys.stderr)
    if args.json:
        print(json.dumps(figures))
    elif args.table:
        print(table(figures))
    else:
        for key, value in figures.items():
            print(f"{key:32} {value:g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
