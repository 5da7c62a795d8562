"""Gradient check: backpropagation against central finite differences, in float64.

For each chosen parameter θ (a weight w_ij^l or a bias b_i^l) the numerical derivative is
(C(θ + ε) − C(θ − ε)) / 2ε with C the batch mean cost, compared with backprop's ∂C/∂θ
computed in float64. Moving w_ij^l by ±ε moves z_i^l by exactly ±ε a_j^{l-1} (b_i^l: ±ε)
and nothing before layer l, so C(θ ± ε) is evaluated from z^l onward — in extended
precision (np.longdouble), because in float64 the cancellation in C(θ+ε) − C(θ−ε) alone
costs about 1e-10 of absolute error at ε = 1e-6, as much as a small gradient.

The relative error of an entry is |g − ĝ| / max(|g|, |ĝ|, 1e-6): gradients below 1e-6 are
compared absolutely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bpviz.engine.functions import run
from bpviz.engine.network import Network
from bpviz.engine.validation import as_batch, as_targets, check_layer

Entry = tuple[int, int, int | None]  # (l, i, j): w_ij^l; j None: the bias b_i^l
FLOOR = 1e-6
WIDE = np.longdouble


@dataclass(frozen=True)
class GradientCheck:
    """Outcome: the worst relative error, over how many entries, and where it was."""

    worst_relative_error: float
    checked: int
    worst_entry: Entry | None
    backprop: float  # backprop's gradient at the worst entry
    numerical: float  # the finite difference at the worst entry


def all_entries(net: Network) -> list[Entry]:
    """Every weight and bias of ``net`` as (l, i, j) / (l, i, None)."""
    entries: list[Entry] = []
    for l, W in enumerate(net.weights, start=1):
        entries += [(l, i, j) for i in range(W.shape[0]) for j in range(W.shape[1])]
        entries += [(l, i, None) for i in range(W.shape[0])]
    return entries


def _cost_from(net: Network, l: int, z: np.ndarray, y: np.ndarray, wide: list) -> np.longdouble:
    """C given z^l ``(m, n_l)``, the layers above l evaluated in extended precision."""
    a = np.empty_like(z)
    run(net.activations[l - 1].forward(z, a))
    for k in range(l + 1, net.n_layers + 1):
        W, b = wide[k - 1]
        z_k = np.matmul(a, W.T)
        z_k += b
        a = np.empty_like(z_k)
        run(net.activations[k - 1].forward(z_k, a))
    if net.cost == "quadratic":
        return np.sum(np.square(a - y)) / (2 * len(a))
    return -np.sum(y * np.log(a)) / len(a)


def gradient_check(
    net: Network,
    x: np.ndarray,
    y: np.ndarray,
    entries: Sequence[Entry] | None = None,
    eps: float = 1e-6,
) -> GradientCheck:
    """Compare backprop with central differences on a batch x ``(m, n_0)``, y ``(m, n_L)``.

    ``entries`` lists (l, i, j) for w_ij^l or (l, i, None) for b_i^l; None checks every
    parameter. Works on a float64 copy: ``net`` is never modified.
    """
    net64 = net.copy(dtype=np.float64)
    x = as_batch(x, net.sizes[0], np.float64, "x")
    y = as_targets(y, x.shape[0], net.sizes[-1], np.float64)
    forward = net64.forward(x)
    backward = net64.backward(forward, y)
    wide = [
        (W.astype(WIDE), b.astype(WIDE)) for W, b in zip(net64.weights, net64.biases, strict=True)
    ]
    y_wide = y.astype(WIDE)
    entries = all_entries(net64) if entries is None else list(entries)
    worst: tuple[float, Entry | None, float, float] = (0.0, None, 0.0, 0.0)
    with np.errstate(over="ignore", divide="ignore"):
        for entry in entries:
            l, i, j = entry
            check_layer(l, net64.n_layers)
            if j is None:
                params, analytic, index = net64.biases[l - 1], backward.grad_b[l - 1], (i,)
            else:
                params, analytic, index = net64.weights[l - 1], backward.grad_w[l - 1], (i, j)
            if not all(0 <= k < n for k, n in zip(index, params.shape, strict=True)):
                raise ValueError(f"entry {entry} outside layer {l}'s shape {params.shape}")
            shift = WIDE(eps) * (WIDE(1) if j is None else forward.a[l - 1][:, j].astype(WIDE))
            z = forward.z[l - 1].astype(WIDE)
            base = z[:, i].copy()
            z[:, i] = base + shift
            plus = _cost_from(net64, l, z, y_wide, wide)
            z[:, i] = base - shift
            minus = _cost_from(net64, l, z, y_wide, wide)
            numerical = float((plus - minus) / (2 * eps))
            g = float(analytic[index])
            error = abs(g - numerical) / max(abs(g), abs(numerical), FLOOR)
            if error > worst[0] or worst[1] is None:
                worst = (error, entry, g, numerical)
    return GradientCheck(
        worst_relative_error=worst[0],
        checked=len(entries),
        worst_entry=worst[1],
        backprop=worst[2],
        numerical=worst[3],
    )
