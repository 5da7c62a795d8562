"""The fast trainer gives bit-identical parameters to the traced path; evaluation scores."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.data.dataset import Dataset
from bpviz.engine import FastTrainer, Network, evaluate, one_hot

CONFIGS = [
    {"sizes": [784, 30, 10]},
    {"sizes": [784, 30, 10], "init": "normal", "dtype": np.float64},
    {"sizes": [784, 20, 15, 10], "hidden": "tanh"},
    {"sizes": [784, 16, 10], "hidden": "relu", "output": "softmax", "cost": "cross_entropy"},
    {"sizes": [784, 12, 8, 6, 10], "hidden": "leaky_relu"},
]


def digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 'images' whose label is readable from them (so training can learn)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 784)).astype(np.uint8)
    for k in range(10):
        images[labels == k, k * 70 : k * 70 + 60] = 255
    return images, labels


def traced_run(net: Network, images, labels, order, batch_size: int, eta: float) -> list[float]:
    """The reference: the traced step, fed as the session feeds it."""
    losses = []
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        x = Dataset.to_float(images[idx], net.dtype)
        losses.append(net.step(x, labels[idx].astype(np.int64), eta).loss)
    return losses


@pytest.mark.parametrize("config", CONFIGS)
def test_fast_epoch_is_bit_identical_to_traced_steps(config):
    config = dict(config)
    images, labels = digits(503)  # 50 full mini-batches of 10 and one of 3
    fast_net = Network(config.pop("sizes"), seed=3, **config)
    traced_net = fast_net.copy()
    eta = 0.5 if fast_net.cost == "cross_entropy" else 3.0
    order = np.random.default_rng(1).permutation(503)
    fast = FastTrainer(fast_net, images, labels, batch_size=10)
    losses = fast.train_epoch(order, eta)
    expected = traced_run(traced_net, images, labels, order, 10, eta)
    assert losses.shape == (51,)
    np.testing.assert_array_equal(losses, expected)
    np.testing.assert_array_equal(fast_net.parameters, traced_net.parameters)
    assert losses[-5:].mean() < losses[:5].mean()  # it learned something


def test_the_last_buffers_and_traces_equal_the_traced_pass_of_that_batch():
    images, labels = digits(100)
    net = Network([784, 20, 12, 10], hidden="tanh", seed=4)
    fast = FastTrainer(net, images, labels, batch_size=10)
    fast.train_epoch(np.arange(90), 2.0)
    before = net.copy()
    idx = np.array([5, 93, 17, 2, 64, 33, 80, 11, 49, 70])
    loss = fast.step(idx, 2.0)
    f_ref = before.forward(Dataset.to_float(images[idx]))
    b_ref = before.backward(f_ref, labels[idx].astype(np.int64))
    forward, backward = fast.traces()
    assert loss == backward.loss == b_ref.loss == fast.last.loss
    np.testing.assert_array_equal(fast.last.indices, idx)
    np.testing.assert_array_equal(fast.last.y, one_hot(labels[idx], 10))
    for name in ("z", "a"):
        for mine, ref in zip(getattr(forward, name), getattr(f_ref, name), strict=True):
            np.testing.assert_array_equal(mine, ref)
            assert not mine.flags.writeable
    for name in ("dC_da", "sigma_prime", "delta", "grad_w", "grad_b"):
        for mine, ref in zip(getattr(backward, name), getattr(b_ref, name), strict=True):
            np.testing.assert_array_equal(mine, ref)
            assert not mine.flags.writeable
    for buf, ref in zip(fast.last.delta, b_ref.delta, strict=True):  # the live buffers too
        np.testing.assert_array_equal(buf, ref)
    kept = forward.a[1].copy()
    fast.step(np.arange(10), 2.0)
    np.testing.assert_array_equal(forward.a[1], kept)  # copies: the next step changes nothing


def test_step_by_step_equals_one_epoch_and_eta_may_change_between_steps():
    images, labels = digits(60)
    a, b = Network([784, 10, 10], seed=5), Network([784, 10, 10], seed=5)
    fa, fb = FastTrainer(a, images, labels, 10), FastTrainer(b, images, labels, 10)
    order = np.random.default_rng(2).permutation(60)
    fa.train_epoch(order[:30], 3.0)
    fa.train_epoch(order[30:], 1.0)
    for k in range(6):
        fb.step(order[10 * k : 10 * k + 10], 3.0 if k < 3 else 1.0)
    np.testing.assert_array_equal(a.parameters, b.parameters)


def test_changing_the_network_from_outside_is_seen_by_the_next_step():
    images, labels = digits(20)
    net = Network([784, 10, 10], seed=6)
    fast = FastTrainer(net, images, labels, 10)
    fresh = Network([784, 10, 10], seed=7)
    net.set_parameters(fresh.weights, fresh.biases)
    fast.step(np.arange(10), 3.0)
    fresh.step(Dataset.to_float(images[:10]), labels[:10].astype(np.int64), 3.0)
    np.testing.assert_array_equal(net.parameters, fresh.parameters)


def test_a_diverged_batch_leaves_the_parameters_and_stops_the_epoch():
    net = Network([2, 2, 2], hidden="relu", seed=0)
    W1, W2 = np.ones((2, 2)), np.array([[1.0, -1.0], [1.0, -1.0]])
    net.set_parameters([W1, W2], [np.zeros(2), np.zeros(2)])
    images = np.full((30, 2), 3e38, np.float32)  # finite, but z^1 overflows: z^2 = ∞ − ∞
    fast = FastTrainer(net, images, np.zeros(30, np.int64), batch_size=10)
    before = net.parameters.copy()
    losses = fast.train_epoch(np.arange(30), 3.0)
    assert losses.shape == (1,) and np.isnan(losses[0])
    np.testing.assert_array_equal(net.parameters, before)
    assert np.isnan(net.step(images[:10], np.zeros(10, np.int64), 3.0).loss)
    np.testing.assert_array_equal(net.parameters, before)


def test_fast_trainer_rejects_bad_input():
    images, labels = digits(20)
    net = Network([784, 10, 10])
    with pytest.raises(ValueError, match="labels out of range"):
        FastTrainer(net, images, np.full(20, 10))
    with pytest.raises(ValueError, match="labels"):
        FastTrainer(net, images, labels[:5])
    with pytest.raises(ValueError, match=r"shape \(n, 784\)"):
        FastTrainer(net, images[:, :700], labels)
    with pytest.raises(ValueError, match="NaN"):
        FastTrainer(net, np.full((20, 784), np.nan), labels)
    fast = FastTrainer(net, images, labels)
    with pytest.raises(ValueError, match="indices outside"):
        fast.step(np.array([0, 20]), 1.0)
    with pytest.raises(ValueError, match="learning rate"):
        fast.train_epoch(np.arange(20), -1.0)
    with pytest.raises(ValueError, match="no step"):
        fast.traces()


def test_evaluate_scores_in_one_pass_whatever_the_chunk():
    images, labels = digits(437, seed=8)
    net = Network([784, 20, 10], seed=8)
    FastTrainer(net, images, labels, 10).train_epoch(np.arange(437), 3.0)
    result = evaluate(net, images, labels)
    x = Dataset.to_float(images)
    forward = net.forward(x)
    expected = forward.a[-1].argmax(axis=1)
    np.testing.assert_array_equal(result.predictions, expected)
    assert result.accuracy == pytest.approx(np.mean(expected == labels))
    assert result.loss == pytest.approx(
        net.cost_value(forward.a[-1], one_hot(labels, 10)), rel=1e-5
    )
    assert result.confusion.shape == (10, 10) and result.confusion.sum() == 437
    np.testing.assert_array_equal(result.confusion.sum(axis=1), np.bincount(labels, minlength=10))
    assert result.confusion[3, expected[labels == 3]].sum() >= result.confusion[3, 3]
    np.testing.assert_allclose(
        result.per_class_accuracy, np.diag(result.confusion) / np.bincount(labels, minlength=10)
    )
    small = evaluate(net, x, labels, chunk=7)
    np.testing.assert_array_equal(small.predictions, result.predictions)
    np.testing.assert_array_equal(small.confusion, result.confusion)
    assert small.loss == pytest.approx(result.loss, rel=1e-6)
    assert not result.predictions.flags.writeable
    missing = evaluate(net, x[labels != 9], labels[labels != 9])
    assert np.isnan(missing.per_class_accuracy[9])
    with pytest.raises(ValueError, match="labels must be integers"):
        evaluate(net, x, np.full(437, 12))
    with pytest.raises(ValueError, match="do not match"):
        evaluate(net, x[:10], labels)
