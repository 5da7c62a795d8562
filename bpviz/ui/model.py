"""What the window is set to, without Qt: the ``WindowModel`` and its change events.

The controller (``bpviz/ui/controller.py``) is the only writer; the toolbar's controls,
the menus and the views read it and follow its events instead of polling snapshots.
Each change is emitted once, as ``(name, value)`` to every listener connected with
``model.events.connect(listener)``; setting a field to the value it has emits nothing.

Fields:
- ``config``: the ``SessionConfig`` the next reset uses (its η and batch size m are the
  ones in force: ``eta`` and ``batch_size`` are emitted too when they change with it);
- ``pace``: steps per second, None for full speed;
- ``data_choice``: the data source asked for (``bpviz.data.resolve_source``'s argument);
- ``running``: whether the user asked training to run (it may stop by itself: the
  controller then sets it back);
- ``selection``: the selected parameter (l, i, j), j None for the bias bᵢˡ, or None;
- ``watched``: the pinned weights (l, i, j) the worker records every step;
- ``probe``: a probe snapshot the views show instead of the session's, or None (live).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bpviz.session.snapshot import SessionConfig

if TYPE_CHECKING:
    from bpviz.session.snapshot import Snapshot

Listener = Callable[[str, Any], None]
Selection = tuple[int, int, int | None]
FIELDS = ("config", "eta", "batch_size", "pace", "data_choice", "running", "selection",
          "watched", "probe")  # fmt: skip


class Events:
    """A tiny observer: ``connect(listener)``; ``emit(name, value)`` calls each listener."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def connect(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def emit(self, name: str, value: Any) -> None:
        for listener in tuple(self._listeners):  # a listener may disconnect itself
            listener(name, value)


class WindowModel:
    """The window's state (see the module doc); change it through the setters only."""

    def __init__(
        self, config: SessionConfig, data_choice: str | None = None, pace: float | None = None
    ) -> None:
        self.events = Events()
        self.config = config
        self.data_choice = data_choice
        self.pace = pace
        self.running = False
        self.selection: Selection | None = None
        self.watched: frozenset[tuple[int, int, int]] = frozenset()
        self.probe: Snapshot | None = None

    @property
    def eta(self) -> float:
        """η, the learning rate in force."""
        return self.config.eta

    @property
    def batch_size(self) -> int:
        """m, the batch size the next reset uses."""
        return self.config.batch_size

    def _set(self, name: str, value: Any) -> bool:
        old = getattr(self, name)
        # a snapshot compares by identity: another probe is news even if equal
        if old is value or (name != "probe" and old == value):
            return False
        setattr(self, name, value)
        self.events.emit(name, value)
        return True

    def set_config(self, config: SessionConfig) -> bool:
        """The configuration for the next reset; emits ``config``, and ``eta`` and
        ``batch_size`` when those changed with it."""
        old = self.config
        if not self._set("config", config):
            return False
        if config.eta != old.eta:
            self.events.emit("eta", config.eta)
        if config.batch_size != old.batch_size:
            self.events.emit("batch_size", config.batch_size)
        return True

    def set_eta(self, eta: float) -> bool:
        return self.set_config(replace(self.config, eta=eta))

    def set_batch_size(self, m: int) -> bool:
        return self.set_config(replace(self.config, batch_size=m))

    def set_pace(self, pace: float | None) -> bool:
        return self._set("pace", pace)

    def set_data_choice(self, choice: str | None) -> bool:
        return self._set("data_choice", choice)

    def set_running(self, running: bool) -> bool:
        return self._set("running", bool(running))

    def select(self, selection: Selection | None) -> bool:
        return self._set("selection", selection)

    def pin(self, l: int, i: int, j: int, pinned: bool) -> bool:
        """Add (``pinned``) or remove the watched weight wᵢⱼˡ."""
        key = (l, i, j)
        watched = self.watched | {key} if pinned else self.watched - {key}
        return self._set("watched", frozenset(watched))

    def set_probe(self, snapshot: Snapshot | None) -> bool:
        """Show ``snapshot`` (a probe) instead of the session's, or go live (None)."""
        return self._set("probe", snapshot)
