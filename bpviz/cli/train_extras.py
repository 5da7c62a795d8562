"""``train --save FILE``, ``--resume FILE``, ``--snapshot-every N --out DIR``.

The trainer runs a ``bpviz.session.session.Session`` (``bpviz.cli.train_loop``), so its
files are the window's session files (``bpviz.files.checkpoint``: versioned, no
pickle, checked on reading): ``--save`` writes what File ▸ Save session writes, and
``--resume`` opens what File ▸ Open session opens — a file saved by either, or by the
trainer's former format (kind ``"train"``, upgraded on opening). A file holds what the
next step depends on (parameters, counters, the epoch's data order, the history), so
``train --epochs 1 --save F`` then ``train --resume F --epochs 1`` prints the same
second epoch as ``train --epochs 2`` (``seconds`` aside). The run's flags come from the
file; ``--eta`` changes η from the next step on; ``--data`` defaults to the data the
file names (``sample`` or a folder), else to the usual choice.

Snapshots: every N steps the step's full trace becomes the session's ``Snapshot`` at
its update, and the window's views, drawn offscreen, write a bundle into DIR. The views
are the window's (Qt), which no headless module imports: ``bpviz.__main__``, the entry
above both, hands ``train`` a ``Draw`` — ``bpviz.ui.headless.OffscreenExporter`` — and
Qt is imported only when the first bundle is drawn.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from bpviz.files.checkpoint import (
    WINDOW,
    Checkpoint,
    CheckpointError,
    dataset_fingerprint,
    decode_config,
    open_session,
    read_checkpoint,
    save_session,
)
from bpviz.session import oldtrain
from bpviz.session.limits import check_eta
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig, Snapshot


class Exporter(Protocol):
    """What draws ``--snapshot-every``'s bundles (``bpviz.ui.headless.OffscreenExporter``)."""

    def export(self, snapshot: Snapshot, loss_per_step: np.ndarray | None = None) -> Any: ...

    def close(self) -> None: ...


# Makes the exporter of the bundles into folder ``out``, for data ``data_source``.
Draw = Callable[[str, str], Exporter]
NO_VIEWS = (
    "--snapshot-every draws the window's views, which this entry point was not given: "
    "run it as `python -m bpviz train` (or `bpviz train`)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of this module."""
    parser.add_argument(
        "--save",
        metavar="FILE",
        help="save the session after the last epoch (or, if training diverges, its last "
        "good state); File ▸ Open session opens it",
    )
    parser.add_argument(
        "--resume",
        metavar="FILE",
        help="continue a session saved with --save or the window's File ▸ Save session "
        "(its network, seed and data order; --eta changes η from here on)",
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        metavar="N",
        help="every N steps, draw the views offscreen and write an export bundle into --out",
    )
    parser.add_argument("--out", metavar="DIR", help="folder for the --snapshot-every bundles")


def _given(argv: list[str], name: str) -> bool:
    flag = "--" + name.replace("_", "-")
    return any(a == flag or a.startswith(flag + "=") for a in argv)


def _config_flags(config: SessionConfig) -> dict:
    """The trainer's flags (``argparse`` names and forms) of a session configuration."""
    return {
        "layers": ",".join(map(str, config.sizes)),
        "hidden": config.hidden,
        "output": config.output,
        "cost": config.cost,
        "init": config.init,
        "seed": config.seed,
        "batch_size": config.batch_size,
    }


def read_resume(path: str) -> tuple[Checkpoint, SessionConfig, float, str | None]:
    """``--resume``'s file: the checkpoint, its configuration, η and data choice (None:
    not recorded). CheckpointError if it is not a session file this bpviz reads."""
    ckpt = read_checkpoint(path)
    meta = ckpt.meta
    if meta.get("kind") == oldtrain.KIND:  # n_train only shapes the data order: not needed
        meta, _ = oldtrain.upgrade(meta, ckpt.arrays, 0)
    if meta.get("kind") != WINDOW:
        raise CheckpointError(f"{path} is damaged: unknown kind of session")
    config = decode_config(meta.get("config"))
    try:
        eta = check_eta(meta.get("eta"))
    except ValueError as error:
        raise CheckpointError(f"{path} is damaged: {error}") from None
    data = meta.get("data")
    if not (data is None or (isinstance(data, str) and 0 < len(data) <= oldtrain.MAX_DATA_CHARS)):
        raise CheckpointError(f"{path} is damaged: bad data choice")
    return ckpt, config, eta, data


class TrainExtras:
    """What the three flags add to a run: the ``--resume`` file, the ``Session`` it
    becomes, ``--snapshot-every`` bundles and the ``--save`` file."""

    def __init__(self, args: argparse.Namespace, argv: list[str], draw: Draw | None = None) -> None:
        """Check the flags and read ``--resume``'s file; sets ``args``' run flags (and η
        and data, unless given) from it. ``draw`` makes the exporter of the bundles
        (needed with ``--snapshot-every``). ValueError for bad flags, CheckpointError for
        a bad file."""
        self.args = args
        every, out = args.snapshot_every, args.out
        if every is not None and every < 1:
            raise ValueError("--snapshot-every must be ≥ 1")
        if (every is None) != (out is None):
            raise ValueError("--snapshot-every and --out go together")
        if every is not None and draw is None:
            raise ValueError(NO_VIEWS)
        self.resumed: Checkpoint | None = None
        self.description = ""
        self._draw = draw
        self.exporter: Exporter | None = None
        if args.resume:
            self._read(args.resume, argv)

    def _read(self, path: str, argv: list[str]) -> None:
        ckpt, config, eta, data = read_resume(path)
        for name, value in _config_flags(config).items():
            if _given(argv, name) and getattr(self.args, name) != value:
                flag = "--" + name.replace("_", "-")
                raise ValueError(
                    f"--resume continues the saved run, whose {flag} is {value}; drop {flag}"
                )
            setattr(self.args, name, value)
        if not _given(argv, "eta"):
            self.args.eta = eta
        if not _given(argv, "data") and data is not None:
            self.args.data = data
        self.resumed, self.file_eta = ckpt, eta

    def session(self, net, data, description: str) -> Session:
        """The session to train: ``net``'s configuration on ``data``, or the ``--resume``
        file's state with η from ``--eta``. ValueError for a configuration the session
        refuses, CheckpointError if the file does not fit the data."""
        a = self.args
        self.description = description
        config = SessionConfig(
            sizes=tuple(net.sizes), hidden=net.hidden, output=net.output, cost=net.cost,
            init=net.init, seed=net.seed, batch_size=a.batch_size, eta=a.eta,
        )  # fmt: skip
        if self.resumed is None:
            return self._headless(Session(data, config))
        path, meta = a.resume, self.resumed.meta
        if meta.get("data_fingerprint") != dataset_fingerprint(data):
            raise CheckpointError(
                f"{path} was trained on {meta.get('data_description') or '?'}, but the data "
                f"now is {description}: pass the same --data"
            )
        session = self._headless(Session(data, replace(config, eta=self.file_eta)))
        open_session(path, session, checkpoint=self.resumed)
        session.set_eta(a.eta)  # records a change only if --eta changed it
        return session

    @staticmethod
    def _headless(session: Session) -> Session:
        session.evaluation_one_blas_thread = False  # nothing else runs beside it
        return session

    def snapshot(self, session: Session) -> None:
        """Draw the session's snapshot (the step just taken, at its update) and write its
        bundle into ``--out``."""
        snapshot = session.snapshot()
        if self.exporter is None:
            self.exporter = self._draw(self.args.out, self.description)
        losses = np.array(session.history.loss.values)
        report = self.exporter.export(snapshot, loss_per_step=losses)
        print(f"snapshot: step {snapshot.step} → {report.folder}", file=sys.stderr, flush=True)

    def save(self, session: Session) -> None:
        """Write ``--save``'s file (atomically): the window's session format."""
        save_session(self.args.save, session, data=self.args.data)

    def close(self) -> None:
        """Close the offscreen views, if any were opened."""
        if self.exporter is not None:
            self.exporter.close()
            self.exporter = None
