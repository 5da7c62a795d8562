"""The weight inspector: its numbers are the engine's, and the numeric check agrees.

Snapshots here are built from the real engine (``engine_snapshots``): one per phase of
one mini-batch, with the entries not yet computed left as None, as the contract says.
"""

from __future__ import annotations

import numpy as np
import pytest
from snapshots import bare_snapshot
from viewtools import shown

from bpviz.engine.gradcheck import gradient_check
from bpviz.engine.network import BackwardTrace, ForwardTrace, Network
from bpviz.engine.validation import one_hot
from bpviz.session.snapshot import (
    HistoryView,
    Phase,
    PhaseKind,
    SeriesView,
    SessionConfig,
    Snapshot,
    WatchView,
    phases_for,
)
from bpviz.ui.inspection import Selection, float64_copy, inspect, numeric_check, sample_layer

CONFIGS = [
    SessionConfig(sizes=(784, 30, 10), batch_size=10),
    SessionConfig(sizes=(12, 7, 5, 4), hidden="tanh", output="softmax", cost="cross_entropy"),
    SessionConfig(sizes=(9, 6, 5, 3), hidden="relu", batch_size=6, eta=0.5),
    SessionConfig(sizes=(8, 4, 3), hidden="leaky_relu", output="softmax", cost="cross_entropy"),
]


def _ro(array):
    if array is None:
        return None
    out = np.array(array, copy=True)
    out.setflags(write=False)
    return out


def engine_snapshots(config: SessionConfig, seed: int = 3) -> tuple[list[Snapshot], dict]:
    """One snapshot after each phase of one mini-batch, computed by the engine, and the
    engine's own objects (``net`` before the update, ``fwd``, ``bwd``, ``after``)."""
    net = Network.like(config)  # every config here has the default init
    rng = np.random.default_rng(seed)
    x = rng.random((config.batch_size, config.sizes[0]), dtype=np.float32) ** 2
    labels = rng.integers(0, config.sizes[-1], config.batch_size)
    y = one_hot(labels, config.sizes[-1])
    fwd = net.forward(x)
    bwd = net.backward(fwd, y)
    after = net.copy()
    after.apply(bwd, config.eta)
    L = config.n_layers
    before = (tuple(map(_ro, net.weights)), tuple(map(_ro, net.biases)))
    updated = (tuple(map(_ro, after.weights)), tuple(map(_ro, after.biases)))
    snaps = []
    for index, phase in enumerate(phases_for(L)):
        fwd_to = phase.layer if phase.kind is PhaseKind.FORWARD else L
        back_from = {PhaseKind.DELTA: phase.layer, PhaseKind.GRADIENT: 1}.get(phase.kind, L + 1)
        back_from = 1 if phase.kind is PhaseKind.UPDATE else back_from
        grads_from = phase.layer if phase.kind is PhaseKind.GRADIENT else L + 1
        grads_from = 1 if phase.kind is PhaseKind.UPDATE else grads_from

        def upto(values, lo):
            return tuple(_ro(values[l]) if l + 1 >= lo else None for l in range(L))

        done = phase.kind is PhaseKind.UPDATE
        snaps.append(
            Snapshot(
                config=config,
                phase=phase,
                phase_index=index,
                step=int(done),
                epoch=0,
                batch_in_epoch=0,
                batches_per_epoch=100,
                eta=config.eta,
                weights=updated[0] if done else before[0],
                biases=updated[1] if done else before[1],
                weights_before=before[0],
                biases_before=before[1],
                x=_ro(x),
                labels=_ro(labels),
                y=_ro(y),
                forward=(
                    forward := ForwardTrace(
                        z=tuple(_ro(fwd.z[l]) if l < fwd_to else None for l in range(L)),
                        a=(_ro(x), *(_ro(fwd.a[l + 1]) if l < fwd_to else None for l in range(L))),
                    )
                ),
                backward=BackwardTrace(
                    sigma_prime=tuple(
                        _ro(bwd.sigma_prime[l]) if l < fwd_to else None for l in range(L)
                    ),
                    dC_da=upto(bwd.dC_da, back_from),
                    delta=upto(bwd.delta, back_from),
                    grad_w=upto(bwd.grad_w, grads_from),
                    grad_b=upto(bwd.grad_b, grads_from),
                    loss=None if phase.kind is PhaseKind.FORWARD else bwd.loss,
                    forward=forward,
                ),
                loss=None if phase.kind is PhaseKind.FORWARD else bwd.loss,
            )
        )
    return snaps, {"net": net, "fwd": fwd, "bwd": bwd, "after": after}


def random_selections(sizes, rng, per_layer: int = 4) -> list[Selection]:
    out = []
    for l in range(1, len(sizes)):
        for _ in range(per_layer):
            out.append(Selection(l, int(rng.integers(sizes[l])), int(rng.integers(sizes[l - 1]))))
        out.append(Selection(l, int(rng.integers(sizes[l])), None))
    return out


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.hidden}-{c.output}")
def test_inspection_equals_the_engine_in_every_layer(config):
    snaps, eng = engine_snapshots(config)
    net, fwd, bwd, after = eng["net"], eng["fwd"], eng["bwd"], eng["after"]
    last = snaps[-1]  # after the update: everything computed
    rng = np.random.default_rng(7)
    for sel in random_selections(config.sizes, rng):
        l, i, j = sel.l, sel.i, sel.j
        ex = int(rng.integers(config.batch_size))
        ins = inspect(last, sel, ex)
        assert ins.label == int(last.labels[ex])
        assert ins.delta_i == pytest.approx(float(bwd.delta[l - 1][ex, i]), rel=1e-6, abs=1e-12)
        assert ins.delta_i_mean == pytest.approx(float(bwd.delta[l - 1][:, i].mean()), rel=1e-5)
        if j is None:
            assert ins.before == float(net.biases[l - 1][i])
            assert ins.after == float(after.biases[l - 1][i])
            assert ins.grad == float(bwd.grad_b[l - 1][i])
            assert ins.a_j is None
            np.testing.assert_allclose(ins.contributions, bwd.delta[l - 1][:, i], rtol=1e-6)
        else:
            assert ins.before == float(net.weights[l - 1][i, j])
            assert ins.after == float(after.weights[l - 1][i, j])
            assert ins.grad == float(bwd.grad_w[l - 1][i, j])
            assert ins.a_j == float(fwd.a[l - 1][ex, j])
            assert ins.a_j_mean == pytest.approx(float(fwd.a[l - 1][:, j].mean()), rel=1e-5)
            engine_share = net.weight_contributions(fwd, bwd, l, i, j)
            np.testing.assert_allclose(ins.contributions, engine_share, rtol=1e-5, atol=1e-9)
            # ∂C/∂w_ij is the mean of the per-example contributions
            assert ins.contributions.mean() == pytest.approx(ins.grad, rel=1e-4, abs=1e-8)
        assert ins.update == pytest.approx(-config.eta * ins.grad)
        assert ins.before + ins.update == pytest.approx(ins.after, rel=1e-4, abs=1e-6)


def test_inspection_leaves_out_what_the_phase_has_not_computed():
    snaps, _ = engine_snapshots(CONFIGS[0])
    forward_1 = snaps[0]
    ins = inspect(forward_1, Selection(2, 4, 7))
    assert ins.a_j is not None  # a^1 is known after forward l=1
    assert ins.delta_i is None and ins.grad is None and ins.contributions is None
    assert ins.after is None
    delta_2 = next(s for s in snaps if s.phase == Phase(PhaseKind.DELTA, 2))
    ins = inspect(delta_2, Selection(2, 4, 7))
    assert ins.delta_i is not None and ins.contributions is not None and ins.grad is None


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.hidden}-{c.output}")
def test_numeric_check_agrees_with_float64_backprop(config):
    snaps, eng = engine_snapshots(config)
    snap = snaps[-2]  # gradients of every layer computed, update not yet applied
    rng = np.random.default_rng(11)
    for sel in random_selections(config.sizes, rng, per_layer=3):
        check = numeric_check(snap, [sel.entry])
        r = check.result
        assert r.checked == 1 and r.worst_entry == sel.entry
        assert r.worst_relative_error < 1e-6
        # the float64 backprop on the copy equals the engine's own float64 backward
        net64 = eng["net"].copy(dtype=np.float64)
        bwd64 = net64.backward(net64.forward(snap.x), snap.y)
        grads = bwd64.grad_b if sel.j is None else bwd64.grad_w
        index = (sel.i,) if sel.j is None else (sel.i, sel.j)
        assert r.backprop == pytest.approx(float(grads[sel.l - 1][index]), rel=1e-12, abs=1e-15)
        # the live value is the training run's own (float32) gradient
        live = (snap.grad_b if sel.j is None else snap.grad_w)[sel.l - 1][index]
        assert check.live == float(live)
        assert check.live == pytest.approx(r.backprop, rel=1e-3, abs=1e-6)


def test_layer_check_samples_many_entries_and_reports_the_worst():
    config = CONFIGS[0]
    snap = engine_snapshots(config)[0][-1]
    entries = sample_layer(config.sizes, 1, count=80)
    assert len(entries) == len(set(entries)) == 80 + 20
    assert all(l == 1 for l, _, _ in entries)
    check = numeric_check(snap, entries)
    assert check.result.checked == 100
    assert check.result.worst_relative_error < 1e-6
    assert check.result.worst_entry in entries
    # the engine's own check on the same float64 copy finds the same worst entry
    same = gradient_check(float64_copy(snap), snap.x, snap.y, entries)
    assert same.worst_entry == check.result.worst_entry


def test_numeric_check_uses_the_parameters_the_batch_started_from():
    snaps, eng = engine_snapshots(CONFIGS[2])
    updated = snaps[-1]  # weights are already W − η∂C/∂W here
    copy = float64_copy(updated)
    for mine, theirs in zip(copy.weights, eng["net"].weights, strict=True):
        np.testing.assert_array_equal(mine, theirs.astype(np.float64))
    assert copy.dtype == np.float64
    assert numeric_check(updated, [(1, 2, 3)]).result.worst_relative_error < 1e-6


def test_numeric_check_without_a_batch_is_a_clear_error():
    snap = engine_snapshots(CONFIGS[2])[0][0]
    empty = bare_snapshot(config=snap.config, parameters=(snap.weights, snap.biases))
    with pytest.raises(ValueError, match="no mini-batch"):
        numeric_check(empty, [(1, 0, 0)])


def test_selection_parse_and_check():
    assert Selection.parse("2,3,7") == Selection(2, 3, 7)
    assert Selection.parse(" 1, 4, b") == Selection(1, 4, None)
    assert Selection.parse("1,4") == Selection(1, 4, None)
    for bad in ("", "1", "a,b,c", "1,2,3,4", ",2,3"):
        with pytest.raises(ValueError, match="L,I"):
            Selection.parse(bad)
    sizes = (784, 30, 10)
    Selection(2, 9, 29).check(sizes)
    for sel, what in [
        (Selection(0, 0, 0), "layer"),
        (Selection(3, 0, 0), "layer"),
        (Selection(2, 10, 0), "i = 10"),
        (Selection(2, 0, 30), "j = 30"),
    ]:
        with pytest.raises(ValueError, match=what):
            sel.check(sizes)


# --- the widget ---


def _watch_history(l, i, j) -> HistoryView:
    steps = np.arange(1, 21)
    series = SeriesView(steps, steps * 0.01, steps * 0.01, steps * 0.01)
    return HistoryView(
        loss_step=steps,
        loss_min=steps * 0.0,
        loss_max=steps * 0.0,
        loss_mean=steps * 0.0,
        eta_changes=((1, 3.0), (10, 1.0)),
        watches=(WatchView(l, i, j, series, series),),
    )


@pytest.fixture
def inspector(qtbot):
    from bpviz.ui.views.inspector import InspectorView

    view = shown(qtbot, InspectorView(), 600, 600)
    yield view
    view.wait_for_checks()


def test_inspector_widget_shows_the_engine_numbers(inspector):
    snaps, eng = engine_snapshots(CONFIGS[0])
    inspector.set_selection(2, 3, 5)
    inspector.show_snapshot(snaps[-2])
    text = inspector.values.text()
    w = float(eng["net"].weights[1][3, 5])
    g = float(eng["bwd"].grad_w[1][3, 5])
    assert f"{w:+.5g}" in text and f"{g:+.5g}" in text
    assert f"{-3.0 * g:+.5g}" in text
    heights = inspector.bars.opts["height"]
    np.testing.assert_allclose(
        heights, eng["net"].weight_contributions(eng["fwd"], eng["bwd"], 2, 3, 5), rtol=1e-5
    )
    assert inspector.mean_line.value() == pytest.approx(g, rel=1e-4)


def test_inspector_form_selects_and_clamps(inspector, qtbot):
    inspector.show_snapshot(engine_snapshots(CONFIGS[0])[0][-1])
    inspector.layer_spin.setValue(1)
    with qtbot.waitSignal(inspector.selection_changed) as blocker:
        inspector.j_spin.setValue(700)
    assert blocker.args == [1, inspector.i_spin.value(), 700]
    assert inspector.selection == Selection(1, inspector.i_spin.value(), 700)
    with qtbot.waitSignal(inspector.selection_changed) as blocker:
        inspector.bias_box.setChecked(True)
    assert blocker.args[2] == -1 and inspector.selection.j is None
    assert "b<sub>" in inspector.values.text()
    inspector.set_selection(5, 0, 0)  # out of range: ignored
    assert inspector.selection.l == 1


def test_g_checks_the_selected_weight(inspector, qtbot):
    from pyqtgraph.Qt import QtCore

    snap = engine_snapshots(CONFIGS[1])[0][-1]
    inspector.set_selection(3, 1, 2)
    inspector.show_snapshot(snap)
    inspector.activateWindow()
    inspector.tabs.setFocus()  # not a text field, which would take the letter itself
    qtbot.waitUntil(inspector.tabs.hasFocus)
    qtbot.keyClick(inspector.tabs, QtCore.Qt.Key.Key_G)
    check = inspector.last_check
    assert check is not None and check.result.worst_entry == (3, 1, 2)
    assert check.result.worst_relative_error < 1e-6
    assert "agrees" in inspector.check_label.text()


def test_check_layer_runs_in_the_background(inspector, qtbot):
    snap = engine_snapshots(CONFIGS[0])[0][-1]
    inspector.set_selection(1, 0, 0)
    inspector.show_snapshot(snap)
    with qtbot.waitSignal(inspector.check_done, timeout=20000) as blocker:
        inspector.check_layer(count=40)
    outcome = blocker.args[0]
    assert outcome.result.checked == 50
    assert outcome.result.worst_relative_error < 1e-6
    assert "50 entries of layer 1" in inspector.check_label.text()
    assert inspector.layer_button.isEnabled()


def test_pin_and_watch_chart(inspector, qtbot):
    snap = engine_snapshots(CONFIGS[0])[0][-1]
    inspector.set_selection(2, 3, 5)
    inspector.show_snapshot(snap)
    assert not inspector.pin_button.isChecked()
    with qtbot.waitSignal(inspector.pin_requested) as blocker:
        inspector.pin_button.click()
    assert blocker.args == [2, 3, 5, True]
    from dataclasses import replace

    inspector.show_snapshot(replace(snap, history=_watch_history(2, 3, 5)))
    assert inspector.pin_button.isChecked()
    xs, ys = inspector.w_curve.getData()
    assert list(xs) == list(range(1, 21)) and ys[-1] == pytest.approx(0.2)
    assert len(inspector._eta_lines) == 1 and inspector._eta_lines[0].value() == 10


def test_check_on_a_diverged_run_is_a_clear_message(inspector):
    from dataclasses import replace

    snap = engine_snapshots(CONFIGS[0])[0][-1]
    bad = tuple(np.where(np.ones_like(w, bool), np.nan, w) for w in snap.weights_before)
    inspector.show_snapshot(replace(snap, weights_before=bad))
    assert inspector.check_selected() is None
    assert "impossible" in inspector.check_label.text()
    assert "NaN" in inspector.check_label.text()


def test_inspector_redraws_a_few_times_a_second_while_running(inspector, qtbot):
    from dataclasses import replace

    snaps, _ = engine_snapshots(CONFIGS[0])
    inspector.set_selection(2, 3, 5)
    inspector.show_snapshot(snaps[0])  # forward l=1: δ not computed yet
    assert inspector.inspection.delta_i is None
    running = replace(snaps[-1], running=True)
    inspector.show_snapshot(running)
    assert inspector.inspection.delta_i is None  # throttled: drawn on the timer
    qtbot.waitUntil(lambda: inspector.inspection.delta_i is not None, timeout=2000)
    assert inspector.inspection.grad == float(running.grad_w[1][3, 5])
