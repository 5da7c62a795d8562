"""What the network view's edges carry in each phase (NumPy only, no Qt).

``wave_plan(snapshot, example, stream)`` says which weight layers a phase lights up, the
value each of their edges carries, the direction the wave runs and which column of nodes
fills in when it arrives:

- forward l: the edges of Wˡ carry wᵢⱼ aⱼˡ⁻¹ (the terms of Wˡaˡ⁻¹), input → layer l;
- δᴸ: the links from the cost C carry δᵢᴸ into the output neurons, right → left;
- δˡ (l < L): the edges of Wˡ⁺¹ carry wᵢⱼ δᵢˡ⁺¹ (the terms of (Wˡ⁺¹)ᵀδˡ⁺¹), l + 1 → l;
- ∂C/∂Wˡ: the edges of Wˡ carry ∂C/∂wᵢⱼ = mean δᵢ aⱼ, the a-side and the δ-side meeting;
- update: every Wˡ carries ΔWˡ = −η ∂C/∂Wˡ (the weights after minus before), left → right.

aⱼ and δᵢ are those of the selected example (None: the batch mean). The cost phase and a
snapshot before any phase light nothing, and so does an update arriving in a stream of
updates (full speed): there the edges show the weights W being learnt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpviz.session.snapshot import Phase, PhaseKind, Snapshot
from bpviz.ui.colors import nice_level, symmetric_level
from bpviz.ui.notation import superscript
from bpviz.ui.views._base import entry, pick

FORWARD, BACKWARD, MEET = "forward", "backward", "meet"


@dataclass(frozen=True)
class WavePlan:
    """One phase's wave: ``layers`` l → values ``(n_l, n_{l-1})`` for the edges of Wˡ;
    ``cost`` ``(n_L,)`` the values on the links from C into the outputs (δᴸ) or None;
    ``direction`` FORWARD / BACKWARD / MEET; ``target`` the column that fills in as the
    wave arrives (None: none); ``quantity`` the legend's name; ``level`` the legend's
    ±level (every lit edge is coloured on this one scale)."""

    phase: Phase
    layers: dict[int, np.ndarray]
    cost: np.ndarray | None
    direction: str
    target: int | None
    quantity: str
    level: float


def _level(*values: np.ndarray | None) -> float:
    m = max((symmetric_level(v) for v in values if v is not None and v.size), default=1.0)
    return nice_level(m)


def wave_plan(snapshot: Snapshot, example: int | None, stream: bool = False) -> WavePlan | None:
    """The wave of ``snapshot.phase`` (None: nothing lights up, or the phase's entries are
    missing); ``stream``: this update is one of a run of updates (full speed)."""
    phase = snapshot.phase
    if phase is None or phase.kind is PhaseKind.COST:
        return None
    L, l, W = snapshot.n_layers, phase.layer, snapshot.weights
    if phase.kind is PhaseKind.FORWARD:
        a = pick(entry(snapshot.a, l - 1), example)
        if a is None:
            return None
        values = W[l - 1] * a[None, :]
        name = f"wᵢⱼ{superscript(l)} aⱼ{superscript(l - 1)}"
        return WavePlan(phase, {l: values}, None, FORWARD, l, name, _level(values))
    if phase.kind is PhaseKind.DELTA:
        if l == L:
            d = pick(entry(snapshot.delta, L - 1), example)
            if d is None:
                return None
            return WavePlan(phase, {}, d, BACKWARD, L, f"δᵢ{superscript(L)}", _level(d))
        d = pick(entry(snapshot.delta, l), example)
        if d is None:
            return None
        values = W[l] * d[:, None]
        name = f"wᵢⱼ{superscript(l + 1)} δᵢ{superscript(l + 1)}"
        return WavePlan(phase, {l + 1: values}, None, BACKWARD, l, name, _level(values))
    if phase.kind is PhaseKind.GRADIENT:
        g = entry(snapshot.grad_w, l - 1)
        if g is None:
            return None
        return WavePlan(phase, {l: g}, None, MEET, None, f"∂C/∂wᵢⱼ{superscript(l)}", _level(g))
    if stream:
        return None
    steps = {
        k: np.subtract(after, before)
        for k, (after, before) in enumerate(zip(W, snapshot.weights_before, strict=True), 1)
    }
    return WavePlan(phase, steps, None, FORWARD, None, "Δwᵢⱼ = −η ∂C/∂wᵢⱼ", _level(*steps.values()))
