"""Auto levels (``colors.StickyLevel``) in the gradient and δ views: right on the first
frame that has values, whatever came before; steady only while frames come fast."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from snapshots import make_snapshots, snapshot_at
from viewtools import shown

from bpviz.session.snapshot import PhaseKind
from bpviz.ui import colors
from bpviz.ui.views import DeltaView, GradientView


def level_of(values: np.ndarray) -> float:
    return colors.nice_level(colors.symmetric_level(values))


def scaled(snapshot, factor: float, *, running: bool = False):
    """``snapshot`` with every δ, ∂C/∂a and ∂C/∂W times ``factor`` (a quieter batch)."""

    def times(values):
        return tuple(None if v is None else v * factor for v in values)

    backward = dataclasses.replace(
        snapshot.backward,
        delta=times(snapshot.delta),
        dC_da=times(snapshot.dC_da),
        grad_w=times(snapshot.grad_w),
    )
    return dataclasses.replace(snapshot, backward=backward, running=running)


def test_a_level_is_set_by_values_only_and_holds_only_while_frames_come_fast():
    big, small = np.array([-0.5, 0.2]), np.array([0.001, -0.004])
    level = colors.StickyLevel(shrink=2.5, hold=0.5)
    assert level.update(None, now=0.0) is None  # nothing computed: no level at all
    assert level.update(big, now=1.0) == 0.5
    assert level.update(None, now=1.01) == 0.5  # "not computed yet" leaves it alone
    assert level.update(small, now=1.02) == 0.004  # stepped (not running): exact at once
    assert level.update(big, running=True, now=1.03) == 0.5  # growing: at once
    # running, frames 0.1 s apart: a smaller level waits `hold` seconds before it shrinks
    for now in (1.05, 1.15, 1.25, 1.35, 1.45, 1.54):
        assert level.update(small, running=True, now=now) == 0.5
    assert level.update(small, running=True, now=1.56) == 0.004
    level.update(big, running=True, now=1.58)
    assert level.update(np.array([0.3]), running=True, now=1.6) == 0.5  # within 2.5×: kept
    # running slowly (a pace of 1 step/s): every frame is looked at, its own level
    assert level.update(small, running=True, now=2.6) == 0.004


def test_gradient_level_is_right_on_the_first_frame_with_values(qtbot):
    view = shown(qtbot, GradientView())
    shots = make_snapshots(sizes=(784, 30, 10))
    for shot in shots:  # ready, forward …, δ … (∂C/∂W¹ not computed yet), ∂C/∂W², ∂C/∂W¹
        view.show_snapshot(shot)
        qtbot.waitUntil(lambda s=shot: view._drawn is s)  # redraws are rate-limited
        if shot.grad_w and shot.grad_w[0] is not None:
            break
    level = level_of(shot.grad_w[0])
    assert view.layer == 1 and view.heatmap.bar.levels() == (-level, level)
    assert view.tiles.bar.levels() == (-level, level) and view.status.text() == f"±{level:.3g} auto"
    quiet = scaled(shot, 0.01)  # the next mini-batch, stepped by hand, is 100× quieter
    view.show_snapshot(quiet)
    qtbot.waitUntil(lambda: view._drawn is quiet)
    level = level_of(quiet.grad_w[0])
    assert view.heatmap.bar.levels() == (-level, level)
    assert view.tiles.bar.levels() == (-level, level)


def test_delta_scales_follow_each_stepped_frame(qtbot):
    view = shown(qtbot, DeltaView())
    loud = snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10))
    for shot in (snapshot_at(PhaseKind.FORWARD, 1, sizes=(784, 30, 10)), loud, scaled(loud, 0.01)):
        view.show_snapshot(shot)
        for l in (1, 2):
            dC_da, _, delta = view.cells(l)
            for cell, values in ((dC_da, shot.dC_da), (delta, shot.delta)):
                if values[l - 1] is None:
                    assert cell.values is None
                    continue
                level = level_of(values[l - 1][0])
                assert cell.limit == level and cell._range == (-level, level)
                assert f"±{level:.2g}" in cell.label.toPlainText()


def test_a_sealed_arrays_level_is_remembered_and_a_changing_one_is_not():
    """Read-only snapshot arrays never change: their max |value| is computed once. An
    array that can still change (writable, or a read-only view of writable memory) is
    measured every time."""
    symmetric_level = colors.symmetric_level
    sealed = np.array([0.5, -2.0, 1.0])
    sealed.flags.writeable = False
    assert symmetric_level(sealed) == 2.0 == symmetric_level(sealed)
    assert symmetric_level(sealed[:1]) == 0.5  # a view is another array: its own m
    base = np.array([1.0, -3.0])
    view = base.view()
    view.flags.writeable = False  # read-only, but base may still write into it
    assert symmetric_level(view) == 3.0
    base[0] = 7.0
    assert symmetric_level(view) == 7.0
    writable = np.array([1.0, 4.0])
    assert symmetric_level(writable) == 4.0
    writable[1] = -9.0
    assert symmetric_level(writable) == 9.0


def test_nice_levels_are_the_smallest_step_at_or_above():
    nice = colors.nice_level
    assert [nice(v) for v in (1.0, 1.0000001, 7.9, 8.0, 8.1, 0.0123, 3.2e7)] == [
        1.0, 1.25, 8.0, 8.0, 10.0, pytest.approx(0.0125), pytest.approx(3.2e7)
    ]  # fmt: skip
    assert nice(0.0) == nice(-1.0) == nice(float("nan")) == nice(float("inf")) == 1.0
