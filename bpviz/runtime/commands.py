"""The one command interface of a training worker: ``TrainingWorker``, and the commands.

The window drives a ``TrainingWorker``: a ``Worker`` (a thread in this process) or a
``RemoteWorker`` (the same Worker in a child process). Both implement every method below
in their own class body (no ``__getattr__`` forwarding; ``tests/test_architecture_commands.py``
checks it), so a reader or a tool can follow a click to the code that applies it.

Each command method makes one of the small frozen dataclasses below. ``Worker.submit``
checks it in the caller's thread (ValueError if refused: nothing is queued) and queues it;
the worker thread applies it with ``match`` on its class at the next phase boundary, in
order. A ``RemoteWorker`` pickles the same object to its child over a private pipe, where
the child's Worker submits it. A command is acknowledged by its return value — None, or
the accepted η for ``SetEta`` — never by a snapshot: the window sees the new state
through ``latest()``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from bpviz.data.dataset import Dataset
from bpviz.session import limits
from bpviz.session.session import check_config
from bpviz.session.snapshot import SessionConfig, Snapshot


class Command:
    """A request to the worker thread (see the module doc)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        """The worker method that makes it, for messages: ``StepBatch`` → "step_batch"."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()


@dataclass(frozen=True, slots=True)
class Run(Command):
    """Train continuously (at the pace set) until ``Pause``."""


@dataclass(frozen=True, slots=True)
class Pause(Command):
    """Stop before the next mini-batch (or phase) starts."""


@dataclass(frozen=True, slots=True)
class StepBatch(Command):
    """Pause if running, then complete one mini-batch."""


@dataclass(frozen=True, slots=True)
class StepPhase(Command):
    """Pause if running, then run exactly one phase."""


@dataclass(frozen=True, slots=True)
class Reset(Command):
    """Pause and start afresh with ``config`` (None: the current one, with the η in force)
    and ``seed`` (None: the configuration's)."""

    config: SessionConfig | None = None
    seed: int | None = None

    @classmethod
    def asked(cls, config: SessionConfig | None, new_seed: bool) -> Reset:
        """The command for ``reset(config, new_seed=…)``: a fresh random seed if asked."""
        return cls(config, secrets.randbelow(2**31) if new_seed else None)


@dataclass(frozen=True, slots=True)
class SetEta(Command):
    """Use the learning rate η from the next update on (``limits.check_eta`` decides)."""

    eta: float


@dataclass(frozen=True, slots=True)
class SetPace(Command):
    """Limit running to ``steps_per_second`` mini-batches a second (None: full speed);
    with ``every_phase``, run and publish them one phase at a time, the phases spaced
    evenly over the mini-batch's 1/``steps_per_second`` seconds (an animated pace)."""

    steps_per_second: float | None
    every_phase: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class SetDataset(Command):
    """Train on ``dataset`` (input and output layer sized to it); implies a reset."""

    dataset: Dataset


@dataclass(frozen=True, slots=True, eq=False)
class TrainOn(Command):
    """One extra update on examples x ``(m, n_0)`` in [0, 1] with ``labels`` ``(m,)``."""

    x: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True, slots=True)
class AddWatch(Command):
    """Record w_ij of Wˡ and ∂C/∂w_ij at every step."""

    l: int
    i: int
    j: int


@dataclass(frozen=True, slots=True)
class RemoveWatch(Command):
    """Stop recording w_ij of Wˡ."""

    l: int
    i: int
    j: int


def check(
    command: Command, config: SessionConfig, dataset: Dataset
) -> tuple[Command, SessionConfig, Dataset]:
    """``command`` as the worker will apply it, and the configuration and data it leaves,
    given those the commands queued before it leave (``config``, ``dataset``). ValueError
    if it is refused (η by ``limits.check_eta``, a configuration by ``check_config``),
    TypeError if it is no command."""
    match command:
        case Run() | Pause() | StepBatch() | StepPhase() | RemoveWatch():
            return command, config, dataset
        case SetEta(eta):
            return SetEta(limits.check_eta(eta)), config, dataset
        case SetPace(pace, every_phase):
            pace = _check_pace(pace)
            return SetPace(pace, bool(every_phase) and pace is not None), config, dataset
        case Reset(asked, seed):
            base = config if asked is None else asked
            base = base if seed is None else replace(base, seed=seed)
            checked = check_config(base, dataset)
            return Reset(None if asked is None else checked, checked.seed), checked, dataset
        case SetDataset(new):
            sizes = (new.n_inputs, *config.sizes[1:-1], new.n_classes)
            return command, check_config(replace(config, sizes=sizes), new), new
        case TrainOn(x, labels):
            return _check_examples(x, labels, config.sizes), config, dataset
        case AddWatch(l, i, j):
            return _check_watch(l, i, j, config.sizes), config, dataset
    raise TypeError(f"not a worker command: {command!r}")


def _check_pace(steps_per_second: float | None) -> float | None:
    if steps_per_second is None:
        return None
    if isinstance(steps_per_second, bool | str):
        raise ValueError(f"pace must be a number of steps per second, got {steps_per_second!r}")
    value = float(steps_per_second)
    if not 0.0 < value < float("inf"):
        raise ValueError(f"pace must be a positive number of steps per second, got {value}")
    return value


def _check_examples(x: np.ndarray, labels: np.ndarray, sizes: tuple[int, ...]) -> TrainOn:
    """``TrainOn`` with x as float64 ``(m, n_0)`` and labels as int64 ``(m,)``; ValueError
    if they are not finite, or do not fit the network of ``sizes``."""
    x = np.array(x, dtype=np.float64, ndmin=2)
    labels = np.array(labels, ndmin=1)
    if x.ndim != 2 or x.shape[1] != sizes[0] or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be finite, shape (m, {sizes[0]}); got {x.shape}")
    if (
        labels.shape != (x.shape[0],)
        or labels.dtype.kind not in "iu"
        or (labels.size and (labels.min() < 0 or labels.max() >= sizes[-1]))
    ):
        raise ValueError(f"labels must be {x.shape[0]} integers in 0…{sizes[-1] - 1}")
    return TrainOn(x, labels.astype(np.int64))


def _check_watch(l: int, i: int, j: int, sizes: tuple[int, ...]) -> AddWatch:
    """``AddWatch`` of plain ints; ValueError if the network of ``sizes`` has no w_ij^l."""
    return AddWatch(*limits.check_weight(l, i, j, sizes))


@runtime_checkable
class TrainingWorker(Protocol):
    """What the window may ask of its trainer; ``Worker`` and ``RemoteWorker`` implement
    every member in their own body. Commands return once queued (checked first: a
    ValueError says why one was refused); ``latest()`` shows their effect."""

    # The state each worker keeps in ``self._running`` and ``self._serial`` (a ``Worker``
    # writes them as it trains and publishes, a ``RemoteWorker`` from its child's
    # replies), read here once for both.

    @property
    def running(self) -> bool:
        """True while training continuously (as last reported)."""
        return self._running

    @property
    def serial(self) -> int:
        """Number of the newest snapshot published (or received from the child)."""
        return self._serial

    @property
    def failure(self) -> str | None:
        """Why the trainer was lost, as a sentence for the window; None while it serves."""
        ...

    def start(self) -> None:
        """Start training's thread or process (idempotent)."""
        ...

    def stop(self, timeout: float = 1.0) -> None:
        """Stop for good (idempotent)."""
        ...

    def latest(self) -> Snapshot | None:
        """The newest snapshot (immutable, read-only arrays); never blocks for long."""
        ...

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every command is applied and training is paused; True if so."""
        ...

    def with_session(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(session, *args, **kwargs)`` where the session lives, between two commands."""
        ...

    def submit(self, command: Command) -> float | None:
        """Check and queue ``command``; the η accepted for ``SetEta``, else None (ValueError
        if refused, TypeError if it is no command; nothing is queued then)."""
        ...

    # The commands themselves, one line each, written once here: a worker that subclasses
    # this protocol (both do) inherits them and implements ``submit``.

    def run(self) -> None:
        """Train continuously (at the pace set by ``set_pace``) until ``pause``."""
        self.submit(Run())

    def pause(self) -> None:
        """Stop before the next mini-batch (or phase) starts."""
        self.submit(Pause())

    def step_batch(self) -> None:
        """Pause if running, then complete one mini-batch (the rest of one under way)."""
        self.submit(StepBatch())

    def step_phase(self) -> None:
        """Pause if running, then run exactly one phase."""
        self.submit(StepPhase())

    def reset(self, config: SessionConfig | None = None, *, new_seed: bool = False) -> None:
        """Pause and start afresh with ``config`` (or the current one), with a fresh random
        seed if ``new_seed``; ValueError if ``config`` is invalid."""
        self.submit(Reset.asked(config, new_seed))

    def set_eta(self, eta: float) -> float:
        """Use η from the next update on; the η accepted (ValueError if
        ``limits.check_eta`` refuses it)."""
        return self.submit(SetEta(eta))

    def set_pace(self, steps_per_second: float | None, every_phase: bool = False) -> None:
        """Train at most this many steps per second while running (None: full speed);
        ``every_phase``: one phase at a time, each published (an animated pace)."""
        self.submit(SetPace(steps_per_second, every_phase))

    def set_dataset(self, dataset: Dataset) -> None:
        """Pause and train on ``dataset`` from fresh parameters."""
        self.submit(SetDataset(dataset))

    def train_on(self, x: np.ndarray, labels: np.ndarray) -> None:
        """One extra update on the examples ``x`` with ``labels`` (not a step of the epoch)."""
        self.submit(TrainOn(x, labels))

    def add_watch(self, l: int, i: int, j: int) -> None:
        """Record wᵢⱼˡ and ∂C/∂wᵢⱼˡ at every step from now on."""
        self.submit(AddWatch(l, i, j))

    def remove_watch(self, l: int, i: int, j: int) -> None:
        """Stop recording wᵢⱼˡ."""
        self.submit(RemoveWatch(l, i, j))
