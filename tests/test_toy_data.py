"""Toy 2-D data sets (bpviz.data.toy): seeded, balanced, float inputs the whole system uses."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.data import resolve_source
from bpviz.data.dataset import Dataset
from bpviz.data.toy import DEFAULTS, TOY_NAMES, make_toy, n_classes
from bpviz.engine.fast import FastTrainer
from bpviz.files.codecs import dataset_fingerprint
from bpviz.session.config import make_network
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig


@pytest.mark.parametrize("name", TOY_NAMES)
def test_same_seed_same_points_other_seed_other_points(name):
    a, b, c = make_toy(name, seed=3), make_toy(name, seed=3), make_toy(name, seed=4)
    assert np.array_equal(a.train_images, b.train_images)
    assert np.array_equal(a.test_labels, b.test_labels)
    assert dataset_fingerprint(a) == dataset_fingerprint(b) != dataset_fingerprint(c)


@pytest.mark.parametrize("name", TOY_NAMES)
def test_balanced_splits_of_two_float_coordinates(name):
    d = DEFAULTS[name]
    data = make_toy(name)
    k = n_classes(name)
    assert data.train_images.shape == (d.n_train, 2) and data.test_images.shape == (d.n_test, 2)
    assert data.train_images.dtype == np.float32 and not data.is_pixels
    assert data.n_inputs == 2 and data.n_classes == k == len(data.class_names)
    for labels in (data.train_labels, data.test_labels):
        counts = np.bincount(labels, minlength=k)
        assert counts.max() - counts.min() <= 1 and counts.sum() == labels.size
    # the test points are not copies of training points
    assert not np.array_equal(data.train_images[: d.n_test], data.test_images)


def test_noise_moves_the_points_and_zero_noise_is_exact():
    clean = make_toy("circles", noise=0.0)
    radii = np.hypot(*clean.train_images.T)
    assert np.allclose(radii, np.where(clean.train_labels == 0, 0.5, 1.0), atol=1e-6)
    noisy = make_toy("circles", noise=0.3)
    assert np.abs(np.hypot(*noisy.train_images.T) - radii).max() > 0.1


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="unknown toy"):
        make_toy("donut")
    with pytest.raises(ValueError, match="noise"):
        make_toy("moons", noise=-1)
    with pytest.raises(ValueError, match="at least 3"):
        make_toy("blobs3", n_test=2)


def test_float_inputs_are_used_unscaled_pixels_still_scaled():
    x = np.array([[0.25, -2.0]], np.float32)
    assert np.array_equal(Dataset.to_float(x), x)
    assert Dataset.to_float(np.array([[255, 51]], np.uint8))[0, 1] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="uint8 pixels or float32"):
        Dataset(x.astype(np.float64), np.zeros(1, np.uint8), x, np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match="finite"):
        bad = np.array([[np.nan, 0]], np.float32)
        Dataset(bad, np.zeros(1, np.uint8), x, np.zeros(1, np.uint8))


def test_resolve_source_knows_the_toy_words():
    data, description = resolve_source("spiral")
    assert data.n_inputs == 2 and "spiral" in description and "chosen explicitly" in description


def test_bpviz_data_may_name_a_toy_set(monkeypatch):
    """The window and the CLI share ``resolve_source``: $BPVIZ_DATA=moons is the moons."""
    monkeypatch.setenv("BPVIZ_DATA", "moons")
    data, description = resolve_source()
    assert data.n_inputs == 2 and "two moons" in description and "BPVIZ_DATA" in description


def test_traced_steps_and_fast_path_agree_bit_for_bit_on_toy_data():
    """A session's traced step and its fast path feed the network the same unscaled inputs."""
    data = make_toy("moons")
    config = SessionConfig(sizes=(2, 5, 2), hidden="tanh", output="softmax",
                           cost="cross_entropy", batch_size=4, eta=0.1)  # fmt: skip
    traced, fast = Session(data, config), Session(data, config)
    for _ in range(3):
        traced.run(1, trace_last=True)
    fast.run(3)
    assert np.array_equal(traced.network.parameters, fast.network.parameters)
    # and the fast trainer uses the points as they are (no 1/255)
    trainer = FastTrainer(make_network(config), data.train_images, data.train_labels, 4)
    assert np.array_equal(trainer.x_all, data.train_images)
