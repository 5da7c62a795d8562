"""What the network view's edges carry in each phase: arrays only, no graphics items.

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

from bpviz.notation import superscript
from bpviz.session.snapshot import Phase, PhaseKind, Snapshot
from bpviz.ui.colors import nice_level, symmetric_level
from bpviz.ui.views._base import entry, pick

FORWARD, BACKWARD, MEET = "forward", "backward", "meet"
N_BINS = 16  # colour bins of the edges (one pen each)


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
    return WavePlan(phase, steps, None, FORWARD, None, "Δwᵢⱼ", _level(*steps.values()))


def bins_of(values: np.ndarray, level: float) -> np.ndarray:
    """Colour bin 0 … N_BINS − 1 of each value on the scale ±level."""
    scaled = (np.nan_to_num(values) / max(level, 1e-30) + 1) / 2 * N_BINS
    return np.clip(scaled.astype(np.intp), 0, N_BINS - 1)


def strongest(values: np.ndarray, k: int, floor: float = 0.0) -> np.ndarray:
    """Flat indices of the ``k`` largest |values| (all of them when k ≥ values.size).

    ``floor``: a guess at the k-th largest |value| (last frame's): when at least k values
    reach it, only those are sorted — the weights move little between two drawings.
    """
    flat = values.ravel()
    if k >= flat.size:
        return np.arange(flat.size)
    magnitude = np.abs(flat)
    if floor <= 0 and flat.size > 64 * k:  # guess the floor from every s-th value
        sample = np.sort(magnitude[:: max(1, flat.size // (32 * k))])
        floor = float(sample[max(0, sample.size - 2 * k * sample.size // flat.size - 1)])
    if floor > 0:
        candidates = np.flatnonzero(magnitude >= floor)
        if k <= candidates.size <= 8 * k:
            part = np.argpartition(magnitude[candidates], candidates.size - k)
            return candidates[part[candidates.size - k :]]
    return np.argpartition(magnitude, flat.size - k)[flat.size - k :]


class Shown:
    """The edges drawn of one Wˡ: neuron i (layer l), j (layer l − 1), the value each is
    coloured by (wᵢⱼ, or what the phase's wave carries) and its colour bin."""

    def __init__(self, i: np.ndarray, j: np.ndarray, values: np.ndarray, bins: np.ndarray):
        self.i, self.j, self.values, self.bins = i, j, values, bins


def choose(values: np.ndarray, k: int, level: float | None = None, floor: float = 0.0) -> Shown:
    """The ``k`` strongest of ``values`` ``(n_l, n_{l-1})`` binned on ±``level`` (None:
    their own max)."""
    idx = np.sort(strongest(values, k, floor))
    v = values.ravel()[idx]
    level = symmetric_level(v) if level is None else level
    return Shown(*np.divmod(idx, values.shape[1]), v, bins_of(v, level))
