"""``python -m bpviz train``: the headless trainer.

Trains the paper's network with mini-batch SGD on the chosen data (default: what
``bpviz.data.resolve_source`` picks — the embedded sample unless MNIST was downloaded)
and reports each epoch: with ``--json`` one JSON object a line on stdout (``epoch``,
``steps``, ``train_loss``, ``test_loss``, ``test_accuracy``, ``eta``, ``seconds``,
``confusion`` — k×k counts, rows = true class, columns = predicted — and
``per_class_accuracy`` — k fractions, null for a class without examples) and
nothing else. The data source is named in one line on stderr. Same seed and flags give
bit-identical output, ``seconds`` aside. It trains a ``Session`` headless, as the window
does (``bpviz.cli.train_loop``), and ``--save``/``--resume`` use the window's session
files (``bpviz.cli.train_extras``). Exit status: 0, 1 (data or file error, or
divergence — ``--save`` still writes the last good state), 2 (bad arguments).
"""

from __future__ import annotations

import argparse
import math
import sys

from bpviz.cli import train_loop
from bpviz.cli.train_extras import TrainExtras, add_arguments
from bpviz.engine import Network
from bpviz.engine.functions import COSTS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from bpviz.engine.network import INITS


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that define a network (shared with ``gradcheck``)."""
    parser.add_argument(
        "--layers", default="784,30,10", help="neurons per layer, n_0,…,n_L (default 784,30,10)"
    )
    parser.add_argument("--hidden", default="sigmoid", choices=list(HIDDEN_ACTIVATIONS))
    parser.add_argument("--output", default="sigmoid", choices=list(OUTPUT_ACTIVATIONS))
    parser.add_argument(
        "--cost",
        default=None,
        choices=list(COSTS),
        help="default: quadratic with a sigmoid output, cross_entropy with softmax",
    )
    parser.add_argument("--init", default="scaled", choices=list(INITS))
    parser.add_argument("--seed", type=int, default=0, help="initialisation and shuffling seed")


def network_from(args: argparse.Namespace) -> Network:
    """The network the flags describe; ValueError names what is wrong."""
    try:
        sizes = [int(n) for n in args.layers.split(",")]
    except ValueError:
        raise ValueError(
            f"--layers must be integers separated by commas: {args.layers!r}"
        ) from None
    cost = args.cost or ("cross_entropy" if args.output == "softmax" else "quadratic")
    return Network(
        sizes, hidden=args.hidden, output=args.output, cost=cost, init=args.init, seed=args.seed
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bpviz train", description="Train the network headless, epoch by epoch."
    )
    parser.add_argument(
        "--data", default=None, help="directory of MNIST IDX files, or 'sample' (the embedded one)"
    )
    add_network_arguments(parser)
    parser.add_argument("--eta", type=float, default=3.0, help="learning rate η (default 3.0)")
    parser.add_argument("--batch-size", type=int, default=10, help="mini-batch size m")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one JSON object per epoch")
    add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from bpviz.data import DataError, resolve_source
    from bpviz.session.checkpoint import CheckpointError

    try:
        extras = TrainExtras(args, sys.argv[1:] if argv is None else list(argv))
        net = network_from(args)
        if args.batch_size < 1 or args.epochs < 0 or not (math.isfinite(args.eta) and args.eta > 0):
            raise ValueError("--batch-size must be ≥ 1, --epochs ≥ 0 and --eta a number > 0")
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        data, description = resolve_source(args.data)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"data: {description}", file=sys.stderr)
    if (data.n_inputs, data.n_classes) != (net.sizes[0], net.sizes[-1]):
        print(
            f"error: --layers {args.layers} does not fit the data: it has {data.n_inputs} "
            f"inputs and {data.n_classes} classes",
            file=sys.stderr,
        )
        return 2
    return train_loop.run(args, net, data, description, extras)
