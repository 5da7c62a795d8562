"""The plain reference backprop (engine/reference.py) equals the engine's traced path."""

import numpy as np
import pytest

from bpviz.engine import Network, one_hot
from bpviz.engine import reference as ref

PAIRS = [("sigmoid", "quadratic"), ("softmax", "cross_entropy")]


@pytest.mark.parametrize("hidden", list(ref.ACTIVATIONS))
@pytest.mark.parametrize(("output", "cost"), PAIRS)
@pytest.mark.parametrize("sizes", [(6, 4, 3), (5, 7, 4, 3)])
def test_reference_matches_the_traced_engine(hidden, output, cost, sizes):
    net = Network(sizes, hidden=hidden, output=output, cost=cost, seed=3, dtype=np.float64)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, sizes[0]))
    y = one_hot(rng.integers(0, sizes[-1], 5), sizes[-1], np.float64)
    weights = [W.copy() for W in net.weights]
    biases = [b.copy() for b in net.biases]

    result = ref.backprop(weights, biases, x, y, hidden=hidden, output=output)
    backward = net.backward(net.forward(x), y)

    assert result.cost == pytest.approx(backward.loss, rel=1e-12)
    for l in range(1, len(sizes)):
        np.testing.assert_allclose(result.z[l - 1].T, backward.forward.z[l - 1], rtol=1e-12)
        np.testing.assert_allclose(result.a[l].T, backward.forward.a[l], rtol=1e-12)
        np.testing.assert_allclose(result.delta[l - 1].T, backward.delta[l - 1], atol=1e-14)
        np.testing.assert_allclose(result.grad_w[l - 1], backward.grad_w[l - 1], atol=1e-14)
        np.testing.assert_allclose(result.grad_b[l - 1], backward.grad_b[l - 1], atol=1e-14)

    ref.update(weights, biases, result, eta=0.5)
    net.apply(backward, eta=0.5)
    for W_ref, W in zip(weights, net.weights, strict=True):
        np.testing.assert_allclose(W_ref, W, atol=1e-13)
    for b_ref, b in zip(biases, net.biases, strict=True):
        np.testing.assert_allclose(b_ref, b, atol=1e-13)


def test_reference_differs_when_the_chain_rule_is_broken():
    """The comparison has teeth: dropping σ′ from δ¹ is caught."""
    net = Network((4, 3, 2), seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((3, 4))
    y = one_hot(np.array([0, 1, 1]), 2, np.float64)
    result = ref.backprop([W.copy() for W in net.weights], list(net.biases), x, y)
    backward = net.backward(net.forward(x), y)
    without_sigma_prime = (net.weights[1].T @ result.delta[1]).T
    assert not np.allclose(without_sigma_prime, backward.delta[0])
    np.testing.assert_allclose(result.delta[0].T, backward.delta[0], atol=1e-14)
