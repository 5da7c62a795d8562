"""Each phase of a mini-batch in plain words beside its equation (no Qt).

``narrate(phase, config)`` gives the equation the phase computes, in Unicode (δ¹, Wˡ, σ′),
and one or two sentences a learner can read while the phase plays; ``computing(phase,
config)`` the short label the network view writes beside the layer being computed. The
words depend on the network: δᴸ of a softmax output with cross-entropy is aᴸ − y (the
softmax Jacobian cancels ∂C/∂aᴸ), of a sigmoid output with the quadratic cost
(aᴸ − y) ⊙ σ′(zᴸ), and so on (see /work/shared/docs/backprop-derivation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from bpviz.notation import superscript
from bpviz.session.snapshot import Phase, PhaseKind, SessionConfig
from bpviz.session.toyconfig import is_toy

_PRIME_WORDS = {  # how much a neuron "can still move": σ′ in words
    "sigmoid": "σ′(z) = a(1 − a): at most ¼, near 0 when saturated",
    "tanh": "σ′(z) = 1 − a²: near 0 when saturated",
    "relu": "σ′(z) = 1 when active, 0 when silent",
    "leaky_relu": "σ′(z) = 1 when active, 0.01 when not",
}


@dataclass(frozen=True)
class Narration:
    """A phase told twice: ``equation`` (Unicode math) and ``words`` (plain sentences)."""

    equation: str
    words: str

    @property
    def line(self) -> str:
        """Both on one line: ``"δ² = … — how wrong each output is, …"``."""
        return f"{self.equation} — {self.words}"


FULL_SPEED = Narration(
    "W ← W − η ∂C/∂W, mini-batch after mini-batch",
    "full speed: each frame shows the end of the latest mini-batch, the edges the weights "
    "wᵢⱼ being learnt. A slower pace plays every phase; . steps one.",
)


def _sup(l: int | str) -> str:
    return superscript(l)


def _from_below(l: int, config: SessionConfig) -> tuple[str, str, str, str]:
    """What feeds layer l, for the forward and gradient phases: ˡ and ˡ⁻¹ as
    superscripts, layer l − 1 in words and what it is made of — the input's pixels (the
    coordinates of toy data: no pixels there) for l = 1, else a layer's neurons."""
    if l == 1:
        below, unit = "the input", "coordinate" if is_toy(config) else "pixel"
    else:
        below, unit = f"layer {l - 1}", "neuron"
    return _sup(l), _sup(l - 1), below, unit


def _delta_output(config: SessionConfig) -> Narration:
    L = _sup(config.n_layers)
    if config.output == "softmax":
        return Narration(
            f"δ{L} = a{L} − y",
            "how wrong each output is: its probability minus the target (1 for the right "
            "class, 0 for the others). With softmax and cross-entropy nothing else "
            "multiplies it — the softmax's own slope cancels the cost's.",
        )
    if config.cost == "cross_entropy":
        return Narration(
            f"δ{L} = ∂C/∂a{L} ⊙ σ′(z{L}) = a{L} − y",
            "how wrong each output is, ∂C/∂a = (a − y)/(a(1 − a)), times how much its "
            "neuron can still move, σ′(z) = a(1 − a): the two cancel to a − y, so a "
            "saturated but wrong output still learns fast.",
        )
    prime = _PRIME_WORDS.get(config.output, "σ′(z) is the slope of the activation")
    return Narration(
        f"δ{L} = (a{L} − y) ⊙ σ′(z{L})",
        f"how wrong each output is (a − y, the cost's slope) times how much its neuron "
        f"can still move ({prime}).",
    )


def narrate(phase: Phase | None, config: SessionConfig) -> Narration:
    """The equation and the plain words for ``phase`` of a network ``config`` (None:
    before the first phase of a mini-batch)."""
    if phase is None:
        return Narration(
            "Wˡ, bˡ",
            "the network before its next mini-batch: each edge coloured by its weight wᵢⱼ. "
            "Press . to step one phase, Space to run.",
        )
    L = config.n_layers
    l = phase.layer
    kind = phase.kind
    if kind is PhaseKind.FORWARD:
        s, p, below, unit = _from_below(l, config)
        act = config.output if l == L else config.hidden
        return Narration(
            f"a{s} = σ(W{s} a{p} + b{s})",
            f"forward: each neuron of layer {l} adds up what every {unit} of {below} sends "
            f"it along its edges, weight × activation wᵢⱼ aⱼ, plus its bias, and squashes "
            f"the sum with {act}.",
        )
    if kind is PhaseKind.COST:
        if config.cost == "cross_entropy":
            eq, how = "C = −(1/m) Σₓ Σₖ yₖ ln aₖᴸ", "minus the log of the right class's output"
        else:
            eq, how = "C = (1/2m) Σₓ ‖aᴸ − y‖²", "half the squared distance to the target y"
        return Narration(
            eq,
            f"the cost: how far the outputs are from the labels, {how}, averaged over the "
            f"mini-batch. Backpropagation starts here.",
        )
    if kind is PhaseKind.DELTA:
        if l == L:
            return _delta_output(config)
        s, n = _sup(l), _sup(l + 1)
        prime = _PRIME_WORDS.get(config.hidden, "σ′ is the slope of the activation")
        return Narration(
            f"δ{s} = (W{n})ᵀδ{n} ⊙ σ′(z{s})",
            f"backward: each neuron of layer {l} gathers the errors δᵢ of layer {l + 1} "
            f"back along its edges, Σᵢ wᵢⱼ δᵢ, times how much it can still move ({prime}).",
        )
    if kind is PhaseKind.GRADIENT:
        s, p, below, _ = _from_below(l, config)
        return Narration(
            f"∂C/∂W{s} = δ{s} (a{p})ᵀ",
            f"the gradient of W{s}: each weight's share of the blame is the error δᵢ of "
            f"layer {l} at its end times the activation aⱼ of {below} at its start, "
            f"averaged over the mini-batch (a silent aⱼ: no blame).",
        )
    return Narration(
        "Wˡ ← Wˡ − η ∂C/∂Wˡ,  bˡ ← bˡ − η ∂C/∂bˡ",
        f"the update: every weight and bias takes a step of η = {config.eta:g} against "
        f"its gradient, ΔW = −η ∂C/∂W, so the cost of this mini-batch goes down.",
    )


def computing(phase: Phase | None, config: SessionConfig) -> str:
    """The label beside the layer being computed, e.g. ``"computing δ¹ = (W²)ᵀδ² ⊙
    σ′(z¹)"`` ("" before the first phase)."""
    if phase is None:
        return ""
    return f"computing {narrate(phase, config).equation}"
