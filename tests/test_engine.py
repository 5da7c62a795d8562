"""The engine computes the paper's quantities exactly, immutably, and rejects bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz.engine import Network, one_hot
from bpviz.engine.gradcheck import all_entries, gradient_check

PAIRS = [("sigmoid", "quadratic"), ("softmax", "cross_entropy")]
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu"]


def batch(net: Network, m: int = 7, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((m, net.sizes[0])), rng.integers(0, net.sizes[-1], m)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "cost"), PAIRS)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=3, max_size=5),
    m=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=12, deadline=None)
def test_backprop_matches_finite_differences_in_float64(hidden, output, cost, sizes, m, seed):
    """1, 2 and 3 hidden layers, every activation × output/cost pair: every parameter."""
    sizes = [sizes[0] + 1, *sizes[1:-1], sizes[-1] + 1]  # ≥ 2 classes
    net = Network(sizes, hidden=hidden, output=output, cost=cost, seed=seed)
    x, labels = batch(net, m, seed)
    result = gradient_check(net, x, labels)
    assert result.checked == net.parameters.size
    assert result.worst_relative_error < 1e-6, result


def test_gradient_check_on_the_papers_network_and_it_leaves_the_net_alone():
    net = Network([784, 30, 10], seed=3)
    before = net.parameters.copy()
    x, labels = batch(net, 10)
    entries = all_entries(net)[::37]
    result = gradient_check(net, x, labels, entries=entries)
    assert result.checked == len(entries)
    assert result.worst_relative_error < 1e-6
    np.testing.assert_array_equal(net.parameters, before)


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    """The check can fail: scale backprop's δ^1 by 1.01 and it must notice."""
    from bpviz.engine import kernels

    original = kernels.hidden_delta

    def wrong(*args):
        delta = args[-1]
        return [*original(*args), (np.multiply, (delta, 1.01, delta))]

    monkeypatch.setattr(kernels, "hidden_delta", wrong)
    net = Network([5, 4, 3], seed=0)
    assert gradient_check(net, *batch(net)).worst_relative_error > 1e-3


def test_the_papers_literal_formulas_sigmoid_quadratic():
    """δ^L = (a^L − y) ⊙ a^L ⊙ (1 − a^L); δ^l = (W^{l+1})^T δ^{l+1} ⊙ a^l ⊙ (1 − a^l);
    ∂C/∂W^l = δ^l (a^{l-1})^T and ∂C/∂b^l = δ^l, averaged over the batch."""
    net = Network([6, 5, 4, 3], seed=2, dtype=np.float64)
    x, labels = batch(net, 4)
    y = one_hot(labels, 3, np.float64)
    f = net.forward(x)
    b = net.backward(f, y)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    for l in range(1, 4):  # z^l = W^l a^{l-1} + b^l per example, a^l = σ(z^l)
        for k in range(4):
            z = net.weights[l - 1] @ f.a[l - 1][k] + net.biases[l - 1]
            np.testing.assert_allclose(f.z[l - 1][k], z, rtol=1e-12)
            np.testing.assert_allclose(f.a[l][k], sig(z), rtol=1e-12)
    aL = f.a[3]
    np.testing.assert_allclose(b.delta[2], (aL - y) * aL * (1 - aL), rtol=1e-12)
    for l in (2, 1):
        expected = (b.delta[l] @ net.weights[l]) * f.a[l] * (1 - f.a[l])
        np.testing.assert_allclose(b.delta[l - 1], expected, rtol=1e-12)
        np.testing.assert_allclose(b.dC_da[l - 1], b.delta[l] @ net.weights[l], rtol=1e-12)
    for l in range(1, 4):
        per_example = [np.outer(b.delta[l - 1][k], f.a[l - 1][k]) for k in range(4)]
        np.testing.assert_allclose(b.grad_w[l - 1], np.mean(per_example, axis=0), rtol=1e-12)
        np.testing.assert_allclose(b.grad_b[l - 1], b.delta[l - 1].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(b.sigma_prime[l - 1], f.a[l] * (1 - f.a[l]), rtol=1e-12)
    assert b.loss == pytest.approx(0.5 * np.sum((aL - y) ** 2) / 4, rel=1e-12)


def test_softmax_cross_entropy_output_delta_is_a_minus_y():
    net = Network([6, 5, 3], output="softmax", cost="cross_entropy", dtype=np.float64)
    x, labels = batch(net, 5)
    y = one_hot(labels, 3, np.float64)
    f = net.forward(x)
    b = net.backward(f, y)
    np.testing.assert_allclose(f.a[2].sum(axis=1), 1.0, rtol=1e-12)
    assert b.sigma_prime[1] is None
    np.testing.assert_array_equal(b.delta[1], f.a[2] - y)
    np.testing.assert_allclose(b.dC_da[1], -y / f.a[2], rtol=1e-12)
    assert b.loss == pytest.approx(-np.sum(y * np.log(f.a[2])) / 5, rel=1e-12)


def test_forward_and_backward_are_the_per_layer_building_blocks_bit_for_bit():
    net = Network([8, 6, 5, 3], hidden="tanh", seed=4)
    x, labels = batch(net, 6)
    f, b = net.forward(x), net.backward(net.forward(x), labels)
    a = np.asarray(x, np.float32)
    for l in (1, 2, 3):
        z, a = net.forward_layer(l, a)
        np.testing.assert_array_equal(z, f.z[l - 1])
        np.testing.assert_array_equal(a, f.a[l])
    y = one_hot(labels, 3)
    assert net.cost_value(f.a[3], y) == b.loss
    dC, sp, delta = net.output_delta(f.z[2], f.a[3], y)
    np.testing.assert_array_equal(delta, b.delta[2])
    for l in (2, 1):
        dC, sp, delta = net.hidden_delta(l, delta, f.z[l - 1], f.a[l])
        np.testing.assert_array_equal(dC, b.dC_da[l - 1])
        np.testing.assert_array_equal(sp, b.sigma_prime[l - 1])
        np.testing.assert_array_equal(delta, b.delta[l - 1])
    for l in (1, 2, 3):
        gw, gb = net.layer_gradients(l, b.delta[l - 1], f.a[l - 1])
        np.testing.assert_array_equal(gw, b.grad_w[l - 1])
        np.testing.assert_array_equal(gb, b.grad_b[l - 1])
    twin = net.copy()
    twin.apply_deltas(b.delta, f.a, 0.5)
    net.apply(b, 0.5)
    np.testing.assert_array_equal(twin.parameters, net.parameters)


def test_step_is_forward_backward_update():
    """W ← W − η ∂C/∂W, b ← b − η ∂C/∂b (one BLAS call each, so equal up to rounding)."""
    net = Network([6, 4, 3], seed=5, dtype=np.float64)
    twin, plain = net.copy(), net.copy()
    x, labels = batch(net, 5)
    b = net.step(x, labels, 3.0)
    for W, W0, g in zip(
        net.weights + net.biases, twin.weights + twin.biases, b.grad_w + b.grad_b, strict=True
    ):
        np.testing.assert_allclose(W, W0 - 3.0 * g, rtol=1e-13, atol=1e-15)
    plain.apply_gradients(b.grad_w, b.grad_b, 3.0)
    np.testing.assert_allclose(plain.parameters, net.parameters, rtol=1e-13, atol=1e-15)
    twin.apply(twin.backward(twin.forward(x), labels), 3.0)
    np.testing.assert_array_equal(twin.parameters, net.parameters)
    assert net.step(x, labels, 3.0).loss < b.loss


def test_traces_are_read_only_and_never_change_afterwards():
    net = Network([6, 4, 3], seed=6)
    x, labels = batch(net, 5)
    x_caller = np.array(x, dtype=np.float32)
    f = net.forward(x_caller)
    b = net.backward(f, labels)
    arrays = [*f.z, *f.a, *b.dC_da, *b.sigma_prime, *b.delta, *b.grad_w, *b.grad_b]
    copies = [arr.copy() for arr in arrays]
    for arr in arrays:
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[...] = 0
    x_caller[...] = 0.5  # the caller's input changing must not reach the trace
    for _ in range(3):
        net.step(x, labels, 3.0)
        net.backward(net.forward(x), labels)
    for arr, copy in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(arr, copy)
        assert not np.shares_memory(arr, net.parameters)
    with pytest.raises(AttributeError):
        b.loss = 0.0  # frozen dataclass


def test_weight_contributions_average_to_the_gradient():
    net = Network([6, 5, 3], seed=7, dtype=np.float64)
    x, labels = batch(net, 8)
    f = net.forward(x)
    b = net.backward(f, labels)
    for l, i, j in [(1, 2, 4), (2, 0, 3), (2, 2, 0)]:
        share = net.weight_contributions(f, b, l, i, j)
        assert share.shape == (8,)
        np.testing.assert_allclose(share, b.delta[l - 1][:, i] * f.a[l - 1][:, j])
        assert share.mean() == pytest.approx(b.grad_w[l - 1][i, j], rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="outside"):
        net.weight_contributions(f, b, 1, 5, 0)


def test_initialisation_is_seeded_and_scaled():
    a, b = Network([784, 30, 10], seed=1), Network([784, 30, 10], seed=1)
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert not np.array_equal(a.parameters, Network([784, 30, 10], seed=2).parameters)
    assert a.weights[0].shape == (30, 784) and a.biases[0].shape == (30,)
    assert a.weights[0].dtype == np.float32 and a.sizes == (784, 30, 10) and a.n_layers == 2
    assert a.weights[0].std() == pytest.approx(1 / 28, rel=0.05)
    normal = Network([784, 30, 10], init="normal", seed=1)
    assert normal.weights[0].std() == pytest.approx(1.0, rel=0.05)
    copy = a.copy()
    copy.weights[0][0, 0] += 1
    assert copy.weights[0][0, 0] != a.weights[0][0, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden": "swish"}, "unknown hidden activation 'swish'"),
        ({"output": "tanh"}, "unknown output activation 'tanh'"),
        ({"cost": "hinge"}, "unknown cost 'hinge'"),
        ({"output": "softmax"}, "does not pair"),
        ({"cost": "cross_entropy"}, "does not pair"),
        ({"init": "xavier"}, "unknown init"),
        ({"dtype": np.int32}, "float32 or float64"),
    ],
)
def test_bad_network_settings_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Network([4, 3, 2], **kwargs)


def test_bad_input_names_the_problem():
    net = Network([4, 3, 2])
    good = np.zeros((2, 4))
    with pytest.raises(ValueError, match="sizes"):
        Network([4])
    with pytest.raises(ValueError, match=r"x must have shape \(m, 4\)"):
        net.forward(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="x must have shape"):
        net.forward(np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        net.forward(np.full((2, 4), np.nan))
    f = net.forward(good)
    with pytest.raises(ValueError, match="labels out of range"):
        net.backward(f, np.array([0, 2]))
    with pytest.raises(ValueError, match="labels out of range"):
        one_hot([-1, 0], 2)
    with pytest.raises(ValueError, match="y must have shape"):
        net.backward(f, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        net.backward(f, np.array([[np.nan, 0], [0, 1]]))
    with pytest.raises(ValueError, match="layer l"):
        net.forward_layer(3, good)
    with pytest.raises(ValueError, match="learning rate"):
        net.step(good, [0, 1], float("nan"))
    with pytest.raises(ValueError, match="does not match"):
        net.set_parameters([np.zeros((3, 4)), np.zeros((3, 3))], [np.zeros(3), np.zeros(2)])


def test_every_array_the_engine_computes_into_starts_on_a_cache_line() -> None:
    """OpenBLAS is markedly slower on operands 16 bytes off a 64-byte boundary, where
    NumPy's large arrays often start: parameters, gradients, z, a, δ and the fast
    path's buffers all come from ``kernels.empty``."""
    from bpviz.engine import FastTrainer, kernels
    from bpviz.runtime.readonly import is_sealed

    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (40, 784), dtype=np.uint8), rng.integers(0, 10, 40)
    for dtype in (np.float32, np.float64):
        net = Network((784, 30, 10), seed=1, dtype=dtype)
        trainer = FastTrainer(net, images, labels, 10)
        trainer.train_epoch(np.arange(40), 0.5)
        b = trainer.last
        trace = net.forward(images[:10] / 255.0)
        back = net.backward(trace, labels[:10])
        arrays = [net.parameters, b.x, b.y, b.grad, *b.z, *b.a, *b.delta, *b.dC_da]
        arrays += [*trace.z, *trace.a[1:], *back.delta, *back.grad_w]
        assert all(a.ctypes.data % kernels.ALIGNMENT == 0 for a in arrays)
        assert all(a.dtype == dtype for a in arrays[1:])
        # a traced array, once frozen, is sealed: published as it is, not copied again
        assert all(is_sealed(a) for a in (*trace.z, *trace.a[1:], *back.delta))
        assert not is_sealed(b.x)  # the fast path's buffers are written again
    odd = kernels.empty((3, 5), np.float64)
    assert odd.shape == (3, 5) and odd.flags.c_contiguous and odd.flags.writeable
