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
import sys

from bpviz.cli import train_loop
from bpviz.cli.common import Parser, data_argument, eta_argument, int_at_least
from bpviz.cli.train_extras import Draw, TrainExtras, add_arguments
from bpviz.engine import Network
from bpviz.engine.functions import COSTS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from bpviz.engine.network import INITS
from bpviz.session import limits
from bpviz.session.limits import check_sizes


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that define a network (shared with ``gradcheck``)."""
    parser.add_argument(
        "--layers", default="784,30,10", help="neurons per layer n₀,…,n_L, comma-separated"
    )
    parser.add_argument(
        "--hidden", default="sigmoid", choices=list(HIDDEN_ACTIVATIONS), help="σ of hidden layers"
    )
    parser.add_argument(
        "--output", default="sigmoid", choices=list(OUTPUT_ACTIVATIONS), help="output layer"
    )
    parser.add_argument(
        "--cost",
        default=None,
        choices=list(COSTS),
        help="cost C (default: quadratic with a sigmoid output, cross_entropy with softmax)",
    )
    parser.add_argument("--init", default="scaled", choices=list(INITS), help="initialisation")
    parser.add_argument(
        "--seed",
        type=int_at_least("--seed", 0),
        default=0,
        help="initialisation and shuffling seed",
    )


def check_layers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--layers``: whole numbers within ``bpviz.session.limits``; a one-line error."""
    try:
        sizes = [int(n) for n in args.layers.split(",")]
    except ValueError:
        parser.error(f"--layers must be integers separated by commas, got {args.layers!r}")
    try:
        check_sizes(sizes)
    except ValueError as error:
        parser.error(f"--layers {args.layers}: {error}")


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


def parse(argv: list[str] | None, prog: str | None = None) -> argparse.Namespace:
    """The flags, each checked on its own: a bad one exits 2 with a line naming it."""
    parser = Parser(
        prog=prog or "bpviz train", description="Train the network headless, epoch by epoch."
    )
    parser.add_argument(
        "--data",
        type=data_argument,
        default=None,
        metavar="DIR",
        help="folder of MNIST IDX files, 'sample' (the embedded one), or a toy 2-D set: "
        "xor, circles, moons, spiral, blobs, blobs3 — its own network, η, batch size and "
        "epochs then apply unless given (default: $BPVIZ_DATA, else a downloaded MNIST, "
        "else the sample)",
    )
    add_network_arguments(parser)
    parser.add_argument("--eta", type=eta_argument, default=3.0, help="learning rate η")
    parser.add_argument(
        "--batch-size", type=int_at_least("--batch-size", 1), default=10, help="mini-batch size m"
    )
    parser.add_argument(
        "--epochs", type=int_at_least("--epochs", 0), default=3, help="epochs to train"
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per epoch (default: a text line)"
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    if (toy := toy_defaults(args.data)) is not None:
        parser.set_defaults(**toy)  # the toy set's table, for every flag not given
        args = parser.parse_args(argv)
    check_layers(parser, args)
    return args


def toy_defaults(data: str | None) -> dict[str, object] | None:
    """The flag defaults of toy set ``data`` (or ``$BPVIZ_DATA`` when ``data`` is None) from
    ``bpviz.data.toy.DEFAULTS``; None for other data."""
    import os

    from bpviz.data.sources import ENV_DATA
    from bpviz.data.toy import DEFAULTS, n_classes

    word = data if data is not None else os.environ.get(ENV_DATA, "")
    if word not in DEFAULTS:
        return None
    d = DEFAULTS[word]
    return {
        "layers": ",".join(map(str, d.layers(n_classes(word)))),
        "hidden": d.hidden,
        "output": d.output,
        "cost": d.cost,
        "eta": d.eta,
        "batch_size": d.batch_size,
        "epochs": d.epochs,
    }


def batch_size_problem(args: argparse.Namespace, n_train: int) -> str | None:
    """``--batch-size`` against the data's training examples: a message, or None."""
    try:
        limits.check_batch_size(args.batch_size, n_train)
    except ValueError as error:
        return f"--batch-size {args.batch_size}: {error}"
    return None


def main(
    argv: list[str] | None = None, prog: str | None = None, *, draw: Draw | None = None
) -> int:
    """Train as the flags say; the exit status. ``draw`` makes ``--snapshot-every``'s
    exporter (``bpviz.__main__`` passes the window's offscreen views)."""
    args = parse(argv, prog)
    from bpviz.data import DataError, resolve_source
    from bpviz.files.checkpoint import CheckpointError

    try:
        extras = TrainExtras(args, sys.argv[1:] if argv is None else list(argv), draw)
        net = network_from(args)
    except ValueError as error:  # a damaged --resume file (CheckpointError) or a bad flag
        print(f"error: {error}", file=sys.stderr)
        return 1 if isinstance(error, CheckpointError) else 2
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
    if (message := batch_size_problem(args, data.train_images.shape[0])) is not None:
        print(f"error: {message}", file=sys.stderr)
        return 2
    return train_loop.run(args, net, data, description, extras)
