"""Is training stuck? The rule, and the words that say why and what to try. No Qt.

A run is *stuck* when both hold:

1. its held-out accuracy has stayed at chance (below ``CHANCE_FACTOR`` / n_classes) for
   the last ``STUCK_EPOCHS`` complete epochs trained with the η in force, and
2. δ has vanished on its way back: the root mean square of δ¹ (the δ the first weights
   learn from) is below ``VANISHED`` times that of the output error ∂C/∂aᴸ it started
   from, over the last ``RECENT_BATCHES`` mini-batches seen.

Either alone is not enough: a network that learns slowly can sit near chance for an
epoch or two with a healthy δ, and a network that has learnt well has small errors and
saturated outputs (a confident σ(z) is near 0 or 1) — but then it is not at chance.

The case it was written for (measured with the Session API): 784-512-256-10, sigmoid,
quadratic cost, scaled init, η = 3 saturates its sigmoid outputs within the first epoch
(σ′(z³) ~ 10⁻⁶ for every output, all of them below 1 % of σ′'s maximum) and stays at 10 %
on MNIST and on the embedded sample: δ³ ~ 10⁻⁷, and each layer back shrinks it about
seven-fold (δ² ~ 10⁻⁸, δ¹ ~ 10⁻⁹), against ∂C/∂a³ ~ 0.3. The paper's 784-30-10 at the
same η has δ¹ ~ 10⁻² of a similar error, and leaves chance in its first epoch.

Input: the epochs' accuracies (``epochs_in_force`` reads them from a snapshot's history)
and per-layer scales of the backward pass (``layer_scales`` measures one snapshot's
trace; ``RecentScales`` pools the last mini-batches — what the window does with every
snapshot it draws; ``diagnose_session`` probes a headless session instead, for
``bpviz train``). Output: None, or a ``Diagnosis`` whose texts are in caret form
(``δ^1``), as the session's other labels; the window and ``bpviz train`` show them
through ``bpviz.notation.unicode_math``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from bpviz.session.snapshot import HistoryView, SessionConfig, Snapshot

if TYPE_CHECKING:
    from bpviz.session.session import Session

# at chance: below 1.5 × 1/K. A network that always answers the same class scores that
# class's share of the held-out set (8.9 % … 11.4 % on MNIST's 10,000, 10 % on the sample),
# well under 15 %; a network that learns passes 15 % within its first epoch or two.
CHANCE_FACTOR = 1.5
# epochs at chance before saying so: networks that do learn at a large η (784-512-256-10
# at η = 1, or with softmax and cross-entropy at η = 3) can spend their first epoch at
# 10 % and leave it in the second; three epochs leave no doubt.
STUCK_EPOCHS = 3
# δ¹ under a thousandth of the output error: the first weights get updates a thousand
# times smaller than the error calls for. Stuck runs measure 10⁻⁹…10⁻⁶ of it, a
# learning 784-30-10 a few hundredths: the threshold is far from both.
VANISHED = 1e-3
# a neuron is saturated when σ′(z) is below 1 % of σ′'s maximum: it passes less than a
# hundredth of the error it receives back to the layer before
SATURATED = 0.01
# most of a layer saturated: the share above which the diagnosis names the layer
SATURATED_SHARE = 0.5
# σ′'s maximum for each activation (sigmoid: σ(1 − σ) at z = 0; the others reach 1)
SIGMA_PRIME_MAX = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0}
# mini-batches pooled for the δ scales: enough that one lucky batch does not decide,
# few enough to follow a change of η within seconds at any pace
RECENT_BATCHES = 20
# held-out examples a headless run is probed on (``diagnose_session``): ten mini-batches'
# worth, a fraction of one epoch's evaluation
PROBE_EXAMPLES = 100


@dataclass(frozen=True)
class LayerScales:
    """How large the backward pass is, per layer l = 1 … L (index l − 1).

    ``delta_rms[l-1]``: root mean square of δˡ over the examples (and mini-batches)
    measured; ``error_rms``: that of the output error ∂C/∂aᴸ; ``sigma_prime_mean[l-1]``:
    mean σ′(zˡ) (None for a softmax output, which has no σ′ factor); ``saturated[l-1]``:
    the share of σ′(zˡ) values below ``SATURATED`` × σ′'s maximum (None likewise);
    ``batches``: how many mini-batches were pooled."""

    delta_rms: tuple[float, ...]
    error_rms: float
    sigma_prime_mean: tuple[float | None, ...]
    saturated: tuple[float | None, ...]
    batches: int = 1
    measured_on: str | None = None  # what was measured, when not recent mini-batches

    @property
    def reach(self) -> float:
        """rms δ¹ / rms ∂C/∂aᴸ: how much of the output error reaches the first layer."""
        return self.delta_rms[0] / self.error_rms if self.error_rms > 0 else 1.0


def _maxima(config: SessionConfig) -> list[float]:
    hidden = SIGMA_PRIME_MAX.get(config.hidden, 1.0)
    return [hidden] * (config.n_layers - 1) + [SIGMA_PRIME_MAX.get(config.output, 1.0)]


def _sums(snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-layer sums over one mini-batch, rows: Σδ², Σσ′, count of saturated σ′, count
    of σ′ values, and [Σ(∂C/∂aᴸ)², count] — None without a complete backward pass."""
    delta, sp, dC_da = snapshot.delta, snapshot.sigma_prime, snapshot.dC_da
    if len(delta) != snapshot.n_layers or any(d is None for d in delta):
        return None
    error = dC_da[-1] if dC_da and dC_da[-1] is not None else delta[-1]
    sums = np.zeros((4, snapshot.n_layers))
    for l, (d, s, top) in enumerate(zip(delta, sp, _maxima(snapshot.config), strict=True)):
        d64 = np.asarray(d, np.float64)
        sums[0, l] = np.square(d64).sum()
        if s is not None:
            sums[1, l] = float(np.sum(s, dtype=np.float64))
            sums[2, l] = np.count_nonzero(s < SATURATED * top)
            sums[3, l] = s.size
    e64 = np.asarray(error, np.float64)
    return sums, np.array([np.square(e64).sum(), e64.size])


def _scales(n_layers: int, sums: np.ndarray, error: np.ndarray, sizes, batches: int) -> LayerScales:
    """``LayerScales`` from ``_sums`` (added over ``batches`` mini-batches) and the number
    of δ values per layer, ``sizes``."""
    counts = np.asarray(sizes, np.float64)
    has_sp = sums[3] > 0
    return LayerScales(
        delta_rms=tuple(float(v) for v in np.sqrt(sums[0] / counts)),
        error_rms=float(np.sqrt(error[0] / error[1])),
        sigma_prime_mean=tuple(
            float(sums[1, l] / sums[3, l]) if has_sp[l] else None for l in range(n_layers)
        ),
        saturated=tuple(
            float(sums[2, l] / sums[3, l]) if has_sp[l] else None for l in range(n_layers)
        ),
        batches=batches,
    )


def layer_scales(snapshot: Snapshot) -> LayerScales | None:
    """The scales of ``snapshot``'s mini-batch; None until its δ¹ … δᴸ are all computed."""
    measured = _sums(snapshot)
    if measured is None:
        return None
    sums, error = measured
    sizes = [d.size for d in snapshot.delta]
    return _scales(snapshot.n_layers, sums, error, sizes, 1)


class RecentScales:
    """The scales pooled over the last ``RECENT_BATCHES`` mini-batches shown (each step
    once); a new run (another configuration, or fewer steps than before) starts afresh."""

    def __init__(self, batches: int = RECENT_BATCHES) -> None:
        self._recent: deque[tuple[np.ndarray, np.ndarray, list[int]]] = deque(maxlen=batches)
        self._config: SessionConfig | None = None
        self._step = -1

    def clear(self) -> None:
        """Forget every mini-batch measured."""
        self._recent.clear()
        self._config, self._step = None, -1

    def add(self, snapshot: Snapshot) -> bool:
        """Measure ``snapshot`` if it completes a mini-batch not measured yet; whether it
        was added."""
        if snapshot.config != self._config or snapshot.step < self._step:
            self.clear()
            self._config = snapshot.config
        if snapshot.step == self._step:
            return False
        measured = _sums(snapshot)
        if measured is None:
            return False
        self._step = snapshot.step
        self._recent.append((*measured, [d.size for d in snapshot.delta]))
        return True

    def scales(self) -> LayerScales | None:
        """The pooled scales (rms over every example of the recent mini-batches)."""
        if not self._recent:
            return None
        sums = sum(r[0] for r in self._recent)
        error = sum(r[1] for r in self._recent)
        sizes = np.sum([r[2] for r in self._recent], axis=0)
        return _scales(len(sizes), sums, error, sizes, len(self._recent))


@dataclass(frozen=True)
class Diagnosis:
    """What the window says of a stuck run: a ``title``, ``why`` (the measured δ scales
    and σ′) and ``what_to_try``; caret text (``δ^1``), and the numbers it rests on."""

    title: str
    why: str
    what_to_try: str
    accuracy: tuple[float, ...]
    scales: LayerScales

    @property
    def text(self) -> str:
        """The three parts, one paragraph each."""
        return f"{self.title}\n{self.why}\n{self.what_to_try}"


def epochs_in_force(history: HistoryView | None, batches_per_epoch: int) -> tuple[float, ...]:
    """Held-out accuracy of each complete epoch trained entirely with the η in force (the
    last η change), oldest first. With more epochs than the history keeps one by one,
    each bucket counts as one epoch with its best accuracy."""
    if history is None or history.epochs.count == 0:
        return ()
    epochs = history.epochs
    since = history.eta_changes[-1][0] if history.eta_changes else 1
    first_steps = epochs.step - batches_per_epoch + 1  # of the first epoch of each bucket
    keep = first_steps >= since
    return tuple(float(a) for a in epochs.test_accuracy.max[keep])


def _number(value: float) -> str:
    """3.2·10^{-9} for the very small, 0.32 otherwise (caret form)."""
    if value == 0:
        return "0"
    if abs(value) >= 1e-2:
        return f"{value:.2g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}·10^{{{int(exponent)}}}"


def diagnose(
    accuracy: Sequence[float],
    n_classes: int,
    scales: LayerScales | None,
    config: SessionConfig,
    eta: float,
    *,
    headless: bool = False,
) -> Diagnosis | None:
    """A ``Diagnosis`` when the run is stuck (see the module doc), else None.

    ``accuracy``: held-out accuracy (a fraction) of each complete epoch with the η in
    force, oldest first; ``scales``: the recent backward pass; ``eta``: η in force;
    ``headless``: what to try in ``bpviz train``'s flags rather than the window's controls."""
    chance = 1.0 / n_classes
    recent = at_chance(accuracy, n_classes)
    if recent is None or scales is None or scales.reach >= VANISHED:
        return None
    L = config.n_layers
    title = (
        f"Training is stuck: test accuracy {100 * recent[-1]:.1f}% — chance is "
        f"{100 * chance:.0f}% — for the last {len(recent)} epochs at η = {eta:g}."
    )
    scale_text = ", ".join(f"δ^{l} {_number(scales.delta_rms[l - 1])}" for l in range(L, 0, -1))
    factors = ", ".join(
        f"×{_number(scales.delta_rms[l - 1] / scales.delta_rms[l])}"
        for l in range(L - 1, 0, -1)
        if scales.delta_rms[l] > 0
    )
    batches = "mini-batch" if scales.batches == 1 else f"{scales.batches} mini-batches"
    measured_on = scales.measured_on or f"the last {batches}"
    why = [
        f"Why: δ vanishes on its way back — rms {scale_text} ({factors} per layer; "
        f"{measured_on}), so δ^1 is {_number(scales.reach)} of the output error ∂C/∂a^{L} "
        f"(rms {_number(scales.error_rms)}) and W^1 hardly moves."
    ]
    maxima = _maxima(config)
    quiet = []  # the layers whose σ′ is not saturated: their mean σ′, in one list
    for l in range(1, L + 1):
        share, mean = scales.saturated[l - 1], scales.sigma_prime_mean[l - 1]
        if share is None or mean is None:
            continue
        if share <= SATURATED_SHARE:
            quiet.append(f"σ′(z^{l}) {_number(mean)}")
            continue
        who, then = (
            ("The outputs are", f"δ^{L} = ∂C/∂a^{L} ⊙ σ′(z^{L}) ≈ 0 however wrong they are")
            if l == L
            else (f"Layer {l} is", f"δ^{l} = (W^{{{l + 1}}})^T δ^{{{l + 1}}} ⊙ σ′(z^{l}) ≈ 0")
        )
        why.append(
            f"{who} saturated: σ′(z^{l}) below {SATURATED:.0%} of its maximum "
            f"{maxima[l - 1]:g} for {100 * share:.0f}% of them (mean {_number(mean)}), so {then}."
        )
    if quiet:
        why.append(f"Mean {', '.join(quiet)}.")
    smaller = f"{eta / 6:.2g}"  # 784-512-256-10 stuck at η = 3 learns at η = 1 and at 0.5
    network = "--output softmax --cost cross_entropy" if headless else "Network & cost…"
    tries = [
        f"a smaller η (--eta {smaller})"
        if headless
        else f"a smaller η (e.g. η = {smaller}, then Reset)"
    ]
    if config.cost == "quadratic":
        tries.append(
            f"softmax output with the cross-entropy cost ({network}): its δ^L = a^L − y "
            "has no σ′ factor, so saturated outputs still learn"
        )
    if config.init != "scaled":
        where = "--init scaled" if headless else "Network & cost…"
        tries.append(f"scaled initialisation N(0, 1/n_in) ({where}): smaller z, σ′ alive")
    what = "Try: " + "; or ".join(tries) + "."
    return Diagnosis(title, " ".join(why), what, recent, scales)


def at_chance(accuracy: Sequence[float], n_classes: int) -> tuple[float, ...] | None:
    """The last ``STUCK_EPOCHS`` accuracies when all are at chance (the first half of the
    rule, which needs no backward pass), else None."""
    recent = tuple(accuracy[-STUCK_EPOCHS:])
    if len(recent) < STUCK_EPOCHS or max(recent) >= CHANCE_FACTOR / n_classes:
        return None
    return recent


def diagnose_session(session: Session) -> Diagnosis | None:
    """``diagnose`` for a session trained without a window (``bpviz train``): when its
    accuracy is at chance, δ is measured by a probe — one forward and backward pass on
    the first ``PROBE_EXAMPLES`` held-out examples, nothing applied, so training is
    exactly as without it."""
    from bpviz.session.probe import probe

    n_classes = session.config.sizes[-1]
    accuracy = epochs_in_force(session.history.view(), session.batches_per_epoch)
    if at_chance(accuracy, n_classes) is None:
        return None
    data = session.dataset
    count = min(PROBE_EXAMPLES, data.test_images.shape[0])
    probed = probe(session.snapshot(), data.test_images[:count], data.test_labels[:count])
    scales = layer_scales(probed)
    if scales is not None:
        scales = replace(scales, measured_on=f"{count} held-out examples")
    return diagnose(accuracy, n_classes, scales, session.config, session.eta, headless=True)


def diagnose_snapshot(snapshot: Snapshot, scales: LayerScales | None) -> Diagnosis | None:
    """``diagnose`` for a snapshot's run, with ``scales`` measured on recent batches."""
    accuracy = epochs_in_force(snapshot.history, snapshot.batches_per_epoch)
    n_classes = snapshot.config.sizes[-1]
    return diagnose(accuracy, n_classes, scales, snapshot.config, snapshot.eta)
