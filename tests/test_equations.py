"""The live equations: the numbers written out are the engine's, read back from the text."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_inspector import CONFIGS, engine_snapshots, random_selections

from bpviz.notation import unicode_math
from bpviz.session.snapshot import PhaseKind, phases_for
from bpviz.ui.equation_text import (
    active_keys,
    algorithm,
    fmt,
    focus_neuron,
    parse_numbers,
    split_numbers,
    substituted,
)
from bpviz.ui.inspection import Selection


def close(parsed: float, exact: float) -> bool:
    """Equal to the four significant digits ``fmt`` prints."""
    return math.isclose(parsed, float(exact), rel_tol=6e-4, abs_tol=1e-300)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_fmt_reads_back(value):
    (parsed,) = parse_numbers(fmt(value))
    assert close(parsed, value) or abs(value) < 1e-300


def test_indices_are_not_read_as_numbers():
    latex = r"\delta_{3}^{1} = \Big(\sum_{k} w_{k3}^{2}\Big) = " + fmt(0.0451) + r" \times "
    assert parse_numbers(latex + fmt(-2.5e-7)) == pytest.approx([0.0451, -2.5e-7])


def test_split_numbers_keeps_the_symbols_apart():
    latex = r"a_{3}^{1} = \sigma(z_{3}^{1}) = \sigma(" + fmt(0.1367) + ") = " + fmt(0.5341)
    symbolic, numeric = split_numbers(latex)
    assert symbolic == r"a_{3}^{1} = \sigma(z_{3}^{1})"
    assert numeric == r"= \sigma(0.1367) = 0.5341"
    assert split_numbers(r"z^{l} = W^{l} a^{l-1}") == (r"z^{l} = W^{l} a^{l-1}", "")


def _expect(snap, line, sel, ex) -> list[float]:
    """The numbers a substituted line must show, straight from the snapshot's arrays."""
    phase, L = snap.phase, snap.n_layers
    p = phase.layer
    k = focus_neuron(snap, sel, p, ex) if p is not None else sel.i
    row = lambda values, layer: np.asarray(values[layer - 1][ex], dtype=np.float64)  # noqa: E731
    if line.key == "z":
        z, b = row(snap.z, p)[k], float(snap.biases_before[p - 1][k])
        return [z - b, b, z]
    if line.key == "a":
        a = row(snap.a[1:], p)[k]
        return [a] if snap.config.output == "softmax" and p == L else [row(snap.z, p)[k], a]
    if line.key == "cost":
        if line.latex.startswith("C ="):
            return [snap.loss]
        a, y = row(snap.a[1:], L), np.asarray(snap.y[ex], dtype=np.float64)
        if snap.config.cost == "cross_entropy":
            c = int(snap.labels[ex])
            return [a[c], -math.log(a[c])]
        return [0.5 * float(np.sum((a - y) ** 2))]
    if line.key == "delta_L":
        a, y, d = row(snap.a[1:], L)[k], float(snap.y[ex][k]), row(snap.delta, L)[k]
        if snap.config.output == "softmax":
            return [a, y, d]
        sp, dca = row(snap.sigma_prime, L)[k], row(snap.dC_da, L)[k]
        return [a, y, sp, dca, sp, d]
    if line.key == "delta_l":
        return [row(snap.dC_da, p)[k], row(snap.sigma_prime, p)[k], row(snap.delta, p)[k]]
    if line.key in ("grad_w", "grad_b"):
        delta = snap.delta[p - 1][:, k].astype(np.float64)
        if line.key == "grad_b":
            return [delta.sum(), snap.grad_b[p - 1][k]]
        j = sel.j if p == sel.l else focus_neuron(snap, sel, p - 1, ex)
        a = snap.a[p - 1][:, j].astype(np.float64)
        if line.latex.startswith(r"\frac"):
            return [delta @ a, snap.grad_w[p - 1][k, j]]
        return [delta[ex], a[ex], delta[ex] * a[ex]]
    assert line.key == "update"
    l, i, j = sel.entry
    if j is None:
        g = snap.grad_b[l - 1][i]
        return [snap.biases_before[l - 1][i], snap.eta, g, snap.biases[l - 1][i]]
    g = snap.grad_w[l - 1][i, j]
    return [snap.weights_before[l - 1][i, j], snap.eta, g, snap.weights[l - 1][i, j]]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.hidden}-{c.output}")
def test_substituted_numbers_are_the_engines(config):
    snaps, _ = engine_snapshots(config)
    rng = np.random.default_rng(5)
    seen = set()
    for snap in snaps:
        for sel in random_selections(config.sizes, rng, per_layer=2):
            ex = int(rng.integers(config.batch_size))
            lines = substituted(snap, sel, ex)
            assert lines, f"nothing written out for {snap.phase} / {sel}"
            assert {line.key for line in lines} <= active_keys(snap.phase, config.n_layers)
            for line in lines:
                parsed = parse_numbers(line.latex)
                assert len(parsed) == len(line.values), line.latex
                assert all(close(p, v) for p, v in zip(parsed, line.values, strict=True))
                expected = _expect(snap, line, sel, ex)
                assert len(expected) == len(parsed), line.latex
                for p, e in zip(parsed, expected, strict=True):
                    assert close(p, e), f"{line.latex}: {p} vs {e}"
                seen.add(line.key)
    assert seen == {"z", "a", "cost", "delta_L", "grad_w", "grad_b", "update"} | (
        {"delta_l"} if config.n_layers > 1 else set()
    )


def test_the_relations_hold_in_the_written_numbers():
    """δ = ∂C/∂a · σ' and the back-propagated sum equal the engine's, in the text itself."""
    snaps, eng = engine_snapshots(CONFIGS[0])
    delta_1 = next(s for s in snaps if s.phase.kind is PhaseKind.DELTA and s.phase.layer == 1)
    sel = Selection(1, 3, 200)
    (line,) = substituted(delta_1, sel, 2)
    dca, sp, d = parse_numbers(line.latex)
    assert line.latex.startswith(r"\delta_{3}^{1} = \Big(\sum_{k} w_{k,3}^{2}")
    W2, delta2 = eng["net"].weights[1], eng["bwd"].delta[1]
    assert close(dca, float(W2[:, 3].astype(np.float64) @ delta2[2].astype(np.float64)))
    assert close(d, dca * sp)


def test_softmax_cross_entropy_says_delta_is_a_minus_y():
    lines = {line.key: line for line in algorithm(CONFIGS[1])}
    assert lines["delta_L"].latex == r"\delta^{L} = a^{L} - y"
    assert "softmax + cross-entropy" in lines["delta_L"].caption
    assert r"\ln" in lines["cost"].latex
    assert "tanh" in lines["delta_l"].caption
    sigmoid = {line.key: line for line in algorithm(CONFIGS[0])}
    assert r"\sigma^{\prime}(z^{L})" in sigmoid["delta_L"].latex


def test_active_keys_follow_the_phases():
    expected = {
        PhaseKind.FORWARD: {"z", "a"},
        PhaseKind.COST: {"cost"},
        PhaseKind.GRADIENT: {"grad_w", "grad_b"},
        PhaseKind.UPDATE: {"update"},
    }
    for phase in phases_for(3):
        keys = active_keys(phase, 3)
        if phase.kind is PhaseKind.DELTA:
            assert keys == ({"delta_L"} if phase.layer == 3 else {"delta_l"})
        else:
            assert keys == expected[phase.kind]
    assert active_keys(None, 3) == frozenset()


def test_equation_view_highlight_follows_the_phase(qtbot):
    from bpviz.ui.views.equations import EquationView

    view = EquationView()
    qtbot.addWidget(view)
    view.resize(700, 800)
    view.show()
    view.set_selection(2, 1, 4)
    config = CONFIGS[2]
    snaps, _ = engine_snapshots(config)
    for snap in snaps:
        view.show_snapshot(snap)
        highlighted = {row.key for row in view._rows if row.active}
        assert highlighted == active_keys(snap.phase, config.n_layers)
        assert view.substitutions == substituted(snap, Selection(2, 1, 4), 0)
        assert unicode_math(snap.phase.label) in view.header.text()
        shown = [box.latex for box in view._subs]
        assert sorted(shown) == sorted(line.latex for line in view.substitutions)


def test_equation_view_retypesets_at_most_once_a_second_while_running(qtbot):
    from dataclasses import replace

    from bpviz.ui.views.equations import THROTTLE_MS, EquationView

    view = EquationView()
    qtbot.addWidget(view)
    view.show()
    snaps, _ = engine_snapshots(CONFIGS[2])
    view.show_snapshot(snaps[0])
    first = view.substitutions
    running = replace(snaps[1], running=True)
    view.show_snapshot(running)
    assert view.substitutions == first  # not yet: typesetting is throttled
    qtbot.waitUntil(lambda: view.substitutions != first, timeout=3 * THROTTLE_MS)
    assert view.active_keys == active_keys(running.phase, running.n_layers)
