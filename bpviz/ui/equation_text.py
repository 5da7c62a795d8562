"""The paper's algorithm (IV.4) as LaTeX, and the same equations with live numbers (no Qt).

``algorithm(config)`` gives the lines z^l = W^l a^{l-1} + b^l … W ← W − η ∂C/∂W, written
for the configured activation and cost; ``active_keys(phase)`` says which lines the
phase computes; ``substituted(snapshot, selection, example)`` instantiates those lines at
one neuron or weight with the numbers taken from the snapshot, i.e. the ones the engine
used. Numbers are printed with four significant digits and always with a decimal point,
so ``parse_numbers`` can read them back (indices are plain integers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bpviz.session.snapshot import Phase, PhaseKind, SessionConfig, Snapshot
from bpviz.ui.inspection import Selection

DW = r"\frac{\partial C}{\partial W^{l}}"
DB = r"\frac{\partial C}{\partial b^{l}}"

_NAMES = {  # σ of a layer as written in a formula
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\mathrm{relu}",
    "leaky_relu": r"\mathrm{lrelu}",
    "softmax": r"\mathrm{softmax}",
}
_PRIMES = {  # σ'(z) in words, for the captions
    "sigmoid": "σ'(z) = σ(z)(1 − σ(z))",
    "tanh": "σ'(z) = 1 − tanh²(z)",
    "relu": "σ'(z) = 1 if z > 0 else 0",
    "leaky_relu": "σ'(z) = 1 if z > 0 else 0.01",
}
_NUMBER = re.compile(r"(-?\d+\.\d+)(?:\\times 10\^\{(-?\d+)\})?")


@dataclass(frozen=True)
class Line:
    """One equation: ``key`` names the step, ``latex`` the formula, ``caption`` a plain note.

    For substituted lines ``values`` are the numbers in the order they appear in ``latex``.
    """

    key: str
    latex: str
    caption: str = ""
    values: tuple[float, ...] = ()


def fmt(value: float, *, paren: bool = True) -> str:
    """Four significant digits with a decimal point; 1.234 × 10^{-5} outside [1e-3, 1e4).

    Negative numbers are parenthesised when ``paren`` (they are factors in a product).
    """
    v = float(value)
    text = f"{v:#.4g}"
    if not np.isfinite(v):
        text = str(v)
    elif "e" in text or (v != 0 and not 1e-3 <= abs(v) < 1e4):
        mantissa, exponent = f"{v:#.3e}".split("e")
        text = rf"{mantissa}\times 10^{{{int(exponent)}}}"
    elif text.endswith("."):
        text += "0"
    return f"({text})" if paren and v < 0 else text


def parse_numbers(latex: str) -> list[float]:
    """The numbers ``fmt`` wrote into ``latex``, in order (integer indices are skipped)."""
    return [
        float(m.group(1)) * (10.0 ** int(m.group(2)) if m.group(2) else 1.0)
        for m in _NUMBER.finditer(latex)
    ]


def split_numbers(latex: str) -> tuple[str, str]:
    """``"δ = (Σ…)·σ' = 0.0451 × 0.2931 = 0.0132"`` → the symbolic part ``"δ = (Σ…)·σ'"``
    and the numeric part ``"= 0.0451 × 0.2931 = 0.0132"`` (typeset separately: the
    symbolic part repeats from frame to frame, the numbers do not)."""
    parts = latex.split(" = ")
    for k, part in enumerate(parts):
        if k and _NUMBER.search(part):
            return " = ".join(parts[:k]), "= " + " = ".join(parts[k:])
    return latex, ""


def _idx(*indices: int) -> str:
    """Subscript of concrete indices, comma-separated as everywhere in the window
    (``w₃,₇²``): ``3,7`` for (3, 7), ``12,7`` for (12, 7)."""
    return ",".join(str(k) for k in indices)


def algorithm(config: SessionConfig) -> tuple[Line, ...]:
    """The paper's algorithm for ``config``: one Line per step, keys z, a, cost, delta_L,
    delta_l, grad_w, grad_b, update."""
    softmax = config.output == "softmax"
    L = config.n_layers
    hidden = config.hidden if L > 1 else None
    below = "layer 1" if L == 2 else f"layers 1…{L - 1}"
    acts = f"σ = {config.hidden} in {below}, {config.output} in layer {L}"
    if hidden is None:
        acts = f"σ = {config.output} (one layer)"
    if config.cost == "cross_entropy":
        cost = r"C = -\frac{1}{m}\sum_{x}\sum_{k} y_{k} \ln a_{k}^{L}"
        cost_caption = "cross-entropy, mean over the m examples x of the mini-batch"
    else:
        cost = r"C = \frac{1}{2m}\sum_{x} \lVert a^{L} - y \rVert^{2}"
        cost_caption = "quadratic cost, mean over the m examples x of the mini-batch"
    if softmax:
        delta_L = r"\delta^{L} = a^{L} - y"
        delta_L_caption = (
            "softmax + cross-entropy: the softmax Jacobian cancels ∂C/∂aᴸ, so δᴸ = aᴸ − y"
        )
    else:
        delta_L = r"\delta^{L} = (a^{L} - y) \odot \sigma^{\prime}(z^{L})"
        delta_L_caption = f"quadratic cost: ∂C/∂aᴸ = aᴸ − y; {_PRIMES[config.output]}"
    return (
        Line("z", r"z^{l} = W^{l} a^{l-1} + b^{l}", "forward: the weighted input of layer l"),
        Line("a", r"a^{l} = \sigma(z^{l})", f"forward: the activation; {acts}"),
        Line("cost", cost, cost_caption),
        Line("delta_L", delta_L, delta_L_caption),
        Line(
            "delta_l",
            r"\delta^{l} = (W^{l+1})^{T} \delta^{l+1} \odot \sigma^{\prime}(z^{l})",
            "backward, l = L−1 … 1" + (f"; {_PRIMES[config.hidden]}" if hidden else ""),
        ),
        Line("grad_w", DW + r" = \delta^{l} (a^{l-1})^{T}", "mean over the mini-batch"),
        Line("grad_b", DB + r" = \delta^{l}", "mean over the mini-batch"),
        Line(
            "update",
            r"W^{l} \leftarrow W^{l} - \eta " + DW + r",\quad b^{l} \leftarrow b^{l} - \eta " + DB,
            "gradient descent step with learning rate η",
        ),
    )


def active_keys(phase: Phase | None, n_layers: int) -> frozenset[str]:
    """Keys of the algorithm lines that ``phase`` computes (empty before the first phase)."""
    if phase is None:
        return frozenset()
    if phase.kind is PhaseKind.FORWARD:
        return frozenset({"z", "a"})
    if phase.kind is PhaseKind.COST:
        return frozenset({"cost"})
    if phase.kind is PhaseKind.DELTA:
        return frozenset({"delta_L" if phase.layer == n_layers else "delta_l"})
    if phase.kind is PhaseKind.GRADIENT:
        return frozenset({"grad_w", "grad_b"})
    return frozenset({"update"})


def _row(values: tuple, layer: int, example: int) -> np.ndarray | None:
    """Row ``example`` of the per-layer batch array of paper layer ``layer`` (float64)."""
    index = layer - 1
    if not 0 <= index < len(values) or values[index] is None:
        return None
    return np.asarray(values[index][example], dtype=np.float64)


def focus_neuron(snapshot: Snapshot, selection: Selection, layer: int, example: int) -> int:
    """The neuron of ``layer`` the substitution is written for: i in the selected layer,
    j in the layer below it; elsewhere the neuron with the largest |δ| (or a) there."""
    if layer == selection.l:
        return selection.i
    if layer == selection.l - 1 and selection.j is not None:
        return selection.j
    if layer == 0:
        return 0 if snapshot.x is None else int(np.argmax(snapshot.x[example]))
    for values in (snapshot.delta, snapshot.a[1:]):
        row = _row(values, layer, example)
        if row is not None:
            return int(np.argmax(np.abs(row)))
    return 0


def _line(key: str, latex: str, values: list[float], caption: str = "") -> Line:
    return Line(key, latex, caption, tuple(float(v) for v in values))


def _forward(s: Snapshot, p: int, k: int, ex: int) -> list[Line]:
    z, a = _row(s.z, p, ex), _row(s.a[1:], p, ex)
    if z is None or a is None:
        return []
    a_prev = np.asarray(s.a[p - 1][ex], dtype=np.float64)
    w_row = np.asarray(s.weights_before[p - 1][k], dtype=np.float64)
    total, b = float(w_row @ a_prev), float(s.biases_before[p - 1][k])
    lk, up = _idx(k), f"{p}"
    act = s.config.output if p == s.config.n_layers else s.config.hidden
    zl = (
        rf"z_{{{lk}}}^{{{up}}} = \sum_{{j}} w_{{{lk},j}}^{{{up}}} a_{{j}}^{{{p - 1}}} + "
        rf"b_{{{lk}}}^{{{up}}} = {fmt(total, paren=False)} + {fmt(b)} = {fmt(z[k], paren=False)}"
    )
    name = _NAMES[act]
    if act == "softmax":
        al = rf"a_{{{lk}}}^{{{up}}} = {name}(z^{{{up}}})_{{{lk}}} = {fmt(a[k], paren=False)}"
        a_values = [a[k]]
    else:
        al = (
            rf"a_{{{lk}}}^{{{up}}} = {name}(z_{{{lk}}}^{{{up}}}) = {name}({fmt(z[k], paren=False)})"
        )
        al += f" = {fmt(a[k], paren=False)}"
        a_values = [z[k], a[k]]
    return [_line("z", zl, [total, b, z[k]]), _line("a", al, a_values)]


def _cost(s: Snapshot, ex: int) -> list[Line]:
    L = s.config.n_layers
    aL = _row(s.a[1:], L, ex)
    if s.loss is None or aL is None or s.y is None:
        return []
    y = np.asarray(s.y[ex], dtype=np.float64)
    if s.config.cost == "cross_entropy":
        c = int(np.argmax(y))
        cx = -float(np.log(max(aL[c], 1e-300)))
        per = rf"C_{{x}} = -\ln a_{{{c}}}^{{{L}}} = -\ln {fmt(aL[c], paren=False)} = {fmt(cx)}"
        values = [aL[c], cx]
    else:
        cx = 0.5 * float(np.sum((aL - y) ** 2))
        per = (
            rf"C_{{x}} = \frac{{1}}{{2}}\lVert a^{{{L}}} - y \rVert^{{2}} = {fmt(cx, paren=False)}"
        )
        values = [cx]
    mean = rf"C = {fmt(s.loss, paren=False)}"
    return [
        _line("cost", mean, [s.loss], "the mean over the mini-batch"),
        _line("cost", per, values, "this example's share"),
    ]


def _delta(s: Snapshot, p: int, k: int, ex: int) -> list[Line]:
    delta = _row(s.delta, p, ex)
    if delta is None:
        return []
    L, lk = s.config.n_layers, _idx(k)
    d = delta[k]
    if p == L:
        a, y = _row(s.a[1:], L, ex)[k], float(s.y[ex][k])
        head = rf"\delta_{{{lk}}}^{{{L}}} = "
        if s.config.output == "softmax":
            tex = head + rf"a_{{{lk}}}^{{{L}}} - y_{{{lk}}} = {fmt(a, paren=False)} - {fmt(y)}"
            return [_line("delta_L", tex + f" = {fmt(d, paren=False)}", [a, y, d])]
        dca, sp = _row(s.dC_da, L, ex)[k], _row(s.sigma_prime, L, ex)[k]
        tex = (
            head + rf"(a_{{{lk}}}^{{{L}}} - y_{{{lk}}}) \cdot \sigma^{{\prime}}(z_{{{lk}}}^{{{L}}})"
        )
        tex += rf" = ({fmt(a, paren=False)} - {fmt(y)}) \times {fmt(sp)}"
        tex += rf" = {fmt(dca, paren=False)} \times {fmt(sp)} = {fmt(d, paren=False)}"
        return [_line("delta_L", tex, [a, y, sp, dca, sp, d])]
    dca, sp = _row(s.dC_da, p, ex)[k], _row(s.sigma_prime, p, ex)[k]
    up = p + 1
    tex = (
        rf"\delta_{{{lk}}}^{{{p}}} = \Big(\sum_{{k}} w_{{k,{lk}}}^{{{up}}}\, \delta_{{k}}^{{{up}}}"
        rf"\Big) \cdot \sigma^{{\prime}}(z_{{{lk}}}^{{{p}}}) = {fmt(dca, paren=False)} \times "
        rf"{fmt(sp)} = {fmt(d, paren=False)}"
    )
    return [_line("delta_l", tex, [dca, sp, d])]


def _gradient(s: Snapshot, p: int, k: int, j: int | None, ex: int) -> list[Line]:
    gw, gb = s.grad_w[p - 1], s.grad_b[p - 1]
    if gw is None or gb is None:
        return []
    delta = np.asarray(s.delta[p - 1][:, k], dtype=np.float64)
    m, lk, out = delta.shape[0], _idx(k), []
    frac = rf"\frac{{1}}{{{m}}}"
    if j is not None:
        a_col = np.asarray(s.a[p - 1][:, j], dtype=np.float64)
        w, g = _idx(k, j), float(gw[k, j])
        total = float(delta @ a_col)
        tex = (
            rf"\frac{{\partial C}}{{\partial w_{{{w}}}^{{{p}}}}} = {frac}\sum_{{x}} "
            rf"\delta_{{{lk}}}^{{{p}}} a_{{{_idx(j)}}}^{{{p - 1}}} = {frac} \cdot {fmt(total)}"
            rf" = {fmt(g, paren=False)}"
        )
        d, a = delta[ex], a_col[ex]
        per = (
            rf"\delta_{{{lk}}}^{{{p}}} a_{{{_idx(j)}}}^{{{p - 1}}} = {fmt(d, paren=False)} "
            rf"\times {fmt(a)} = {fmt(d * a, paren=False)}"
        )
        out += [
            _line("grad_w", tex, [total, g], "mean of the per-example products"),
            _line("grad_w", per, [d, a, d * a], "this example's product"),
        ]
    g = float(gb[k])
    tex = (
        rf"\frac{{\partial C}}{{\partial b_{{{lk}}}^{{{p}}}}} = {frac}\sum_{{x}} "
        rf"\delta_{{{lk}}}^{{{p}}} = {frac} \cdot {fmt(float(delta.sum()))} = {fmt(g, paren=False)}"
    )
    return [*out, _line("grad_b", tex, [float(delta.sum()), g])]


def _update(s: Snapshot, sel: Selection) -> list[Line]:
    l, lk = sel.l, _idx(sel.i)
    grads = s.grad_b[l - 1] if sel.j is None else s.grad_w[l - 1]
    if grads is None:
        return []
    if sel.j is None:
        name = rf"b_{{{lk}}}^{{{l}}}"
        before, after = s.biases_before[l - 1][sel.i], s.biases[l - 1][sel.i]
        g = grads[sel.i]
    else:
        name = rf"w_{{{_idx(sel.i, sel.j)}}}^{{{l}}}"
        before, after = s.weights_before[l - 1][sel.i, sel.j], s.weights[l - 1][sel.i, sel.j]
        g = grads[sel.i, sel.j]
    tex = (
        rf"{name} \leftarrow {name} - \eta \frac{{\partial C}}{{\partial {name}}} = "
        rf"{fmt(before, paren=False)} - {fmt(s.eta)} \times {fmt(g)} = {fmt(after, paren=False)}"
    )
    return [_line("update", tex, [before, s.eta, g, after])]


def substituted(snapshot: Snapshot, selection: Selection, example: int = 0) -> tuple[Line, ...]:
    """The current phase's equations with numbers, for the selection (or, in another
    layer, for ``focus_neuron``); example ``example`` of the batch. Empty before a phase."""
    phase = snapshot.phase
    if phase is None or snapshot.x is None:
        return ()
    sel = selection.check(snapshot.config.sizes)
    ex = min(max(example, 0), snapshot.x.shape[0] - 1)
    if phase.kind is PhaseKind.COST:
        return tuple(_cost(snapshot, ex))
    if phase.kind is PhaseKind.UPDATE:
        return tuple(_update(snapshot, sel))
    p = phase.layer
    k = focus_neuron(snapshot, sel, p, ex)
    if phase.kind is PhaseKind.FORWARD:
        return tuple(_forward(snapshot, p, k, ex))
    if phase.kind is PhaseKind.DELTA:
        return tuple(_delta(snapshot, p, k, ex))
    j = sel.j if p == sel.l else focus_neuron(snapshot, sel, p - 1, ex)
    return tuple(_gradient(snapshot, p, k, j, ex))


def focus_caption(snapshot: Snapshot, selection: Selection, example: int = 0) -> str:
    """Plain text: which neuron/weight and example the substituted lines are written for."""
    phase = snapshot.phase
    if phase is None or snapshot.x is None:
        return "No mini-batch yet: step a phase to see the numbers."
    ex = min(max(example, 0), snapshot.x.shape[0] - 1)
    digit = "" if snapshot.labels is None else f" (digit {int(snapshot.labels[ex])})"
    where = f"example {ex}{digit} of the mini-batch"
    if phase.layer is not None and phase.layer not in (selection.l, selection.l - 1):
        k = focus_neuron(snapshot, selection, phase.layer, ex)
        return f"{where}; layer {phase.layer}, neuron {k} (largest |value| there)"
    return f"{where}; selected: {selection.label()}"
