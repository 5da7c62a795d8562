"""The network view's hover texts: a neuron's zᵢ, aᵢ, δᵢ and an edge's wᵢⱼ, wᵢⱼ aⱼ, wᵢⱼ δᵢ,
∂C/∂wᵢⱼ, Δwᵢⱼ, each with its equation and the numbers in it (no Qt).

The values are the snapshot's own, of the selected example (None: the mean over the
mini-batch, where a product of means is not the mean of the products, so only the mean
is given). Lines the snapshot has not computed yet are left out.
"""

from __future__ import annotations

from bpviz.notation import subscript, superscript
from bpviz.session.snapshot import PhaseKind, Snapshot
from bpviz.ui.views._base import entry, pick


def num(value: float) -> str:
    """A value as the tips write it: four significant digits, a Unicode minus."""
    return f"{float(value):.4g}".replace("-", "−")


def _value(values, index: int, example: int | None) -> float | None:
    row = pick(values, example)
    return None if row is None else float(row[index])


def _who(example: int | None) -> str:
    return "batch mean" if example is None else f"example {example}"


def node_lines(snapshot: Snapshot, l: int, i: int, example: int | None) -> list[str]:
    """Lines for neuron ``i`` of layer ``l`` (l = 0: input pixel i)."""
    s, k = superscript(l), subscript(i)
    if l == 0:
        x = _value(snapshot.x, i, example)
        row, col = divmod(i, 28) if snapshot.config.sizes[0] == 784 else (None, None)
        where = f" (row {row}, column {col})" if row is not None else ""
        head = f"input pixel x{k} = a{k}⁰{where}, {_who(example)}"
        return [head] + ([f"x{k} = {num(x)}"] if x is not None else [])
    lines = [f"neuron {i} of layer {l}, {_who(example)}"]
    config = snapshot.config
    L = config.n_layers
    z = _value(entry(snapshot.z, l - 1), i, example)
    a = _value(entry(snapshot.a, l), i, example)
    if z is not None:
        lines.append(f"z{k}{s} = (W{s}a{superscript(l - 1)} + b{s}){k} = {num(z)}")
    if a is not None:
        lines.append(f"a{k}{s} = σ(z{k}{s}) = {num(a)}")
    d = _value(entry(snapshot.delta, l - 1), i, example)
    if d is None:
        return lines
    dca = _value(entry(snapshot.dC_da, l - 1), i, example)
    sp = _value(entry(snapshot.sigma_prime, l - 1), i, example)
    if l == L and config.output == "softmax":
        y = _value(snapshot.y, i, example)
        eq = f"δ{k}{s} = a{k}{s} − y{k}"
        nums = f" = {num(a)} − {num(y)}" if example is not None and a is not None else ""
        lines.append(f"{eq}{nums} = {num(d)}")
        return lines
    if l == L:
        eq = f"δ{k}{s} = ∂C/∂a{k}{s} · σ′(z{k}{s})"
    else:
        n = superscript(l + 1)
        eq = f"δ{k}{s} = (W{n}ᵀδ{n}){k} · σ′(z{k}{s})"
    if example is not None and dca is not None and sp is not None:
        eq += f" = {num(dca)} × {num(sp)}"
    elif example is None:
        eq = "mean over the batch of " + eq.split(" = ", 1)[1]
        eq = f"δ{k}{s} = {eq}"
    lines.append(f"{eq} = {num(d)}")
    if sp is not None:
        lines.append(f"σ′(z{k}{s}) = {num(sp)}")
    return lines


def edge_lines(snapshot: Snapshot, l: int, i: int, j: int, example: int | None) -> list[str]:
    """Lines for the edge wᵢⱼˡ from neuron j of layer l − 1 to neuron i of layer l."""
    s, ij = superscript(l), subscript(f"{i},{j}")
    w = float(snapshot.weights[l - 1][i, j])
    lines = [f"edge from neuron {j} of layer {l - 1} to neuron {i} of layer {l}"]
    lines.append(f"w{ij}{s} = {num(w)}")
    phase = snapshot.phase
    kind = phase.kind if phase is not None else None
    a = _value(entry(snapshot.a, l - 1), j, example)
    d = _value(entry(snapshot.delta, l - 1), i, example)
    jj, ii = subscript(j), subscript(i)
    p = superscript(l - 1)
    if kind is PhaseKind.FORWARD and phase.layer == l and a is not None:
        lines.append(f"w{ij}{s} a{jj}{p} = {num(w)} × {num(a)} = {num(w * a)}")
    elif kind is PhaseKind.DELTA and phase.layer == l - 1 and d is not None:
        lines.append(f"w{ij}{s} δ{ii}{s} = {num(w)} × {num(d)} = {num(w * d)}")
        lines.append(f"(one term of ((W{s})ᵀδ{s}){jj})")
    g = entry(snapshot.grad_w, l - 1)
    if kind is PhaseKind.GRADIENT and phase.layer == l and g is not None:
        lines.append(f"∂C/∂w{ij}{s} = mean over the batch of δ{ii}{s} a{jj}{p} = {num(g[i, j])}")
    if kind is PhaseKind.UPDATE and g is not None:
        step = w - float(snapshot.weights_before[l - 1][i, j])
        eta = snapshot.eta
        lines.append(f"Δw{ij}{s} = −η ∂C/∂w{ij}{s} = −{num(eta)} × {num(g[i, j])} = {num(step)}")
    return lines
