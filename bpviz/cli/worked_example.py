"""``python -m bpviz worked-example``: one training step with every number, to take home.

Builds the network the flags describe in float64 (the seeded initialisation of
``train``, drawn in float64), takes the first mini-batch that ``train`` with the same ``--seed`` and
``--batch-size`` would take from the toy set (``bpviz.session.config.epoch_order``), runs
the engine's ``Network.forward``, ``backward`` and ``apply`` on it, and writes each step —
x and y, W and b, zˡ and aˡ, C, ∂C/∂aᴸ, σ′(zˡ), δᴸ … δ¹, ∂C/∂Wˡ, ∂C/∂bˡ, W and b after
the update — as the paper's equation, the same equation with the numbers substituted, and
its value (``bpviz.cli.worked_render``: Markdown, LaTeX or JSON). Every number is the
engine's, printed to 6 significant digits (JSON: exact). Exit status 0, 2 (bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from bpviz.cli import worked_render as render
from bpviz.cli.common import Parser, eta_argument, int_at_least
from bpviz.cli.train import add_network_arguments, check_layers, network_from
from bpviz.cli.worked_render import Step, matrix, number
from bpviz.data.dataset import Dataset
from bpviz.engine import Network

DW = r"\frac{\partial C}{\partial W^{%d}}"
DB = r"\frac{\partial C}{\partial b^{%d}}"
DA = r"\frac{\partial C}{\partial a^{%d}}"
_SIGMA = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\mathrm{relu}",
          "leaky_relu": r"\mathrm{lrelu}", "softmax": r"\mathrm{softmax}"}  # fmt: skip
SECTIONS = {
    "x": "Given",
    "y": "Given",
    "W": "Given",
    "b": "Given",
    "z": "Forward pass",
    "a": "Forward pass",
    "cost": "Cost",
    "dC_da": "Backward pass",
    "sigma_prime": "Backward pass",
    "delta": "Backward pass",
    "grad_W": "Gradients",
    "grad_b": "Gradients",
    "W_after": "Update",
    "b_after": "Update",
}


def _col(value: np.ndarray) -> np.ndarray:
    """Engine layout ``(m, n)`` → the paper's ``(n, m)``, one column per example."""
    return np.asarray(value, dtype=np.float64).T


def _prime(act: str, l: int, z: np.ndarray, a: np.ndarray) -> tuple[str, str]:
    """σ′(zˡ) as an equation and with its operands substituted (paper layout)."""
    if act == "sigmoid":
        return rf"a^{{{l}}} \odot (1 - a^{{{l}}})", rf"{matrix(a)} \odot (1 - {matrix(a)})"
    if act == "tanh":
        return rf"1 - a^{{{l}}} \odot a^{{{l}}}", rf"1 - {matrix(a)} \odot {matrix(a)}"
    low = "0" if act == "relu" else "0.01"
    return (rf"[z^{{{l}}} > 0] \text{{ (1 if so, else {low})}}", rf"[{matrix(z)} > 0]")


def worked_steps(net: Network, x: np.ndarray, labels: np.ndarray, eta: float) -> list[Step]:
    """The steps of one SGD step of ``net`` (float64) on ``x`` ``(m, n_0)``, ``labels``
    ``(m,)``; ``net``'s parameters are updated, as training would. Values come from the
    engine's traces (``forward``, ``backward``) and its update (``apply``)."""
    L, m = net.n_layers, x.shape[0]
    W0 = [np.array(W, dtype=np.float64) for W in net.weights]
    b0 = [np.array(b, dtype=np.float64)[:, None] for b in net.biases]
    fwd = net.forward(x)
    bwd = net.backward(fwd, labels)
    net.apply(bwd, eta)
    z, a = [None, *map(_col, fwd.z)], list(map(_col, fwd.a))
    dC_da, delta = [None, *map(_col, bwd.dC_da)], [None, *map(_col, bwd.delta)]
    gw = [None, *(np.asarray(g, dtype=np.float64) for g in bwd.grad_w)]
    gb = [None, *(np.asarray(g, dtype=np.float64)[:, None] for g in bwd.grad_b)]
    y = _col(np.eye(net.sizes[-1])[labels])
    M, Y, A_L = matrix, matrix(y), matrix(a[L])
    steps: list[Step] = []

    def add(key: str, l: int, title: str, equation: str, substituted: str, value) -> None:
        steps.append(Step(key, l, title, equation, substituted, np.asarray(value, np.float64)))

    add("x", 0, "the inputs x = a⁰ (one column per example)", "x = a^{0}", "", a[0])
    add("y", 0, "the targets y (one-hot)", "y", "", y)
    for l in range(1, L + 1):
        add("W", l, f"weights W{_sup(l)} before the step", f"W^{{{l}}}", "", W0[l - 1])
        add("b", l, f"biases b{_sup(l)} before the step", f"b^{{{l}}}", "", b0[l - 1])
    for l in range(1, L + 1):
        eq = rf"z^{{{l}}} & = W^{{{l}}} a^{{{l - 1}}} + b^{{{l}}}"
        add("z", l, f"weighted input z{_sup(l)}", eq,
            rf"{M(W0[l - 1])} {M(a[l - 1])} + {M(b0[l - 1])}", z[l])  # fmt: skip
        s = _SIGMA[net.activations[l - 1].name]
        add("a", l, f"activation a{_sup(l)}", rf"a^{{{l}}} & = {s}(z^{{{l}}})",
            rf"{s}\left({M(z[l])}\right)", a[l])  # fmt: skip
    if net.cost == "quadratic":
        cost = (rf"C & = \frac{{1}}{{2m}} \sum_{{x}} \lVert a^{{{L}}} - y \rVert^{{2}}",
                rf"\frac{{1}}{{2 \cdot {m}}} \left\lVert {A_L} - {Y} "
                r"\right\rVert^{2}")  # fmt: skip
        dc = rf"a^{{{L}}} - y", rf"{A_L} - {Y}"
    else:
        cost = (rf"C & = -\frac{{1}}{{m}} \sum_{{x}} \sum_{{k}} y_{{k}} \ln a_{{k}}^{{{L}}}",
                rf"-\frac{{1}}{{{m}}} \mathbf{{1}}^{{T}} \left({Y} \odot \ln {A_L}\right) "
                r"\mathbf{1}")  # fmt: skip
        dc = rf"-y \oslash a^{{{L}}}", rf"-{Y} \oslash {A_L}"
    add("cost", L, "the cost C (mean over the mini-batch)", *cost, bwd.loss)
    for l in range(L, 0, -1):
        da = DA % l
        if l == L:
            add("dC_da", l, f"∂C/∂a{_sup(l)}, per example", f"{da} & = {dc[0]}", dc[1], dC_da[l])
        else:
            add("dC_da", l, f"∂C/∂a{_sup(l)}, per example",
                rf"{da} & = (W^{{{l + 1}}})^{{T}} \delta^{{{l + 1}}}",
                rf"{M(W0[l].T)} {M(delta[l + 1])}", dC_da[l])  # fmt: skip
        title = f"δ{_sup(l)} = ∂C/∂z{_sup(l)}"
        if bwd.sigma_prime[l - 1] is None:  # softmax + cross-entropy
            add("delta", l, f"{title} (softmax + cross-entropy: the Jacobian cancels)",
                rf"\delta^{{{L}}} & = a^{{{L}}} - y", rf"{A_L} - {Y}", delta[l])  # fmt: skip
            continue
        act, sp = net.activations[l - 1].name, _col(bwd.sigma_prime[l - 1])
        p_eq, p_sub = _prime(act, l, z[l], a[l])
        add("sigma_prime", l, f"σ′(z{_sup(l)}) ({act})", rf"\sigma'(z^{{{l}}}) & = {p_eq}",
            p_sub, sp)  # fmt: skip
        add("delta", l, title, rf"\delta^{{{l}}} & = {da} \odot \sigma'(z^{{{l}}})",
            rf"{M(dC_da[l])} \odot {M(sp)}", delta[l])  # fmt: skip
    for l in range(1, L + 1):
        add("grad_W", l, f"∂C/∂W{_sup(l)} (mean over the mini-batch)",
            rf"{DW % l} & = \frac{{1}}{{m}} \delta^{{{l}}} (a^{{{l - 1}}})^{{T}}",
            rf"\frac{{1}}{{{m}}} {M(delta[l])} {M(a[l - 1].T)}", gw[l])  # fmt: skip
        add("grad_b", l, f"∂C/∂b{_sup(l)} (mean over the mini-batch)",
            rf"{DB % l} & = \frac{{1}}{{m}} \sum_{{x}} \delta^{{{l}}}",
            rf"\frac{{1}}{{{m}}} {M(delta[l])} \mathbf{{1}}", gb[l])  # fmt: skip
    eta_text = number(eta)
    for l in range(1, L + 1):
        add("W_after", l, f"W{_sup(l)} after the step",
            rf"W^{{{l}}} & \leftarrow W^{{{l}}} - \eta\, {DW % l}",
            rf"{M(W0[l - 1])} - {eta_text} {M(gw[l])}", net.weights[l - 1])  # fmt: skip
        add("b_after", l, f"b{_sup(l)} after the step",
            rf"b^{{{l}}} & \leftarrow b^{{{l}}} - \eta\, {DB % l}",
            rf"{M(b0[l - 1])} - {eta_text} {M(gb[l])}", net.biases[l - 1][:, None])  # fmt: skip
    return steps


def _sup(l: int) -> str:
    """A layer number as Unicode superscript (W¹, δ²)."""
    return str(l).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def parse(argv: list[str] | None, prog: str | None = None) -> argparse.Namespace:
    from bpviz.data.toy import TOY_NAMES

    parser = Parser(
        prog=prog or "bpviz worked-example",
        description="Write one training step with every number: each equation, the same "
        "equation with the numbers substituted, and its value.",
    )
    parser.add_argument("--data", default="xor", choices=TOY_NAMES, help="toy 2-D data set")
    add_network_arguments(parser)
    parser.set_defaults(layers=None)  # 2,2,K: filled in below once --data is known
    layers = parser._option_string_actions["--layers"]  # argparse has no public setter
    layers.help = "neurons per layer n₀,…,n_L, comma-separated (default: 2,2,K for K classes)"
    parser.add_argument("--eta", type=eta_argument, default=0.5, help="learning rate η")
    parser.add_argument(
        "--batch-size", type=int_at_least("--batch-size", 1), default=1, help="mini-batch size m"
    )
    parser.add_argument("--format", default="md", choices=("md", "tex", "json"), help="output")
    parser.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    args = parser.parse_args(argv)
    if args.layers is None:
        from bpviz.data.toy import n_classes

        args.layers = f"2,2,{n_classes(args.data)}"
    check_layers(parser, args)
    return args


def document(args: argparse.Namespace, data: Dataset | None = None) -> str:
    """The worked example the flags ask for, in ``args.format``; ValueError when the
    flags do not fit together (layers and data, batch size and data). ``data``: the toy
    set ``args.data`` generated otherwise than by default (the window's toy settings)."""
    from bpviz.data.toy import make_toy
    from bpviz.session.config import epoch_order
    from bpviz.session.limits import check_batch_size

    data = make_toy(args.data) if data is None else data
    net = network_from(args)
    if (net.sizes[0], net.sizes[-1]) != (data.n_inputs, data.n_classes):
        raise ValueError(f"--layers {args.layers} does not fit the data: it has "
                         f"{data.n_inputs} inputs and {data.n_classes} classes")  # fmt: skip
    check_batch_size(args.batch_size, data.train_images.shape[0])
    # float64 from the seed (not float32 cast up): the engine's numbers at full precision
    net = Network(net.sizes, hidden=net.hidden, output=net.output, cost=net.cost,
                  init=net.init, seed=net.seed, dtype=np.float64)  # fmt: skip
    rows = epoch_order(args.seed, 0, data.train_images.shape[0])[: args.batch_size]
    x = data.train_images[rows].astype(np.float64)
    labels = data.train_labels[rows].astype(np.int64)
    steps = worked_steps(net, x, labels, args.eta)
    sizes = "-".join(map(str, net.sizes))
    header = {
        "title": f"One backpropagation step, every number: {args.data}, {sizes}",
        "intro": [
            f"Network {sizes}: hidden layers `{net.hidden}`, output `{net.output}`, cost "
            f"`{net.cost}`, initialisation `{net.init}` with seed {args.seed}; η = "
            f"{number(args.eta)}; mini-batch of m = {args.batch_size} (training examples "
            f"{', '.join(map(str, rows.tolist()))} of {data.source}: the first mini-batch "
            f"`python -m bpviz train --data {args.data} --seed {args.seed} --batch-size "
            f"{args.batch_size}` takes).",
            "",
            f"Every number is the one bpviz's engine computed (`Network.forward`, `backward`, "
            f"`apply`, in float64), printed to {render.DIGITS} significant digits. Vectors "
            "are columns, one per example; ⊙ multiplies element by element, ⊘ divides. "
            "δˡ = ∂C/∂zˡ. Each step: the equation, the same equation with the numbers "
            "substituted, its value.",
        ],
        "sections": SECTIONS,
        "meta": {
            "data": args.data,
            "data_source": data.source,
            "sizes": list(net.sizes),
            "hidden": net.hidden,
            "output": net.output,
            "cost": net.cost,
            "init": net.init,
            "seed": args.seed,
            "eta": args.eta,
            "batch_size": args.batch_size,
            "examples": rows.tolist(),
            "dtype": "float64",
        },
    }
    writer = {"md": render.to_markdown, "tex": render.to_latex, "json": render.to_json}
    return writer[args.format](header, steps)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse(argv, prog)
    try:
        text = document(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"error: --out {args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"written: {args.out}", file=sys.stderr)
    return 0
