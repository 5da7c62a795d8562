"""``python -m bpviz gradcheck [network flags] [--json]``: backprop against finite differences.

Builds the network the flags describe (as ``train`` does), draws a seeded batch of random
inputs in [0, 1) with random labels, and compares every weight's and bias's gradient from
backpropagation (float64) with central finite differences (see engine/gradcheck.py).
Prints ``{"worst_relative_error": …, "checked": …}`` with ``--json``. Exit status 0 when
the worst relative error is below ``--tolerance`` (1e-6), 1 when not, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from bpviz.cli.train import add_network_arguments, network_from
from bpviz.engine import gradient_check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bpviz gradcheck",
        description="Compare backpropagation with central finite differences, in float64.",
    )
    add_network_arguments(parser)
    parser.add_argument("--batch-size", type=int, default=10, help="examples in the batch")
    parser.add_argument("--eps", type=float, default=1e-6, help="finite-difference step ε")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        net = network_from(args)
        if args.batch_size < 1 or not args.eps > 0:
            raise ValueError("--batch-size must be ≥ 1 and --eps > 0")
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
