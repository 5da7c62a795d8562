"""The one throttle between a snapshot and the pixels: a view fed snapshots faster than its
rate draws at most at that rate and always ends on the latest (real QTimers, real views).

The bounds on the counts are generous (the interval's count plus two): under load the
timers fire late, which only lowers the count; nothing here asserts how long anything took.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from pyqtgraph.Qt import QtCore
from snapshots import fake_history, snapshot_at
from viewtools import shown

from bpviz.session.snapshot import PhaseKind
from bpviz.ui.throttle import Throttle
from bpviz.ui.views import GradientView, LossView, NetworkView
from bpviz.ui.views.equations import EquationView
from bpviz.ui.views.loss import MAX_HZ
from bpviz.ui.views.network import EDGES_HZ

FEED_SECONDS = 1.2


def feed(qtbot, view, snapshots) -> float:
    """Show ``snapshots`` one every few milliseconds (far above any view's rate) for
    ``FEED_SECONDS``; returns the seconds it took."""
    start = time.perf_counter()
    k = 0
    while time.perf_counter() - start < FEED_SECONDS:
        view.show_snapshot(snapshots[k % len(snapshots)])
        k += 1
        qtbot.wait(3)
    return time.perf_counter() - start


def running_snapshots(count: int, kind=PhaseKind.GRADIENT):
    base = [
        dataclasses.replace(snapshot_at(kind, 1, sizes=(784, 30, 10), seed=s), running=True)
        for s in (1, 2)
    ]
    return [dataclasses.replace(base[k % 2], step=k + 1) for k in range(count)]


def counting(obj, name: str) -> list:
    """Wrap ``obj.name`` so that each call is recorded (its first argument, if any)."""
    calls: list = []
    original = getattr(obj, name)

    def wrapper(*args):
        calls.append(args[0] if args else None)
        return original(*args)

    setattr(obj, name, wrapper)
    return calls


def test_throttle_draws_at_most_its_rate_and_always_the_last_request(qtbot):
    owner = QtCore.QObject()
    state = {"latest": 0, "drawn": []}
    throttle = Throttle(lambda: state["drawn"].append(state["latest"]), 10.0, owner)
    start = time.perf_counter()
    for k in range(1, 200):
        state["latest"] = k
        throttle.request()
        qtbot.wait(2)
    elapsed = time.perf_counter() - start
    qtbot.waitUntil(lambda: state["drawn"][-1] == 199)
    assert 2 <= len(state["drawn"]) <= 10.0 * (elapsed + 0.2) + 2
    assert state["drawn"] == sorted(state["drawn"])  # nothing older drawn after newer
    assert not throttle.pending
    throttle.hz = None  # no limit: every request draws
    before = len(state["drawn"])
    for _ in range(5):
        throttle.request()
    assert len(state["drawn"]) == before + 5


def test_gradient_view_draws_at_most_15_hz_and_ends_on_the_latest(qtbot):
    view = shown(qtbot, GradientView())
    assert view.throttle.hz == 15.0
    draws = counting(view, "_render")
    snapshots = running_snapshots(40)
    elapsed = feed(qtbot, view, snapshots)
    last = view.snapshot
    qtbot.waitUntil(lambda: view._drawn is last)
    assert draws[-1] is last
    assert 2 <= len(draws) <= 15.0 * elapsed + 2


def test_a_paused_snapshot_is_drawn_at_once_in_a_panel_of_numbers(qtbot):
    view = shown(qtbot, EquationView())
    assert view.paused_at_once and view.throttle.hz == 1.0
    first, second = running_snapshots(2)
    view.show_snapshot(first)
    stepped = dataclasses.replace(second, running=False)
    view.show_snapshot(stepped)  # within the interval, but a step: drawn now
    assert view._drawn is stepped


def test_loss_view_draws_at_most_5_hz_and_ends_on_the_latest(qtbot):
    view = shown(qtbot, LossView())
    assert view.throttle.hz == MAX_HZ == 5.0
    draws = counting(view, "_draw")
    base = snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10))
    histories = [fake_history(40 + 4 * k, seed=k) for k in range(400)]
    snapshots = [dataclasses.replace(base, history=h, running=True) for h in histories]
    elapsed = feed(qtbot, view, snapshots)
    last = view._history
    qtbot.waitUntil(lambda: draws and draws[-1] is last)
    assert len(view.mean.getData()[1]) == len(last.loss_mean)
    assert 2 <= len(draws) <= MAX_HZ * elapsed + 2


def test_network_edges_follow_at_most_4_hz_and_end_on_the_latest_weights(qtbot):
    view = shown(qtbot, NetworkView())
    assert view.edge_throttle.hz == EDGES_HZ == 4.0
    edges = counting(view.edges, "update")
    renders = counting(view, "_render")
    snapshots = running_snapshots(40, PhaseKind.FORWARD)
    elapsed = feed(qtbot, view, snapshots)
    last = view.snapshot
    qtbot.waitUntil(lambda: edges and edges[-1] is last.weights)
    assert 2 <= len(edges) <= EDGES_HZ * elapsed + 2
    assert len(renders) > len(edges)  # the nodes follow every snapshot, the edges slower


@pytest.mark.parametrize("view_class", [EquationView])
def test_reading_panels_draw_at_their_lower_rate(qtbot, view_class):
    view = shown(qtbot, view_class())
    draws = counting(view, "_render")
    elapsed = feed(qtbot, view, running_snapshots(20))
    last = view.snapshot
    qtbot.waitUntil(lambda: draws and draws[-1] is last, timeout=5000)
    assert 1 <= len(draws) <= view.throttle.hz * elapsed + 2
