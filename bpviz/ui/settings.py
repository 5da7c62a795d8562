"""What the window remembers between runs (QSettings): dock layout, η, pace, network, data.

The store is an INI file. By default it lives in the user's configuration directory
(organisation ``bpviz``, application ``bpviz``); ``BPVIZ_SETTINGS=/path/file.ini`` or an
explicit ``path`` puts it elsewhere (tests, several profiles side by side).
"""

from __future__ import annotations

import os
from dataclasses import fields, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from bpviz.session.snapshot import SessionConfig
from bpviz.ui import pacing

ORGANISATION = "bpviz"
APPLICATION = "bpviz"
SETTINGS_ENV = "BPVIZ_SETTINGS"
# Bump when the default layout changes, so old layouts are dropped once. 2: the window
# sizes itself to its screen (layouts saved at the old fixed 1340×700 would keep it small).
LAYOUT_VERSION = 2


def open_settings(path: str | Path | None = None) -> QSettings:
    """The settings store: ``path``, else ``$BPVIZ_SETTINGS``, else the user's INI file."""
    path = path or os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
    )


def load_config(settings: QSettings) -> SessionConfig:
    """The saved training configuration; fields missing or unreadable keep their default."""
    config = SessionConfig()
    values = {}
    for field in fields(SessionConfig):
        key = f"config/{field.name}"
        if not settings.contains(key):
            continue
        raw = settings.value(key)
        default = getattr(config, field.name)
        try:
            if isinstance(default, tuple):
                text = raw if isinstance(raw, str) else ",".join(map(str, raw))
                value = tuple(int(part) for part in text.split(",") if part.strip())
                if len(value) < 2 or min(value) < 1:
                    continue
            else:
                value = type(default)(raw)
        except (TypeError, ValueError):
            continue
        values[field.name] = value
    return replace(config, **values)


def save_config(settings: QSettings, config: SessionConfig) -> None:
    """Store every field of ``config`` (sizes as ``"784,30,10"``)."""
    for field in fields(SessionConfig):
        value = getattr(config, field.name)
        if isinstance(value, tuple):
            value = ",".join(map(str, value))
        settings.setValue(f"config/{field.name}", value)


PACE_KEY = "run/pace"


def has_pace(settings: QSettings) -> bool:
    """Whether a pace was ever saved (False: a first launch)."""
    return settings.contains(PACE_KEY)


def load_pace(settings: QSettings) -> float | None:
    """The saved pace in mini-batches per second (None: full speed); a first launch, or
    a value ``pacing.parse_pace`` refuses, gives ``pacing.DEFAULT`` (animated)."""
    raw = settings.value(PACE_KEY)
    if raw is None:
        return pacing.DEFAULT
    try:
        return pacing.parse_pace(str(raw))
    except ValueError:
        return pacing.DEFAULT


def save_pace(settings: QSettings, pace: float | None) -> None:
    """Store the pace (None = full speed, written "full")."""
    settings.setValue(PACE_KEY, pacing.store_text(pacing.check_pace(pace)))


def load_data_choice(settings: QSettings) -> str | None:
    """The saved data source argument (None = best available)."""
    raw = settings.value("data/source", "")
    return str(raw) if raw else None


def save_data_choice(settings: QSettings, choice: str | None) -> None:
    """Store the data source argument (None = best available)."""
    settings.setValue("data/source", choice or "")


def load_layout(settings: QSettings) -> tuple[QByteArray | None, QByteArray | None]:
    """Saved (geometry, dock state), or Nones when absent or from another layout version."""
    if settings.value("window/layout_version", 0, type=int) != LAYOUT_VERSION:
        return None, None
    geometry = settings.value("window/geometry")
    state = settings.value("window/state")
    return (
        geometry if isinstance(geometry, QByteArray) else None,
        state if isinstance(state, QByteArray) else None,
    )


def save_layout(settings: QSettings, geometry: QByteArray, state: QByteArray) -> None:
    """Store the window geometry and the dock arrangement."""
    settings.setValue("window/layout_version", LAYOUT_VERSION)
    settings.setValue("window/geometry", geometry)
    settings.setValue("window/state", state)
