"""The history: every loss kept as float32, decimated views that never drop a spike."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz.session.history import History, Series
from bpviz.session.snapshot import EpochMetrics


def _brute(values: np.ndarray, max_points: int):
    width = 1
    while -(-len(values) // width) > max_points:
        width *= 2
    buckets = [values[k : k + width] for k in range(0, len(values), width)]
    return (
        np.array([k for k in range(0, len(values), width)]) + 1,
        np.array([b.min() for b in buckets], np.float32),
        np.array([b.max() for b in buckets], np.float32),
        np.array([b.mean(dtype=np.float64) for b in buckets], np.float32),
    )


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(st.integers(0, 700), min_size=1, max_size=6),
    max_points=st.integers(2, 50),
    seed=st.integers(0, 2**31),
)
def test_incremental_view_matches_a_brute_force_decimation(chunks, max_points, seed):
    rng = np.random.default_rng(seed)
    series = Series(1, capacity=16, max_points=max_points)
    values = np.empty(0, np.float32)
    for size in chunks:  # views taken between appends exercise the incremental cache
        new = rng.standard_normal(size).astype(np.float32) ** 3
        for v in new:
            series.append(float(v))
        values = np.concatenate([values, new])
        view = series.view()
        if values.size == 0:
            assert view.step.size == 0
            continue
        step, lo, hi, mean = _brute(values, max_points)
        assert view.step.shape[0] <= max_points
        np.testing.assert_array_equal(view.step, step)
        np.testing.assert_array_equal(view.min, lo)
        np.testing.assert_array_equal(view.max, hi)
        np.testing.assert_allclose(view.mean, mean, rtol=1e-6)
    np.testing.assert_array_equal(series.values, values)


def test_a_single_spike_survives_decimation():
    series = Series(1, max_points=100)
    for k in range(100_000):
        series.append(1000.0 if k == 54_321 else 0.5)
    view = series.view()
    assert view.step.shape[0] <= 100
    assert view.max.max() == 1000.0
    bucket = np.searchsorted(view.step, 54_322, side="right") - 1
    assert view.max[bucket] == 1000.0 and view.min[bucket] == 0.5


def test_views_are_read_only_and_cached_while_unchanged():
    series = Series(1)
    series.append(2.0)
    view = series.view()
    assert series.view() is view
    with pytest.raises(ValueError):
        view.mean[0] = 1.0
    with pytest.raises(ValueError):
        series.values[0] = 1.0
    series.append(3.0)
    assert series.view() is not view
    assert view.mean.tolist() == [2.0]  # an old view never changes


def test_truncate_rolls_back_values_and_cache():
    series = Series(1, max_points=4)
    for k in range(40):
        series.append(float(k))
    series.view()
    series.truncate(10)
    view = series.view()
    assert series.n == 10
    assert view.max.max() == 9.0
    for k in range(10, 13):
        series.append(float(100 + k))
    assert series.view().max.max() == 112.0


def test_loss_costs_four_bytes_a_step():
    history = History(eta=3.0)
    for _ in range(1_000_000):
        history.loss.append(0.25)
    # growable float32: at most twice the 4 MB the values need, plus a fixed cache
    assert history.nbytes < 8.0 * 2**20 + 100_000


def test_history_view_lists_eta_changes_and_watches():
    history = History(eta=3.0)
    history.loss.append(1.0)
    history.record_eta(2, 0.5)
    assert history.add_watch(1, 2, 3)
    assert not history.add_watch(1, 2, 3)
    watch = history.watches[(1, 2, 3)]
    watch.w.append(0.1)
    watch.grad.append(-0.2)
    history.loss.append(0.9)
    view = history.view()
    assert view.eta_changes == ((1, 3.0), (2, 0.5))
    (w,) = view.watches
    assert (w.l, w.i, w.j) == (1, 2, 3)
    assert w.w.step.tolist() == [2] and w.grad.mean.tolist() == [np.float32(-0.2)]
    history.truncate(1)
    assert history.watches[(1, 2, 3)].w.n == 0 and history.loss.n == 1
    assert history.remove_watch(1, 2, 3) and not history.remove_watch(1, 2, 3)
    assert history.view().watches == ()


def test_a_real_run_grows_by_its_history_and_nothing_else():
    import tracemalloc

    from test_session import config_for, make_dataset

    from bpviz.session.session import Session

    session = Session(make_dataset(n_train=600, n_test=50), config_for(batch_size=10))
    session.run(120)  # two epochs: buffers, checkpoints and epoch orders exist
    session.snapshot()
    tracemalloc.start()
    try:
        before, history_before = tracemalloc.get_traced_memory()[0], session.history.nbytes
        for _ in range(30):
            session.run(200)
            session.snapshot()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    history_grown = session.history.nbytes - history_before
    assert session.step == 6120 and len(session.history.epochs) == 102
    assert history_grown > 0
    assert grown <= 2 * history_grown + 64 * 1024, (grown, history_grown)


def _epoch(e: int, step: int, accuracy: float) -> EpochMetrics:
    return EpochMetrics(
        e, step, 1.0 / (e + 1), 2.0 / (e + 1), accuracy, np.full(10, accuracy),
        np.eye(10, dtype=np.int64), 0.25,
    )  # fmt: skip


def test_epochs_are_decimated_for_the_view_and_a_dip_in_accuracy_survives():
    history = History(3.0, max_points=64)
    accuracy = 0.9 + 0.05 * np.sin(np.arange(1000) / 50.0)
    accuracy[777] = 0.1  # one epoch that went wrong
    for e, value in enumerate(accuracy):
        history.record_epoch(_epoch(e, 40 * (e + 1), float(value)))
    view = history.view().epochs
    assert view.count == 1000 and view.width == 16 and len(view.epoch) == 63
    assert list(view.epoch) == list(range(0, 1000, 16))
    assert list(view.step) == [40 * (e + 1) for e in range(0, 1000, 16)]
    buckets = [accuracy[k : k + 16] for k in range(0, 1000, 16)]
    np.testing.assert_array_equal(view.test_accuracy.min, [b.min() for b in buckets])
    np.testing.assert_array_equal(view.test_accuracy.max, [b.max() for b in buckets])
    np.testing.assert_allclose(view.test_accuracy.mean, [b.mean() for b in buckets])
    assert view.test_accuracy.min.min() == 0.1  # the dip is still there
    assert len(history.epochs) == 1000  # the record keeps every epoch for session files


def test_every_epoch_is_its_own_bucket_until_the_resolution_and_truncate_drops_epochs():
    history = History(3.0, max_points=64)
    for e in range(10):
        history.record_epoch(_epoch(e, 5 * (e + 1), 0.5 + e / 100))
    view = history.view().epochs
    assert view.width == 1 and view.count == 10
    assert list(view.test_accuracy.mean) == [0.5 + e / 100 for e in range(10)]
    assert not view.step.flags.writeable and not view.test_accuracy.mean.flags.writeable
    history.loss.extend(np.full(50, 0.5, np.float32))
    history.truncate(22)  # epochs ending at steps 5 … 20 stay
    view = history.view().epochs
    assert view.count == 4 and list(view.step) == [5, 10, 15, 20]
    history.record_epoch(_epoch(4, 25, 0.9))
    assert list(history.view().epochs.test_accuracy.mean) == [0.5, 0.51, 0.52, 0.53, 0.9]


def test_the_views_size_stays_bounded_however_many_epochs():
    history = History(3.0)
    for e in range(3000):
        history.record_epoch(_epoch(e, 10 * (e + 1), 0.9))
    small = len(pickle.dumps(history.view(), protocol=5))
    for e in range(3000, 30000):
        history.record_epoch(_epoch(e, 10 * (e + 1), 0.9))
    large = len(pickle.dumps(history.view(), protocol=5))
    view = history.view().epochs
    assert view.count == 30000 and len(view.epoch) <= 2048
    assert large < 1.3 * small  # ten times the epochs; 1,875 buckets against 1,500
