"""The pace of training in the window, in one place (no Qt): its stops, which of them play
every phase of a mini-batch ("animated"), how long a phase is shown, and their words.

A pace is a number of mini-batches per second, or None for full speed. At an animated
pace (``is_animated``: at most ``ANIMATED_MAX`` mini-batches a second) the worker runs
one phase at a time, forward 1 … L, the cost, δᴸ … δ¹, ∂C/∂Wᴸ … ∂C/∂W¹, the update
(``phases_for(L)``: 3L + 2 phases), each shown ``phase_seconds(pace, L)``; at a faster
pace it runs whole mini-batches and the window shows the end of each. ``check_pace`` is
the rule every door asks (the slider's stops, the saved setting, ``main.py --pace``).
"""

from __future__ import annotations

import math

# Mini-batches per second, slowest first; None (full speed) last. The first four are animated.
STOPS: tuple[float | None, ...] = (0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)
ANIMATED_MAX = 2.0  # the fastest pace that plays every phase (2 × 8 phases: 62 ms each)
DEFAULT = 1.0  # a first launch: 1 mini-batch/s, every phase shown (784-30-10: 125 ms a phase)
MAX_PACE = 1_000_000.0  # beyond it a pace means nothing but "full speed"
STEP_SECONDS = 0.4  # how long a phase stepped by hand (the . key) takes to play
FULL = "full"  # the word for full speed (settings, --pace)
# the key that switches full speed on and off (a letter alone would be taken from the η
# field, where the window's shortcuts win over keys a number does not need: "inf")
FULL_SPEED_KEY = "Ctrl+F"


def check_pace(pace: float | None) -> float | None:
    """``pace`` as a float (None stays None: full speed); ValueError, saying the rule, if
    it is not a number of mini-batches per second in (0, ``MAX_PACE``]."""
    if pace is None:
        return None
    if isinstance(pace, bool) or not isinstance(pace, int | float):
        raise ValueError(f"a pace is a number of mini-batches per second, not {pace!r}")
    value = float(pace)
    if not (0.0 < value <= MAX_PACE):  # NaN fails too
        raise ValueError(
            f"a pace must be more than 0 and at most {MAX_PACE:,.0f} mini-batches per second, "
            f"or '{FULL}'; got {pace:g}"
        )
    return value


def parse_pace(text: str) -> float | None:
    """Typed text (``--pace``): ``"full"`` → None, ``"0.5"`` → 0.5; ValueError saying why
    otherwise (``check_pace``)."""
    word = text.strip().lower()
    if word in (FULL, "full speed", "max"):
        return None
    try:
        value = float(word.removesuffix("/s"))
    except ValueError:
        raise ValueError(
            f"a pace is a number of mini-batches per second (e.g. 1 or 0.5) or '{FULL}', "
            f"not {text!r}"
        ) from None
    return check_pace(value)


def is_animated(pace: float | None) -> bool:
    """Whether ``pace`` plays every phase of each mini-batch (True up to ``ANIMATED_MAX``)."""
    return pace is not None and pace <= ANIMATED_MAX


def n_phases(n_layers: int) -> int:
    """Phases in one mini-batch of a network with L = ``n_layers`` weight layers: 3L + 2."""
    return 3 * n_layers + 2


def phase_seconds(pace: float | None, n_layers: int) -> float | None:
    """How long each phase is shown at ``pace`` on a network with L = ``n_layers``: the
    mini-batch's time 1/pace shared evenly by its 3L + 2 phases; None if not animated."""
    if not is_animated(pace):
        return None
    return 1.0 / (pace * n_phases(n_layers))


def nearest_stop(pace: float | None) -> float | None:
    """The stop closest to ``pace`` on a log scale (None: full speed)."""
    if pace is None:
        return None
    paces = [p for p in STOPS if p is not None]
    return min(paces, key=lambda p: abs(math.log(p / pace)))


def _rate(pace: float) -> str:
    """``"1 mini-batch/s"``, ``"0.25 mini-batches/s"``, ``"1,000 mini-batches/s"``."""
    noun = "mini-batch" if pace == 1 else "mini-batches"
    number = f"{pace:,.0f}" if pace == int(pace) else f"{pace:g}"
    return f"{number} {noun}/s"


def label(pace: float | None) -> str:
    """What the pace does, in words: ``"1 mini-batch/s, every phase shown"``,
    ``"20 mini-batches/s, end of each mini-batch"``, ``"full speed, end of each mini-batch"``."""
    if pace is None:
        return "full speed, end of each mini-batch"
    if is_animated(pace):
        return f"{_rate(pace)}, every phase shown"
    return f"{_rate(pace)}, end of each mini-batch"


def short_label(pace: float | None) -> str:
    """The toolbar's words (``label`` without the noun): ``"1/s · every phase"``,
    ``"20/s · ends only"``, ``"full speed"``."""
    if pace is None:
        return "full speed"
    number = f"{pace:,.0f}" if pace == int(pace) else f"{pace:g}"
    return f"{number}/s · {'every phase' if is_animated(pace) else 'ends only'}"


def describe(pace: float | None, n_layers: int = 2) -> str:
    """A sentence for the tooltip and the status bar: the pace, and what one sees."""
    if is_animated(pace):
        ms = 1000 * phase_seconds(pace, n_layers)
        return (
            f"{label(pace)}: forward 1 … L, the cost, δᴸ … δ¹, ∂C/∂Wᴸ … ∂C/∂W¹ and the "
            f"update, one after another ({n_phases(n_layers)} phases, {ms:.0f} ms each)"
        )
    if pace is None:
        return f"{label(pace)}: as fast as it trains; the views show a mini-batch now and then"
    return f"{label(pace)}: the views show each mini-batch after its update"


def store_text(pace: float | None) -> str:
    """How a pace is written in the settings and on the command line (``"full"``, ``"1"``)."""
    return FULL if pace is None else f"{pace:g}"


def welcome(pace: float | None) -> str:
    """What a first launch says in the status bar: Space starts it, at ``pace``."""
    return (
        f"Press Space to start training — {label(pace)}. "
        f"Space again pauses, . steps one phase, {FULL_SPEED_KEY} switches to full speed."
    )


class PhaseClock:
    """How far the phase on screen has played: ``progress(now)`` rises from 0 when it
    appeared (``start``) to 1 after its display time ``seconds``; inactive when stopped.
    Times are ``time.perf_counter()`` seconds (the window's frame clock)."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.seconds: float | None = None  # the phase's display time (None: not playing)

    @property
    def active(self) -> bool:
        return self.started is not None

    def start(self, now: float, seconds: float) -> None:
        """A phase appeared at ``now``, to be played over ``seconds`` (> 0)."""
        self.started, self.seconds = now, max(float(seconds), 1e-3)

    def stop(self) -> None:
        self.started = self.seconds = None

    def progress(self, now: float) -> float:
        """0 … 1: the time since ``start`` over the display time (1 when inactive)."""
        if self.started is None or self.seconds is None:
            return 1.0
        return min(max((now - self.started) / self.seconds, 0.0), 1.0)
