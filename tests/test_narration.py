"""Every phase is told in its own words beside its equation, for the network it runs on
(Qt-free: bpviz.ui.narration)."""

from __future__ import annotations

import pytest

from bpviz.session.snapshot import Phase, PhaseKind, SessionConfig, phases_for
from bpviz.ui.narration import computing, narrate

CONFIGS = {
    "784-30-10": SessionConfig(),
    "4 layers, softmax": SessionConfig(
        sizes=(784, 40, 30, 20, 10), output="softmax", cost="cross_entropy", hidden="tanh"
    ),
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_every_phase_has_its_own_equation_and_words(config):
    phases = phases_for(config.n_layers)
    told = [narrate(phase, config) for phase in phases]
    assert len({t.equation for t in told}) == len(phases)
    assert len({t.words for t in told}) == len(phases)
    for phase, t in zip(phases, told, strict=True):
        assert t.equation and len(t.words) > 40
        assert "^" not in t.line and "_{" not in t.line  # Unicode math, never caret text
        assert computing(phase, config) == f"computing {t.equation}"


def test_the_output_delta_depends_on_the_output_and_the_cost():
    delta = Phase(PhaseKind.DELTA, 2)
    sigmoid = narrate(delta, SessionConfig())
    softmax = narrate(delta, SessionConfig(output="softmax", cost="cross_entropy"))
    cross = narrate(delta, SessionConfig(cost="cross_entropy"))
    assert sigmoid.equation == "δ² = (a² − y) ⊙ σ′(z²)"
    assert "how wrong each output is" in sigmoid.words and "can still move" in sigmoid.words
    assert softmax.equation == "δ² = a² − y" and "cancels" in softmax.words
    assert cross.equation.endswith("= a² − y") and cross.words != sigmoid.words


def test_the_hidden_delta_names_the_next_layer():
    config = SessionConfig(sizes=(784, 40, 30, 20, 10))
    assert narrate(Phase(PhaseKind.DELTA, 1), config).equation == "δ¹ = (W²)ᵀδ² ⊙ σ′(z¹)"
    assert narrate(Phase(PhaseKind.DELTA, 3), config).equation == "δ³ = (W⁴)ᵀδ⁴ ⊙ σ′(z³)"
    assert computing(None, config) == ""


def test_what_feeds_a_layer_is_named_for_the_data():
    """Layer 1 reads the input's pixels, or the two coordinates of a toy set (which has
    no pixels); a deeper layer reads the neurons of the one before."""
    mnist, toy = SessionConfig(sizes=(784, 30, 10)), SessionConfig(sizes=(2, 8, 8, 2))
    first = narrate(Phase(PhaseKind.FORWARD, 1), toy).words
    assert "pixel" not in first and "every coordinate of the input" in first
    assert "every pixel of the input" in narrate(Phase(PhaseKind.FORWARD, 1), mnist).words
    assert "every neuron of layer 1" in narrate(Phase(PhaseKind.FORWARD, 2), toy).words
    assert "aⱼ of the input at its start" in narrate(Phase(PhaseKind.GRADIENT, 1), toy).words
    assert "aⱼ of layer 2 at its start" in narrate(Phase(PhaseKind.GRADIENT, 3), toy).words
