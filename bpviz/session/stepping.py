"""One phase of a mini-batch on the traced path (paper IV.4), as a pure step from one
``BatchTrace`` to the next: the session runs these one at a time (phase stepping), each
filling in the entries of the engine's traces that phase computes."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

import numpy as np

from bpviz.engine.network import BackwardTrace, ForwardTrace, Network
from bpviz.session.config import all_finite
from bpviz.session.snapshot import BatchTrace, Phase, PhaseKind

T = TypeVar("T", ForwardTrace, BackwardTrace)


def with_entries(trace: T, index: int, **entries: np.ndarray | None) -> T:
    """``trace`` with entry ``index`` of each named tuple replaced, e.g.
    ``with_entries(forward, 2, a=a_2)``: one more phase of a mini-batch under way."""
    changes = {}
    for name, value in entries.items():
        values = list(getattr(trace, name))
        values[index] = value
        changes[name] = tuple(values)
    return replace(trace, **changes)


def run_phase(net: Network, phase: Phase, batch: BatchTrace, eta: float) -> tuple[BatchTrace, bool]:
    """Run ``phase`` of ``batch`` on ``net``: the batch with that phase's entries filled
    in, and False when what it computed is not finite (a^l, C or the parameters).

    forward l: z^l, a^l; cost: C (the backward trace starts from the whole forward one);
    δ^l: ∂C_x/∂a^l, σ'(z^l), δ^l; gradient l: ∂C/∂W^l, ∂C/∂b^l; update: W ← W − η ∂C/∂W,
    b ← b − η ∂C/∂b on ``net`` in place, computed as the fast path does (bit-identical;
    ``after`` is left to the caller).
    """
    L, l = net.n_layers, phase.layer
    fwd, bwd, y = batch.forward, batch.backward, batch.y
    if phase.kind is PhaseKind.FORWARD:
        z, a = net.forward_layer(l, fwd.a[l - 1])
        fwd = with_entries(with_entries(fwd, l - 1, z=z), l, a=a)
        return replace(batch, forward=fwd), all_finite((a,))  # overflow: C cannot be finite
    if phase.kind is PhaseKind.COST:
        loss = net.cost_value(fwd.a[L], y)
        return replace(batch, backward=replace(bwd, loss=loss, forward=fwd)), bool(
            np.isfinite(loss)
        )
    if phase.kind is PhaseKind.DELTA:
        if l == L:
            out = net.output_delta(fwd.z[L - 1], fwd.a[L], y)
        else:
            out = net.hidden_delta(l, bwd.delta[l], fwd.z[l - 1], fwd.a[l])
        bwd = with_entries(bwd, l - 1, dC_da=out[0], sigma_prime=out[1], delta=out[2])
        return replace(batch, backward=bwd), True
    if phase.kind is PhaseKind.GRADIENT:
        grad_w, grad_b = net.layer_gradients(l, bwd.delta[l - 1], fwd.a[l - 1])
        return replace(batch, backward=with_entries(bwd, l - 1, grad_w=grad_w, grad_b=grad_b)), True
    net.apply_deltas(bwd.delta, fwd.a, eta)
    return batch, all_finite((net.parameters,))
