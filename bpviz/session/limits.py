"""The one home of every limit on what a user may ask for: η, batch size, layer sizes.

Every door — the window's fields and dialogs, the ``train`` CLI, session files, the
Worker API — asks these functions and shows their message as it is. Each raises
``ValueError`` with a sentence a user can act on; none knows which door asked.

The engine checks only what its arithmetic needs (η finite and ≥ 0, shapes); how large
an η is *sensible* is a policy of the training model, so it lives here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# η above this overshoots on every update for any network the window offers (the
# divergence demonstration uses η = 10⁴, the largest still accepted).
ETA_MAX = 1e4
# The η slider's log scale; typed values may go outside it, within (0, ETA_MAX].
ETA_SLIDER_LOG_MIN, ETA_SLIDER_LOG_MAX = -4.0, 2.0

MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 4096  # neurons in a hidden layer
MAX_INPUTS = 4096  # n_0: pixels (784 for MNIST) or coordinates (2 for toy data)
MAX_CLASSES = 1000  # n_L


def check_eta(eta: Any) -> float:
    """η as a float in (0, ETA_MAX]; ValueError naming the problem otherwise.

    For numbers from code (the Worker API, session files, parsed flags): refuses text,
    booleans, NaN, ±∞ and integers too large for a float. Typed text goes through
    :func:`parse_eta` first.
    """
    if isinstance(eta, bool | str | bytes):
        raise ValueError(f"η must be a number, got {eta!r}")
    try:
        value = float(eta)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"η must be a number such as 0.5 or 3, got {type(eta).__name__}") from None
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"η must be a finite number in (0, {ETA_MAX:g}], got {value}")
    if value <= 0:
        raise ValueError(
            f"η must be positive, got {value:g}: the update W ← W − η ∂C/∂W steps against "
            "the gradient only when η > 0 (η = 0 would not learn at all)"
        )
    if value > ETA_MAX:
        raise ValueError(
            f"η = {value:g} is too large: every update would overshoot and the network "
            f"diverges. Choose 0 < η ≤ {ETA_MAX:g} (3.0 suits sigmoid + quadratic cost)"
        )
    return value


def parse_eta(text: str) -> float:
    """η typed by a user (a field, a ``--eta`` flag): the number, then :func:`check_eta`."""
    try:
        value = float(text.strip())
    except ValueError:
        shown = text if len(text) <= 40 else text[:37] + "…"
        raise ValueError(f"η must be a number such as 0.5 or 3, got {shown!r}") from None
    return check_eta(value)


def check_batch_size(m: Any, n_train: int) -> int:
    """The mini-batch size m as an int in 1 … ``n_train`` (the training examples)."""
    if isinstance(m, bool) or not isinstance(m, int | np.integer):
        raise ValueError(f"batch size must be a whole number, got {m!r}")
    if not 1 <= m <= n_train:
        raise ValueError(
            f"batch size must be between 1 and {n_train:,} (the training examples), got {m:,}"
        )
    return int(m)


def check_hidden(hidden: Sequence[Any]) -> tuple[int, ...]:
    """Hidden layer widths n_1 … n_{L−1}: at most MAX_HIDDEN_LAYERS, each 1 … MAX_WIDTH."""
    hidden = tuple(hidden)
    if any(isinstance(n, bool) or not isinstance(n, int | np.integer) for n in hidden):
        raise ValueError(f"hidden layer sizes must be whole numbers, got {list(hidden)!r}")
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(hidden)}")
    if any(not 1 <= n <= MAX_WIDTH for n in hidden):
        raise ValueError(
            f"each hidden layer needs 1 … {MAX_WIDTH:,} neurons, got {', '.join(map(str, hidden))}"
        )
    return tuple(int(n) for n in hidden)


def check_sizes(sizes: Sequence[Any]) -> tuple[int, ...]:
    """Layer sizes n_0 … n_L: at least two, inputs and classes and hidden layers bounded."""
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ValueError(f"a network needs at least two layers, got {list(sizes)!r}")
    ends = sizes[0], sizes[-1]
    if any(isinstance(n, bool) or not isinstance(n, int | np.integer) for n in ends):
        raise ValueError(f"layer sizes must be whole numbers, got {list(sizes)!r}")
    if not 1 <= ends[0] <= MAX_INPUTS:
        raise ValueError(f"the input layer needs 1 … {MAX_INPUTS:,} neurons, got {ends[0]}")
    if not 2 <= ends[1] <= MAX_CLASSES:
        raise ValueError(f"the output layer needs 2 … {MAX_CLASSES:,} neurons, got {ends[1]}")
    return (int(ends[0]), *check_hidden(sizes[1:-1]), int(ends[1]))


def check_weight(l: Any, i: Any, j: Any, sizes: Sequence[int]) -> tuple[int, int, int]:
    """(l, i, j) as ints if a network of ``sizes`` has the weight wᵢⱼˡ (Wˡ is
    ``(sizes[l], sizes[l − 1])``), else ValueError naming the shapes it has."""
    whole = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (l, i, j))
    if not (whole and 1 <= l < len(sizes) and 0 <= i < sizes[l] and 0 <= j < sizes[l - 1]):
        shapes = [(sizes[k], sizes[k - 1]) for k in range(1, len(sizes))]
        raise ValueError(f"no weight wᵢⱼˡ with (l, i, j) = {(l, i, j)}: W shapes {shapes}")
    return int(l), int(i), int(j)
