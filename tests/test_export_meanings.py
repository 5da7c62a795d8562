"""snapshot.json says truly what each array of state.npz holds, for the network exported:
each description's equation is checked against the stored arrays themselves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bpviz.data import load_sample
from bpviz.files.bundle import write_bundle_data
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig

SIGMOID = SessionConfig(sizes=(784, 16, 12, 10), seed=4, batch_size=6)
SOFTMAX = SessionConfig(
    sizes=(784, 16, 12, 10), seed=4, batch_size=6, output="softmax", cost="cross_entropy"
)


@pytest.fixture(scope="module")
def dataset():
    return load_sample()


def export(tmp_path, dataset, config):
    session = Session(dataset, config)
    snapshot = session.step_batch()  # one whole mini-batch: every array is computed
    write_bundle_data(tmp_path, snapshot, data_source="sample")
    meta = json.loads((tmp_path / "snapshot.json").read_text(encoding="utf-8"))
    with np.load(tmp_path / "state.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name].astype(np.float64) for name in npz.files}
    return {name: entry["meaning"] for name, entry in meta["arrays"].items()}, arrays


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-6)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("config", [SIGMOID, SOFTMAX], ids=["sigmoid", "softmax"])
def test_every_description_matches_the_array_stored(tmp_path, dataset, config):
    said, s = export(tmp_path, dataset, config)
    m, L = config.batch_size, 3
    assert sorted(said) == sorted(s)

    # a⁰ is the input x, not σ(z⁰) (there is no z⁰)
    assert said["a0"].startswith("a⁰ = x") and "σ" not in said["a0"]
    assert "z0" not in s
    close(s["a0"], s["x"])

    for l in range(1, L + 1):
        sup = "¹²³"[l - 1]
        prev = "⁰¹²"[l - 1]
        assert said[f"z{l}"].startswith(f"z{sup} = W{sup} a{prev} + b{sup}")
        close(s[f"z{l}"], s[f"a{l - 1}"] @ s[f"W{l}_before"].T + s[f"b{l}_before"])
        # ∂C/∂W and ∂C/∂b are batch means of per-example products
        assert "mean over the mini-batch" in said[f"grad_W{l}"]
        close(s[f"grad_W{l}"], s[f"delta{l}"].T @ s[f"a{l - 1}"] / m)
        close(s[f"grad_b{l}"], s[f"delta{l}"].mean(axis=0))
        # ∂C/∂a is per example: one row per example, nothing averaged
        assert "per example" in said[f"dC_da{l}"] and s[f"dC_da{l}"].shape[0] == m

    for l in range(1, L):  # hidden layers: sigmoid, δ = ∂C/∂a ⊙ σ′(z), ∂C/∂a = Wᵀδ
        sup, nxt = "¹²"[l - 1], "²³"[l - 1]
        assert said[f"a{l}"] == f"a{sup} = sigmoid(z{sup}), per example, (m, n{'₁₂'[l - 1]})"
        close(s[f"a{l}"], sigmoid(s[f"z{l}"]))
        assert f"(W{nxt})ᵀ δ{nxt}" in said[f"dC_da{l}"]
        close(s[f"dC_da{l}"], s[f"delta{l + 1}"] @ s[f"W{l + 1}_before"])
        assert "∂Cₓ/∂a" in said[f"delta{l}"] and "σ′" in said[f"delta{l}"]
        close(s[f"delta{l}"], s[f"dC_da{l}"] * s[f"sigma_prime{l}"])
        close(s[f"sigma_prime{l}"], s[f"a{l}"] * (1 - s[f"a{l}"]))

    y, aL = s["y"], s["a3"]
    if config.output == "softmax":
        assert "softmax(z³)" in said["a3"]
        e = np.exp(s["z3"] - s["z3"].max(axis=1, keepdims=True))
        close(aL, e / e.sum(axis=1, keepdims=True))
        # δᴸ = aᴸ − y; no σ′ᴸ is stored and the description does not claim one as a factor
        assert "sigma_prime3" not in s
        assert "a³ − y" in said["delta3"] and "∂Cₓ/∂a³ ⊙" not in said["delta3"]
        close(s["delta3"], aL - y)
        assert "−y / a³" in said["dC_da3"]
        close(s["dC_da3"], -y / aL)
    else:
        assert said["a3"].startswith("a³ = sigmoid(z³)")
        close(aL, sigmoid(s["z3"]))
        assert "∂Cₓ/∂a³ ⊙ σ′(z³)" in said["delta3"]
        close(s["delta3"], s["dC_da3"] * s["sigma_prime3"])
        assert "a³ − y" in said["dC_da3"]
        close(s["dC_da3"], aL - y)


def test_descriptions_use_the_papers_notation_not_caret_text(tmp_path, dataset):
    said, _ = export(tmp_path, dataset, SOFTMAX)
    for name, text in said.items():
        assert "^" not in text and "_{" not in text, (name, text)
