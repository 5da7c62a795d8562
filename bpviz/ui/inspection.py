"""What the inspector shows for one selected weight w_ij^l or bias b_i^l (no Qt).

Everything is read from an immutable snapshot, so the numbers are the ones the engine
used; the numeric gradient check works on a float64 copy built from the snapshot's
``weights_before``/``biases_before`` and its mini-batch, never touching the training
state. Layers follow the paper, l = 1 … L; ``i`` is the neuron of layer l (row of W^l),
``j`` the neuron of layer l − 1 (column), ``j = None`` selects the bias b_i^l.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bpviz.engine.gradcheck import GradientCheck, gradient_check
from bpviz.engine.network import Network
from bpviz.session.config import make_network
from bpviz.session.snapshot import Snapshot


@dataclass(frozen=True)
class Selection:
    """A selected parameter: w_ij^l, or the bias b_i^l when ``j`` is None."""

    l: int
    i: int
    j: int | None = None

    @property
    def is_bias(self) -> bool:
        """True for b_i^l."""
        return self.j is None

    @property
    def entry(self) -> tuple[int, int, int | None]:
        """(l, i, j) as the engine's gradient check names entries."""
        return (self.l, self.i, self.j)

    def label(self) -> str:
        """Plain text name, e.g. ``w_3,7^2`` or ``b_3^2``."""
        if self.j is None:
            return f"b_{self.i}^{self.l}"
        return f"w_{self.i},{self.j}^{self.l}"

    def check(self, sizes: Sequence[int]) -> Selection:
        """Return self if it names a parameter of a network with ``sizes``, else ValueError."""
        L = len(sizes) - 1
        if not 1 <= self.l <= L:
            raise ValueError(f"layer l = {self.l} outside 1 … {L}")
        if not 0 <= self.i < sizes[self.l]:
            raise ValueError(f"i = {self.i} outside 0 … {sizes[self.l] - 1} (layer {self.l})")
        if self.j is not None and not 0 <= self.j < sizes[self.l - 1]:
            raise ValueError(
                f"j = {self.j} outside 0 … {sizes[self.l - 1] - 1} (layer {self.l - 1})"
            )
        return self

    @classmethod
    def parse(cls, text: str) -> Selection:
        """``"L,I,J"`` → w_IJ^L; ``"L,I,b"`` (or ``"L,I"``) → the bias b_I^L."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) not in (2, 3) or not all(parts[:2]):
            raise ValueError(f"expected L,I,J (or L,I,b for a bias), got {text!r}")
        try:
            l, i = int(parts[0]), int(parts[1])
            j = None if len(parts) == 2 or parts[2].lower() == "b" else int(parts[2])
        except ValueError:
            raise ValueError(f"expected integers L,I,J (or L,I,b), got {text!r}") from None
        return cls(l, i, j)


@dataclass(frozen=True)
class Inspection:
    """The selected parameter in the snapshot's mini-batch; None where not computed yet.

    ``a_j``/``delta_i`` are for the selected example, ``*_mean`` the batch means;
    ``contributions`` ``(m,)`` holds each example's δ_i^l a_j^{l-1} (δ_i^l for a bias),
    whose mean is ``grad``; ``update`` = −η · grad, and ``after`` = the parameter after
    the update once the UPDATE phase has run (else None).
    """

    selection: Selection
    example: int
    label: int | None  # the selected example's digit
    before: float
    after: float | None
    a_j: float | None
    a_j_mean: float | None
    delta_i: float | None
    delta_i_mean: float | None
    grad: float | None
    update: float | None
    eta: float
    contributions: np.ndarray | None
    labels: np.ndarray | None  # (m,) the digits of the batch, for the contribution chart


def _at(values: tuple[np.ndarray | None, ...], index: int) -> np.ndarray | None:
    return values[index] if 0 <= index < len(values) else None


def inspect(snapshot: Snapshot, selection: Selection, example: int = 0) -> Inspection:
    """The inspector's numbers for ``selection`` in ``snapshot`` (example ``example``)."""
    sel = selection.check(snapshot.config.sizes)
    l, i, j = sel.l, sel.i, sel.j
    m = 0 if snapshot.x is None else snapshot.x.shape[0]
    example = min(max(example, 0), max(m - 1, 0))
    if j is None:
        before = float(snapshot.biases_before[l - 1][i])
        current = float(snapshot.biases[l - 1][i])
        a_col = None if m == 0 else np.ones(m)
        grads = _at(snapshot.grad_b, l - 1)
        grad = None if grads is None else float(grads[i])
    else:
        before = float(snapshot.weights_before[l - 1][i, j])
        current = float(snapshot.weights[l - 1][i, j])
        a_prev = _at(snapshot.a, l - 1)
        a_col = None if a_prev is None else a_prev[:, j].astype(np.float64)
        grads = _at(snapshot.grad_w, l - 1)
        grad = None if grads is None else float(grads[i, j])
    delta = _at(snapshot.delta, l - 1)
    d_col = None if delta is None else delta[:, i].astype(np.float64)
    contributions = None if d_col is None or a_col is None else d_col * a_col
    updated = snapshot.phase is not None and snapshot.phase.kind == "update"
    labels = snapshot.labels
    return Inspection(
        selection=sel,
        example=example,
        label=None if labels is None else int(labels[example]),
        before=before,
        after=current if updated else None,
        a_j=None if a_col is None or j is None else float(a_col[example]),
        a_j_mean=None if a_col is None or j is None else float(a_col.mean()),
        delta_i=None if d_col is None else float(d_col[example]),
        delta_i_mean=None if d_col is None else float(d_col.mean()),
        grad=grad,
        update=None if grad is None else -snapshot.eta * grad,
        eta=snapshot.eta,
        contributions=contributions,
        labels=labels,
    )


@dataclass(frozen=True)
class NumericCheck:
    """Backprop against central differences for some entries of one mini-batch.

    ``result`` is the engine's check in float64 (its ``backprop``/``numerical`` are those
    of the worst entry: with one entry, of that entry). ``live`` is the gradient the
    training run computed (its own dtype, usually float32) at ``result.worst_entry``, or
    None when the snapshot's phase has not computed it yet.
    """

    result: GradientCheck
    live: float | None
    entries: tuple[tuple[int, int, int | None], ...]


def float64_copy(snapshot: Snapshot) -> Network:
    """A float64 engine Network holding the parameters the snapshot's mini-batch started from."""
    net = make_network(snapshot.config, np.float64)
    net.set_parameters(snapshot.weights_before, snapshot.biases_before)
    return net


def sample_layer(
    sizes: Sequence[int], l: int, count: int = 96, seed: int = 0
) -> list[tuple[int, int, int | None]]:
    """Up to ``count`` distinct weights of W^l plus up to a quarter as many biases, seeded."""
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
        raise ValueError(f"count must be a positive number of entries, got {count!r}")
    n_out, n_in = sizes[l], sizes[l - 1]
    rng = np.random.default_rng(seed)
    flat = rng.choice(n_out * n_in, size=min(count, n_out * n_in), replace=False)
    biases = rng.choice(n_out, size=min(max(count // 4, 1), n_out), replace=False)
    weights = [(l, int(k // n_in), int(k % n_in)) for k in np.sort(flat)]
    return weights + [(l, int(i), None) for i in np.sort(biases)]


def numeric_check(
    snapshot: Snapshot,
    entries: Sequence[tuple[int, int, int | None]],
    eps: float = 1e-6,
) -> NumericCheck:
    """Run the engine's float64 gradient check on the snapshot's mini-batch for ``entries``.

    Raises ValueError when the snapshot has no mini-batch yet or its parameters are not
    finite (a diverged run).
    """
    if snapshot.x is None or snapshot.y is None:
        raise ValueError("no mini-batch yet: step once before checking the gradient")
    result = gradient_check(float64_copy(snapshot), snapshot.x, snapshot.y, entries, eps)
    live = None
    if result.worst_entry is not None:
        l, i, j = result.worst_entry
        grads = _at(snapshot.grad_b if j is None else snapshot.grad_w, l - 1)
        if grads is not None:
            live = float(grads[i] if j is None else grads[i, j])
    return NumericCheck(result=result, live=live, entries=tuple(entries))
