"""The session without threads or Qt: phases in the paper's order, values bit-identical to
the engine's own forward/backward, identical numbers on every path, epochs, η, watches."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.data.dataset import Dataset
from bpviz.engine import Network, one_hot
from bpviz.session.session import Session, check_eta, epoch_order
from bpviz.session.snapshot import PhaseKind, SessionConfig, phases_for


def make_dataset(n_train=120, n_test=40, n_inputs=12, n_classes=4, seed=0) -> Dataset:
    """Random uint8 'images'; train image k carries k in its first two pixels."""
    rng = np.random.default_rng(seed)
    train = rng.integers(0, 256, (n_train, n_inputs), dtype=np.uint8)
    train[:, 0], train[:, 1] = np.arange(n_train) // 256, np.arange(n_train) % 256
    return Dataset(
        train,
        rng.integers(0, n_classes, n_train).astype(np.uint8),
        rng.integers(0, 256, (n_test, n_inputs), dtype=np.uint8),
        rng.integers(0, n_classes, n_test).astype(np.uint8),
        class_names=tuple("abcdefghij"[:n_classes]),
    )


def config_for(sizes=(12, 8, 4), **kw) -> SessionConfig:
    return SessionConfig(sizes=sizes, batch_size=kw.pop("batch_size", 8), **kw)


def engine_twin(config: SessionConfig) -> Network:
    return Network.like(config)


def params(session: Session) -> np.ndarray:
    return np.concatenate([p.ravel() for p in session.network.weights + session.network.biases])


LAYOUTS = [(12, 4), (12, 8, 4), (12, 9, 7, 4)]


@pytest.mark.parametrize("sizes", LAYOUTS)
@pytest.mark.parametrize(
    "act", [("sigmoid", "sigmoid", "quadratic"), ("tanh", "softmax", "cross_entropy")]
)
def test_phases_follow_the_paper_and_match_the_engine_bit_for_bit(sizes, act):
    hidden, output, cost = act
    config = config_for(sizes, hidden=hidden, output=output, cost=cost, eta=0.7)
    session = Session(make_dataset(), config)
    twin = engine_twin(config)
    L = len(sizes) - 1
    for _batch in range(2):
        snaps = [session.step_phase() for _ in range(3 * L + 2)]
        assert tuple(s.phase for s in snaps) == phases_for(L)
        assert [s.phase_index for s in snaps] == list(range(3 * L + 2))
        last = snaps[-1]
        forward = twin.forward(last.x)
        backward = twin.backward(forward, one_hot(last.labels, sizes[-1]))
        for name, mine, theirs in [
            ("z", last.z, forward.z),
            ("a", last.a, forward.a),
            ("dC_da", last.dC_da, backward.dC_da),
            ("sigma_prime", last.sigma_prime, backward.sigma_prime),
            ("delta", last.delta, backward.delta),
            ("grad_w", last.grad_w, backward.grad_w),
            ("grad_b", last.grad_b, backward.grad_b),
        ]:
            assert len(mine) == len(theirs), name
            for got, want in zip(mine, theirs, strict=True):
                if want is None:
                    assert got is None, name
                else:
                    assert np.array_equal(got, want), name
        assert last.loss == backward.loss
        for w, w_before in zip(last.weights_before, twin.weights, strict=True):
            assert np.array_equal(w, w_before)
        twin.apply(backward, 0.7)
        for w, w_after in zip(last.weights + last.biases, twin.weights + twin.biases, strict=True):
            assert np.array_equal(w, w_after)
        assert last.step == _batch + 1


def test_each_phase_shows_what_is_computed_so_far_and_nothing_more():
    session = Session(make_dataset(), config_for((12, 9, 7, 4)))
    L = 3
    reset = session.snapshot()
    assert reset.phase is None and reset.phase_index == -1
    assert reset.x.shape == (8, 12) and all(z is None for z in reset.z)
    for phase in phases_for(L):
        snap = session.step_phase()
        assert snap.phase == phase
        forward_done = L if phase.kind is not PhaseKind.FORWARD else phase.layer
        assert [z is not None for z in snap.z] == [l <= forward_done for l in range(1, L + 1)]
        assert snap.a[0] is snap.x
        if phase.kind is PhaseKind.DELTA:
            assert [d is not None for d in snap.delta] == [l >= phase.layer for l in range(1, 4)]
        if phase.kind is PhaseKind.GRADIENT:
            done = [g is not None for g in snap.grad_w]
            assert done == [l >= phase.layer for l in range(1, 4)]
        if phase.kind is not PhaseKind.UPDATE:
            assert snap.step == 0 and snap.weights is snap.weights_before
            assert (snap.loss is None) == (phase.kind is PhaseKind.FORWARD)


def test_snapshot_arrays_are_read_only_copies_that_never_change():
    session = Session(make_dataset(), config_for())
    snap = session.step_batch()
    arrays = [snap.x, snap.y, *snap.z, *snap.a, *snap.delta, *snap.grad_w, *snap.weights]
    arrays += [*snap.weights_before, *snap.biases]
    kept = [a.copy() for a in arrays]
    for _ in range(5):
        session.step_batch()
    session.run(30)
    for a, k in zip(arrays, kept, strict=True):
        assert np.array_equal(a, k)
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[(0,) * a.ndim] = 1.0
    assert not np.array_equal(snap.weights[0], session.network.weights[0])


@pytest.mark.parametrize("sizes", LAYOUTS)
def test_fast_batch_and_phase_stepping_give_identical_numbers(sizes):
    data = make_dataset()
    config = config_for(sizes, batch_size=7)  # 17 mini-batches an epoch: crosses epochs
    fast, by_batch, by_phase, mixed = (Session(data, config) for _ in range(4))
    n = 40
    fast.run(n)
    for _ in range(n):
        by_batch.step_batch()
    for _ in range(n * (3 * len(sizes) - 1)):
        by_phase.step_phase()
    for k in range(n // 4):  # phases, a fast stretch finishing the batch, whole batches
        mixed.step_phase()
        mixed.run(2) if k % 2 else mixed.step_batch()
        mixed.step_batch()
    while mixed.step < n:
        mixed.step_batch()
    for other in (by_batch, by_phase, mixed):
        assert other.step == fast.step == n
        assert np.array_equal(params(other), params(fast))
        assert np.array_equal(other.history.loss.values, fast.history.loss.values)
        assert [m.test_loss for m in other.history.epochs] == [
            m.test_loss for m in fast.history.epochs
        ]
    assert fast.epoch == 2 and len(fast.history.epochs) == 2


def test_same_seed_same_numbers_other_seed_other_numbers():
    data = make_dataset()
    a, b = Session(data, config_for(seed=3)), Session(data, config_for(seed=3))
    c = Session(data, config_for(seed=4))
    for s in (a, b, c):
        s.run(25)
        s.set_eta(0.5)
        s.step_phase()
        s.run(20)
    assert np.array_equal(params(a), params(b))
    assert np.array_equal(a.history.loss.values, b.history.loss.values)
    assert not np.array_equal(params(a), params(c))


def test_an_epoch_visits_every_training_example_once_in_a_seeded_order():
    data = make_dataset(n_train=120)
    session = Session(data, config_for(batch_size=8))
    assert session.batches_per_epoch == 15
    seen = []
    for _ in range(15):
        snap = session.step_batch()
        seen.extend((snap.x[:, 0] * 255).round().astype(int) * 256 + (snap.x[:, 1] * 255).round())
    assert sorted(int(k) for k in seen) == list(range(120))
    assert session.epoch == 1 and session.batch_in_epoch == 0
    first = np.array(seen, dtype=np.int64)
    assert np.array_equal(first, epoch_order(0, 0, 120))
    assert not np.array_equal(epoch_order(0, 1, 120), first)


def test_epoch_end_evaluates_the_held_out_set():
    data = make_dataset(n_train=64, n_test=40)
    session = Session(data, config_for(batch_size=8, eta=2.0))
    for _ in range(7):
        session.step_batch()
    assert session.last_eval is None
    snap = session.step_batch()
    metrics = snap.last_eval
    assert metrics is not None and metrics.epoch == 0 and metrics.step == 8
    epochs = snap.history.epochs
    assert epochs.count == 1 and list(epochs.step) == [8] and list(epochs.epoch) == [0]
    assert epochs.test_accuracy.mean[0] == metrics.test_accuracy
    assert epochs.test_loss.mean[0] == metrics.test_loss
    twin = engine_twin(session.config)
    twin.set_parameters(session.network.weights, session.network.biases)
    a_L = twin.forward(Dataset.to_float(data.test_images)).a[-1]
    predicted = a_L.argmax(axis=1)
    labels = data.test_labels.astype(int)
    assert metrics.test_accuracy == pytest.approx(np.mean(predicted == labels))
    assert metrics.test_loss == pytest.approx(twin.cost_value(a_L, one_hot(labels, 4)), rel=1e-6)
    assert metrics.confusion.sum() == 40 and metrics.confusion.dtype == np.int64
    for t in range(4):
        row = metrics.confusion[t]
        assert row.sum() == np.sum(labels == t)
        assert row[t] == np.sum((labels == t) & (predicted == t))
        assert metrics.per_class_accuracy[t] == pytest.approx(row[t] / row.sum())
    assert metrics.train_loss == pytest.approx(np.mean(session.history.loss.values[:8]))
    assert metrics.seconds > 0


def test_eta_change_applies_to_the_next_update_and_is_recorded():
    session = Session(make_dataset(), config_for(eta=3.0))
    session.run(3)
    for _ in range(3 * 2 + 1):  # everything up to the update
        snap = session.step_phase()
    session.set_eta(0.25)
    done = session.step_phase()
    assert done.phase.kind is PhaseKind.UPDATE and done.eta == 0.25
    for w, w0, g in zip(done.weights, done.weights_before, snap.grad_w, strict=True):
        assert np.array_equal(w, w0 - np.float32(0.25) * g)
    assert done.history.eta_changes == ((1, 3.0), (4, 0.25))


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), 1e9, "3", True, None])
def test_invalid_eta_is_refused(bad):
    session = Session(make_dataset(), config_for())
    with pytest.raises(ValueError, match="η"):
        session.set_eta(bad)
    with pytest.raises(ValueError, match="η"):
        check_eta(bad)
    assert session.eta == 3.0 and session.history.eta_changes == [(1, 3.0)]


def test_watched_weights_record_value_and_gradient_on_every_path():
    data = make_dataset()
    fast, traced = Session(data, config_for()), Session(data, config_for())
    for s in (fast, traced):
        s.add_watch(1, 3, 5)
        s.add_watch(2, 0, 7)
    grads = []
    for _ in range(20):
        snap = traced.step_batch()
        grads.append((snap.grad_w[0][3, 5], snap.grad_w[1][0, 7]))
    fast.run(20)
    for s in (fast, traced):
        w1, w2 = s.history.watches[(1, 3, 5)], s.history.watches[(2, 0, 7)]
        assert w1.w.n == 20 and w1.w.last == s.network.weights[0][3, 5]
        assert np.array_equal(w1.grad.values, np.float32([g for g, _ in grads]))
        assert np.array_equal(w2.grad.values, np.float32([g for _, g in grads]))
    assert np.array_equal(
        fast.history.watches[(2, 0, 7)].w.values, traced.history.watches[(2, 0, 7)].w.values
    )
    view = fast.snapshot().history.watches
    assert [(v.l, v.i, v.j) for v in view] == [(1, 3, 5), (2, 0, 7)]
    with pytest.raises(ValueError, match="no weight"):
        fast.add_watch(3, 0, 0)
    with pytest.raises(ValueError, match="no weight"):
        fast.add_watch(1, 8, 0)
    fast.remove_watch(1, 3, 5)
    assert list(fast.history.watches) == [(2, 0, 7)]


def test_reset_same_seed_new_seed_new_config():
    data = make_dataset()
    session = Session(data, config_for(seed=5))
    start = params(session)
    session.add_watch(1, 0, 0)
    session.run(30)
    session.set_eta(1.5)
    session.reset()
    assert session.step == 0 and session.epoch == 0 and session.history.loss.n == 0
    assert np.array_equal(params(session), start)
    assert session.eta == 1.5 and (1, 0, 0) in session.history.watches
    session.reset(seed=6)
    assert session.config.seed == 6 and not np.array_equal(params(session), start)
    session.reset(config_for((12, 5, 4), batch_size=4))
    assert session.network.weights[0].shape == (5, 12) and session.batches_per_epoch == 30
    assert session.snapshot().x.shape == (4, 12)
    with pytest.raises(ValueError, match="input layer"):
        session.reset(config_for((10, 4)))
    with pytest.raises(ValueError, match="hidden"):
        session.reset(config_for(hidden="sine"))
    with pytest.raises(ValueError, match="batch size"):
        session.reset(config_for(batch_size=0))
    assert session.config.sizes == (12, 5, 4)  # a refused reset changes nothing


def test_set_dataset_resets_and_follows_its_shape():
    session = Session(make_dataset(), config_for())
    session.run(10)
    other = make_dataset(n_train=50, n_inputs=20, n_classes=3, seed=1)
    session.set_dataset(other)
    assert session.dataset is other and session.step == 0
    assert session.config.sizes == (20, 8, 3)
    assert session.step_batch().x.shape == (8, 20)


@pytest.mark.parametrize("sizes", LAYOUTS)
def test_a_fast_run_ending_traced_shows_what_stepping_shows(sizes):
    data = make_dataset()
    fast, traced = Session(data, config_for(sizes)), Session(data, config_for(sizes))
    fast.run(15, trace_last=True)
    for _ in range(15):
        traced.step_batch()
    a, b = fast.snapshot(), traced.snapshot()
    assert a.phase == b.phase and a.phase.kind is PhaseKind.UPDATE and a.step == b.step == 15
    for name in ("x", "labels", "y"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("z", "a", "dC_da", "sigma_prime", "delta", "grad_w", "grad_b", "weights"):
        for got, want in zip(getattr(a, name), getattr(b, name), strict=True):
            assert (got is None and want is None) or np.array_equal(got, want), name
    for name in ("weights_before", "biases_before", "biases"):
        for got, want in zip(getattr(a, name), getattr(b, name), strict=True):
            assert np.array_equal(got, want) and not got.flags.writeable, name
    assert a.loss == b.loss and a.phase_index == b.phase_index
