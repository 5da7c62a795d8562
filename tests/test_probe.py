"""bpviz.session.probe: evaluation and "backprop this" on a copy of the parameters."""

from __future__ import annotations

import numpy as np
import pytest
from test_evaluation_support import sample_dataset, snapshot_of, trained

from bpviz.data.dataset import Dataset
from bpviz.engine.network import Network
from bpviz.session.probe import after_update, evaluate, probe
from bpviz.session.snapshot import PhaseKind, SessionConfig


def test_probe_gradients_equal_the_engines_and_leave_parameters_unchanged() -> None:
    net, config, snapshot = trained()
    before = [np.array(w, copy=True) for w in (*snapshot.weights, *snapshot.biases)]
    net_before = net.parameters.copy()
    data = sample_dataset()
    x = Dataset.to_float(data.test_images[7:8])
    label = int(data.test_labels[7])

    probed = probe(snapshot, x, [label])

    reference = net.copy()
    forward = reference.forward(x)
    backward = reference.backward(forward, np.array([label]))
    for l in range(config.n_layers):
        np.testing.assert_array_equal(probed.grad_w[l], backward.grad_w[l])
        np.testing.assert_array_equal(probed.grad_b[l], backward.grad_b[l])
        np.testing.assert_array_equal(probed.delta[l], backward.delta[l])
        np.testing.assert_array_equal(probed.z[l], forward.z[l])
    np.testing.assert_array_equal(probed.a[-1], forward.a[-1])
    assert probed.loss == pytest.approx(backward.loss)
    # Nothing was applied: the snapshot, the probe's parameters and the network agree.
    for original, now in zip(before, (*snapshot.weights, *snapshot.biases), strict=True):
        np.testing.assert_array_equal(original, now)
    for original, now in zip(snapshot.weights, probed.weights, strict=True):
        np.testing.assert_array_equal(original, now)
    np.testing.assert_array_equal(net.parameters, net_before)
    assert probed.phase.kind is PhaseKind.GRADIENT and probed.phase.layer == 1
    assert probed.labels.tolist() == [label] and probed.y[0, label] == 1
    assert probed.x.shape == (1, 784) and not probed.running


def test_probe_of_an_untrained_softmax_network_matches_a_hand_computed_delta() -> None:
    config = SessionConfig(sizes=(784, 16, 10), hidden="tanh", output="softmax",
                           cost="cross_entropy", seed=3)  # fmt: skip
    net = Network(config.sizes, hidden="tanh", output="softmax", cost="cross_entropy", seed=3)
    snapshot = snapshot_of(net, config)
    x = Dataset.to_float(sample_dataset().test_images[:2])
    probed = probe(snapshot, x, [3, 5])
    a_L = probed.a[-1]
    y = np.eye(10)[[3, 5]]
    # δ^L = a^L − y for softmax + cross-entropy; ∂C/∂W^L = mean δ^L (a^{L-1})^T.
    np.testing.assert_allclose(probed.delta[-1], a_L - y, atol=1e-6)
    np.testing.assert_allclose(
        probed.grad_w[-1], (a_L - y).T @ probed.a[1] / 2, rtol=1e-4, atol=1e-6
    )
    assert probed.sigma_prime[-1] is None


def test_probe_rejects_mismatched_labels() -> None:
    _, _, snapshot = trained()
    with pytest.raises(ValueError, match="labels"):
        probe(snapshot, np.zeros((2, 784)), [1])


def test_evaluation_confusion_equals_one_counted_from_the_predictions() -> None:
    net, _, snapshot = trained()
    data = sample_dataset()
    result = evaluate(snapshot, data.test_images, data.test_labels)
    outputs = net.forward(Dataset.to_float(data.test_images)).a[-1]
    predictions = outputs.argmax(axis=1)
    counted = np.zeros((10, 10), dtype=np.int64)
    for true, predicted in zip(data.test_labels, predictions, strict=True):
        counted[true, predicted] += 1
    np.testing.assert_array_equal(result.predictions, predictions)
    np.testing.assert_array_equal(result.confusion, counted)
    assert result.accuracy == pytest.approx(np.trace(counted) / counted.sum())
    np.testing.assert_allclose(result.per_class_accuracy, np.diag(counted) / counted.sum(1))
    assert 0.5 < result.accuracy < 1.0  # trained for one epoch: good, not perfect
    assert result.loss == pytest.approx(
        net.cost_value(outputs, np.eye(10, dtype=np.float32)[data.test_labels]), rel=1e-5
    )


def test_worst_mistakes_are_wrong_and_ordered_by_confidence() -> None:
    _, _, snapshot = trained()
    data = sample_dataset()
    result = evaluate(snapshot, data.test_images, data.test_labels)
    worst = result.worst_mistakes(10)
    assert len(worst) == 10
    assert np.all(result.predictions[worst] != result.labels[worst])
    confidence = result.outputs[worst, result.predictions[worst]]
    assert np.all(np.diff(confidence) <= 0)
    wrong = result.predictions != result.labels
    assert confidence[0] == pytest.approx(result.outputs[wrong].max())
    for true, predicted in [(9, 4), (3, 3)]:
        cell = result.cell(true, predicted)
        assert cell.size == result.confusion[true, predicted]
        assert np.all(data.test_labels[cell] == true)


def test_after_update_equals_one_engine_step_on_a_copy() -> None:
    net, _, snapshot = trained()
    before = net.parameters.copy()
    data = sample_dataset()
    x = Dataset.to_float(data.test_images[20:21])
    label = int(data.test_labels[20])
    probed = probe(snapshot, x, [label])
    a_L, loss = after_update(probed)
    twin = net.copy()
    twin.step(x, np.array([label]), snapshot.eta)
    expected = twin.forward(x).a[-1]
    np.testing.assert_allclose(a_L, expected, rtol=1e-5, atol=1e-7)
    assert loss < probed.loss  # one step of gradient descent on it lowers its own cost
    assert a_L[0, label] > probed.a[-1][0, label]
    np.testing.assert_array_equal(net.parameters, before)
    for w, w_probe in zip(snapshot.weights, probed.weights, strict=True):
        np.testing.assert_array_equal(w, w_probe)
