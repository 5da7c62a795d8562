"""``bpviz gradcheck [network flags] [--json]``: backprop against finite differences.

Builds the network the flags describe (as ``train`` does), draws a seeded batch of random
inputs in [0, 1) with random labels, and compares every weight's and bias's gradient from
backpropagation (float64) with central finite differences (see engine/gradcheck.py).
Prints ``{"worst_relative_error": …, "checked": …}`` with ``--json``. Exit status 0 when
the worst relative error is below ``--tolerance`` (1e-6), 1 when not, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from bpviz.cli.common import Parser, int_at_least
from bpviz.cli.train import add_network_arguments, check_layers, network_from
from bpviz.engine import gradient_check


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = Parser(
        prog=prog or "bpviz gradcheck",
        description="Compare backpropagation with central finite differences, in float64.",
    )
    add_network_arguments(parser)
    parser.add_argument(
        "--batch-size",
        type=int_at_least("--batch-size", 1),
        default=10,
        help="random examples in the batch",
    )
    parser.add_argument(
        "--eps", type=_positive("--eps"), default=1e-6, help="finite-difference step ε"
    )
    parser.add_argument(
        "--tolerance",
        type=_positive("--tolerance", zero=True),
        default=1e-6,
        help="largest relative error that passes (exit 0)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (default: a text line)"
    )
    args = parser.parse_args(argv)
    check_layers(parser, args)
    try:
        net = network_from(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    x = rng.random((args.batch_size, net.sizes[0]))
    labels = rng.integers(0, net.sizes[-1], args.batch_size)
    result = gradient_check(net, x, labels, eps=args.eps)
    if args.json:
        print(
            json.dumps(
                {"worst_relative_error": result.worst_relative_error, "checked": result.checked}
            )
        )
    else:
        print(
            f"checked {result.checked} parameters of {net!r}: worst relative error "
            f"{result.worst_relative_error:.3g} at (l, i, j) = {result.worst_entry} "
            f"(backprop {result.backprop:.6g}, finite differences {result.numerical:.6g})"
        )
    return 0 if result.worst_relative_error < args.tolerance else 1


def _positive(flag: str, *, zero: bool = False):
    """An argparse ``type`` for a finite number > 0 (≥ 0 with ``zero``); the message
    names ``flag``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be a number, got {text!r}") from None
        if not (math.isfinite(value) and (value >= 0 if zero else value > 0)):
            bound = "≥ 0" if zero else "> 0"
            raise argparse.ArgumentTypeError(f"{flag} must be a finite number {bound}, got {text}")
        return value

    return parse
