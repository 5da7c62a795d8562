"""What a hover says: a value's name with its indices, the paper's equation, the equation
with the snapshot's numbers in it, and the value (one list of lines per thing hovered).

No Qt here: the views turn the lines into a tooltip (``_hover.html_lines``). Every number
comes from the snapshot the view drew — the same arrays, the selected example or the
batch mean as the view shows — and is written by ``fmt`` (4 significant digits, a real
minus sign), so a test can read them back with ``parse``.
"""

from __future__ import annotations

import numpy as np

from bpviz.notation import subscript, superscript
from bpviz.session.snapshot import Snapshot

__all__ = ["fmt", "parse", "subscript", "superscript", "sym"]

Lines = list[str]


def fmt(value: float) -> str:
    """A value as the tips write it: ``0.01234``, ``−1.5``, ``3.2e−05``."""
    return f"{float(value) + 0.0:.4g}".replace("-", "−")  # + 0.0: no "−0"


def parse(text: str) -> float:
    """The number ``fmt`` wrote (tests compare tips with the snapshot's arrays)."""
    return float(text.replace("−", "-"))


def sym(name: str, sub: str | int, layer: int | None = None) -> str:
    """``sym("w", "3,5", 2) == "w₃,₅²"``; without a layer, no superscript."""
    return name + subscript(str(sub)) + ("" if layer is None else superscript(layer))


def _rows(values: np.ndarray, example: int | None) -> np.ndarray:
    """The examples a shown value is made of: the selected one, or all (batch mean)."""
    return values if example is None else values[min(example, values.shape[0] - 1)][None]


def _which(example: int | None, values: np.ndarray) -> str:
    if example is None:
        return f"mean over the batch of {values.shape[0]}"
    return f"example {min(example, values.shape[0] - 1)}"


# -- the gradient view: W^l, ∂C/∂W^l, ΔW^l ---------------------------------------------


def weight_cell(
    quantity: str, snapshot: Snapshot, l: int, i: int, j: int, value: float, example: int | None
) -> Lines:
    """Cell (i, j) of ∂C/∂Wˡ ("grad"), Wˡ ("weights") or ΔWˡ ("update"), ``value`` as drawn."""
    w, g = sym("w", f"{i},{j}", l), "∂C/∂" + sym("w", f"{i},{j}", l)
    where = f"from neuron {j} of layer {l - 1} to neuron {i} of layer {l}"
    if quantity == "weights":
        lines = [f"{w} = {fmt(value)}", f"the weight {where}"]
        before = float(snapshot.weights_before[l - 1][i, j])
        if before != float(value):
            lines.append(f"= {fmt(before)} before this mini-batch's update")
        return lines
    if quantity == "update":
        grad = snapshot.grad_w[l - 1][i, j]
        return [
            f"Δ{w} = −η {g}",
            f"= −{snapshot.eta:g} × {fmt(grad)}",
            f"= {fmt(value)}",
        ]
    return gradient_cell(snapshot, l, i, j, value, example)


def gradient_cell(
    snapshot: Snapshot, l: int, i: int, j: int, value: float, example: int | None
) -> Lines:
    """∂C/∂w_ij^l = mean over the batch of δᵢˡ aⱼˡ⁻¹, with the products it averages."""
    d_name, a_name = sym("δ", i, l), sym("a", j, l - 1)
    lines = [f"∂C/∂{sym('w', f'{i},{j}', l)} = mean over the batch of {d_name} {a_name}"]
    delta, a = snapshot.delta[l - 1][:, i], snapshot.a[l - 1][:, j]
    m = delta.shape[0]
    if m == 1:
        lines.append(f"= {d_name} × {a_name} = {fmt(delta[0])} × {fmt(a[0])}")
    else:
        k = min(example or 0, m - 1)
        lines.append(f"= mean of {m} products {d_name} × {a_name}, one per example")
        lines.append(f"  example {k}: {fmt(delta[k])} × {fmt(a[k])} = {fmt(delta[k] * a[k])}")
    lines.append(f"= {fmt(value)}")
    return lines


def tile_pixel(
    quantity: str, snapshot: Snapshot, i: int, j: int, side: int, value: float, example
) -> Lines:
    """Pixel (r, c) of tile i: w_i,(r·side+c)¹ (or its gradient, its update)."""
    r, c = divmod(j, side)
    head = f"tile i = {i}, pixel row {r}, column {c}: j = {r}·{side} + {c} = {j} (a⁰ = x)"
    return [head, *weight_cell(quantity, snapshot, 1, i, j, value, example)]


# -- the δ view: ∂C/∂aˡ, σ′(zˡ), δˡ ------------------------------------------------------


def _product_lines(left: np.ndarray, right: np.ndarray, example: int | None) -> Lines:
    if example is None:
        return [f"= mean of {left.shape[0]} products, one per example"]
    return [f"= {fmt(left[0])} × {fmt(right[0])}"]


def delta_cell(snapshot: Snapshot, l: int, i: int, value: float, example: int | None) -> Lines:
    """δᵢˡ = ∂C/∂aᵢˡ · σ′(zᵢˡ) (softmax output: aᵢᴸ − yᵢ), with the numbers."""
    L = snapshot.n_layers
    d = sym("δ", i, l)
    which = _which(example, snapshot.delta[l - 1])
    sp = snapshot.sigma_prime[l - 1]
    if sp is None:  # softmax output: δᴸ = aᴸ − y directly
        a, y = _rows(snapshot.a[L][:, i], example), _rows(snapshot.y[:, i], example)
        lines = [f"{d} = {sym('a', i, l)} − {sym('y', i)}  ({which})"]
        if example is not None:
            lines.append(f"= {fmt(a[0])} − {fmt(y[0])}")
        return [*lines, f"= {fmt(value)}"]
    dca = _rows(snapshot.dC_da[l - 1][:, i], example)
    s = _rows(sp[:, i], example)
    lines = [f"{d} = ∂C/∂{sym('a', i, l)} · σ′({sym('z', i, l)})  ({which})"]
    return [*lines, *_product_lines(dca, s, example), f"= {fmt(value)}"]


def sigma_prime_cell(
    snapshot: Snapshot, l: int, i: int, value: float, example: int | None
) -> Lines:
    """σ′(zᵢˡ) with zᵢˡ and the activation's derivative written out."""
    L = snapshot.n_layers
    activation = snapshot.config.output if l == L else snapshot.config.hidden
    z_name, a_name = sym("z", i, l), sym("a", i, l)
    z = _rows(snapshot.z[l - 1][:, i], example)
    a = _rows(snapshot.a[l][:, i], example)
    lines = [f"σ′({z_name}), σ = {activation}  ({_which(example, snapshot.z[l - 1])})"]
    if example is None:
        lines.append(f"= mean over the batch of σ′({z_name}) (mean {z_name} = {fmt(z.mean())})")
    elif activation == "sigmoid":
        lines.append(f"= {a_name} (1 − {a_name}) at {z_name} = {fmt(z[0])}")
        lines.append(f"= {fmt(a[0])} × (1 − {fmt(a[0])})")
    elif activation == "tanh":
        lines.append(f"= 1 − ({a_name})² at {z_name} = {fmt(z[0])}")
        lines.append(f"= 1 − {fmt(a[0])}²")
    else:
        slope = "0" if activation == "relu" else "0.01"
        lines.append(f"= 1 if {z_name} > 0, else {slope}; {z_name} = {fmt(z[0])}")
    return [*lines, f"= {fmt(value)}"]


def dC_da_cell(snapshot: Snapshot, l: int, i: int, value: float, example: int | None) -> Lines:
    """∂C/∂aᵢᴸ = aᵢᴸ − yᵢ (quadratic; −yᵢ/aᵢᴸ cross-entropy), or ((Wˡ⁺¹)ᵀδˡ⁺¹)ᵢ."""
    L = snapshot.n_layers
    a_name = sym("a", i, l)
    which = _which(example, snapshot.dC_da[l - 1])
    if l == L:
        a, y = _rows(snapshot.a[L][:, i], example), _rows(snapshot.y[:, i], example)
        if snapshot.config.cost == "quadratic":
            lines = [f"∂C/∂{a_name} = {a_name} − {sym('y', i)}  (quadratic cost; {which})"]
            if example is not None:
                lines.append(f"= {fmt(a[0])} − {fmt(y[0])}")
        else:
            lines = [f"∂C/∂{a_name} = −{sym('y', i)} / {a_name}  (cross-entropy; {which})"]
            if example is not None:
                lines.append(f"= −{fmt(y[0])} / {fmt(a[0])}")
        return [*lines, f"= {fmt(value)}"]
    up = superscript(l + 1)
    n = snapshot.weights[l].shape[0]
    lines = [
        f"∂C/∂{a_name} = ((W{up})ᵀ δ{up})" + subscript(i) + f" = Σₖ {sym('w', f'k,{i}', l + 1)}"
        f" δₖ{up}  ({which})",
        f"= sum of {n} terms, k = 0 … {n - 1}",
    ]
    if example is not None:
        k = min(example, snapshot.delta[l].shape[0] - 1)
        terms = snapshot.weights[l][:, i] * snapshot.delta[l][k]
        top = int(np.argmax(np.abs(terms)))
        lines.append(
            f"  largest: k = {top}: {fmt(snapshot.weights[l][top, i])} × "
            f"{fmt(snapshot.delta[l][k, top])} = {fmt(terms[top])}"
        )
    return [*lines, f"= {fmt(value)}"]


# -- input and output ------------------------------------------------------------------


def input_pixel(x: np.ndarray, j: int, side: int, example: int | None) -> Lines:
    """Pixel j of the input x ``(m, n_0)``: its value (the example's or the batch mean)."""
    r, c = divmod(j, side)
    values = _rows(x[:, j], example)
    return [
        f"{sym('x', j)} = {sym('a', j, 0)}: pixel row {r}, column {c}  ({_which(example, x)})",
        "grey: a pixel's brightness, 0 (black) … 1 (white)",
        f"= {fmt(values.mean())}",
    ]


def output_bar(a_L: np.ndarray, y: np.ndarray, k: int, name: str, example: int | None) -> Lines:
    """Output k: aₖᴸ against the target yₖ (the example's or the batch means)."""
    L = superscript("L")
    a, t = _rows(a_L[:, k], example).mean(), _rows(y[:, k], example).mean()
    return [
        f"a{subscript(k)}{L} = {fmt(a)}  (output for class {name}; {_which(example, a_L)})",
        f"{sym('y', k)} = {fmt(t)}  (the target: 1 for the label, else 0)",
        f"{sym('a', k)}{L} − {sym('y', k)} = {fmt(a - t)}",
    ]
